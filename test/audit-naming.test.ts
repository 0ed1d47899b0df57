// The naming convention is on by default (issue #16): a security group's name or Name tag says
// its environment, or it carries an Environment tag — "names that say purpose and environment",
// as AWS's security-group guidance puts it; the default group is exempt. Configurable:
// naming.environments (alternatives; '' turns the rule off) and naming.environmentTag.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CreateSecurityGroupCommand, CreateTagsCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { CREDS, ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';
import { fetchLiveSnapshot } from '../src/analysis/fetch-live.ts';
import { audit } from '../src/analysis/audit.ts';
import { parseConfig } from '../src/analysis/config.ts';
import type { AuditSnapshot } from '../src/analysis/findings/estate.ts';

let server: Palisade;
let snapshot: AuditSnapshot;
const ids: Record<string, string> = {};

before(async () => {
  server = await start();
  const client = ec2(server.url);
  const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
  const group = async (name: string, tags: Record<string, string> = {}) => {
    const id = (await client.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `the ${name} tier`, VpcId: vpc })))
      .GroupId!;
    if (Object.keys(tags).length)
      await client.send(new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
    ids[name] = id;
  };
  await group('scratch');
  await group('prod-web');
  await group('cache', { Environment: 'dev' });
  await group('team-7f3a', { Name: 'staging_api' });
  await group('Production.DB');
  await group('product-catalog'); // "product" is not "prod": words, not substrings
  snapshot = await fetchLiveSnapshot(server.url, { credentials: CREDS });
});
after(() => server.close());

const flagged = (config = parseConfig({})) =>
  new Set(audit(snapshot, config, { checks: ['naming-convention'] }).findings.map((f) => f.resourceId));

describe('naming-convention by default', () => {
  it('reports a group whose name says no environment and that has no Environment tag, and none for prod-web or Environment=dev', () => {
    const f = flagged();
    assert.ok(f.has(ids.scratch!), 'scratch');
    assert.ok(f.has(ids['product-catalog']!), 'product-catalog');
    for (const ok of ['prod-web', 'cache', 'team-7f3a', 'Production.DB']) assert.ok(!f.has(ids[ok]!), ok);
    // The default groups (of the VPC and the default VPC) are exempt.
    const defaults = snapshot.securityGroups.filter((g) => g.GroupName === 'default').map((g) => g.GroupId!);
    assert.ok(defaults.length >= 1);
    for (const d of defaults) assert.ok(!f.has(d), 'default group');
  });

  it('the finding says what is missing and how to fix it', () => {
    const f = audit(snapshot, parseConfig({}), { checks: ['naming-convention'] }).findings.find((x) => x.resourceId === ids.scratch)!;
    assert.match(f.detail, /says its environment/);
    assert.match(f.fix, /create-tags --resources sg-\w+ --tags Key=Environment,Value=prod/);
  });

  it('is configurable: other environments, another tag, or off', () => {
    let f = flagged(parseConfig({ naming: { environments: 'scratch|live' } }));
    assert.ok(!f.has(ids.scratch!));
    assert.ok(f.has(ids['prod-web']!));
    f = flagged(parseConfig({ naming: { environmentTag: 'Stage' } }));
    assert.ok(f.has(ids.cache!), 'Environment no longer counts');
    f = flagged(parseConfig({ naming: { environments: '' } }));
    assert.equal(f.size, 0);
    assert.equal(flagged(parseConfig({ disable: ['naming-convention'] })).size, 0);
    assert.throws(() => parseConfig({ naming: { environments: '(' } }), /naming\.environments: not a valid regular expression/);
    assert.throws(() => parseConfig({ naming: { environmentTag: '' } }), /naming\.environmentTag/);
  });
});
