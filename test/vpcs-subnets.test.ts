// End-to-end: VPCs, subnets, the default VPC of every account and region, driven with
// @aws-sdk/client-ec2 against a real server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssociateVpcCidrBlockCommand,
  CreateDefaultVpcCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteInternetGatewayCommand,
  DeleteVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  type EC2Client,
  type Subnet,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

const ACCOUNT = '000000000000'; // non-numeric access keys map to the default account
let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

const HEX17 = /^[0-9a-f]{17}$/;

async function defaultVpcOf(c: EC2Client) {
  const { Vpcs } = await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
  assert.equal(Vpcs!.length, 1, 'exactly one default VPC');
  return Vpcs![0]!;
}

async function groupsOfVpc(c: EC2Client, vpcId: string) {
  return (await c.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).SecurityGroups!;
}

async function allSubnets(c: EC2Client, vpcId: string, pageSize: number): Promise<{ subnets: Subnet[]; pages: number }> {
  const subnets: Subnet[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const out = await c.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], MaxResults: pageSize, NextToken: token }),
    );
    pages++;
    assert.ok(out.Subnets!.length <= pageSize);
    subnets.push(...out.Subnets!);
    token = out.NextToken;
  } while (token);
  return { subnets, pages };
}

describe('default VPC', () => {
  it('is 172.31.0.0/16, default, available, owned by the caller', async () => {
    const v = await defaultVpcOf(client);
    assert.match(v.VpcId!, /^vpc-[0-9a-f]{17}$/);
    assert.equal(v.CidrBlock, '172.31.0.0/16');
    assert.equal(v.IsDefault, true);
    assert.equal(v.State, 'available');
    assert.equal(v.OwnerId, ACCOUNT);
    assert.equal(v.InstanceTenancy, 'default');
    assert.match(v.DhcpOptionsId!, /^dopt-[0-9a-f]{17}$/);
    assert.equal(v.CidrBlockAssociationSet!.length, 1);
    assert.equal(v.CidrBlockAssociationSet![0]!.CidrBlock, '172.31.0.0/16');
    assert.equal(v.CidrBlockAssociationSet![0]!.CidrBlockState!.State, 'associated');
    assert.match(v.CidrBlockAssociationSet![0]!.AssociationId!, /^vpc-cidr-assoc-[0-9a-f]{17}$/);
    assert.deepEqual(v.Ipv6CidrBlockAssociationSet ?? [], []);
  });

  it('has one default /20 subnet per availability zone, public on launch', async () => {
    const v = await defaultVpcOf(client);
    const { AvailabilityZones } = await client.send(new DescribeAvailabilityZonesCommand({}));
    const zones = AvailabilityZones!.map((z) => z.ZoneName!).sort();
    assert.ok(zones.length >= 2);
    const { Subnets } = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [v.VpcId!] }] }));
    assert.equal(Subnets!.length, zones.length);
    assert.deepEqual(Subnets!.map((s) => s.AvailabilityZone).sort(), zones, 'one per AZ');
    const cidrs = Subnets!.map((s) => s.CidrBlock!).sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
    assert.deepEqual(
      cidrs,
      zones.map((_, i) => `172.31.${i * 16}.0/20`),
    );
    for (const s of Subnets!) {
      assert.match(s.SubnetId!, /^subnet-[0-9a-f]{17}$/);
      assert.equal(s.DefaultForAz, true);
      assert.equal(s.MapPublicIpOnLaunch, true);
      assert.equal(s.State, 'available');
      assert.equal(s.AvailableIpAddressCount, 4096 - 5);
      assert.equal(s.OwnerId, ACCOUNT);
      assert.equal(s.SubnetArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/${s.SubnetId}`);
      const zone = AvailabilityZones!.find((z) => z.ZoneName === s.AvailabilityZone)!;
      assert.equal(s.AvailabilityZoneId, zone.ZoneId);
    }
    const byFilter = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
    assert.equal(byFilter.Subnets!.length, zones.length);
  });

  it('has the default group with AWS initial rules: self-referencing inbound, all outbound', async () => {
    const v = await defaultVpcOf(client);
    const groups = await groupsOfVpc(client, v.VpcId!);
    const def = groups.find((g) => g.GroupName === 'default')!;
    assert.ok(def);
    assert.match(def.GroupId!, /^sg-[0-9a-f]{17}$/);
    assert.equal(def.Description, 'default VPC security group');
    assert.equal(def.OwnerId, ACCOUNT);
    assert.equal(def.SecurityGroupArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/${def.GroupId}`);
    assert.equal(def.IpPermissions!.length, 1);
    const inbound = def.IpPermissions![0]!;
    assert.equal(inbound.IpProtocol, '-1');
    assert.equal(inbound.FromPort, undefined, 'all-protocol permissions carry no ports in DescribeSecurityGroups');
    assert.deepEqual(inbound.UserIdGroupPairs, [{ GroupId: def.GroupId, UserId: ACCOUNT }]);
    assert.deepEqual(inbound.IpRanges, []);
    assert.equal(def.IpPermissionsEgress!.length, 1);
    assert.equal(def.IpPermissionsEgress![0]!.IpProtocol, '-1');
    assert.deepEqual(def.IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
    assert.deepEqual(def.IpPermissionsEgress![0]!.Ipv6Ranges, [], 'no ::/0 without an IPv6 block');
    // The same rules as rule objects: ports -1, ids and ARNs in AWS's formats.
    const { SecurityGroupRules } = await client.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [def.GroupId!] }] }),
    );
    assert.equal(SecurityGroupRules!.length, 2);
    for (const r of SecurityGroupRules!) {
      assert.match(r.SecurityGroupRuleId!, /^sgr-[0-9a-f]{17}$/);
      assert.equal(r.SecurityGroupRuleArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${r.SecurityGroupRuleId}`);
      assert.equal(r.GroupOwnerId, ACCOUNT);
      assert.equal(r.IpProtocol, '-1');
      assert.equal(r.FromPort, -1);
      assert.equal(r.ToPort, -1);
    }
    const inRule = SecurityGroupRules!.find((r) => !r.IsEgress)!;
    assert.equal(inRule.ReferencedGroupInfo!.GroupId, def.GroupId);
    assert.equal(inRule.ReferencedGroupInfo!.UserId, ACCOUNT);
    const outRule = SecurityGroupRules!.find((r) => r.IsEgress)!;
    assert.equal(outRule.CidrIpv4, '0.0.0.0/0');
    // Looked up by name in the default VPC.
    const byName = await client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }));
    assert.equal(byName.SecurityGroups![0]!.GroupId, def.GroupId);
  });

  it('can be deleted (after its subnets and internet gateway) and made again with CreateDefaultVpc, only once', async () => {
    const c = ec2(server.url, { region: 'ap-northeast-1' });
    const v = await defaultVpcOf(c);
    let e = await awsError(() => c.send(new CreateDefaultVpcCommand({})));
    assert.equal(e.name, 'DefaultVpcAlreadyExists');
    e = await awsError(() => c.send(new DeleteVpcCommand({ VpcId: v.VpcId })));
    assert.equal(e.name, 'DependencyViolation', 'its default subnets keep it');
    for (const s of (await c.send(new DescribeSubnetsCommand({}))).Subnets!)
      await c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    e = await awsError(() => c.send(new DeleteVpcCommand({ VpcId: v.VpcId })));
    assert.equal(e.name, 'DependencyViolation', 'its internet gateway keeps it');
    const [igw] = (await c.send(new DescribeInternetGatewaysCommand({}))).InternetGateways!;
    assert.equal(igw!.Attachments![0]!.VpcId, v.VpcId);
    await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw!.InternetGatewayId, VpcId: v.VpcId }));
    await c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igw!.InternetGatewayId }));
    await c.send(new DeleteVpcCommand({ VpcId: v.VpcId }));
    assert.deepEqual((await c.send(new DescribeVpcsCommand({}))).Vpcs, [], "not recreated behind the user's back");
    e = await awsError(() => c.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x' })));
    assert.equal(e.name, 'VPCIdNotSpecified');
    e = await awsError(() => c.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] })));
    assert.equal(e.name, 'VPCIdNotSpecified');
    const { AccountAttributes } = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    assert.equal(AccountAttributes![0]!.AttributeValues![0]!.AttributeValue, 'none');
    const nv = (await c.send(new CreateDefaultVpcCommand({}))).Vpc!;
    assert.notEqual(nv.VpcId, v.VpcId);
    assert.equal(nv.IsDefault, true);
    assert.equal(nv.CidrBlock, '172.31.0.0/16');
    const gateways = await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [nv.VpcId!] }] }));
    assert.equal(gateways.InternetGateways!.length, 1, 'with an internet gateway of its own');
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [nv.VpcId!] }] }))).Subnets!;
    assert.ok(subnets.length >= 2 && subnets.every((s) => s.DefaultForAz && s.MapPublicIpOnLaunch && s.CidrBlock!.endsWith('/20')));
    const def = (await c.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups![0]!;
    assert.equal(def.VpcId, nv.VpcId);
    e = await awsError(() => c.send(new CreateDefaultVpcCommand({})));
    assert.equal(e.name, 'DefaultVpcAlreadyExists');
    c.destroy();
  });

  it('is created once: many calls see the same default VPC', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, async () => (await defaultVpcOf(client)).VpcId));
    assert.equal(new Set(ids).size, 1);
  });
});

describe('CreateVpc', () => {
  it('creates a VPC with its own default group and no subnets', async () => {
    const { Vpc } = await client.send(
      new CreateVpcCommand({
        CidrBlock: '10.10.0.0/16',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'main' }] }],
      }),
    );
    assert.match(Vpc!.VpcId!, /^vpc-[0-9a-f]{17}$/);
    assert.equal(Vpc!.CidrBlock, '10.10.0.0/16');
    assert.equal(Vpc!.IsDefault, false);
    assert.ok(['pending', 'available'].includes(Vpc!.State!));
    assert.deepEqual(Vpc!.Tags, [{ Key: 'Name', Value: 'main' }]);
    const d = (await client.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0]!;
    assert.equal(d.State, 'available');
    assert.deepEqual(d.Tags, [{ Key: 'Name', Value: 'main' }]);
    const groups = await groupsOfVpc(client, Vpc!.VpcId!);
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.GroupName, 'default');
    assert.equal(groups[0]!.IpPermissions![0]!.UserIdGroupPairs![0]!.GroupId, groups[0]!.GroupId);
    assert.deepEqual(groups[0]!.IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
    const { Subnets } = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [Vpc!.VpcId!] }] }));
    assert.deepEqual(Subnets, []);
  });

  it('clears host bits of the CIDR', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.11.7.9/16' }));
    assert.equal(Vpc!.CidrBlock, '10.11.0.0/16');
  });

  it('refuses malformed CIDRs with InvalidParameterValue and /15 or /29 with InvalidVpc.Range', async () => {
    for (const cidr of ['10.0.0.0', 'not-a-cidr', '300.1.0.0/16', '10.0.0.0/33', '2001:db8::/56']) {
      const e = await awsError(() => client.send(new CreateVpcCommand({ CidrBlock: cidr })));
      assert.equal(e.name, 'InvalidParameterValue', cidr);
      assert.equal(e.status, 400);
    }
    for (const cidr of ['10.0.0.0/15', '10.0.0.0/29', '10.0.0.0/8']) {
      const e = await awsError(() => client.send(new CreateVpcCommand({ CidrBlock: cidr })));
      assert.equal(e.name, 'InvalidVpc.Range', cidr);
      assert.equal(e.status, 400);
    }
    // The boundaries are fine.
    await client.send(new CreateVpcCommand({ CidrBlock: '10.200.0.0/16' }));
    await client.send(new CreateVpcCommand({ CidrBlock: '10.201.0.0/28' }));
  });

  it('AmazonProvidedIpv6CidrBlock gives a /56 and the default group ::/0 egress', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.12.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const d = (await client.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0]!;
    assert.equal(d.Ipv6CidrBlockAssociationSet!.length, 1);
    const a = d.Ipv6CidrBlockAssociationSet![0]!;
    assert.match(a.Ipv6CidrBlock!, /^[0-9a-f:]+::\/56$/);
    assert.equal(a.Ipv6CidrBlockState!.State, 'associated');
    assert.match(a.AssociationId!, /^vpc-cidr-assoc-[0-9a-f]{17}$/);
    const def = (await groupsOfVpc(client, Vpc!.VpcId!)).find((g) => g.GroupName === 'default')!;
    const egress = def.IpPermissionsEgress!;
    assert.equal(egress.length, 1);
    assert.deepEqual(egress[0]!.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
    assert.deepEqual(egress[0]!.Ipv6Ranges, [{ CidrIpv6: '::/0' }]);
    // Filterable by the IPv6 block.
    const byV6 = await client.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'ipv6-cidr-block-association.ipv6-cidr-block', Values: [a.Ipv6CidrBlock!] }] }),
    );
    assert.deepEqual(
      byV6.Vpcs!.map((v) => v.VpcId),
      [Vpc!.VpcId],
    );
  });

  it('AssociateVpcCidrBlock with an Amazon IPv6 block adds ::/0 egress to the default group (once)', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.13.0.0/16' }));
    const vpcId = Vpc!.VpcId!;
    let def = (await groupsOfVpc(client, vpcId))[0]!;
    assert.deepEqual(def.IpPermissionsEgress![0]!.Ipv6Ranges, []);
    const out = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, AmazonProvidedIpv6CidrBlock: true }));
    assert.equal(out.VpcId, vpcId);
    assert.match(out.Ipv6CidrBlockAssociation!.Ipv6CidrBlock!, /\/56$/);
    def = (await groupsOfVpc(client, vpcId))[0]!;
    assert.deepEqual(def.IpPermissionsEgress![0]!.Ipv6Ranges, [{ CidrIpv6: '::/0' }]);
    const d = (await client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    assert.equal(d.Ipv6CidrBlockAssociationSet!.length, 1);
    // A second IPv6 block does not duplicate the rule.
    await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, AmazonProvidedIpv6CidrBlock: true }));
    const rules = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [def.GroupId!] }] }));
    assert.equal(rules.SecurityGroupRules!.filter((r) => r.CidrIpv6 === '::/0').length, 1);
    // A secondary IPv4 block: must not overlap.
    const v4 = await client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: '10.14.0.0/16' }));
    assert.equal(v4.CidrBlockAssociation!.CidrBlock, '10.14.0.0/16');
    const e = await awsError(() => client.send(new AssociateVpcCidrBlockCommand({ VpcId: vpcId, CidrBlock: '10.13.128.0/17' })));
    assert.equal(e.name, 'InvalidVpc.Range');
  });
});

describe('DescribeVpcs', () => {
  it('filters by id, CIDR, default flag, owner, state, tags (with wildcards), AND across filters', async () => {
    const a = (
      await client.send(
        new CreateVpcCommand({
          CidrBlock: '10.30.0.0/16',
          TagSpecifications: [
            {
              ResourceType: 'vpc',
              Tags: [
                { Key: 'env', Value: 'prod' },
                { Key: 'team', Value: 'red' },
              ],
            },
          ],
        }),
      )
    ).Vpc!;
    const b = (
      await client.send(
        new CreateVpcCommand({
          CidrBlock: '10.31.0.0/16',
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'env', Value: 'preprod' }] }],
        }),
      )
    ).Vpc!;
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      (await client.send(new DescribeVpcsCommand({ Filters: filters }))).Vpcs!.map((v) => v.VpcId).sort();
    assert.deepEqual(await ids([{ Name: 'vpc-id', Values: [a.VpcId!] }]), [a.VpcId]);
    assert.deepEqual(await ids([{ Name: 'cidr-block', Values: ['10.31.0.0/16'] }]), [b.VpcId]);
    assert.deepEqual(await ids([{ Name: 'cidr', Values: ['10.30.0.0/16', '10.31.0.0/16'] }]), [a.VpcId, b.VpcId].sort());
    assert.deepEqual(await ids([{ Name: 'cidr-block-association.cidr-block', Values: ['10.30.0.0/16'] }]), [a.VpcId]);
    assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['prod'] }]), [a.VpcId]);
    assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['*prod'] }]), [a.VpcId, b.VpcId].sort());
    assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['pr?d'] }]), [a.VpcId]);
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['team'] }]), [a.VpcId]);
    assert.deepEqual(
      await ids([
        { Name: 'tag:env', Values: ['*prod'] },
        { Name: 'tag-key', Values: ['team'] },
      ]),
      [a.VpcId],
    );
    assert.deepEqual(
      await ids([
        { Name: 'tag:env', Values: ['prod'] },
        { Name: 'cidr-block', Values: ['10.31.0.0/16'] },
      ]),
      [],
    );
    const def = await defaultVpcOf(client);
    assert.deepEqual(await ids([{ Name: 'is-default', Values: ['true'] }]), [def.VpcId]);
    assert.ok(!(await ids([{ Name: 'is-default', Values: ['false'] }])).includes(def.VpcId));
    const all = await ids([]);
    assert.deepEqual(await ids([{ Name: 'owner-id', Values: [ACCOUNT] }]), all);
    assert.deepEqual(await ids([{ Name: 'state', Values: ['available'] }]), all);
    assert.deepEqual(await ids([{ Name: 'owner-id', Values: ['111111111111'] }]), []);
  });

  it('refuses unknown filters and reports unknown or malformed ids', async () => {
    let e = await awsError(() => client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.match(e.message, /vpc-0123456789abcdef0/);
    e = await awsError(() => client.send(new DescribeVpcsCommand({ VpcIds: ['nope'] })));
    assert.equal(e.name, 'InvalidVpcID.Malformed');
  });

  it('pages with MaxResults/NextToken', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const out = await client.send(new DescribeVpcsCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(out.Vpcs!.length <= 5);
      seen.push(...out.Vpcs!.map((v) => v.VpcId!));
      token = out.NextToken;
    } while (token);
    const all = (await client.send(new DescribeVpcsCommand({}))).Vpcs!.map((v) => v.VpcId!);
    assert.deepEqual(seen, all);
    assert.equal(new Set(seen).size, seen.length);
  });
});

describe('DeleteVpc', () => {
  it('refuses with DependencyViolation while subnets or non-default groups remain', async () => {
    const vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
    const subnetId = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.1.0/24' }))).Subnet!.SubnetId!;
    let e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(e.name, 'DependencyViolation');
    assert.equal(e.status, 400);
    await client.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'app', Description: 'app', VpcId: vpcId }));
    e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(e.name, 'DependencyViolation');
    // Nothing was removed by the failed calls.
    assert.equal((await groupsOfVpc(client, vpcId)).length, 2);
    await client.send(new DeleteSecurityGroupCommand({ GroupId }));
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  it('deletes the VPC with its default group; afterwards InvalidVpcID.NotFound', async () => {
    const vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }))).Vpc!.VpcId!;
    const defId = (await groupsOfVpc(client, vpcId))[0]!.GroupId!;
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
    let e = await awsError(() => client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    e = await awsError(() => client.send(new DescribeSecurityGroupsCommand({ GroupIds: [defId] })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
    assert.deepEqual(await groupsOfVpc(client, vpcId), []);
    e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: vpcId })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    assert.equal(e.message, `The vpc ID '${vpcId}' does not exist`);
    e = await awsError(() => client.send(new DeleteVpcCommand({ VpcId: 'vpc-zz' })));
    assert.equal(e.name, 'InvalidVpcID.Malformed');
  });

  it('groups and subnets cannot be created in a deleted VPC', async () => {
    const vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!.VpcId!;
    await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
    let e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.42.0.0/24' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    e = await awsError(() => client.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x', VpcId: vpcId })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
  });
});

describe('CreateSubnet', () => {
  let vpcId: string;
  before(async () => {
    vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
  });

  it('creates a subnet inside the VPC in the requested zone', async () => {
    const { Subnet } = await client.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: '10.50.1.0/24',
        AvailabilityZone: 'us-east-1b',
        TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: 'private-b' }] }],
      }),
    );
    const s = Subnet!;
    assert.match(s.SubnetId!, /^subnet-[0-9a-f]{17}$/);
    assert.equal(s.VpcId, vpcId);
    assert.equal(s.CidrBlock, '10.50.1.0/24');
    assert.equal(s.AvailabilityZone, 'us-east-1b');
    assert.match(s.AvailabilityZoneId!, /^use1-az\d$/);
    assert.equal(s.AvailableIpAddressCount, 251, 'AWS reserves five addresses');
    assert.equal(s.DefaultForAz, false);
    assert.equal(s.MapPublicIpOnLaunch, false);
    assert.equal(s.OwnerId, ACCOUNT);
    assert.equal(s.SubnetArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:subnet/${s.SubnetId}`);
    assert.deepEqual(s.Tags, [{ Key: 'Name', Value: 'private-b' }]);
    // Zone by id, and a /28 (the smallest) works.
    const z = await client.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.2.0/28', AvailabilityZoneId: s.AvailabilityZoneId }),
    );
    assert.equal(z.Subnet!.AvailabilityZone, 'us-east-1b');
    assert.equal(z.Subnet!.AvailableIpAddressCount, 11);
    // No zone: AWS picks one of the region's.
    const any = await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.3.0/24' }));
    assert.match(any.Subnet!.AvailabilityZone!, /^us-east-1[a-z]$/);
  });

  it('InvalidSubnet.Range outside the VPC or beyond /16../28; InvalidSubnet.Conflict on overlap', async () => {
    for (const cidr of ['10.51.0.0/24', '10.0.0.0/8', '10.50.4.0/29', '10.50.0.0/15']) {
      const e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr })));
      assert.equal(e.name, 'InvalidSubnet.Range', cidr);
    }
    await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.16.0/20' }));
    for (const cidr of ['10.50.16.0/20', '10.50.20.0/24', '10.50.0.0/16']) {
      const e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr })));
      assert.equal(e.name, 'InvalidSubnet.Conflict', cidr);
    }
    const e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: 'bogus' })));
    assert.equal(e.name, 'InvalidParameterValue');
    // Another VPC may reuse the same range.
    const other = (await client.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
    await client.send(new CreateSubnetCommand({ VpcId: other, CidrBlock: '10.50.16.0/20' }));
  });

  it('refuses an unknown zone and an unknown VPC', async () => {
    let e = await awsError(() =>
      client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.5.0/24', AvailabilityZone: 'us-east-1z' })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.match(e.message, /us-east-1z/);
    e = await awsError(() =>
      client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.5.0/24', AvailabilityZone: 'eu-west-1a' })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new CreateSubnetCommand({ VpcId: 'vpc-0123456789abcdef0', CidrBlock: '10.50.5.0/24' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    // Nothing was created by the failures.
    const { Subnets } = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.50.5.0/24'] }] }));
    assert.deepEqual(Subnets, []);
  });
});

describe('DescribeSubnets and DeleteSubnet', () => {
  let vpcId: string;
  const created: string[] = [];
  before(async () => {
    vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
    for (let i = 0; i < 12; i++) {
      const { Subnet } = await client.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: `10.60.${i}.0/24`,
          AvailabilityZone: i % 2 ? 'us-east-1a' : 'us-east-1c',
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'tier', Value: i < 4 ? 'public' : 'private' }] }],
        }),
      );
      created.push(Subnet!.SubnetId!);
    }
  });

  it('filters by VPC, zone, CIDR, tags, default-for-az; AND between filters, OR within one', async () => {
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      (await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, ...filters] }))).Subnets!.map(
        (s) => s.SubnetId!,
      );
    assert.equal((await ids([])).length, 12);
    assert.equal((await ids([{ Name: 'availability-zone', Values: ['us-east-1a'] }])).length, 6);
    assert.equal((await ids([{ Name: 'availability-zone', Values: ['us-east-1a', 'us-east-1c'] }])).length, 12);
    assert.deepEqual(await ids([{ Name: 'cidr-block', Values: ['10.60.3.0/24'] }]), [created[3]]);
    assert.deepEqual(await ids([{ Name: 'cidr-block', Values: ['10.60.1?.0/24'] }]), created.slice(10));
    assert.equal((await ids([{ Name: 'tag:tier', Values: ['public'] }])).length, 4);
    assert.equal(
      (
        await ids([
          { Name: 'tag:tier', Values: ['public'] },
          { Name: 'availability-zone', Values: ['us-east-1a'] },
        ])
      ).length,
      2,
    );
    assert.deepEqual(await ids([{ Name: 'default-for-az', Values: ['true'] }]), []);
    assert.deepEqual(await ids([{ Name: 'subnet-id', Values: [created[0]!, created[5]!] }]), [created[0], created[5]]);
    assert.equal((await ids([{ Name: 'available-ip-address-count', Values: ['251'] }])).length, 12);
    const byId = await client.send(new DescribeSubnetsCommand({ SubnetIds: [created[2]!] }));
    assert.equal(byId.Subnets![0]!.CidrBlock, '10.60.2.0/24');
    const e = await awsError(() => client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'bogus', Values: ['1'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('pages with MaxResults 5: every subnet once, in order; out-of-range sizes refused', async () => {
    const { subnets, pages } = await allSubnets(client, vpcId, 5);
    assert.equal(pages, 3);
    assert.deepEqual(
      subnets.map((s) => s.SubnetId),
      created,
    );
    const big = await allSubnets(client, vpcId, 1000);
    assert.equal(big.pages, 1);
    for (const n of [4, 1001, 0]) {
      const e = await awsError(() => client.send(new DescribeSubnetsCommand({ MaxResults: n })));
      assert.equal(e.name, 'InvalidParameterValue', String(n));
    }
    const e = await awsError(() => client.send(new DescribeSubnetsCommand({ MaxResults: 5, NextToken: 'garbage!' })));
    assert.match(e.name, /InvalidNextToken|InvalidParameterValue/);
  });

  it('a page token survives deletions between pages', async () => {
    const first = await client.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], MaxResults: 5 }));
    // Delete the first of the second page: the next page starts after it.
    await client.send(new DeleteSubnetCommand({ SubnetId: created[5]! }));
    const second = await client.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.deepEqual(
      second.Subnets!.map((s) => s.SubnetId),
      created.slice(6, 11),
    );
  });

  it('DeleteSubnet removes it; the id is then unknown', async () => {
    const id = created[0]!;
    await client.send(new DeleteSubnetCommand({ SubnetId: id }));
    let e = await awsError(() => client.send(new DescribeSubnetsCommand({ SubnetIds: [id] })));
    assert.equal(e.name, 'InvalidSubnetID.NotFound');
    assert.match(e.message, new RegExp(id));
    e = await awsError(() => client.send(new DeleteSubnetCommand({ SubnetId: id })));
    assert.equal(e.name, 'InvalidSubnetID.NotFound');
    e = await awsError(() => client.send(new DeleteSubnetCommand({ SubnetId: 'subnet-xyz' })));
    assert.equal(e.name, 'InvalidSubnetID.Malformed');
    // Its range is free again.
    const again = await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.60.0.0/24' }));
    assert.notEqual(again.Subnet!.SubnetId, id);
  });
});

describe('accounts and regions are isolated', () => {
  it('a 12-digit access key id is that account: own default VPC, own groups, own owner ids', async () => {
    const a = ec2(server.url, { accessKeyId: '111122223333' });
    const b = ec2(server.url, { accessKeyId: '444455556666' });
    const va = await defaultVpcOf(a);
    const vb = await defaultVpcOf(b);
    const v0 = await defaultVpcOf(client);
    assert.equal(new Set([va.VpcId, vb.VpcId, v0.VpcId]).size, 3);
    assert.equal(va.OwnerId, '111122223333');
    assert.equal(vb.OwnerId, '444455556666');
    const { GroupId } = await a.send(new CreateSecurityGroupCommand({ GroupName: 'only-a', Description: 'x' }));
    const ga = (await a.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }))).SecurityGroups![0]!;
    assert.equal(ga.OwnerId, '111122223333');
    assert.equal(ga.SecurityGroupArn, `arn:aws:ec2:us-east-1:111122223333:security-group/${GroupId}`);
    const e = await awsError(() => b.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
    const vpcA = (await a.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!.VpcId!;
    const f = await awsError(() => b.send(new DescribeVpcsCommand({ VpcIds: [vpcA] })));
    assert.equal(f.name, 'InvalidVpcID.NotFound');
    assert.ok(!(await b.send(new DescribeVpcsCommand({}))).Vpcs!.some((v) => v.VpcId === vpcA));
    // Same group name in both accounts' default VPCs is fine.
    await b.send(new CreateSecurityGroupCommand({ GroupName: 'only-a', Description: 'x' }));
    a.destroy();
    b.destroy();
  });

  it("a different region in the client is a different default VPC with that region's zones", async () => {
    const eu = ec2(server.url, { region: 'eu-west-1' });
    const vEu = await defaultVpcOf(eu);
    const vUs = await defaultVpcOf(client);
    assert.notEqual(vEu.VpcId, vUs.VpcId);
    assert.equal(vEu.CidrBlock, '172.31.0.0/16');
    const { Subnets } = await eu.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vEu.VpcId!] }] }));
    assert.ok(Subnets!.length >= 2);
    for (const s of Subnets!) {
      assert.match(s.AvailabilityZone!, /^eu-west-1[a-z]$/);
      assert.equal(s.SubnetArn, `arn:aws:ec2:eu-west-1:${ACCOUNT}:subnet/${s.SubnetId}`);
    }
    const { AvailabilityZones } = await eu.send(new DescribeAvailabilityZonesCommand({}));
    assert.deepEqual(Subnets!.map((s) => s.AvailabilityZone).sort(), AvailabilityZones!.map((z) => z.ZoneName).sort());
    // Resources of one region are unknown in the other.
    const e = await awsError(() => eu.send(new DescribeVpcsCommand({ VpcIds: [vUs.VpcId!] })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
    const g = await awsError(() => client.send(new DescribeSubnetsCommand({ SubnetIds: [Subnets![0]!.SubnetId!] })));
    assert.equal(g.name, 'InvalidSubnetID.NotFound');
    eu.destroy();
  });

  it('ARNs carry the partition of the region', async () => {
    const cn = ec2(server.url, { region: 'cn-north-1' });
    const v = await defaultVpcOf(cn);
    const def = (await groupsOfVpc(cn, v.VpcId!))[0]!;
    assert.equal(def.SecurityGroupArn, `arn:aws-cn:ec2:cn-north-1:${ACCOUNT}:security-group/${def.GroupId}`);
    cn.destroy();
  });
});

describe('ids', () => {
  it('are sg-/vpc-/subnet-/sgr- + 17 hex digits and unique', async () => {
    const vpcs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.send(new CreateVpcCommand({ CidrBlock: `10.${100 + i}.0.0/16` }))),
    );
    const ids = vpcs.map((v) => v.Vpc!.VpcId!);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id.slice(4), HEX17);
    await client.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: 'batch', Value: 'ids' }] }));
    const tagged = await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:batch', Values: ['ids'] }] }));
    assert.equal(tagged.Vpcs!.length, 10);
  });
});
