// End-to-end: the security-group API driven with @aws-sdk/client-ec2 against a real server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
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

describe('CreateSecurityGroup', () => {
  it('creates a group in the default VPC with the allow-all egress rule', async () => {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web tier' }));
    assert.match(GroupId!, /^sg-[0-9a-f]{17}$/);
    const { SecurityGroups } = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }));
    const g = SecurityGroups![0]!;
    const { Vpcs } = await client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    assert.equal(g.VpcId, Vpcs![0]!.VpcId);
    assert.deepEqual(g.IpPermissions, []);
    assert.equal(g.IpPermissionsEgress!.length, 1);
    assert.equal(g.IpPermissionsEgress![0]!.IpProtocol, '-1');
    assert.deepEqual(g.IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
  });

  it('refuses sg- names, duplicates (case-insensitive) and missing descriptions with AWS codes', async () => {
    let e = await awsError(() => client.send(new CreateSecurityGroupCommand({ GroupName: 'sg-123', Description: 'x' })));
    assert.equal(e.name, 'InvalidParameterValue');
    assert.equal(e.status, 400);
    assert.match(e.message, /Group names may not be in the format sg-\*/);
    await client.send(new CreateSecurityGroupCommand({ GroupName: 'Dup', Description: 'x' }));
    e = await awsError(() => client.send(new CreateSecurityGroupCommand({ GroupName: 'dup', Description: 'x' })));
    assert.equal(e.name, 'InvalidGroup.Duplicate');
  });

  it('adds ::/0 egress in a VPC with IPv6', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'v6', Description: 'x', VpcId: Vpc!.VpcId }));
    const rules = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [GroupId!] }] }));
    assert.deepEqual(rules.SecurityGroupRules!.map((r) => r.CidrIpv4 ?? r.CidrIpv6).sort(), ['0.0.0.0/0', '::/0']);
  });
});

describe('Terraform-style round trip', () => {
  it('create → revoke default egress → authorize with tags → describe rules by id → delete rule → delete group', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.2.0.0/16' }));
    const { GroupId } = await client.send(
      new CreateSecurityGroupCommand({ GroupName: 'tf', Description: 'Managed by Terraform', VpcId: Vpc!.VpcId }),
    );
    await client.send(
      new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }),
    );
    const auth = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'https' }] }],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'Name', Value: 'https-in' }] }],
      }),
    );
    const ruleId = auth.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    const rules = await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }));
    const r = rules.SecurityGroupRules![0]!;
    assert.equal(r.GroupId, GroupId);
    assert.deepEqual(r.Tags, [{ Key: 'Name', Value: 'https-in' }]);
    assert.equal(r.Description, 'https');
    await client.send(new RevokeSecurityGroupIngressCommand({ GroupId, SecurityGroupRuleIds: [ruleId] }));
    const g = (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }))).SecurityGroups![0]!;
    assert.deepEqual(g.IpPermissions, []);
    assert.deepEqual(g.IpPermissionsEgress, []);
    await client.send(new DeleteSecurityGroupCommand({ GroupId }));
    const e = await awsError(() => client.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
  });
});

describe('Revoke of a rule that does not exist', () => {
  it('succeeds with unknownIpPermissionSet in the default VPC', async () => {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'revoke-default', Description: 'x' }));
    const out = await client.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '1.2.3.4/32' }] }],
      }),
    );
    assert.equal(out.Return, true);
    assert.equal(out.UnknownIpPermissions!.length, 1);
    assert.equal(out.UnknownIpPermissions![0]!.IpRanges![0]!.CidrIp, '1.2.3.4/32');
  });

  it('fails with InvalidPermission.NotFound in another VPC', async () => {
    const { Vpc } = await client.send(new CreateVpcCommand({ CidrBlock: '10.3.0.0/16' }));
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'revoke-nd', Description: 'x', VpcId: Vpc!.VpcId }));
    const e = await awsError(() =>
      client.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '1.2.3.4/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidPermission.NotFound');
  });
});

describe('Authorize', () => {
  it('fans a permission out into one rule per source and clears host bits', async () => {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'fan', Description: 'x' }));
    const out = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [
          {
            IpProtocol: '6',
            FromPort: 80,
            ToPort: 81,
            IpRanges: [{ CidrIp: '100.68.0.18/18' }, { CidrIp: '10.0.0.0/8' }],
            Ipv6Ranges: [{ CidrIpv6: '2001:DB8::1/32' }],
            UserIdGroupPairs: [{ GroupId }],
          },
        ],
      }),
    );
    assert.equal(out.SecurityGroupRules!.length, 4);
    assert.deepEqual(
      out.SecurityGroupRules!.map((r) => r.IpProtocol),
      ['tcp', 'tcp', 'tcp', 'tcp'],
    );
    assert.equal(out.SecurityGroupRules![0]!.CidrIpv4, '100.68.0.0/18');
    assert.equal(out.SecurityGroupRules![2]!.CidrIpv6, '2001:db8::/32');
    assert.equal(out.SecurityGroupRules![3]!.ReferencedGroupInfo!.GroupId, GroupId);
    const e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 81, IpRanges: [{ CidrIp: '100.68.1.1/18' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidPermission.Duplicate');
  });

  it('enforces 60 rules per direction and family', async () => {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'quota', Description: 'x' }));
    const ranges = Array.from({ length: 60 }, (_, i) => ({ CidrIp: `10.0.${i}.0/24` }));
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: ranges }],
      }),
    );
    // IPv6 has its own 60.
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
      }),
    );
    const e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 23, ToPort: 23, IpRanges: [{ CidrIp: '1.1.1.1/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
    // Egress is counted apart.
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 23, ToPort: 23, IpRanges: [{ CidrIp: '1.1.1.1/32' }] }],
      }),
    );
  });

  it('rejects protocol "all", bad ports and malformed CIDRs, changing nothing', async () => {
    const { GroupId } = await client.send(new CreateSecurityGroupCommand({ GroupName: 'bad', Description: 'x' }));
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ IpProtocol: 'all', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue', /Unknown protocol/],
      [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue', /Must specify both from and to ports/],
      [{ IpProtocol: 'tcp', FromPort: -1, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue', /out of range/],
      [
        { IpProtocol: 'icmp', FromPort: 3, ToPort: 65535, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        'InvalidParameterValue',
        /ICMP code \(65535\) out of range/,
      ],
      [
        { IpProtocol: 'tcp', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '10.0.0.1' }] },
        'InvalidParameterValue',
        /CIDR block 10.0.0.1 is malformed/,
      ],
      [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2 }, 'InvalidParameterValue', /exactly one of/],
    ];
    for (const [perm, code, msg] of cases) {
      const e = await awsError(() => client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId, IpPermissions: [perm] })));
      assert.equal(e.name, code, JSON.stringify(perm));
      assert.match(e.message, msg);
      assert.equal(e.status, 400);
    }
    const g = (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId!] }))).SecurityGroups![0]!;
    assert.deepEqual(g.IpPermissions, []);
  });
});

describe('DeleteSecurityGroup', () => {
  it('CannotDelete for the default group, DependencyViolation when referenced', async () => {
    const def = (await client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }))).SecurityGroups![0]!;
    let e = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: def.GroupId })));
    assert.equal(e.name, 'CannotDelete');
    const a = await client.send(new CreateSecurityGroupCommand({ GroupName: 'ref-a', Description: 'x' }));
    const b = await client.send(new CreateSecurityGroupCommand({ GroupName: 'ref-b', Description: 'x' }));
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: b.GroupId,
        IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: a.GroupId }] }],
      }),
    );
    e = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: a.GroupId })));
    assert.equal(e.name, 'DependencyViolation');
    e = await awsError(() => client.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-nope' })));
    assert.equal(e.name, 'InvalidGroupId.Malformed');
  });
});

describe('DryRun', () => {
  it('answers 412 DryRunOperation and changes nothing', async () => {
    const e = await awsError(() => client.send(new CreateSecurityGroupCommand({ GroupName: 'dry', Description: 'x', DryRun: true })));
    assert.equal(e.name, 'DryRunOperation');
    assert.equal(e.status, 412);
    const f = await awsError(() => client.send(new DescribeSecurityGroupsCommand({ GroupNames: ['dry'] })));
    assert.equal(f.name, 'InvalidGroup.NotFound');
  });
});
