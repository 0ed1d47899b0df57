// End-to-end: network interfaces and instances with @aws-sdk/client-ec2.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AssignPrivateIpAddressesCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

async function vpcWithSubnet(cidr: string, subnetCidr: string) {
  const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: cidr }));
  const { Subnet } = await client.send(
    new CreateSubnetCommand({ VpcId: Vpc!.VpcId, CidrBlock: subnetCidr, AvailabilityZone: 'us-east-1a' }),
  );
  return { vpcId: Vpc!.VpcId!, subnetId: Subnet!.SubnetId! };
}

describe('network interfaces', () => {
  it('allocates addresses after the four reserved ones, caps groups at 5, blocks group deletion while attached', async () => {
    const { vpcId, subnetId } = await vpcWithSubnet('10.10.0.0/16', '10.10.1.0/24');
    const groups: string[] = [];
    for (let i = 0; i < 6; i++)
      groups.push((await client.send(new CreateSecurityGroupCommand({ GroupName: `eni-${i}`, Description: 'x', VpcId: vpcId }))).GroupId!);
    const e = await awsError(() => client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: groups })));
    assert.equal(e.name, 'SecurityGroupsPerInterfaceLimitExceeded');
    const { NetworkInterface: eni } = await client.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnetId,
        Groups: groups.slice(0, 2),
        ConnectionTrackingSpecification: { TcpEstablishedTimeout: 120, UdpTimeout: 40 },
      }),
    );
    assert.equal(eni!.PrivateIpAddress, '10.10.1.4');
    assert.deepEqual(eni!.ConnectionTrackingConfiguration, { TcpEstablishedTimeout: 120, UdpTimeout: 40 });
    const d = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: groups[0] })));
    assert.equal(d.name, 'DependencyViolation');
    await client.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni!.NetworkInterfaceId, Groups: [groups[2]!] }));
    const attr = await client.send(
      new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni!.NetworkInterfaceId, Attribute: 'groupSet' }),
    );
    assert.deepEqual(
      attr.Groups!.map((g) => g.GroupId),
      [groups[2]],
    );
    await client.send(new DeleteSecurityGroupCommand({ GroupId: groups[0] }));
    const ips = await client.send(
      new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: eni!.NetworkInterfaceId, SecondaryPrivateIpAddressCount: 2 }),
    );
    assert.deepEqual(
      ips.AssignedPrivateIpAddresses!.map((a) => a.PrivateIpAddress),
      ['10.10.1.5', '10.10.1.6'],
    );
    const byGroup = await client.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [groups[2]!] }] }));
    assert.equal(byGroup.NetworkInterfaces!.length, 1);
    const bad = await awsError(() => client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, PrivateIpAddress: '10.10.1.2' })));
    assert.equal(bad.name, 'InvalidParameterValue');
    const nf = await awsError(() => client.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: 'eni-0123456789abcdef0' })));
    assert.equal(nf.name, 'InvalidNetworkInterfaceID.NotFound');
  });

  it('InsufficientFreeAddressesInSubnet when a /28 is full (16 - 5 usable = 11)', async () => {
    const { subnetId } = await vpcWithSubnet('10.11.0.0/16', '10.11.0.0/28');
    const r = await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 20, SubnetId: subnetId }));
    assert.equal(r.Instances!.length, 11);
    const s = await client.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    assert.equal(s.Subnets![0]!.AvailableIpAddressCount, 0);
    const e = await awsError(() =>
      client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnetId })),
    );
    assert.equal(e.name, 'InsufficientFreeAddressesInSubnet');
  });
});

describe('instances', () => {
  it('launches into the default subnet with the default group and a public IP; states change', async () => {
    const r = await client.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
      }),
    );
    assert.equal(r.Instances!.length, 2);
    const i = r.Instances![0]!;
    assert.equal(i.State!.Name, 'pending');
    assert.equal(i.SecurityGroups![0]!.GroupName, 'default');
    assert.ok(i.PublicIpAddress);
    assert.notEqual(r.Instances![0]!.PrivateIpAddress, r.Instances![1]!.PrivateIpAddress);
    const d = await client.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Name', Values: ['web'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    assert.equal(d.Reservations![0]!.Instances!.length, 2);
    const stop = await client.send(new StopInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    assert.equal(stop.StoppingInstances![0]!.CurrentState!.Name, 'stopping');
    const stopped = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(stopped.State!.Name, 'stopped');
    assert.equal(stopped.PublicIpAddress, undefined);
    await client.send(new StartInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    const term = await client.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    assert.equal(term.TerminatingInstances![0]!.CurrentState!.Name, 'shutting-down');
    const gone = (await client.send(new DescribeInstancesCommand({ InstanceIds: [i.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(gone.State!.Name, 'terminated');
    const e = await awsError(() => client.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidInstanceID.NotFound');
  });

  it('ModifyInstanceAttribute Groups replaces the primary interface groups; refuses multi-interface instances and foreign VPC groups', async () => {
    const { vpcId, subnetId } = await vpcWithSubnet('10.12.0.0/16', '10.12.1.0/24');
    const a = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'a', Description: 'x', VpcId: vpcId }))).GroupId!;
    const b = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'b', Description: 'x', VpcId: vpcId }))).GroupId!;
    const foreign = (await client.send(new CreateSecurityGroupCommand({ GroupName: 'foreign', Description: 'x' }))).GroupId!;
    const r = await client.send(
      new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnetId, SecurityGroupIds: [a, b] }),
    );
    const id = r.Instances![0]!.InstanceId!;
    assert.deepEqual(
      r.Instances![0]!.SecurityGroups!.map((g) => g.GroupId),
      [a, b],
    );
    await client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [b] }));
    const attr = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'groupSet' }));
    assert.deepEqual(
      attr.Groups!.map((g) => g.GroupId),
      [b],
    );
    let e = await awsError(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [foreign] })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
    e = await awsError(() =>
      client.send(
        new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnetId, SecurityGroupIds: [foreign] }),
      ),
    );
    assert.equal(e.name, 'InvalidParameter');
    assert.match(e.message, /belong to different networks/);
    const { NetworkInterface } = await client.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, Groups: [a] }));
    const att = await client.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: NetworkInterface!.NetworkInterfaceId, InstanceId: id, DeviceIndex: 1 }),
    );
    e = await awsError(() => client.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [a] })));
    assert.equal(e.name, 'InvalidInstanceID');
    assert.match(e.message, /multiple interfaces/);
    await client.send(new DetachNetworkInterfaceCommand({ AttachmentId: att.AttachmentId }));
    const f = await client.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance.group-id', Values: [b] }] }));
    assert.deepEqual(
      f.Reservations!.flatMap((x) => x.Instances!.map((i) => i.InstanceId)),
      [id],
    );
  });

  it('refuses names with a subnet, interfaces with instance-level groups, and bad metadata options', async () => {
    const { subnetId } = await vpcWithSubnet('10.13.0.0/16', '10.13.1.0/24');
    let e = await awsError(() =>
      client.send(
        new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SubnetId: subnetId, SecurityGroups: ['default'] }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    e = await awsError(() =>
      client.send(
        new RunInstancesCommand({
          ImageId: 'ami-12345678',
          MinCount: 1,
          MaxCount: 1,
          SecurityGroupIds: ['sg-0123456789abcdef0'],
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    e = await awsError(() => client.send(new RunInstancesCommand({ ImageId: 'bogus', MinCount: 1, MaxCount: 1 })));
    assert.equal(e.name, 'InvalidAMIID.Malformed');
    const r = await client.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        MetadataOptions: { HttpTokens: 'required' },
      }),
    );
    const id = r.Instances![0]!.InstanceId!;
    assert.equal(r.Instances![0]!.MetadataOptions!.HttpTokens, 'required');
    e = await awsError(() => client.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpPutResponseHopLimit: 65 })));
    assert.equal(e.name, 'InvalidParameterValue');
    const m = await client.send(
      new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional', HttpEndpoint: 'disabled' }),
    );
    assert.equal(m.InstanceMetadataOptions!.HttpEndpoint, 'disabled');
  });
});
