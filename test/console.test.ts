// The web console (issue #17) in a real browser: Debian's chromium driven by playwright-core,
// against a real server, with the AWS SDK on the other side to check what the console did and to
// change the state under the open page. Screenshots of each page go to test-artifacts/console/.
// Chromium is required: CI installs it (.ci/run); without it this file fails, it does not skip.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { ec2, start } from './helpers/server.ts';
import type { Palisade } from '../src/server.ts';

const ROOT_DIR = join(import.meta.dirname, '..');
const ARTIFACTS = join(ROOT_DIR, 'test-artifacts', 'console');
const CHROMIUM = process.env.PALISADE_CHROMIUM ?? '/usr/bin/chromium';

let browser: Browser;

before(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `chromium is not installed at ${CHROMIUM}: the console tests need it (apt-get install -y chromium; .ci/run installs it), or set PALISADE_CHROMIUM`,
    );
  // The console's files come from `npm run build`; a checkout that has not built them yet builds them here.
  if (!existsSync(join(ROOT_DIR, 'dist', 'console', 'index.html'))) {
    const { buildConsole } = (await import(join(ROOT_DIR, 'console', 'build.mjs'))) as { buildConsole(): Promise<number> };
    await buildConsole();
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
});

/** A page that fails the test on any uncaught error of the console's own code. */
async function openPage(base: string, path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/_palisade/console/${path}`);
  return { page, errors };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

function rawGet(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console (--auth open)', () => {
  let server: Palisade;
  let client: EC2Client;

  before(async () => {
    server = await start();
    client = ec2(server.url);
  });
  after(async () => {
    client?.destroy();
    await server?.close();
  });

  test('served by the server: files, client routes, no traversal; a browser at / is sent there', async () => {
    const index = await rawGet(server.url, '/_palisade/console/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-type']), /^text\/html/);
    const asset = /src="(\/_palisade\/console\/assets\/[^"]+\.js)"/.exec(index.body)?.[1];
    assert.ok(asset, 'index.html loads a script from assets/');
    const js = await rawGet(server.url, asset);
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    assert.match(String(js.headers['cache-control']), /immutable/);
    const again = await rawGet(server.url, asset, { 'if-none-match': String(js.headers.etag) });
    assert.equal(again.status, 304);
    // a page of the console's own routing is index.html
    const route = await rawGet(server.url, '/_palisade/console/security-groups/sg-0123456789abcdef0');
    assert.equal(route.status, 200);
    assert.equal(route.body, index.body);
    for (const path of [
      '/_palisade/console/../../package.json',
      '/_palisade/console/..%2f..%2fpackage.json',
      '/_palisade/console/%2e%2e/%2e%2e/package.json',
    ]) {
      const r = await rawGet(server.url, path);
      assert.notEqual(r.status, 200, path);
      assert.doesNotMatch(r.body, /"devDependencies"/, path);
    }
    assert.equal((await rawGet(server.url, '/_palisade/console/assets/missing.js')).status, 404);
    const browserAtRoot = await rawGet(server.url, '/', { accept: 'text/html,application/xhtml+xml' });
    assert.equal(browserAtRoot.status, 302);
    assert.equal(browserAtRoot.headers.location, '/_palisade/console/');
    // anything else at / is answered as before (an EC2 error for a request without an action)
    const plain = await rawGet(server.url, '/');
    assert.notEqual(plain.status, 302);
  });

  test('create a group and a rule through the UI; the EC2 API sees them; AWS errors inline', async () => {
    const { page, errors } = await openPage(server.url, 'security-groups');
    const form = page.getByTestId('create-sg');
    await form.locator('input[name=groupName]').fill('console-web');
    await form.locator('input[name=description]').fill('made in the console');
    await form.getByRole('button', { name: 'Create security group' }).click();
    const id = (await page.getByTestId('sg-id').textContent({ timeout: 10_000 }))!;
    assert.match(id, /^sg-[0-9a-f]+$/);

    const add = page.getByTestId('add-rule');
    await add.locator('input[name=ports]').fill('443');
    await add.locator('input[name=peer]').fill('10.20.0.0/16');
    await add.locator('input[name=description]').fill('https from the office');
    await add.getByRole('button', { name: 'Add rule' }).click();
    const row = page.getByTestId('inbound-rules').locator('tr[data-rule]');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    const ruleId = (await row.getAttribute('data-rule'))!;
    assert.match(ruleId, /^sgr-/);

    const rules = await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }));
    const rule = rules.SecurityGroupRules!.find((r) => r.SecurityGroupRuleId === ruleId);
    assert.deepEqual(
      { p: rule?.IpProtocol, f: rule?.FromPort, t: rule?.ToPort, c: rule?.CidrIpv4, d: rule?.Description },
      { p: 'tcp', f: 443, t: 443, c: '10.20.0.0/16', d: 'https from the office' },
    );

    // edit it: ModifySecurityGroupRules
    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByTestId('edit-rule');
    await edit.locator('input[name=ports]').fill('8443');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    const edited = await client.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }));
    assert.equal(edited.SecurityGroupRules?.[0]?.FromPort, 8443);
    await row.getByText('8443').waitFor();

    // AWS's own error, shown where the action was taken
    await add.locator('input[name=ports]').fill('22');
    await add.locator('input[name=peer]').fill('10.0.0.0/33');
    await add.getByRole('button', { name: 'Add rule' }).click();
    await page.getByTestId('add-rule-error').waitFor();
    assert.match((await page.getByTestId('add-rule-error').textContent())!, /InvalidParameterValue|InvalidCidr|CIDR/i);
    await shot(page, 'security-group');

    // delete it from the UI
    await page.getByTestId('delete-sg').click();
    await page.getByTestId('sg-list').waitFor();
    await assert.rejects(client.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })), /InvalidGroup.NotFound/);
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('SSH open to the world: the warning; a rule revoked with the SDK leaves the open page', async () => {
    const g = await client.send(new CreateSecurityGroupCommand({ GroupName: 'bastion', Description: 'ssh' }));
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g.GroupId,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
          { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
        ],
      }),
    );
    const { page, errors } = await openPage(server.url, `security-groups/${g.GroupId}`);
    const warning = page.getByTestId('open-admin-warning');
    await warning.waitFor();
    assert.match((await warning.textContent())!, /0\.0\.0\.0\/0 or ::\/0.*SSH \(22\)/s);
    const rows = page.getByTestId('inbound-rules').locator('tr[data-rule]');
    await rows.nth(1).waitFor();
    await shot(page, 'ssh-warning');

    await client.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: g.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    // no reload: the server's change events make the page refetch
    await rows.nth(1).waitFor({ state: 'detached' });
    assert.equal(await rows.count(), 1);
    await warning.waitFor({ state: 'detached' });
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('network view: an edge for a flow the data plane admits, none once the rule goes; the reach form names the deciding hop', async () => {
    const g = await client.send(new CreateSecurityGroupCommand({ GroupName: 'graph-web', Description: 'web' }));
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: g.GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const run = await client.send(
      new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1, SecurityGroupIds: [g.GroupId!] }),
    );
    const eni = run.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const instanceId = run.Instances![0]!.InstanceId!;

    const { page, errors } = await openPage(server.url, 'network');
    const filter = page.getByTestId('network-filter');
    await filter.locator('input[name=port]').fill('8080');
    await filter.getByRole('button', { name: 'Apply' }).click();
    const edge = page.locator(`tr[data-testid=edge][data-from=internet][data-to=${eni}]`);
    await edge.waitFor();
    assert.equal(await edge.getAttribute('data-exposure'), 'internet');
    await page.getByTestId('graph').locator('canvas').first().waitFor();
    // the rules on the edge's path
    await edge.getByRole('link').click();
    await page.getByTestId('edge-detail').getByText('ACCEPT').waitFor();
    assert.match((await page.getByTestId('edge-detail').textContent())!, /sgr-/);
    await shot(page, 'network');

    const rule = (
      await client.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [g.GroupId!] }] }))
    ).SecurityGroupRules!.find((r) => !r.IsEgress)!;
    await client.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, SecurityGroupRuleIds: [rule.SecurityGroupRuleId!] }));
    await edge.waitFor({ state: 'detached' });

    // can the internet reach it on 8080 now? No: the ingress gate decides
    await page.getByRole('link', { name: 'Reachability' }).click();
    const form = page.getByTestId('reach-form');
    await form.locator('input[name=from]').fill('internet:198.51.100.7');
    await form.locator('input[name=to]').fill(instanceId);
    await form.locator('input[name=port]').fill('8080');
    await form.getByRole('button', { name: 'Evaluate' }).click();
    await page.getByTestId('verdict').waitFor();
    assert.equal(await page.getByTestId('verdict').textContent(), 'REJECT');
    assert.equal(await page.getByTestId('decided-by').textContent(), 'ingress');
    const hop = page.getByTestId('decided-hop');
    assert.match((await hop.textContent())!, /Security group ingress[\s\S]*no rule matches/);
    await shot(page, 'reach');
    await page.close();
    assert.deepEqual(errors, []);
  });

  test('every page renders (screenshots)', async () => {
    const run = await client.send(new RunInstancesCommand({ ImageId: 'ami-12345678', MinCount: 1, MaxCount: 1 }));
    const instanceId = run.Instances![0]!.InstanceId!;
    const { page, errors } = await openPage(server.url, 'vpcs');
    await page.getByTestId('vpc').first().waitFor();
    await shot(page, 'vpcs');
    for (const [path, testid, name] of [
      ['security-groups', 'sg-list', 'security-groups'],
      ['instances', 'instances', 'instances'],
      [`instances/${instanceId}`, 'imds', 'instance'],
      ['flow-logs', 'flow-logs', 'flow-logs'],
      ['trail', 'trail-events', 'trail'],
      ['findings', 'findings', 'findings'],
    ] as const) {
      await page.goto(`${server.url}/_palisade/console/${path}`);
      await page.getByTestId(testid).waitFor();
      if (name === 'instances') await page.getByTestId(testid).getByText(instanceId).waitFor();
      if (name === 'trail') await page.getByTestId(testid).getByText('RunInstances').first().waitFor();
      if (name === 'findings') await page.getByTestId(testid).getByText('sg-default-group-has-rules').first().waitFor();
      await shot(page, name);
    }
    await page.close();
    assert.deepEqual(errors, []);
  });
});

describe('console (--auth verify)', () => {
  let server: Palisade;

  before(async () => {
    server = await start({ auth: 'verify' });
  });
  after(async () => {
    await server?.close();
  });

  test('a sign-in is required; with the root key pair the console works', async () => {
    // the files themselves need no credentials
    assert.equal((await rawGet(server.url, '/_palisade/console/')).status, 200);
    const { page, errors } = await openPage(server.url, 'security-groups');
    const form = page.getByTestId('signin');
    await form.waitFor();
    await shot(page, 'signin');
    const root = server.gateway.rootKey();
    await form.locator('input[name=accessKeyId]').fill(root.accessKeyId);
    await form.locator('input[name=secretAccessKey]').fill('not-the-secret');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signin-error').waitFor();
    assert.match((await page.getByTestId('signin-error').textContent())!, /SignatureDoesNotMatch/);

    await form.locator('input[name=secretAccessKey]').fill(root.secretAccessKey);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sg-list').getByText('default').first().waitFor();
    assert.match((await page.getByTestId('identity').textContent())!, /:root$/);
    // the change events too: EventSource cannot send headers, so its URL is presigned
    await page.getByTestId('live').getByText('live', { exact: true }).waitFor();
    // the admin API, signed in the browser with the same keys
    await page.getByRole('link', { name: 'Findings' }).click();
    await page.getByTestId('findings').getByText('sg-default-group-has-rules').first().waitFor();
    await page.getByRole('link', { name: 'Network view' }).click();
    await page
      .getByTestId('network-filter')
      .getByText(/\d+ flows/)
      .waitFor();
    assert.equal(await page.getByTestId('network-error').count(), 0);
    await page.close();
    assert.deepEqual(errors, []);
  });
});
