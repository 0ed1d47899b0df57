// End-to-end: route tables, network ACLs, VPC peering and VPC endpoints, driven with
// @aws-sdk/client-ec2 against a real server — happy paths, AWS's errors, and nothing changed by a
// refused call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AcceptVpcPeeringConnectionCommand,
  AssociateRouteTableCommand,
  AssociateVpcCidrBlockCommand,
  AttachInternetGatewayCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DeleteVpcEndpointsCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribePrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  DisassociateVpcCidrBlockCommand,
  ModifyVpcEndpointCommand,
  ModifyVpcPeeringConnectionOptionsCommand,
  RejectVpcPeeringConnectionCommand,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type NetworkAcl,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsError, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { ImportError, importExports, loadSnapshot, saveSnapshot } from '../src/analysis/import.ts';

let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

const RTB = /^rtb-[0-9a-f]{17}$/;
const RTBASSOC = /^rtbassoc-[0-9a-f]{17}$/;
const ACLASSOC = /^aclassoc-[0-9a-f]{17}$/;

async function newVpc(cidr: string, opts: { ipv6?: boolean; c?: EC2Client } = {}): Promise<string> {
  const c = opts.c ?? client;
  const r = await c.send(new CreateVpcCommand({ CidrBlock: cidr, AmazonProvidedIpv6CidrBlock: opts.ipv6 }));
  return r.Vpc!.VpcId!;
}

async function newSubnet(vpcId: string, cidr: string, az = 'us-east-1a'): Promise<string> {
  return (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }))).Subnet!.SubnetId!;
}

async function tablesOf(vpcId: string, c = client): Promise<RouteTable[]> {
  return (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables!;
}

async function mainTable(vpcId: string, c = client): Promise<RouteTable> {
  const r = await c.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  assert.equal(r.RouteTables!.length, 1, 'exactly one main route table');
  return r.RouteTables![0]!;
}

async function table(id: string): Promise<RouteTable> {
  return (await client.send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }))).RouteTables![0]!;
}

async function aclsOf(vpcId: string): Promise<NetworkAcl[]> {
  return (await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls!;
}

async function acl(id: string): Promise<NetworkAcl> {
  return (await client.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] }))).NetworkAcls![0]!;
}

const routeTo = (t: RouteTable, dest: string) =>
  t.Routes!.find((r) => r.DestinationCidrBlock === dest || r.DestinationIpv6CidrBlock === dest || r.DestinationPrefixListId === dest);

// ---------------------------------------------------------------------------------------------

describe('route tables: the main table', () => {
  it('every VPC has one, with a local route per IPv4 and IPv6 block; the default VPC too', async () => {
    const vpcId = await newVpc('10.10.0.0/16', { ipv6: true });
    const main = await mainTable(vpcId);
    assert.match(main.RouteTableId!, RTB);
    assert.equal(main.VpcId, vpcId);
    assert.equal(main.OwnerId, '000000000000');
    assert.equal(main.Associations!.length, 1);
    const a = main.Associations![0]!;
    assert.equal(a.Main, true);
    assert.match(a.RouteTableAssociationId!, RTBASSOC);
    assert.equal(a.RouteTableId, main.RouteTableId);
    assert.equal(a.AssociationState!.State, 'associated');
    assert.equal(a.SubnetId, undefined);
    const v4 = routeTo(main, '10.10.0.0/16')!;
    assert.deepEqual({ g: v4.GatewayId, o: v4.Origin, s: v4.State }, { g: 'local', o: 'CreateRouteTable', s: 'active' });
    const v6 = main.Routes!.find((r) => r.DestinationIpv6CidrBlock)!;
    assert.equal(v6.GatewayId, 'local');
    assert.match(v6.DestinationIpv6CidrBlock!, /\/56$/);

    const def = (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.main', Values: ['true'] }] })))
      .RouteTables!;
    assert.ok(
      def.some((t) => routeTo(t, '172.31.0.0/16')?.GatewayId === 'local'),
      'the default VPC has its main table',
    );
  });

  it('keeps the local routes in step with the VPC blocks', async () => {
    const vpcId = await newVpc('10.11.0.0/16');
    const assoc = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: '10.12.0.0/16' }));
    let main = await mainTable(vpcId);
    assert.equal(routeTo(main, '10.12.0.0/16')?.GatewayId, 'local');
    const custom = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!;
    assert.deepEqual(
      custom.Routes!.map((r) => r.DestinationCidrBlock),
      ['10.11.0.0/16', '10.12.0.0/16'],
    );
    await client.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc.CidrBlockAssociation!.AssociationId }));
    main = await mainTable(vpcId);
    assert.equal(routeTo(main, '10.12.0.0/16'), undefined);
    await client.send(new DeleteRouteTableCommand({ RouteTableId: custom.RouteTableId }));
  });

  it('cannot be deleted, and its local route can be neither deleted nor replaced', async () => {
    const vpcId = await newVpc('10.13.0.0/16');
    const main = await mainTable(vpcId);
    const e = await awsError(() => client.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(e.message, `The routeTable '${main.RouteTableId}' has dependencies and cannot be deleted.`);
    const d = await awsError(() =>
      client.send(new DeleteRouteCommand({ RouteTableId: main.RouteTableId, DestinationCidrBlock: '10.13.0.0/16' })),
    );
    assert.equal(d.name, 'InvalidParameterValue');
    const eni = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: await newSubnet(vpcId, '10.13.1.0/24') })))
      .NetworkInterface!;
    const r = await awsError(() =>
      client.send(
        new ReplaceRouteCommand({
          RouteTableId: main.RouteTableId,
          DestinationCidrBlock: '10.13.0.0/16',
          NetworkInterfaceId: eni.NetworkInterfaceId,
        }),
      ),
    );
    assert.equal(r.name, 'InvalidParameterValue');
    const c = await awsError(() =>
      client.send(
        new CreateRouteCommand({
          RouteTableId: main.RouteTableId,
          DestinationCidrBlock: '10.13.0.0/16',
          NetworkInterfaceId: eni.NetworkInterfaceId,
        }),
      ),
    );
    assert.equal(c.name, 'RouteAlreadyExists');
    assert.equal(c.message, 'The route identified by 10.13.0.0/16 already exists.');
    assert.equal((await mainTable(vpcId)).Routes!.length, 1, 'nothing changed');
  });

  it('answers Malformed and NotFound for bad ids', async () => {
    const m = await awsError(() => client.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-nothex'] })));
    assert.equal(m.name, 'InvalidRouteTableId.Malformed');
    const n = await awsError(() => client.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-0123456789abcdef0'] })));
    assert.equal(n.name, 'InvalidRouteTableID.NotFound');
    assert.equal(n.message, "The routeTable ID 'rtb-0123456789abcdef0' does not exist");
    const v = await awsError(() => client.send(new CreateRouteTableCommand({ VpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(v.name, 'InvalidVpcID.NotFound');
    const f = await awsError(() => client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })));
    assert.equal(f.name, 'InvalidParameterValue');
  });
});

describe('route tables: custom tables and routes', () => {
  let vpcId: string;
  let subnetId: string;
  let eniId: string;
  let rtb: string;
  before(async () => {
    vpcId = await newVpc('10.20.0.0/16');
    subnetId = await newSubnet(vpcId, '10.20.1.0/24');
    eniId = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface!.NetworkInterfaceId!;
    const t = await client.send(
      new CreateRouteTableCommand({
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: 'route-table', Tags: [{ Key: 'Name', Value: 'private' }] }],
      }),
    );
    rtb = t.RouteTable!.RouteTableId!;
    assert.deepEqual(t.RouteTable!.Associations, []);
    assert.deepEqual(t.RouteTable!.Tags, [{ Key: 'Name', Value: 'private' }]);
  });

  it('creates a route to an interface (blackhole while it is not attached), clearing host bits', async () => {
    const r = await client.send(
      new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.7.9/16', NetworkInterfaceId: eniId }),
    );
    assert.equal(r.Return, true);
    const route = routeTo(await table(rtb), '192.168.0.0/16')!;
    assert.equal(route.NetworkInterfaceId, eniId);
    assert.equal(route.Origin, 'CreateRoute');
    assert.equal(route.State, 'blackhole');
    const dup = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16', NetworkInterfaceId: eniId })),
    );
    assert.equal(dup.name, 'RouteAlreadyExists');
    assert.equal(dup.message, 'The route identified by 192.168.0.0/16 already exists.');
  });

  it('routes to an instance follow its state: active while running, blackhole once stopped or terminated', async () => {
    const i = (await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnetId })))
      .Instances![0]!;
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', InstanceId: i.InstanceId }));
    let route = routeTo(await table(rtb), '0.0.0.0/0')!;
    assert.equal(route.InstanceId, i.InstanceId);
    assert.equal(route.InstanceOwnerId, '000000000000');
    assert.equal(route.NetworkInterfaceId, i.NetworkInterfaces![0]!.NetworkInterfaceId);
    assert.equal(route.State, 'active');
    await client.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    route = routeTo(await table(rtb), '0.0.0.0/0')!;
    assert.equal(route.State, 'blackhole');
    await client.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    assert.equal(routeTo(await table(rtb), '0.0.0.0/0')!.State, 'blackhole');
    await client.send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0' }));
  });

  it('refuses a target of another VPC, a missing target, several targets and a bad destination, changing nothing', async () => {
    const other = await newVpc('10.21.0.0/16');
    const otherEni = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: await newSubnet(other, '10.21.1.0/24') })))
      .NetworkInterface!.NetworkInterfaceId!;
    const before = (await table(rtb)).Routes!;
    const x = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12', NetworkInterfaceId: otherEni })),
    );
    assert.equal(x.name, 'InvalidParameterValue');
    assert.equal(x.message, `route table ${rtb} and interface ${otherEni} belong to different networks`);
    const none = await awsError(() => client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12' })));
    assert.equal(none.name, 'MissingParameter');
    const two = await awsError(() =>
      client.send(
        new CreateRouteCommand({
          RouteTableId: rtb,
          DestinationCidrBlock: '172.16.0.0/12',
          NetworkInterfaceId: eniId,
          GatewayId: 'igw-0123456789abcdef0',
        }),
      ),
    );
    assert.equal(two.name, 'InvalidParameterCombination');
    const bad = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '::/0', NetworkInterfaceId: eniId })),
    );
    assert.equal(bad.name, 'InvalidParameterValue');
    assert.equal(bad.message, 'Value (::/0) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.');
    const gw = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12', GatewayId: 'igw-0123456789abcdef0' })),
    );
    assert.equal(gw.name, 'InvalidGatewayID.NotFound');
    const nat = await awsError(() =>
      client.send(
        new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12', NatGatewayId: 'nat-0123456789abcdef0' }),
      ),
    );
    assert.equal(nat.name, 'InvalidNatGatewayID.NotFound');
    const pcx = await awsError(() =>
      client.send(
        new CreateRouteCommand({
          RouteTableId: rtb,
          DestinationCidrBlock: '172.16.0.0/12',
          VpcPeeringConnectionId: 'pcx-0123456789abcdef0',
        }),
      ),
    );
    assert.equal(pcx.name, 'InvalidVpcPeeringConnectionID.NotFound');
    assert.deepEqual((await table(rtb)).Routes, before, 'nothing changed');
  });

  it('replaces and deletes routes; a missing route is InvalidRoute.NotFound', async () => {
    const eni2 = (await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }))).NetworkInterface!.NetworkInterfaceId!;
    await client.send(new ReplaceRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16', NetworkInterfaceId: eni2 }));
    assert.equal(routeTo(await table(rtb), '192.168.0.0/16')!.NetworkInterfaceId, eni2);
    const r = await awsError(() =>
      client.send(new ReplaceRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.99.0.0/16', NetworkInterfaceId: eni2 })),
    );
    assert.equal(r.name, 'InvalidRoute.NotFound');
    assert.equal(r.message, `no route with destination-cidr-block 10.99.0.0/16 in route table ${rtb}`);
    // the interface goes: the route stays, as a blackhole
    await client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni2 }));
    const gone = routeTo(await table(rtb), '192.168.0.0/16')!;
    assert.equal(gone.NetworkInterfaceId, eni2);
    assert.equal(gone.State, 'blackhole');
    await client.send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16' }));
    const d = await awsError(() => client.send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16' })));
    assert.equal(d.name, 'InvalidRoute.NotFound');
    const v6 = await awsError(() => client.send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '2600:1f18::/64' })));
    assert.equal(v6.name, 'InvalidRoute.NotFound');
    assert.equal(v6.message, `no route with destination-ipv6-cidr-block 2600:1f18::/64 in route table ${rtb}`);
  });

  it('associates subnets: at most one explicit association per subnet, in the same VPC', async () => {
    const a = await client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: subnetId }));
    assert.match(a.AssociationId!, RTBASSOC);
    assert.equal(a.AssociationState!.State, 'associated');
    const t = await table(rtb);
    assert.deepEqual(t.Associations, [
      {
        Main: false,
        RouteTableAssociationId: a.AssociationId,
        RouteTableId: rtb,
        SubnetId: subnetId,
        AssociationState: { State: 'associated' },
      },
    ]);
    const other = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const dup = await awsError(() => client.send(new AssociateRouteTableCommand({ RouteTableId: other, SubnetId: subnetId })));
    assert.equal(dup.name, 'Resource.AlreadyAssociated');
    assert.equal(dup.message, `the specified association for route table ${other} conflicts with an existing association`);
    const foreign = await newSubnet(await newVpc('10.22.0.0/16'), '10.22.1.0/24');
    const x = await awsError(() => client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: foreign })));
    assert.equal(x.name, 'InvalidParameterValue');
    const nf = await awsError(() =>
      client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: 'subnet-0123456789abcdef0' })),
    );
    assert.equal(nf.name, 'InvalidSubnetID.NotFound');

    const bySubnet = await client.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
    );
    assert.deepEqual(
      bySubnet.RouteTables!.map((x) => x.RouteTableId),
      [rtb],
    );
    const byAssoc = await client.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.route-table-association-id', Values: [a.AssociationId!] }] }),
    );
    assert.deepEqual(
      byAssoc.RouteTables!.map((x) => x.RouteTableId),
      [rtb],
    );
    const notMain = await client.send(
      new DescribeRouteTablesCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'association.main', Values: ['false'] },
        ],
      }),
    );
    assert.deepEqual(
      notMain.RouteTables!.map((x) => x.RouteTableId),
      [rtb],
    );
    const byTag = await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'tag:Name', Values: ['private'] }] }));
    assert.deepEqual(
      byTag.RouteTables!.map((x) => x.RouteTableId),
      [rtb],
    );

    const del = await awsError(() => client.send(new DeleteRouteTableCommand({ RouteTableId: rtb })));
    assert.equal(del.name, 'DependencyViolation');

    // replace: the subnet moves to the other table under a new association id
    const moved = await client.send(new ReplaceRouteTableAssociationCommand({ AssociationId: a.AssociationId, RouteTableId: other }));
    assert.match(moved.NewAssociationId!, RTBASSOC);
    assert.notEqual(moved.NewAssociationId, a.AssociationId);
    assert.deepEqual((await table(rtb)).Associations, []);
    assert.equal((await table(other)).Associations![0]!.SubnetId, subnetId);
    const old = await awsError(() => client.send(new DisassociateRouteTableCommand({ AssociationId: a.AssociationId })));
    assert.equal(old.name, 'InvalidAssociationID.NotFound');
    await client.send(new DisassociateRouteTableCommand({ AssociationId: moved.NewAssociationId }));
    assert.deepEqual((await table(other)).Associations, []);
    await client.send(new DeleteRouteTableCommand({ RouteTableId: other }));
    const gone = await awsError(() => client.send(new DescribeRouteTablesCommand({ RouteTableIds: [other] })));
    assert.equal(gone.name, 'InvalidRouteTableID.NotFound');
  });

  it('drops a subnet association with the subnet', async () => {
    const s = await newSubnet(vpcId, '10.20.9.0/24');
    await client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: s }));
    await client.send(new DeleteSubnetCommand({ SubnetId: s }));
    assert.equal((await table(rtb)).Associations!.filter((a) => a.SubnetId === s).length, 0);
  });

  it('pages with MaxResults (5–100)', async () => {
    const all = (await client.send(new DescribeRouteTablesCommand({}))).RouteTables!;
    assert.ok(all.length >= 6);
    const p1 = await client.send(new DescribeRouteTablesCommand({ MaxResults: 5 }));
    assert.equal(p1.RouteTables!.length, 5);
    const p2 = await client.send(new DescribeRouteTablesCommand({ MaxResults: 100, NextToken: p1.NextToken }));
    assert.equal(p1.RouteTables!.length + p2.RouteTables!.length, all.length);
    const bad = await awsError(() => client.send(new DescribeRouteTablesCommand({ MaxResults: 101 })));
    assert.equal(bad.name, 'InvalidParameterValue');
  });
});

describe('route tables: routes to gateways', () => {
  it("the default VPC's main table sends 0.0.0.0/0 to its internet gateway", async () => {
    const def = (await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
    const route = routeTo(await mainTable(def.VpcId!), '0.0.0.0/0')!;
    assert.match(route.GatewayId!, /^igw-[0-9a-f]{17}$/);
    assert.equal(route.State, 'active');
    assert.equal(route.Origin, 'CreateRoute');
  });

  it('routes to an internet gateway of the VPC: active while attached, a blackhole once detached or deleted', async () => {
    const vpcId = await newVpc('10.25.0.0/16');
    const rtb = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const igw = (await client.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    const loose = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw })),
    );
    assert.equal(loose.name, 'InvalidParameterValue');
    assert.equal(loose.message, `route table ${rtb} and network gateway ${igw} belong to different networks`);
    await client.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    assert.equal(routeTo(await table(rtb), '0.0.0.0/0')!.State, 'active');
    const byGateway = await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.gateway-id', Values: [igw] }] }));
    assert.deepEqual(
      byGateway.RouteTables!.map((t) => t.RouteTableId),
      [rtb],
    );

    // an edge association: the gateway's traffic into the VPC routes by this table
    const edge = await client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, GatewayId: igw }));
    assert.equal((await table(rtb)).Associations![0]!.GatewayId, igw);
    const again = await awsError(() => client.send(new AssociateRouteTableCommand({ RouteTableId: rtb, GatewayId: igw })));
    assert.equal(again.name, 'Resource.AlreadyAssociated');
    await client.send(new DisassociateRouteTableCommand({ AssociationId: edge.AssociationId }));

    await client.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    assert.equal(routeTo(await table(rtb), '0.0.0.0/0')!.State, 'blackhole');
    await client.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw }));
    const gone = routeTo(await table(rtb), '0.0.0.0/0')!;
    assert.equal(gone.GatewayId, igw);
    assert.equal(gone.State, 'blackhole');
  });

  it('routes to a NAT gateway of the VPC: active while it is available, a blackhole once it is deleted', async () => {
    const vpcId = await newVpc('10.28.0.0/16');
    const subnet = await newSubnet(vpcId, '10.28.1.0/24');
    const rtb = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const nat = (await client.send(new CreateNatGatewayCommand({ SubnetId: subnet, ConnectivityType: 'private' }))).NatGateway!
      .NatGatewayId!;
    const otherNat = (
      await client.send(
        new CreateNatGatewayCommand({
          SubnetId: await newSubnet(await newVpc('10.29.0.0/16'), '10.29.1.0/24'),
          ConnectivityType: 'private',
        }),
      )
    ).NatGateway!.NatGatewayId!;
    const x = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: otherNat })),
    );
    assert.equal(x.name, 'InvalidParameterValue');
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
    let route = routeTo(await table(rtb), '0.0.0.0/0')!;
    assert.equal(route.NatGatewayId, nat);
    assert.equal(route.State, 'active');
    const byNat = await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.nat-gateway-id', Values: [nat] }] }));
    assert.deepEqual(
      byNat.RouteTables!.map((t) => t.RouteTableId),
      [rtb],
    );
    await client.send(new DeleteNatGatewayCommand({ NatGatewayId: nat }));
    route = routeTo(await table(rtb), '0.0.0.0/0')!;
    assert.equal(route.NatGatewayId, nat);
    assert.equal(route.State, 'blackhole');
    const gone = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.99.0.0/16', NatGatewayId: nat })),
    );
    assert.equal(gone.name, 'InvalidNatGatewayID.NotFound');
  });

  it('routes IPv6 to an egress-only gateway of the VPC (a blackhole once it is deleted)', async () => {
    const vpcId = await newVpc('10.26.0.0/16', { ipv6: true });
    const other = await newVpc('10.27.0.0/16', { ipv6: true });
    const rtb = (await mainTable(vpcId)).RouteTableId!;
    const eigw = (await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId }))).EgressOnlyInternetGateway!
      .EgressOnlyInternetGatewayId!;
    const foreign = (await client.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: other }))).EgressOnlyInternetGateway!
      .EgressOnlyInternetGatewayId!;
    const x = await awsError(() =>
      client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: foreign })),
    );
    assert.equal(x.name, 'InvalidParameterValue');
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    let route = (await table(rtb)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!;
    assert.equal(route.EgressOnlyInternetGatewayId, eigw);
    assert.equal(route.State, 'active');
    await client.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: eigw }));
    route = (await table(rtb)).Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!;
    assert.equal(route.State, 'blackhole');
  });
});

describe('route tables: the main association', () => {
  it('moves to another table with ReplaceRouteTableAssociation and cannot be disassociated', async () => {
    const vpcId = await newVpc('10.30.0.0/16');
    const original = await mainTable(vpcId);
    const mainAssoc = original.Associations![0]!.RouteTableAssociationId!;
    const d = await awsError(() => client.send(new DisassociateRouteTableCommand({ AssociationId: mainAssoc })));
    assert.equal(d.name, 'InvalidParameterValue');
    assert.equal(d.message, `cannot disassociate the main route table association ${mainAssoc}`);
    const custom = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const r = await client.send(new ReplaceRouteTableAssociationCommand({ AssociationId: mainAssoc, RouteTableId: custom }));
    const main = await mainTable(vpcId);
    assert.equal(main.RouteTableId, custom);
    assert.equal(main.Associations![0]!.RouteTableAssociationId, r.NewAssociationId);
    assert.equal(main.Associations![0]!.Main, true);
    // the VPC now has a custom table (the original main one): DeleteVpc refuses until it goes
    const v = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(v.name, 'DependencyViolation');
    await client.send(new DeleteRouteTableCommand({ RouteTableId: original.RouteTableId }));
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
    assert.deepEqual(await tablesOf(vpcId), [], 'the main table went with the VPC');
    assert.deepEqual(await aclsOf(vpcId), [], 'the default ACL went with the VPC');
  });
});

// ---------------------------------------------------------------------------------------------

describe('network ACLs', () => {
  let vpcId: string;
  let subnetId: string;
  let defaultAcl: NetworkAcl;
  before(async () => {
    vpcId = await newVpc('10.40.0.0/16', { ipv6: true });
    subnetId = await newSubnet(vpcId, '10.40.1.0/24');
    const acls = await aclsOf(vpcId);
    assert.equal(acls.length, 1);
    defaultAcl = acls[0]!;
  });

  it('every VPC has a default ACL allowing everything, IPv4 and IPv6, with the * rules', async () => {
    assert.match(defaultAcl.NetworkAclId!, /^acl-[0-9a-f]{17}$/);
    assert.equal(defaultAcl.IsDefault, true);
    assert.equal(defaultAcl.OwnerId, '000000000000');
    const rules = defaultAcl.Entries!.map(
      (e) => `${e.Egress ? 'out' : 'in'} ${e.RuleNumber} ${e.RuleAction} ${e.Protocol} ${e.CidrBlock ?? e.Ipv6CidrBlock}`,
    );
    assert.deepEqual(rules, [
      'out 100 allow -1 0.0.0.0/0',
      'out 101 allow -1 ::/0',
      'out 32767 deny -1 0.0.0.0/0',
      'out 32768 deny -1 ::/0',
      'in 100 allow -1 0.0.0.0/0',
      'in 101 allow -1 ::/0',
      'in 32767 deny -1 0.0.0.0/0',
      'in 32768 deny -1 ::/0',
    ]);
    const v4only = (await aclsOf(await newVpc('10.41.0.0/16')))[0]!;
    assert.deepEqual(
      v4only.Entries!.map((e) => e.RuleNumber),
      [100, 32767, 100, 32767],
    );
  });

  it('adds the IPv6 allow rules (101) to the default ACL when the VPC gets its first IPv6 block', async () => {
    const v = await newVpc('10.43.0.0/16');
    await client.send(new AssociateVpcCidrBlockCommand({ VpcId: v, AmazonProvidedIpv6CidrBlock: true }));
    const a = (await aclsOf(v))[0]!;
    assert.deepEqual(
      a.Entries!.map((e) => `${e.Egress ? 'out' : 'in'} ${e.RuleNumber} ${e.CidrBlock ?? e.Ipv6CidrBlock}`),
      [
        'out 100 0.0.0.0/0',
        'out 101 ::/0',
        'out 32767 0.0.0.0/0',
        'out 32768 ::/0',
        'in 100 0.0.0.0/0',
        'in 101 ::/0',
        'in 32767 0.0.0.0/0',
        'in 32768 ::/0',
      ],
    );
    const t = await mainTable(v);
    assert.ok(
      t.Routes!.some((r) => r.DestinationIpv6CidrBlock && r.GatewayId === 'local'),
      'and a local IPv6 route',
    );
  });

  it('associates every new subnet with the default ACL', async () => {
    const a = (await acl(defaultAcl.NetworkAclId!)).Associations!;
    assert.equal(a.length, 1);
    assert.equal(a[0]!.SubnetId, subnetId);
    assert.equal(a[0]!.NetworkAclId, defaultAcl.NetworkAclId);
    assert.match(a[0]!.NetworkAclAssociationId!, ACLASSOC);
    const bySubnet = await client.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
    );
    assert.deepEqual(
      bySubnet.NetworkAcls!.map((x) => x.NetworkAclId),
      [defaultAcl.NetworkAclId],
    );
    const byDefault = await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'default', Values: ['true'] },
        ],
      }),
    );
    assert.equal(byDefault.NetworkAcls!.length, 1);
  });

  it('a custom ACL denies everything until entries are added; entries validated as AWS does', async () => {
    const created = (
      await client.send(
        new CreateNetworkAclCommand({
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'Name', Value: 'web' }] }],
        }),
      )
    ).NetworkAcl!;
    const id = created.NetworkAclId!;
    assert.equal(created.IsDefault, false);
    assert.deepEqual(
      created.Entries!.map((e) => `${e.Egress ? 'out' : 'in'} ${e.RuleNumber} ${e.RuleAction}`),
      ['out 32767 deny', 'out 32768 deny', 'in 32767 deny', 'in 32768 deny'],
    );
    assert.deepEqual(created.Associations, []);

    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: '0.0.0.0/0',
        PortRange: { From: 443, To: 443 },
      }),
    );
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 100,
        Protocol: 'udp',
        RuleAction: 'deny',
        Egress: true,
        Ipv6CidrBlock: '::/0',
        PortRange: { From: 53, To: 53 },
      }),
    );
    await client.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 110,
        Protocol: '1',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: '10.0.0.0/8',
        IcmpTypeCode: { Type: 8, Code: -1 },
      }),
    );
    let a = await acl(id);
    const in100 = a.Entries!.find((e) => !e.Egress && e.RuleNumber === 100)!;
    assert.deepEqual(in100, {
      RuleNumber: 100,
      Protocol: '6',
      RuleAction: 'allow',
      Egress: false,
      CidrBlock: '0.0.0.0/0',
      PortRange: { From: 443, To: 443 },
    });
    const out100 = a.Entries!.find((e) => e.Egress && e.RuleNumber === 100)!;
    assert.equal(out100.Protocol, '17');
    assert.equal(out100.Ipv6CidrBlock, '::/0');
    assert.deepEqual(a.Entries!.find((e) => e.RuleNumber === 110)!.IcmpTypeCode, { Type: 8, Code: -1 });

    const dup = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 100,
          Protocol: '-1',
          RuleAction: 'deny',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(dup.name, 'NetworkAclEntryAlreadyExists');
    assert.equal(dup.message, 'The network acl entry identified by 100 already exists.');
    for (const n of [0, 32767, 40000]) {
      const e = await awsError(() =>
        client.send(
          new CreateNetworkAclEntryCommand({
            NetworkAclId: id,
            RuleNumber: n,
            Protocol: '-1',
            RuleAction: 'deny',
            Egress: false,
            CidrBlock: '0.0.0.0/0',
          }),
        ),
      );
      assert.equal(e.name, 'InvalidParameterValue', `rule number ${n}`);
    }
    const noPorts = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 120,
          Protocol: '6',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(noPorts.name, 'MissingParameter');
    const noIcmp = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 120,
          Protocol: '1',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(noIcmp.name, 'MissingParameter');
    const proto = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 120,
          Protocol: 'bogus',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(proto.name, 'InvalidParameterValue');
    const action = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 120,
          Protocol: '-1',
          RuleAction: 'maybe' as never,
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(action.name, 'InvalidParameterValue');
    const cidr = await awsError(() =>
      client.send(
        new CreateNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 120,
          Protocol: '-1',
          RuleAction: 'allow',
          Egress: false,
          CidrBlock: '10.0.0.0/33',
        }),
      ),
    );
    assert.equal(cidr.name, 'InvalidParameterValue');
    assert.equal((await acl(id)).Entries!.length, a.Entries!.length, 'refused entries changed nothing');

    await client.send(
      new ReplaceNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 100,
        Protocol: '-1',
        RuleAction: 'deny',
        Egress: false,
        CidrBlock: '192.0.2.0/24',
      }),
    );
    a = await acl(id);
    assert.deepEqual(
      a.Entries!.find((e) => !e.Egress && e.RuleNumber === 100),
      { RuleNumber: 100, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '192.0.2.0/24' },
    );
    const nf = await awsError(() =>
      client.send(
        new ReplaceNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 200,
          Protocol: '-1',
          RuleAction: 'deny',
          Egress: false,
          CidrBlock: '0.0.0.0/0',
        }),
      ),
    );
    assert.equal(nf.name, 'InvalidNetworkAclEntry.NotFound');
    assert.equal(nf.message, `no ingress entry with number 200 in network acl ${id}`);
    await client.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 110, Egress: false }));
    const again = await awsError(() => client.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 110, Egress: false })));
    assert.equal(again.name, 'InvalidNetworkAclEntry.NotFound');
    const egressSide = await awsError(() =>
      client.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 110, Egress: true })),
    );
    assert.equal(egressSide.name, 'InvalidNetworkAclEntry.NotFound');

    const byEntry = await client.send(
      new DescribeNetworkAclsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'entry.cidr', Values: ['192.0.2.0/24'] },
        ],
      }),
    );
    assert.deepEqual(
      byEntry.NetworkAcls!.map((x) => x.NetworkAclId),
      [id],
    );
    const byTag = await client.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'tag:Name', Values: ['web'] }] }));
    assert.deepEqual(
      byTag.NetworkAcls!.map((x) => x.NetworkAclId),
      [id],
    );
  });

  it('moves a subnet between ACLs; an ACL in use or the default one cannot be deleted', async () => {
    const id = (await client.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!.NetworkAclId!;
    const assocId = (await acl(defaultAcl.NetworkAclId!)).Associations!.find((a) => a.SubnetId === subnetId)!.NetworkAclAssociationId!;
    const r = await client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assocId, NetworkAclId: id }));
    assert.match(r.NewAssociationId!, ACLASSOC);
    assert.deepEqual(
      (await acl(id)).Associations!.map((a) => a.SubnetId),
      [subnetId],
    );
    assert.equal(
      (await acl(defaultAcl.NetworkAclId!)).Associations!.filter((a) => a.SubnetId === subnetId).length,
      0,
      'one ACL per subnet',
    );
    const byAssoc = await client.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.association-id', Values: [r.NewAssociationId!] }] }),
    );
    assert.deepEqual(
      byAssoc.NetworkAcls!.map((x) => x.NetworkAclId),
      [id],
    );

    const inUse = await awsError(() => client.send(new DeleteNetworkAclCommand({ NetworkAclId: id })));
    assert.equal(inUse.name, 'DependencyViolation');
    const def = await awsError(() => client.send(new DeleteNetworkAclCommand({ NetworkAclId: defaultAcl.NetworkAclId })));
    assert.equal(def.name, 'InvalidParameterValue');
    const stale = await awsError(() => client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assocId, NetworkAclId: id })));
    assert.equal(stale.name, 'InvalidAssociationID.NotFound');
    const foreignAcl = (await aclsOf(await newVpc('10.42.0.0/16')))[0]!.NetworkAclId!;
    const x = await awsError(() =>
      client.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: r.NewAssociationId, NetworkAclId: foreignAcl })),
    );
    assert.equal(x.name, 'InvalidParameterValue');

    const v = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(v.name, 'DependencyViolation');

    const back = await client.send(
      new ReplaceNetworkAclAssociationCommand({ AssociationId: r.NewAssociationId, NetworkAclId: defaultAcl.NetworkAclId }),
    );
    assert.match(back.NewAssociationId!, ACLASSOC);
    await client.send(new DeleteNetworkAclCommand({ NetworkAclId: id }));
    const gone = await awsError(() => client.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] })));
    assert.equal(gone.name, 'InvalidNetworkAclID.NotFound');
    const malformed = await awsError(() => client.send(new DescribeNetworkAclsCommand({ NetworkAclIds: ['acl-xyz'] })));
    assert.equal(malformed.name, 'InvalidNetworkAclId.Malformed');
  });

  it('drops the ACL association of a deleted subnet', async () => {
    const s = await newSubnet(vpcId, '10.40.7.0/24');
    assert.ok((await acl(defaultAcl.NetworkAclId!)).Associations!.some((a) => a.SubnetId === s));
    await client.send(new DeleteSubnetCommand({ SubnetId: s }));
    assert.ok(!(await acl(defaultAcl.NetworkAclId!)).Associations!.some((a) => a.SubnetId === s));
  });
});

// ---------------------------------------------------------------------------------------------

describe('VPC peering', () => {
  it('within an account: pending-acceptance, accepted, routed, deleted (the route becomes a blackhole)', async () => {
    const a = await newVpc('10.50.0.0/16');
    const b = await newVpc('10.51.0.0/16');
    const created = (
      await client.send(
        new CreateVpcPeeringConnectionCommand({
          VpcId: a,
          PeerVpcId: b,
          TagSpecifications: [{ ResourceType: 'vpc-peering-connection', Tags: [{ Key: 'Name', Value: 'a-b' }] }],
        }),
      )
    ).VpcPeeringConnection!;
    const id = created.VpcPeeringConnectionId!;
    assert.match(id, /^pcx-[0-9a-f]{17}$/);
    assert.equal(created.Status!.Code, 'initiating-request');
    assert.equal(created.RequesterVpcInfo!.VpcId, a);
    assert.equal(created.RequesterVpcInfo!.CidrBlock, '10.50.0.0/16');
    assert.equal(created.AccepterVpcInfo!.VpcId, b);
    assert.equal(created.AccepterVpcInfo!.OwnerId, '000000000000');
    assert.equal(created.AccepterVpcInfo!.Region, 'us-east-1');
    assert.deepEqual(created.Tags, [{ Key: 'Name', Value: 'a-b' }]);

    let p = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
    assert.equal(p.Status!.Code, 'pending-acceptance');
    assert.equal(p.Status!.Message, 'Pending Acceptance by 000000000000');
    assert.equal(p.AccepterVpcInfo!.CidrBlock, undefined, 'the accepter CIDR shows once active');
    assert.ok(p.ExpirationTime instanceof Date);

    // a route to a pending connection is allowed, and is a blackhole until it is active
    const rtb = (await mainTable(a)).RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.51.0.0/16', VpcPeeringConnectionId: id }));
    assert.equal(routeTo(await table(rtb), '10.51.0.0/16')!.State, 'blackhole');

    const opts = await awsError(() =>
      client.send(
        new ModifyVpcPeeringConnectionOptionsCommand({
          VpcPeeringConnectionId: id,
          RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: false },
        }),
      ),
    );
    assert.equal(opts.name, 'OperationNotPermitted');

    const accepted = (await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }))).VpcPeeringConnection!;
    assert.equal(accepted.Status!.Code, 'active');
    assert.deepEqual(accepted.AccepterVpcInfo!.CidrBlockSet, [{ CidrBlock: '10.51.0.0/16' }]);
    assert.equal(accepted.AccepterVpcInfo!.PeeringOptions!.AllowDnsResolutionFromRemoteVpc, false);
    assert.equal(routeTo(await table(rtb), '10.51.0.0/16')!.State, 'active');
    const twice = await awsError(() => client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })));
    assert.equal(twice.name, 'InvalidStateTransition');

    const m = await client.send(
      new ModifyVpcPeeringConnectionOptionsCommand({
        VpcPeeringConnectionId: id,
        AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: false },
      }),
    );
    assert.equal(m.AccepterPeeringConnectionOptions!.AllowDnsResolutionFromRemoteVpc, false);

    const byStatus = await client.send(
      new DescribeVpcPeeringConnectionsCommand({
        Filters: [
          { Name: 'status-code', Values: ['active'] },
          { Name: 'requester-vpc-info.vpc-id', Values: [a] },
        ],
      }),
    );
    assert.deepEqual(
      byStatus.VpcPeeringConnections!.map((x) => x.VpcPeeringConnectionId),
      [id],
    );

    const dep = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: b })));
    assert.equal(dep.name, 'DependencyViolation', 'a VPC with an active peering connection cannot be deleted');

    const del = await client.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    assert.equal(del.Return, true);
    p = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
    assert.equal(p.Status!.Code, 'deleted');
    assert.equal(p.Status!.Message, 'Deleted by 000000000000');
    const route = routeTo(await table(rtb), '10.51.0.0/16')!;
    assert.equal(route.VpcPeeringConnectionId, id);
    assert.equal(route.State, 'blackhole');
    const again = await awsError(() => client.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })));
    assert.equal(again.name, 'InvalidStateTransition');
  });

  it('overlapping CIDR blocks fail; a request can be rejected', async () => {
    const a = await newVpc('10.52.0.0/16');
    const b = await newVpc('10.52.128.0/17');
    const failed = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!;
    assert.equal(failed.Status!.Code, 'failed');
    assert.equal(failed.Status!.Message, 'Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range');
    const acc = await awsError(() =>
      client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: failed.VpcPeeringConnectionId })),
    );
    assert.equal(acc.name, 'InvalidStateTransition');

    const c = await newVpc('10.53.0.0/16');
    const req = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: c }))).VpcPeeringConnection!;
    const r = await client.send(new RejectVpcPeeringConnectionCommand({ VpcPeeringConnectionId: req.VpcPeeringConnectionId }));
    assert.equal(r.Return, true);
    const p = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [req.VpcPeeringConnectionId!] })))
      .VpcPeeringConnections![0]!;
    assert.equal(p.Status!.Code, 'rejected');
  });

  it('answers NotFound and Malformed for bad ids and VPCs', async () => {
    const a = await newVpc('10.54.0.0/16');
    const nf = await awsError(() => client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(nf.name, 'InvalidVpcID.NotFound');
    const m = await awsError(() => client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: ['pcx-1'] })));
    assert.equal(m.name, 'InvalidVpcPeeringConnectionId.Malformed');
    const n = await awsError(() => client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: 'pcx-0123456789abcdef0' })));
    assert.equal(n.name, 'InvalidVpcPeeringConnectionID.NotFound');
    assert.equal(n.message, "The vpcPeeringConnection ID 'pcx-0123456789abcdef0' does not exist");
  });

  it('across accounts: only the accepter account accepts; both see the connection, each with its own tags', async () => {
    const other = ec2(server.url, { accessKeyId: '111122223333' });
    const a = await newVpc('10.55.0.0/16');
    const b = await newVpc('10.56.0.0/16', { c: other });
    const id = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b, PeerOwnerId: '111122223333' })))
      .VpcPeeringConnection!.VpcPeeringConnectionId!;
    const mine = await awsError(() => client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })));
    assert.equal(mine.name, 'OperationNotPermitted');
    const seen = (await other.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
    assert.equal(seen.Status!.Code, 'pending-acceptance');
    assert.equal(seen.RequesterVpcInfo!.OwnerId, '000000000000');
    await other.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'side', Value: 'accepter' }] }));
    await other.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    const p = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
    assert.equal(p.Status!.Code, 'active');
    assert.equal(p.AccepterVpcInfo!.OwnerId, '111122223333');
    assert.equal(p.AccepterVpcInfo!.CidrBlock, '10.56.0.0/16');
    assert.deepEqual(p.Tags, [], "the accepter's tags are its own");
    // each side modifies only its own options
    const wrong = await awsError(() =>
      client.send(
        new ModifyVpcPeeringConnectionOptionsCommand({
          VpcPeeringConnectionId: id,
          AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: false },
        }),
      ),
    );
    assert.equal(wrong.name, 'OperationNotPermitted');
    await other.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    const gone = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] })))
      .VpcPeeringConnections![0]!;
    assert.equal(gone.Status!.Code, 'deleted');
    assert.equal(gone.Status!.Message, 'Deleted by 111122223333');
  });

  it('across regions: accepted in the accepter region only', async () => {
    const west = ec2(server.url, { region: 'us-west-2' });
    const a = await newVpc('10.57.0.0/16');
    const b = await newVpc('10.58.0.0/16', { c: west });
    const id = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b, PeerRegion: 'us-west-2' })))
      .VpcPeeringConnection!.VpcPeeringConnectionId!;
    const here = await awsError(() => client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id })));
    assert.equal(here.name, 'OperationNotPermitted');
    assert.match(here.message, /must be accepted in region us-west-2/);
    const p = (await west.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }))).VpcPeeringConnection!;
    assert.equal(p.Status!.Code, 'active');
    assert.equal(p.RequesterVpcInfo!.Region, 'us-east-1');
    assert.equal(p.AccepterVpcInfo!.Region, 'us-west-2');
    const seen = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] })))
      .VpcPeeringConnections![0]!;
    assert.equal(seen.Status!.Code, 'active');
    // a peering connection to a VPC that does not exist in the other region fails
    const failed = (
      await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: 'vpc-0123456789abcdef0', PeerRegion: 'us-west-2' }))
    ).VpcPeeringConnection!;
    assert.equal(failed.Status!.Code, 'failed');
  });
});

// ---------------------------------------------------------------------------------------------

describe('VPC endpoints', () => {
  let vpcId: string;
  let rtb1: string;
  let rtb2: string;
  let s3List: string;
  before(async () => {
    vpcId = await newVpc('10.60.0.0/16');
    rtb1 = (await mainTable(vpcId)).RouteTableId!;
    rtb2 = (await client.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    s3List = (
      await client.send(new DescribePrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }))
    ).PrefixLists![0]!.PrefixListId!;
  });

  it('lists the services it supports', async () => {
    const r = await client.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: ['com.amazonaws.us-east-1.s3'] }));
    assert.deepEqual(r.ServiceNames, ['com.amazonaws.us-east-1.s3']);
    assert.deepEqual(r.ServiceDetails!.map((d) => d.ServiceType![0]!.ServiceType).sort(), ['Gateway', 'Interface']);
    const gw = await client.send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'service-type', Values: ['Gateway'] }] }));
    assert.deepEqual(gw.ServiceNames, ['com.amazonaws.us-east-1.dynamodb', 'com.amazonaws.us-east-1.s3']);
    const bad = await awsError(() => client.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: ['com.example.nope'] })));
    assert.equal(bad.name, 'InvalidServiceName');
  });

  it('a gateway endpoint routes its service prefix list in its route tables, kept in step by ModifyVpcEndpoint', async () => {
    const e = (
      await client.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: 'com.amazonaws.us-east-1.s3',
          VpcEndpointType: 'Gateway',
          RouteTableIds: [rtb1],
        }),
      )
    ).VpcEndpoint!;
    assert.match(e.VpcEndpointId!, /^vpce-[0-9a-f]{17}$/);
    assert.equal(e.State, 'available');
    assert.equal(e.VpcEndpointType, 'Gateway');
    assert.deepEqual(e.RouteTableIds, [rtb1]);
    assert.ok(JSON.parse(e.PolicyDocument!).Statement);
    const route = routeTo(await table(rtb1), s3List)!;
    assert.equal(route.GatewayId, e.VpcEndpointId);
    assert.equal(route.State, 'active');
    const byGateway = await client.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.gateway-id', Values: [e.VpcEndpointId!] }] }),
    );
    assert.deepEqual(
      byGateway.RouteTables!.map((t) => t.RouteTableId),
      [rtb1],
    );

    await client.send(
      new ModifyVpcEndpointCommand({ VpcEndpointId: e.VpcEndpointId, AddRouteTableIds: [rtb2], RemoveRouteTableIds: [rtb1] }),
    );
    assert.equal(routeTo(await table(rtb1), s3List), undefined);
    assert.equal(routeTo(await table(rtb2), s3List)!.GatewayId, e.VpcEndpointId);
    const d = (await client.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }))).VpcEndpoints![0]!;
    assert.deepEqual(d.RouteTableIds, [rtb2]);

    const dep = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(dep.name, 'DependencyViolation');

    const del = await client.send(
      new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!, 'vpce-0123456789abcdef0', 'vpce-zz'] }),
    );
    assert.deepEqual(
      del.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]),
      [
        ['vpce-0123456789abcdef0', 'InvalidVpcEndpoint.NotFound'],
        ['vpce-zz', 'InvalidVpcEndpointId.Malformed'],
      ],
    );
    assert.equal(routeTo(await table(rtb2), s3List), undefined, 'its routes went with it');
    const nf = await awsError(() => client.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] })));
    assert.equal(nf.name, 'InvalidVpcEndpointId.NotFound');
  });

  it('refuses an unknown service, a table of another VPC and a second route to the same list', async () => {
    const bad = await awsError(() =>
      client.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.nope', RouteTableIds: [rtb1] })),
    );
    assert.equal(bad.name, 'InvalidServiceName');
    const foreign = (await mainTable(await newVpc('10.61.0.0/16'))).RouteTableId!;
    const x = await awsError(() =>
      client.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [foreign] })),
    );
    assert.equal(x.name, 'InvalidParameter');
    const first = (
      await client.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [rtb1] }))
    ).VpcEndpoint!;
    const second = await awsError(() =>
      client.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [rtb1] })),
    );
    assert.equal(second.name, 'RouteAlreadyExists');
    assert.equal(
      (await client.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).VpcEndpoints!.length,
      1,
    );
    await client.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [first.VpcEndpointId!] }));
  });

  it('an interface endpoint has one interface per subnet, carrying its groups (which then count as in use)', async () => {
    const s1 = await newSubnet(vpcId, '10.60.1.0/24', 'us-east-1a');
    const s2 = await newSubnet(vpcId, '10.60.2.0/24', 'us-east-1a');
    const s3 = await newSubnet(vpcId, '10.60.3.0/24', 'us-east-1b');
    const sg = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'vpce', Description: 'endpoint', VpcId: vpcId }))).GroupId!;
    const e = (
      await client.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: 'com.amazonaws.us-east-1.ssm',
          VpcEndpointType: 'Interface',
          SubnetIds: [s1],
          SecurityGroupIds: [sg],
          PrivateDnsEnabled: false,
        }),
      )
    ).VpcEndpoint!;
    assert.equal(e.VpcEndpointType, 'Interface');
    assert.deepEqual(e.SubnetIds, [s1]);
    assert.equal(e.NetworkInterfaceIds!.length, 1);
    assert.deepEqual(
      e.Groups!.map((g) => g.GroupId),
      [sg],
    );
    assert.ok(e.DnsEntries!.length >= 1);
    const eni = (await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: e.NetworkInterfaceIds })))
      .NetworkInterfaces![0]!;
    assert.equal(eni.InterfaceType, 'vpc_endpoint');
    assert.equal(eni.RequesterManaged, true);
    assert.equal(eni.SubnetId, s1);
    assert.deepEqual(
      eni.Groups!.map((g) => g.GroupId),
      [sg],
    );

    const inUse = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: sg })));
    assert.equal(inUse.name, 'DependencyViolation');
    const sameZone = await awsError(() =>
      client.send(new ModifyVpcEndpointCommand({ VpcEndpointId: e.VpcEndpointId, AddSubnetIds: [s2] })),
    );
    assert.equal(sameZone.name, 'DuplicateSubnetsInSameZone');
    const subnetDep = await awsError(() => client.send(new DeleteSubnetCommand({ SubnetId: s1 })));
    assert.equal(subnetDep.name, 'DependencyViolation');

    await client.send(new ModifyVpcEndpointCommand({ VpcEndpointId: e.VpcEndpointId, AddSubnetIds: [s3], RemoveSubnetIds: [s1] }));
    const d = (await client.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }))).VpcEndpoints![0]!;
    assert.deepEqual(d.SubnetIds, [s3]);
    assert.equal(d.NetworkInterfaceIds!.length, 1);
    const old = await awsError(() => client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: e.NetworkInterfaceIds })));
    assert.equal(old.name, 'InvalidNetworkInterfaceID.NotFound', 'the interface in the removed subnet went');

    const defaultSg = (await client.send(new ModifyVpcEndpointCommand({ VpcEndpointId: e.VpcEndpointId, RemoveSecurityGroupIds: [sg] })))
      .Return;
    assert.equal(defaultSg, true);
    await client.send(new DeleteSecurityGroupCommand({ GroupId: sg }));

    await client.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
    const left = await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    assert.deepEqual(left.NetworkInterfaces, []);
    for (const s of [s1, s2, s3]) await client.send(new DeleteSubnetCommand({ SubnetId: s }));
    await client.send(new DeleteRouteTableCommand({ RouteTableId: rtb2 }));
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });
});

// ---------------------------------------------------------------------------------------------

describe('palisade import: the routing exports', () => {
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  const IGWS = {
    InternetGateways: [
      {
        Attachments: [{ State: 'available', VpcId: 'vpc-0a1b2c3d4e5f60718' }],
        InternetGatewayId: 'igw-0c0ffee0c0ffee000',
        OwnerId: '123456789012',
        Tags: [{ Key: 'Name', Value: 'main' }],
      },
    ],
  };
  const NATS = {
    NatGateways: [
      {
        CreateTime: '2024-01-02T03:04:05+00:00',
        NatGatewayAddresses: [
          {
            AllocationId: 'eipalloc-0123456789abcdef0',
            NetworkInterfaceId: 'eni-0123456789abcdef0',
            PrivateIp: '10.0.1.12',
            PublicIp: '198.51.100.7',
            IsPrimary: true,
            Status: 'succeeded',
          },
        ],
        NatGatewayId: 'nat-0123456789abcdef0',
        State: 'available',
        SubnetId: 'subnet-0123456789abcdef0',
        VpcId: 'vpc-0a1b2c3d4e5f60718',
        ConnectivityType: 'public',
      },
    ],
  };

  it('reads describe-route-tables, -network-acls, -internet-gateways, -nat-gateways and -vpc-peering-connections', async () => {
    const a = await newVpc('10.80.0.0/16');
    const b = await newVpc('10.81.0.0/16');
    const pcx = (await client.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!
      .VpcPeeringConnectionId!;
    await client.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    const rtb = (await mainTable(a)).RouteTableId!;
    await client.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.81.0.0/16', VpcPeeringConnectionId: pcx }));
    const filter = [{ Name: 'vpc-id', Values: [a, b] }];
    const dir = mkdtempSync(join(tmpdir(), 'palisade-import-routing-'));
    writeFileSync(join(dir, 'route-tables.json'), json(await client.send(new DescribeRouteTablesCommand({ Filters: filter }))));
    writeFileSync(join(dir, 'network-acls.json'), json(await client.send(new DescribeNetworkAclsCommand({ Filters: filter }))));
    writeFileSync(
      join(dir, 'peerings.json'), // recognised by its content
      json(await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [pcx] }))),
    );
    writeFileSync(join(dir, 'internet-gateways.json'), json(IGWS));
    writeFileSync(join(dir, 'describe-nat-gateways.json'), json(NATS));

    const s = await importExports(dir);
    assert.equal(s.routeTables!.length, 2);
    assert.equal(s.networkAcls!.length, 2);
    assert.deepEqual(
      s.vpcPeeringConnections!.map((p) => p.VpcPeeringConnectionId),
      [pcx],
    );
    assert.equal(s.internetGateways![0]!.Attachments![0]!.VpcId, 'vpc-0a1b2c3d4e5f60718');
    assert.equal(s.natGateways![0]!.NatGatewayAddresses![0]!.PublicIp, '198.51.100.7');
    const route = s.routeTables!.find((t) => t.RouteTableId === rtb)!.Routes!.find((r) => r.VpcPeeringConnectionId === pcx)!;
    assert.equal(route.DestinationCidrBlock, '10.81.0.0/16');
    for (const k of ['routeTables', 'networkAcls', 'internetGateways', 'natGateways', 'vpcPeeringConnections'] as const) {
      assert.ok(s.exported!.includes(k), k);
    }
    assert.match(s.sources![rtb]!.file, /route-tables\.json$/);
    assert.ok(s.sources!['nat-0123456789abcdef0']!.line! > 1);

    // kept in the state file, and read back from it
    const state = join(dir, 'state.json');
    await saveSnapshot(s, state);
    const back = await loadSnapshot(state);
    assert.deepEqual(back.routeTables, s.routeTables);
    assert.deepEqual(back.natGateways, s.natGateways);
  });

  it('refuses bad routing exports, naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-import-routing-bad-'));
    writeFileSync(
      join(dir, 'route-tables.json'),
      json({
        RouteTables: [
          {
            RouteTableId: 'rtb-0123456789abcdef0',
            VpcId: 'vpc-0123456789abcdef0',
            Routes: [
              { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', State: 'active' },
              { GatewayId: 'igw-1', State: 'sideways' },
            ],
            Associations: [{ RouteTableAssociationId: 'assoc-1', Main: 'yes' }],
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'network-acls.json'),
      json({
        NetworkAcls: [
          {
            NetworkAclId: 'acl-0123456789abcdef0',
            VpcId: 'vpc-0123456789abcdef0',
            Entries: [{ RuleNumber: '100', Egress: false, Protocol: '-1', RuleAction: 'maybe', CidrBlock: '10.0.0.0/40' }],
          },
        ],
      }),
    );
    writeFileSync(join(dir, 'nat-gateways.json'), json({ InternetGateways: [] }));
    const e = await importExports(dir).then(
      () => assert.fail('the import should have been refused'),
      (x: unknown) => x,
    );
    assert.ok(e instanceof ImportError);
    const text = (e as ImportError).message;
    for (const expected of [
      'route-tables.json: RouteTables[0].Routes[1]: must have exactly one of DestinationCidrBlock, DestinationIpv6CidrBlock, DestinationPrefixListId',
      'route-tables.json: RouteTables[0].Routes[1].State: "sideways" is not one of active, blackhole',
      'route-tables.json: RouteTables[0].Associations[0].RouteTableAssociationId: "assoc-1" is not an id of the form rtbassoc-…',
      'route-tables.json: RouteTables[0].Associations[0].Main: must be true or false',
      'network-acls.json: NetworkAcls[0].Entries[0].RuleNumber: must be an integer',
      'network-acls.json: NetworkAcls[0].Entries[0].RuleAction: "maybe" is not one of allow, deny',
      'network-acls.json: NetworkAcls[0].Entries[0].CidrBlock: "10.0.0.0/40" is not an IPv4 CIDR block',
      'nat-gateways.json: NatGateways: missing (expected the output of aws ec2 describe-nat-gateways; this looks like aws ec2 describe-internet-gateways)',
    ]) {
      assert.ok(text.includes(expected), `expected «${expected}» in:\n${text}`);
    }
  });
});
