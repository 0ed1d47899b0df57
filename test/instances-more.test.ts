// The rest of the instance and interface operations: profile associations, IPv6 addresses,
// unassigning addresses, instance status, and their errors.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssignIpv6AddressesCommand,
  AssociateIamInstanceProfileCommand,
  AssignPrivateIpAddressesCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstanceStatusCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeVpcsCommand,
  DisassociateIamInstanceProfileCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  UnassignIpv6AddressesCommand,
  UnassignPrivateIpAddressesCommand,
  DescribeNetworkInterfacesCommand,
  ModifySubnetAttributeCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { IAMClient, CreateRoleCommand, CreateInstanceProfileCommand, AddRoleToInstanceProfileCommand } from '@aws-sdk/client-iam';
import { awsError, CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
  const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
  await iam.send(
    new CreateRoleCommand({
      RoleName: 'r',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: 'p' }));
  await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: 'p', RoleName: 'r' }));
});
after(async () => server.close());

describe('IAM instance profile associations', () => {
  it('associate, refuse a second, disassociate; unknown profile and association errors', async () => {
    const id = (await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }))).Instances![0]!
      .InstanceId!;
    let e = await awsError(() =>
      client.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'nope' } })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.match(e.message, /Invalid IAM Instance Profile name/);
    const a = await client.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'p' } }));
    assert.match(a.IamInstanceProfileAssociation!.AssociationId!, /^iip-assoc-/);
    e = await awsError(() => client.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'p' } })));
    assert.equal(e.name, 'IncorrectState');
    const list = await client.send(
      new DescribeIamInstanceProfileAssociationsCommand({ AssociationIds: [a.IamInstanceProfileAssociation!.AssociationId!] }),
    );
    assert.equal(list.IamInstanceProfileAssociations![0]!.State, 'associated');
    const d = await client.send(
      new DisassociateIamInstanceProfileCommand({ AssociationId: a.IamInstanceProfileAssociation!.AssociationId }),
    );
    assert.equal(d.IamInstanceProfileAssociation!.State, 'disassociating');
    e = await awsError(() => client.send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'iip-assoc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidAssociationID.NotFound');
  });
});

describe('addresses', () => {
  it('IPv6 addresses from the subnet; secondary IPv4 unassigned; the primary cannot be', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const v6 = (await client.send(new DescribeVpcsCommand({ VpcIds: [Vpc!.VpcId!] }))).Vpcs![0]!.Ipv6CidrBlockAssociationSet![0]!
      .Ipv6CidrBlock!;
    const subnetV6 = v6.replace('/56', '/64');
    const { Subnet } = await client.send(
      new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.40.1.0/24', Ipv6CidrBlock: subnetV6 }),
    );
    const { NetworkInterface } = await client.send(new CreateNetworkInterfaceCommand({ SubnetId: Subnet!.SubnetId, Ipv6AddressCount: 1 }));
    const eni = NetworkInterface!.NetworkInterfaceId!;
    assert.equal(NetworkInterface!.Ipv6Addresses!.length, 1);
    const more = await client.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 2 }));
    assert.equal(more.AssignedIpv6Addresses!.length, 2);
    await client.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [more.AssignedIpv6Addresses![0]!] }));
    const after = (await client.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }))).NetworkInterfaces![0]!;
    assert.equal(after.Ipv6Addresses!.length, 2);
    const ips = await client.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, SecondaryPrivateIpAddressCount: 1 }));
    await client.send(
      new UnassignPrivateIpAddressesCommand({
        NetworkInterfaceId: eni,
        PrivateIpAddresses: [ips.AssignedPrivateIpAddresses![0]!.PrivateIpAddress!],
      }),
    );
    const e = await awsError(() =>
      client.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: eni, PrivateIpAddresses: [after.PrivateIpAddress!] })),
    );
    assert.equal(e.status, 400);
    // A subnet without IPv6 cannot give IPv6 addresses.
    const { Subnet: plain } = await client.send(new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: '10.40.2.0/24' }));
    const f = await awsError(() => client.send(new CreateNetworkInterfaceCommand({ SubnetId: plain!.SubnetId, Ipv6AddressCount: 1 })));
    assert.equal(f.status, 400);
    const g = await awsError(() =>
      client.send(new ModifySubnetAttributeCommand({ SubnetId: plain!.SubnetId, AssignIpv6AddressOnCreation: { Value: true } })),
    );
    assert.equal(g.name, 'InvalidParameterValue');
  });
});

describe('DescribeInstanceStatus', () => {
  it('running instances by default; all with IncludeAllInstances', async () => {
    const r = await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 2, MaxCount: 2 }));
    const [a, b] = r.Instances!.map((i) => i.InstanceId!);
    await client.send(new StopInstancesCommand({ InstanceIds: [b!] }));
    const running = await client.send(new DescribeInstanceStatusCommand({ InstanceIds: [a!, b!] }));
    assert.deepEqual(
      running.InstanceStatuses!.map((s) => s.InstanceId),
      [a],
    );
    assert.equal(running.InstanceStatuses![0]!.InstanceStatus!.Status, 'ok');
    const all = await client.send(new DescribeInstanceStatusCommand({ InstanceIds: [a!, b!], IncludeAllInstances: true }));
    assert.deepEqual(all.InstanceStatuses!.map((s) => s.InstanceState!.Name).sort(), ['running', 'stopped']);
  });
});
