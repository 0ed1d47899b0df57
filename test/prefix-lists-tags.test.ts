// End-to-end: managed prefix lists (and their weight in the rule quota), tags on every kind of
// foundation resource, and the security-group read/modify APIs not covered elsewhere, driven
// with @aws-sdk/client-ec2 against a real server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteManagedPrefixListCommand,
  DeleteTagsCommand,
  DescribeManagedPrefixListsCommand,
  DescribePrefixListsCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  GetManagedPrefixListAssociationsCommand,
  GetManagedPrefixListEntriesCommand,
  GetSecurityGroupsForVpcCommand,
  ModifyManagedPrefixListCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type EC2Client,
  type Filter,
  type SecurityGroup,
  type Tag,
} from '@aws-sdk/client-ec2';
import { awsError, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

const ACCOUNT = '000000000000';
let server: Palisade;
let client: EC2Client;
before(async () => {
  server = await start();
  client = ec2(server.url);
});
after(async () => server.close());

let vpcCounter = 0;
async function newVpc(): Promise<string> {
  return (await client.send(new CreateVpcCommand({ CidrBlock: `10.${++vpcCounter}.0.0/16` }))).Vpc!.VpcId!;
}
async function newGroup(name: string, vpcId?: string, tags?: Tag[]): Promise<string> {
  return (
    await client.send(
      new CreateSecurityGroupCommand({
        GroupName: name,
        Description: `${name} group`,
        VpcId: vpcId,
        ...(tags ? { TagSpecifications: [{ ResourceType: 'security-group', Tags: tags }] } : {}),
      }),
    )
  ).GroupId!;
}
async function newList(name: string, maxEntries: number, cidrs: string[] = [], family = 'IPv4') {
  return (
    await client.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: name,
        MaxEntries: maxEntries,
        AddressFamily: family,
        Entries: cidrs.map((Cidr) => ({ Cidr })),
      }),
    )
  ).PrefixList!;
}
async function describeList(id: string) {
  return (await client.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }))).PrefixLists![0]!;
}
async function group(id: string): Promise<SecurityGroup> {
  return (await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!;
}
async function rulesOf(groupId: string) {
  return (await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] })))
    .SecurityGroupRules!;
}
const cidrs = (n: number, third = 0) => Array.from({ length: n }, (_, i) => ({ CidrIp: `10.${third}.${i}.0/24` }));

// ---------------------------------------------------------------------------------------------

describe('managed prefix lists', () => {
  it('create → describe: version 1, ARN, owner, entries canonical', async () => {
    const created = await client.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: 'corp',
        MaxEntries: 5,
        AddressFamily: 'IPv4',
        Entries: [{ Cidr: '192.168.1.7/24', Description: 'office' }, { Cidr: '10.0.0.0/8' }],
        TagSpecifications: [{ ResourceType: 'prefix-list', Tags: [{ Key: 'team', Value: 'net' }] }],
      }),
    );
    const p = created.PrefixList!;
    assert.match(p.PrefixListId!, /^pl-[0-9a-f]{17}$/);
    assert.ok(['create-in-progress', 'create-complete'].includes(p.State!));
    assert.equal(p.Version, 1);
    assert.equal(p.MaxEntries, 5);
    assert.equal(p.OwnerId, ACCOUNT);
    assert.equal(p.PrefixListArn, `arn:aws:ec2:us-east-1:${ACCOUNT}:prefix-list/${p.PrefixListId}`);
    const d = await describeList(p.PrefixListId!);
    assert.equal(d.State, 'create-complete');
    assert.equal(d.PrefixListName, 'corp');
    assert.equal(d.AddressFamily, 'IPv4');
    assert.deepEqual(d.Tags, [{ Key: 'team', Value: 'net' }]);
    const { Entries } = await client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: p.PrefixListId }));
    assert.deepEqual(Entries!.map((e) => [e.Cidr, e.Description]).sort(), [
      ['10.0.0.0/8', undefined],
      ['192.168.1.0/24', 'office'],
    ]);
    // Filters.
    const byName = await client.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['corp'] }] }));
    assert.deepEqual(
      byName.PrefixLists!.map((x) => x.PrefixListId),
      [p.PrefixListId],
    );
    const mine = await client.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'owner-id', Values: [ACCOUNT] }] }));
    assert.ok(mine.PrefixLists!.every((x) => x.OwnerId === ACCOUNT));
    assert.ok(mine.PrefixLists!.some((x) => x.PrefixListId === p.PrefixListId));
  });

  it('refuses bad input: com.amazonaws names, bad family, entries of the wrong family, too many entries', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ PrefixListName: 'com.amazonaws.mine', MaxEntries: 1, AddressFamily: 'IPv4' }, /InvalidParameterValue/],
      [{ PrefixListName: 'x', MaxEntries: 1, AddressFamily: 'IPv5' }, /InvalidParameterValue/],
      [{ PrefixListName: 'x', MaxEntries: 0, AddressFamily: 'IPv4' }, /InvalidParameterValue/],
      [{ PrefixListName: 'x', MaxEntries: 1001, AddressFamily: 'IPv4' }, /InvalidParameterValue/],
      [{ PrefixListName: 'x', MaxEntries: 2, AddressFamily: 'IPv4', Entries: [{ Cidr: '2001:db8::/32' }] }, /InvalidParameterValue/],
      [
        { PrefixListName: 'x', MaxEntries: 1, AddressFamily: 'IPv4', Entries: [{ Cidr: '1.0.0.0/8' }, { Cidr: '2.0.0.0/8' }] },
        /PrefixListMaxEntriesExceeded/,
      ],
    ];
    const count0 = (await client.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.length;
    for (const [input, code] of cases) {
      const e = await awsError(() => client.send(new CreateManagedPrefixListCommand(input as never)));
      assert.match(e.name, code, JSON.stringify(input));
      assert.equal(e.status, 400);
    }
    assert.equal((await client.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists!.length, count0);
  });

  it('describes the AWS-managed com.amazonaws.us-east-1.s3 list (read-only)', async () => {
    const { PrefixLists } = await client.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }),
    );
    assert.equal(PrefixLists!.length, 1);
    const s3 = PrefixLists![0]!;
    assert.match(s3.PrefixListId!, /^pl-[0-9a-f]{8}$/);
    assert.equal(s3.OwnerId, 'AWS');
    assert.equal(s3.AddressFamily, 'IPv4');
    assert.equal(s3.PrefixListArn, `arn:aws:ec2:us-east-1:aws:prefix-list/${s3.PrefixListId}`);
    const { Entries } = await client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: s3.PrefixListId }));
    assert.ok(Entries!.length > 0);
    // Also through the older DescribePrefixLists.
    const old = await client.send(new DescribePrefixListsCommand({ PrefixListIds: [s3.PrefixListId!] }));
    assert.equal(old.PrefixLists![0]!.PrefixListName, 'com.amazonaws.us-east-1.s3');
    assert.deepEqual(
      old.PrefixLists![0]!.Cidrs,
      Entries!.map((e) => e.Cidr),
    );
    // AWS-managed lists cannot be changed or deleted.
    let e = await awsError(() =>
      client.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: s3.PrefixListId,
          CurrentVersion: s3.Version,
          AddEntries: [{ Cidr: '1.1.1.1/32' }],
        }),
      ),
    );
    assert.equal(e.status, 400);
    e = await awsError(() => client.send(new DeleteManagedPrefixListCommand({ PrefixListId: s3.PrefixListId })));
    assert.equal(e.status, 400);
    assert.equal((await describeList(s3.PrefixListId!)).Version, s3.Version);
    // Another region has its own list with another id.
    const eu = ec2(server.url, { region: 'eu-west-1' });
    const euS3 = (
      await eu.send(
        new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.eu-west-1.s3'] }] }),
      )
    ).PrefixLists!;
    assert.equal(euS3.length, 1);
    assert.notEqual(euS3[0]!.PrefixListId, s3.PrefixListId);
    eu.destroy();
  });

  it('modify: entry changes make versions; CurrentVersion must match; name changes keep the version', async () => {
    const p = await newList('versions', 10, ['10.1.0.0/16']);
    const id = p.PrefixListId!;
    let out = await client.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 1,
        AddEntries: [{ Cidr: '10.2.0.0/16', Description: 'two' }],
      }),
    );
    assert.equal(out.PrefixList!.Version, 2);
    out = await client.send(
      new ModifyManagedPrefixListCommand({
        PrefixListId: id,
        CurrentVersion: 2,
        RemoveEntries: [{ Cidr: '10.1.0.0/16' }],
        AddEntries: [{ Cidr: '10.3.0.0/16' }],
      }),
    );
    assert.equal(out.PrefixList!.Version, 3);
    // Stale version: refused, nothing changes.
    let e = await awsError(() =>
      client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 2, AddEntries: [{ Cidr: '10.9.0.0/16' }] })),
    );
    assert.equal(e.name, 'PrefixListVersionMismatch');
    assert.equal(e.status, 400);
    // Entries and MaxEntries together: refused.
    e = await awsError(() =>
      client.send(
        new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 3, MaxEntries: 20, AddEntries: [{ Cidr: '10.9.0.0/16' }] }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    // Removing an entry that is not there / adding past MaxEntries.
    e = await awsError(() =>
      client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, CurrentVersion: 3, RemoveEntries: [{ Cidr: '10.99.0.0/16' }] })),
    );
    assert.equal(e.status, 400);
    e = await awsError(() =>
      client.send(
        new ModifyManagedPrefixListCommand({
          PrefixListId: id,
          CurrentVersion: 3,
          AddEntries: cidrs(9, 50).map((c) => ({ Cidr: c.CidrIp })),
        }),
      ),
    );
    assert.equal(e.name, 'PrefixListMaxEntriesExceeded');
    const d = await describeList(id);
    assert.equal(d.Version, 3);
    assert.equal(d.MaxEntries, 10);
    // Rename and resize do not make a version.
    out = await client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, PrefixListName: 'renamed' }));
    assert.equal(out.PrefixList!.Version, 3);
    out = await client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 20 }));
    assert.equal(out.PrefixList!.Version, 3);
    const renamed = await describeList(id);
    assert.equal(renamed.PrefixListName, 'renamed');
    assert.equal(renamed.MaxEntries, 20);
    // Entries by version.
    const at = async (v?: number) =>
      (await client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: v })))
        .Entries!.map((x) => x.Cidr)
        .sort();
    assert.deepEqual(await at(1), ['10.1.0.0/16']);
    assert.deepEqual(await at(2), ['10.1.0.0/16', '10.2.0.0/16']);
    assert.deepEqual(await at(3), ['10.2.0.0/16', '10.3.0.0/16']);
    assert.deepEqual(await at(), await at(3));
    e = await awsError(() => client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion: 9 })));
    assert.equal(e.status, 400);
    e = await awsError(() => client.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: 'pl-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidPrefixListID.NotFound');
  });

  it('associations list the referencing groups; delete is refused while referenced', async () => {
    const p = await newList('assoc', 3, ['172.16.0.0/12']);
    const id = p.PrefixListId!;
    const a = await newGroup('pl-user-a');
    const b = await newGroup('pl-user-b');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: a,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: id, Description: 'corp' }] }],
      }),
    );
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({ GroupId: b, IpPermissions: [{ IpProtocol: '-1', PrefixListIds: [{ PrefixListId: id }] }] }),
    );
    const { PrefixListAssociations } = await client.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: id }));
    assert.deepEqual(PrefixListAssociations!.map((x) => x.ResourceId).sort(), [a, b].sort());
    assert.ok(PrefixListAssociations!.every((x) => x.ResourceOwner === ACCOUNT));
    // The rule as AWS shows it.
    const ga = await group(a);
    assert.deepEqual(ga.IpPermissions![0]!.PrefixListIds, [{ PrefixListId: id, Description: 'corp' }]);
    const ra = (await rulesOf(a)).find((r) => !r.IsEgress)!;
    assert.equal(ra.PrefixListId, id);
    // Delete while referenced: AWS accepts the call, the deletion fails and the list stays
    // (delete-failed; recorded AWS response, see test/aws-parity-ec2.test.ts).
    const d = await client.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }));
    assert.equal(d.PrefixList!.State, 'delete-in-progress');
    assert.equal((await describeList(id)).State, 'delete-failed');
    // Unreferenced: deletable.
    await client.send(new RevokeSecurityGroupIngressCommand({ GroupId: a, SecurityGroupRuleIds: [ra.SecurityGroupRuleId!] }));
    await client.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: b, IpPermissions: [{ IpProtocol: '-1', PrefixListIds: [{ PrefixListId: id }] }] }),
    );
    assert.deepEqual((await client.send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: id }))).PrefixListAssociations, []);
    const del = await client.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }));
    assert.equal(del.PrefixList!.PrefixListId, id);
    const gone = await awsError(() => client.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] })));
    assert.equal(gone.name, 'InvalidPrefixListID.NotFound');
  });

  it('a rule referencing an unknown prefix list is refused', async () => {
    const g = await newGroup('pl-unknown');
    const e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: 'pl-0123456789abcdef0' }] }],
        }),
      ),
    );
    assert.match(e.name, /^InvalidPrefixListI[dD]\.NotFound$/);
    assert.deepEqual((await group(g)).IpPermissions, []);
  });
});

describe('prefix lists in the 60-rule quota', () => {
  it('a referenced list weighs its MaxEntries, not its current entries', async () => {
    const g = await newGroup('pl-quota');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: cidrs(10) }],
      }),
    );
    const big = await newList('weight-51', 51, ['1.0.0.0/8']);
    let e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: big.PrefixListId }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
    assert.equal(e.message, 'The maximum number of rules per security group has been reached.');
    assert.equal((await rulesOf(g)).filter((r) => !r.IsEgress).length, 10, 'the refused call added nothing');
    const fits = await newList('weight-50', 50, ['2.0.0.0/8']);
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: fits.PrefixListId }] }],
      }),
    );
    // Exactly 60 now: one more CIDR is too many…
    e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '9.9.9.9/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
    // …and a list counts in the IPv6 family too (60 = 50 + 10 IPv6 CIDRs).
    const v6 = Array.from({ length: 10 }, (_, i) => ({ CidrIpv6: `2001:db8:${i}::/48` }));
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: v6 }],
      }),
    );
    e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 23, ToPort: 23, Ipv6Ranges: [{ CidrIpv6: '2001:db8:ff::/48' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
    // Egress is counted apart.
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: big.PrefixListId }] }],
      }),
    );
  });

  it('the AWS-managed S3 list weighs 1', async () => {
    const g = await newGroup('pl-s3');
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: cidrs(58) }],
      }),
    );
    const s3 = (
      await client.send(
        new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }),
      )
    ).PrefixLists![0]!;
    // 58 + default 0.0.0.0/0 + S3 = 60.
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: s3.PrefixListId }] }],
      }),
    );
    const e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '8.8.8.8/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
  });

  it('resizing a referenced list past a group quota does not take effect', async () => {
    const g = await newGroup('pl-resize');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: cidrs(10) }],
      }),
    );
    const p = await newList('resize', 40, ['3.0.0.0/8']);
    const id = p.PrefixListId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, PrefixListIds: [{ PrefixListId: id }] }],
      }),
    );
    // 10 + 50 = 60: fine.
    await client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 50 }));
    let d = await describeList(id);
    assert.equal(d.MaxEntries, 50);
    assert.equal(d.State, 'modify-complete');
    // 10 + 51 = 61: the resize fails and is reverted.
    await client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 51 }));
    d = await describeList(id);
    assert.equal(d.MaxEntries, 50);
    assert.equal(d.State, 'modify-failed');
    assert.match(d.StateMessage ?? '', new RegExp(g));
    assert.equal(d.Version, 1, 'a resize never makes a version');
    // The group is still exactly at its quota.
    const e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'udp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '7.7.7.7/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'RulesPerSecurityGroupLimitExceeded');
    // Shrinking works again (not below the current entry count).
    await client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 45 }));
    d = await describeList(id);
    assert.equal(d.MaxEntries, 45);
    assert.equal(d.State, 'modify-complete');
    const low = await awsError(() => client.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, MaxEntries: 0 })));
    assert.equal(low.name, 'InvalidParameterValue');
  });
});

// ---------------------------------------------------------------------------------------------

describe('tags', () => {
  let vpcId: string;
  let subnetId: string;
  let groupId: string;
  let ruleId: string;
  let listId: string;
  let all: string[];
  before(async () => {
    vpcId = await newVpc();
    subnetId = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${vpcCounter}.1.0/24` }))).Subnet!.SubnetId!;
    groupId = await newGroup('tagged', vpcId);
    ruleId = (
      await client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
        }),
      )
    ).SecurityGroupRules![0]!.SecurityGroupRuleId!;
    listId = (await newList('tagged', 1)).PrefixListId!;
    all = [vpcId, subnetId, groupId, ruleId, listId];
  });

  const tagsOf = async (id: string) =>
    (await client.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] })))
      .Tags!.map((t) => `${t.Key}=${t.Value}`)
      .sort();

  it('CreateTags on vpc, subnet, security-group, security-group-rule, prefix-list; DescribeTags with their types', async () => {
    await client.send(
      new CreateTagsCommand({
        Resources: all,
        Tags: [
          { Key: 'env', Value: 'test' },
          { Key: 'empty', Value: '' },
        ],
      }),
    );
    const { Tags } = await client.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'key', Values: ['env'] },
          { Name: 'resource-id', Values: all },
        ],
      }),
    );
    assert.deepEqual(
      Tags!.map((t) => [t.ResourceId, t.ResourceType, t.Value]).sort(),
      [
        [vpcId, 'vpc', 'test'],
        [subnetId, 'subnet', 'test'],
        [groupId, 'security-group', 'test'],
        [ruleId, 'security-group-rule', 'test'],
        [listId, 'prefix-list', 'test'],
      ].sort(),
    );
    // The resources show them.
    assert.ok((await group(groupId)).Tags!.some((t) => t.Key === 'empty' && t.Value === ''));
    const r = (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }))).SecurityGroupRules![0]!;
    assert.deepEqual(r.Tags!.map((t) => t.Key).sort(), ['empty', 'env']);
    assert.deepEqual((await describeList(listId)).Tags!.map((t) => t.Key).sort(), ['empty', 'env']);
    // Filters: resource-type, value, key wildcard.
    const byType = await client.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-type', Values: ['security-group-rule'] }] }));
    assert.ok(byType.Tags!.length >= 2 && byType.Tags!.every((t) => t.ResourceType === 'security-group-rule'));
    const byValue = await client.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'value', Values: ['te*'] },
          { Name: 'resource-id', Values: all },
        ],
      }),
    );
    assert.equal(byValue.Tags!.length, 5);
    const byKey = await client.send(
      new DescribeTagsCommand({
        Filters: [
          { Name: 'key', Values: ['em?ty'] },
          { Name: 'resource-type', Values: ['vpc', 'subnet'] },
        ],
      }),
    );
    assert.deepEqual(byKey.Tags!.map((t) => t.ResourceId).sort(), [vpcId, subnetId].sort());
    const e = await awsError(() => client.send(new DescribeTagsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('CreateTags overwrites a key; DescribeTags pages', async () => {
    await client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'env', Value: 'prod' }] }));
    assert.ok((await tagsOf(vpcId)).includes('env=prod'));
    assert.ok(!(await tagsOf(vpcId)).includes('env=test'));
    await client.send(
      new CreateTagsCommand({ Resources: [subnetId], Tags: Array.from({ length: 12 }, (_, i) => ({ Key: `k${i}`, Value: `${i}` })) }),
    );
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await client.send(
        new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [subnetId] }], MaxResults: 5, NextToken: token }),
      );
      assert.ok(out.Tags!.length <= 5);
      seen.push(...out.Tags!.map((t) => t.Key!));
      token = out.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(seen.sort(), (await tagsOf(subnetId)).map((t) => t.split('=')[0]).sort());
    const e = await awsError(() => client.send(new DescribeTagsCommand({ MaxResults: 4 })));
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('DeleteTags: key only deletes any value; key+value only that value; key+"" only an empty value; no tags deletes all', async () => {
    await client.send(
      new CreateTagsCommand({
        Resources: [groupId],
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
          { Key: 'c', Value: '' },
          { Key: 'd', Value: 'x' },
        ],
      }),
    );
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'a' }] }));
    assert.ok(!(await tagsOf(groupId)).some((t) => t.startsWith('a=')));
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'b', Value: 'not-2' }] }));
    assert.ok((await tagsOf(groupId)).includes('b=2'), 'a different value keeps the tag');
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'b', Value: '2' }] }));
    assert.ok(!(await tagsOf(groupId)).includes('b=2'));
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'd', Value: '' }] }));
    assert.ok((await tagsOf(groupId)).includes('d=x'), 'key + empty value deletes only an empty value');
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'c', Value: '' }] }));
    assert.ok(!(await tagsOf(groupId)).includes('c='));
    // Deleting a key that is not there is fine.
    await client.send(new DeleteTagsCommand({ Resources: [groupId], Tags: [{ Key: 'never' }] }));
    // On a rule too.
    await client.send(new DeleteTagsCommand({ Resources: [ruleId], Tags: [{ Key: 'env' }] }));
    assert.deepEqual(await tagsOf(ruleId), ['empty=']);
    // No tags: all of them.
    await client.send(new DeleteTagsCommand({ Resources: [groupId, ruleId] }));
    assert.deepEqual(await tagsOf(groupId), []);
    assert.deepEqual(await tagsOf(ruleId), []);
  });

  it('refuses aws: keys, more than 50 tags, and unknown ids (all or nothing)', async () => {
    let e = await awsError(() =>
      client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'x' }] })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'AWS:x', Value: 'x' }] })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new DeleteTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'aws:x' }] })));
    assert.equal(e.name, 'InvalidParameterValue');
    // 50 tags per resource.
    const target = listId;
    await client.send(new DeleteTagsCommand({ Resources: [target] }));
    await client.send(
      new CreateTagsCommand({ Resources: [target], Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `t${i}`, Value: 'v' })) }),
    );
    e = await awsError(() => client.send(new CreateTagsCommand({ Resources: [target], Tags: [{ Key: 'one-more', Value: 'v' }] })));
    assert.equal(e.name, 'TagLimitExceeded');
    assert.equal(e.status, 400);
    await client.send(new CreateTagsCommand({ Resources: [target], Tags: [{ Key: 't0', Value: 'overwrite is fine at 50' }] }));
    assert.equal((await tagsOf(target)).length, 50);
    e = await awsError(() =>
      client.send(
        new CreateVpcCommand({
          CidrBlock: '10.250.0.0/16',
          TagSpecifications: [{ ResourceType: 'vpc', Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `t${i}`, Value: 'v' })) }],
        }),
      ),
    );
    assert.equal(e.name, 'TagLimitExceeded');
    // Unknown ids, by kind.
    const unknown: [string, string][] = [
      ['vpc-0123456789abcdef0', 'InvalidVpcID.NotFound'],
      ['subnet-0123456789abcdef0', 'InvalidSubnetID.NotFound'],
      ['sg-0123456789abcdef0', 'InvalidGroup.NotFound'],
      ['sgr-0123456789abcdef0', 'InvalidSecurityGroupRuleId.NotFound'],
      ['pl-0123456789abcdef0', 'InvalidPrefixListID.NotFound'],
      ['bogus', 'InvalidID'],
    ];
    for (const [id, code] of unknown) {
      const x = await awsError(() =>
        client.send(new CreateTagsCommand({ Resources: [subnetId, id], Tags: [{ Key: 'partial', Value: 'no' }] })),
      );
      assert.equal(x.name, code, id);
      const y = await awsError(() => client.send(new DeleteTagsCommand({ Resources: [id] })));
      assert.equal(y.name, code, id);
    }
    assert.ok(!(await tagsOf(subnetId)).some((t) => t.startsWith('partial=')), 'a failed CreateTags tags nothing');
    // Missing parameters.
    e = await awsError(() => client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [] })));
    assert.equal(e.name, 'MissingParameter');
  });
});

// ---------------------------------------------------------------------------------------------

describe('DescribeSecurityGroups filters', () => {
  let vpcId: string;
  let web: string;
  let db: string;
  let cache: string;
  let def: string;
  let listId: string;
  before(async () => {
    vpcId = await newVpc();
    def = (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).SecurityGroups![0]!
      .GroupId!;
    web = await newGroup('web', vpcId, [
      { Key: 'env', Value: 'prod' },
      { Key: 'tier', Value: 'web' },
    ]);
    db = await newGroup('db', vpcId, [{ Key: 'env', Value: 'dev' }]);
    cache = await newGroup('Cache-1', vpcId);
    listId = (await newList('filters', 2, ['10.9.0.0/16'])).PrefixListId!;
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: web,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
        ],
      }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: web }] },
          { IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ],
      }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: cache,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, PrefixListIds: [{ PrefixListId: listId }] }],
      }),
    );
    await client.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: web,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: db }] }],
      }),
    );
  });

  const names = async (filters: Filter[]) => {
    const { SecurityGroups } = await client.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, ...filters] }),
    );
    const byId = new Map([
      [def, 'default'],
      [web, 'web'],
      [db, 'db'],
      [cache, 'Cache-1'],
    ]);
    return SecurityGroups!.map((g) => byId.get(g.GroupId!) ?? g.GroupId!).sort();
  };

  it('ip-permission.* match inbound rules', async () => {
    assert.deepEqual(await names([{ Name: 'ip-permission.cidr', Values: ['0.0.0.0/0'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'ip-permission.cidr', Values: ['10.*'] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'ip-permission.ipv6-cidr', Values: ['::/0'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'ip-permission.from-port', Values: ['5432'] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'ip-permission.to-port', Values: ['443', '6379'] }]), ['Cache-1', 'web']);
    assert.deepEqual(await names([{ Name: 'ip-permission.protocol', Values: ['udp'] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'ip-permission.protocol', Values: ['-1'] }]), ['default']);
    assert.deepEqual(await names([{ Name: 'ip-permission.group-id', Values: [web] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'ip-permission.group-name', Values: ['web'] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'ip-permission.group-name', Values: ['default'] }]), ['default']);
    assert.deepEqual(await names([{ Name: 'ip-permission.user-id', Values: [ACCOUNT] }]), ['db', 'default']);
    assert.deepEqual(await names([{ Name: 'ip-permission.prefix-list-id', Values: [listId] }]), ['Cache-1']);
    // Several rule filters: any combination of the group's rules may satisfy them.
    assert.deepEqual(
      await names([
        { Name: 'ip-permission.protocol', Values: ['udp'] },
        { Name: 'ip-permission.from-port', Values: ['5432'] },
      ]),
      ['db'],
    );
    assert.deepEqual(
      await names([
        { Name: 'ip-permission.protocol', Values: ['udp'] },
        { Name: 'ip-permission.from-port', Values: ['80'] },
      ]),
      [],
    );
  });

  it('egress.ip-permission.* match outbound rules', async () => {
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.cidr', Values: ['0.0.0.0/0'] }]), ['Cache-1', 'db', 'default', 'web']);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.group-id', Values: [db] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.protocol', Values: ['tcp'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.from-port', Values: ['5432'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.group-name', Values: ['db'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.prefix-list-id', Values: [listId] }]), []);
    assert.deepEqual(await names([{ Name: 'egress.ip-permission.cidr', Values: ['10.0.0.0/8'] }]), [], 'inbound rules do not count');
  });

  it('group-name, description, group-id, owner-id, vpc-id, tag:, tag-key, with * and ? wildcards', async () => {
    assert.deepEqual(await names([{ Name: 'group-name', Values: ['web'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'group-name', Values: ['?eb', '*-1'] }]), ['Cache-1', 'web']);
    assert.deepEqual(await names([{ Name: 'group-name', Values: ['cache-1'] }]), [], 'filter values are case-sensitive');
    assert.deepEqual(await names([{ Name: 'description', Values: ['db group'] }]), ['db']);
    assert.deepEqual(await names([{ Name: 'description', Values: ['default VPC*'] }]), ['default']);
    assert.deepEqual(await names([{ Name: 'group-id', Values: [web, cache] }]), ['Cache-1', 'web']);
    assert.deepEqual(await names([{ Name: 'owner-id', Values: [ACCOUNT] }]), ['Cache-1', 'db', 'default', 'web']);
    assert.deepEqual(await names([{ Name: 'tag:env', Values: ['prod'] }]), ['web']);
    assert.deepEqual(await names([{ Name: 'tag:env', Values: ['*'] }]), ['db', 'web']);
    assert.deepEqual(await names([{ Name: 'tag-key', Values: ['tier'] }]), ['web']);
    assert.deepEqual(
      await names([
        { Name: 'tag:env', Values: ['d?v'] },
        { Name: 'tag-key', Values: ['env'] },
      ]),
      ['db'],
    );
    // Without the vpc-id filter: other VPCs' groups are excluded by vpc-id only.
    const { SecurityGroups } = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: ['web'] }] }));
    assert.ok(SecurityGroups!.every((g) => g.GroupName === 'web'));
    assert.ok(SecurityGroups!.some((g) => g.GroupId === web));
    const e = await awsError(() =>
      client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'ip-permission.nonsense', Values: ['x'] }] })),
    );
    assert.equal(e.name, 'InvalidParameterValue');
  });

  it('MaxResults/NextToken: 5..1000, every group once; out of range refused', async () => {
    const vpc = await newVpc();
    const made = [];
    for (let i = 0; i < 11; i++) made.push(await newGroup(`page-${i}`, vpc));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await client.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }], MaxResults: 5, NextToken: token }),
      );
      assert.ok(out.SecurityGroups!.length <= 5);
      seen.push(...out.SecurityGroups!.map((g) => g.GroupId!));
      token = out.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12);
    for (const id of made) assert.ok(seen.includes(id));
    const one = await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }], MaxResults: 1000 }));
    assert.equal(one.SecurityGroups!.length, 12);
    assert.equal(one.NextToken, undefined);
    for (const n of [4, 1001, -1]) {
      const e = await awsError(() => client.send(new DescribeSecurityGroupsCommand({ MaxResults: n })));
      assert.equal(e.name, 'InvalidParameterValue', String(n));
      assert.equal(e.status, 400);
    }
  });
});

describe('DescribeSecurityGroupRules', () => {
  it('filters by group-id, security-group-rule-id and tag:, pages, refuses other filters', async () => {
    const g = await newGroup('rules-filter');
    const out = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: cidrs(8) }],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'purpose', Value: 'ssh' }] }],
      }),
    );
    const ids = out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
    const all = await rulesOf(g);
    assert.equal(all.length, 9); // + default egress
    const byId = await client.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'security-group-rule-id', Values: [ids[0]!, ids[3]!] }] }),
    );
    assert.deepEqual(byId.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId).sort(), [ids[0], ids[3]].sort());
    const byTag = await client.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [
          { Name: 'tag:purpose', Values: ['ssh'] },
          { Name: 'group-id', Values: [g] },
        ],
      }),
    );
    assert.equal(byTag.SecurityGroupRules!.length, 8);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g] }], MaxResults: 5, NextToken: token }),
      );
      assert.ok(page.SecurityGroupRules!.length <= 5);
      seen.push(...page.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(seen.sort(), all.map((r) => r.SecurityGroupRuleId!).sort());
    let e = await awsError(() => client.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 2000 })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'cidr', Values: ['10.0.0.0/24'] }] })));
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() => client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ['sgr-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidSecurityGroupRuleId.NotFound');
  });
});

describe('ModifySecurityGroupRules', () => {
  it('changes a rule in place: same id, same tags; refuses duplicates and unknown ids', async () => {
    const g = await newGroup('modify-rules');
    const peer = await newGroup('modify-peer');
    const out = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '192.168.0.0/16' }] },
        ],
        TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'Name', Value: 'ssh' }] }],
      }),
    );
    const [r1, r2] = out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
    const m = await client.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: g,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: r1,
            SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 2222, ToPort: 2223, CidrIpv4: '172.16.5.0/24', Description: 'moved' },
          },
        ],
      }),
    );
    assert.equal(m.Return, true);
    const moved = (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [r1!] }))).SecurityGroupRules![0]!;
    assert.equal(moved.FromPort, 2222);
    assert.equal(moved.ToPort, 2223);
    assert.equal(moved.CidrIpv4, '172.16.5.0/24');
    assert.equal(moved.Description, 'moved');
    assert.deepEqual(moved.Tags, [{ Key: 'Name', Value: 'ssh' }]);
    // To a group reference.
    await client.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: g,
        SecurityGroupRules: [{ SecurityGroupRuleId: r1, SecurityGroupRule: { IpProtocol: '-1', ReferencedGroupId: peer } }],
      }),
    );
    const ref = (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [r1!] }))).SecurityGroupRules![0]!;
    assert.equal(ref.ReferencedGroupInfo!.GroupId, peer);
    assert.equal(ref.CidrIpv4, undefined);
    assert.equal(ref.IpProtocol, '-1');
    // Into a copy of the other rule: duplicate.
    let e = await awsError(() =>
      client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            { SecurityGroupRuleId: r1, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '192.168.0.0/16' } },
          ],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidPermission.Duplicate');
    e = await awsError(() =>
      client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: 'sgr-0123456789abcdef0',
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '1.1.1.1/32' },
            },
          ],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidSecurityGroupRuleId.NotFound');
    // A rule of another group is unknown here.
    const peerRule = (await rulesOf(peer))[0]!.SecurityGroupRuleId!;
    e = await awsError(() =>
      client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            { SecurityGroupRuleId: peerRule, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '1.1.1.1/32' } },
          ],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidSecurityGroupRuleId.NotFound');
    e = await awsError(() =>
      client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: g,
          SecurityGroupRules: [
            {
              SecurityGroupRuleId: r2,
              SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 1, ToPort: 1, CidrIpv4: '1.1.1.1/32', CidrIpv6: '::/0' },
            },
          ],
        }),
      ),
    );
    // Two targets: InvalidParameterCombination (AWS-verified, getmoto/moto#8917; test/aws-parity-ec2.test.ts).
    assert.equal(e.name, 'InvalidParameterCombination');
    const r2now = (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [r2!] }))).SecurityGroupRules![0]!;
    assert.equal(r2now.CidrIpv4, '192.168.0.0/16', 'failed modifications change nothing');
  });
});

describe('UpdateSecurityGroupRuleDescriptions', () => {
  it('Ingress by permission and by rule id; Egress likewise; unknown rules refused', async () => {
    const g = await newGroup('descriptions');
    const out = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'old' }] }],
      }),
    );
    const rid = out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'new one' }] }],
      }),
    );
    assert.deepEqual((await group(g)).IpPermissions![0]!.IpRanges, [{ CidrIp: '10.0.0.0/8', Description: 'new one' }]);
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: g,
        SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: rid, Description: 'by id' }],
      }),
    );
    assert.equal(
      (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [rid] }))).SecurityGroupRules![0]!.Description,
      'by id',
    );
    // Omitting the description removes it.
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
      }),
    );
    assert.deepEqual((await group(g)).IpPermissions![0]!.IpRanges, [{ CidrIp: '10.0.0.0/8' }]);
    // Egress: the default allow-all rule.
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupId: g,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'all out' }] }],
      }),
    );
    assert.deepEqual((await group(g)).IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0', Description: 'all out' }]);
    // Errors: a rule that does not exist, an ingress rule id through Egress, bad characters.
    let e = await awsError(() =>
      client.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 444, ToPort: 444, IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'x' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidPermission.NotFound');
    e = await awsError(() =>
      client.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: rid, Description: 'x' }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidSecurityGroupRuleId.NotFound');
    e = await awsError(() =>
      client.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({
          GroupId: g,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: rid, Description: 'bad <chars>' }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    e = await awsError(() =>
      client.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: g,
          IpPermissions: [{ IpProtocol: '-1', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'x' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterValue');
    assert.match(e.message, /When protocol is ALL, you cannot specify from-port/);
    // By name in the default VPC.
    await client.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupName: 'descriptions',
        SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: rid, Description: 'by name' }],
      }),
    );
    assert.equal(
      (await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [rid] }))).SecurityGroupRules![0]!.Description,
      'by name',
    );
  });
});

describe('DescribeSecurityGroupReferences and GetSecurityGroupsForVpc', () => {
  it('references: none across VPCs without peering; unknown group refused', async () => {
    const a = await newGroup('refs-a');
    const b = await newGroup('refs-b');
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: b,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: a }] }],
      }),
    );
    const { SecurityGroupReferenceSet } = await client.send(new DescribeSecurityGroupReferencesCommand({ GroupId: [a, b] }));
    assert.deepEqual(SecurityGroupReferenceSet, [], 'references from the same VPC are not listed');
    const e = await awsError(() => client.send(new DescribeSecurityGroupReferencesCommand({ GroupId: ['sg-0123456789abcdef0'] })));
    assert.equal(e.name, 'InvalidGroup.NotFound');
  });

  it('lists the groups of a VPC with filters and pages', async () => {
    const vpc = await newVpc();
    const ids = [await newGroup('gv-1', vpc, [{ Key: 'k', Value: 'v' }]), await newGroup('gv-2', vpc), await newGroup('other', vpc)];
    const { SecurityGroupForVpcs } = await client.send(new GetSecurityGroupsForVpcCommand({ VpcId: vpc }));
    assert.equal(SecurityGroupForVpcs!.length, 4);
    assert.ok(SecurityGroupForVpcs!.every((g) => g.PrimaryVpcId === vpc && g.OwnerId === ACCOUNT));
    assert.deepEqual(SecurityGroupForVpcs!.map((g) => g.GroupName).sort(), ['default', 'gv-1', 'gv-2', 'other']);
    const g1 = SecurityGroupForVpcs!.find((g) => g.GroupId === ids[0])!;
    assert.equal(g1.Description, 'gv-1 group');
    assert.deepEqual(g1.Tags, [{ Key: 'k', Value: 'v' }]);
    const named = await client.send(
      new GetSecurityGroupsForVpcCommand({ VpcId: vpc, Filters: [{ Name: 'group-name', Values: ['gv-*'] }] }),
    );
    assert.deepEqual(named.SecurityGroupForVpcs!.map((g) => g.GroupId).sort(), ids.slice(0, 2).sort());
    const first = await client.send(new GetSecurityGroupsForVpcCommand({ VpcId: vpc, MaxResults: 5 }));
    assert.equal(first.SecurityGroupForVpcs!.length, 4);
    assert.equal(first.NextToken, undefined);
    const e = await awsError(() => client.send(new GetSecurityGroupsForVpcCommand({ VpcId: 'vpc-0123456789abcdef0' })));
    assert.equal(e.name, 'InvalidVpcID.NotFound');
  });
});

describe('legacy flat ingress parameters', () => {
  it('IpProtocol/FromPort/ToPort/CidrIp make one rule; by GroupName in the default VPC', async () => {
    const g = await newGroup('legacy-cidr');
    const out = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupName: 'legacy-cidr',
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        CidrIp: '203.0.113.9/24',
      }),
    );
    assert.equal(out.SecurityGroupRules!.length, 1);
    const p = (await group(g)).IpPermissions!;
    assert.deepEqual(p, [
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '203.0.113.0/24' }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
    await client.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: g, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '203.0.113.0/24' }),
    );
    assert.deepEqual((await group(g)).IpPermissions, []);
  });

  it('SourceSecurityGroupName without a protocol grants ICMP, TCP and UDP (three rules)', async () => {
    const g = await newGroup('legacy-src');
    const src = await newGroup('legacy-peer');
    const out = await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: g, SourceSecurityGroupName: 'legacy-peer' }));
    assert.equal(out.SecurityGroupRules!.length, 3);
    const got = out.SecurityGroupRules!.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo!.GroupId]).sort();
    assert.deepEqual(got, [
      ['icmp', -1, -1, src],
      ['tcp', 0, 65535, src],
      ['udp', 0, 65535, src],
    ]);
    const perms = (await group(g)).IpPermissions!;
    assert.equal(perms.length, 3);
    for (const p of perms) assert.deepEqual(p.UserIdGroupPairs, [{ GroupId: src, UserId: ACCOUNT }]);
    // With a protocol: just that one.
    const g2 = await newGroup('legacy-src-2');
    const one = await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g2,
        SourceSecurityGroupName: 'legacy-peer',
        SourceSecurityGroupOwnerId: ACCOUNT,
        IpProtocol: 'tcp',
        FromPort: 8080,
        ToPort: 8080,
      }),
    );
    assert.equal(one.SecurityGroupRules!.length, 1);
    // Revoke the same way.
    await client.send(new RevokeSecurityGroupIngressCommand({ GroupId: g, SourceSecurityGroupName: 'legacy-peer' }));
    assert.deepEqual((await group(g)).IpPermissions, []);
  });

  it('refuses flat parameters mixed with IpPermissions, and unknown source names', async () => {
    const g = await newGroup('legacy-mixed');
    let e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: g,
          CidrIp: '1.1.1.1/32',
          IpProtocol: 'tcp',
          FromPort: 1,
          ToPort: 1,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, IpRanges: [{ CidrIp: '2.2.2.2/32' }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidParameterCombination');
    e = await awsError(() =>
      client.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: g, SourceSecurityGroupName: 'no-such-group' })),
    );
    assert.equal(e.name, 'InvalidGroup.NotFound');
    assert.match(e.message, /does not exist in default VPC 'vpc-/);
    assert.deepEqual((await group(g)).IpPermissions, []);
  });
});

describe('cross-VPC references', () => {
  it('a rule cannot reference a group of another VPC', async () => {
    const v1 = await newVpc();
    const v2 = await newVpc();
    const a = await newGroup('x-a', v1);
    const b = await newGroup('x-b', v2);
    let e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: a,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: b }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidGroup.NotFound');
    assert.equal(e.message, 'You have specified two resources that belong to different networks.');
    e = await awsError(() =>
      client.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: a,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: b }] }],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidGroup.NotFound');
    const rule = (await rulesOf(a)).find((r) => r.IsEgress)!;
    e = await awsError(() =>
      client.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: a,
          SecurityGroupRules: [
            { SecurityGroupRuleId: rule.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', ReferencedGroupId: b } },
          ],
        }),
      ),
    );
    assert.equal(e.name, 'InvalidGroup.NotFound');
    assert.deepEqual((await group(a)).IpPermissions, []);
    // Same VPC is fine.
    const c = await newGroup('x-c', v1);
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: a,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: c }] }],
      }),
    );
  });
});
