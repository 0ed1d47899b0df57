// No filter can block the single thread: EC2 Filter wildcards and CloudWatch Logs filter patterns
// (wildcards, regular expressions, `...`, terms, fields) are matched in time linear in what they
// read. The crafted requests go to a real server on a worker thread (helpers/worker-server.ts), so
// a blocked server shows as a 10 s timeout here instead of a frozen test; each is answered with
// the right result or AWS's error, and the server still answers afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CreateTagsCommand, CreateVpcCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { compileWildcard } from '../src/core/wildcard.ts';
import { compileFilterPattern, containsTerm, FilterPatternError } from '../src/services/logs/filter-pattern.ts';
import { awsError, CREDS, ec2 } from './helpers/server.ts';
import { startInWorker, withinTime, type WorkerServer } from './helpers/worker-server.ts';

/** The RegExp translation the matchers used to build: safe as a reference on short inputs. */
function reference(pattern: string, text: string, question: boolean): boolean {
  let body = '';
  for (const c of pattern) body += c === '*' ? '.*' : c === '?' && question ? '.' : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${body}$`, 's').test(text);
}

/** A hang detector for the synchronous matchers: generous, only there so a hang fails. */
function prompt<T>(what: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  assert.ok(performance.now() - t0 < 10_000, `${what} blocked the thread`);
  return out;
}

describe('core/wildcard', () => {
  const word = (chars: string[], maxLength: number) => fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));

  it('agrees with the RegExp translation on short random patterns and texts (EC2: `*` and `?`)', () => {
    fc.assert(
      fc.property(
        word(['a', 'b', '*', '?'], 9),
        word(['a', 'b', '?', '*', '\n'], 12),
        (p, t) => compileWildcard(p, { question: true })(t) === reference(p, t, true),
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees with the RegExp translation when `?` is literal (CloudWatch Logs)', () => {
    fc.assert(
      fc.property(
        word(['a', 'b', '*', '?'], 9),
        word(['a', 'b', '?', '*', '\n'], 12),
        (p, t) => compileWildcard(p)(t) === reference(p, t, false),
      ),
      { numRuns: 5000 },
    );
  });

  it('answers adversarial patterns promptly', () => {
    const long = 'a'.repeat(10_000);
    assert.equal(
      prompt('*a*a*a*a*a*b', () => compileWildcard('*a*a*a*a*a*b', { question: true })(long)),
      false,
    );
    assert.equal(
      prompt('*a*a*a*a*a*b (Logs)', () => compileWildcard('*a*a*a*a*a*b')(long)),
      false,
    );
    assert.equal(
      prompt('*?a?*?a?*?a?*?b', () => compileWildcard('*?a?*?a?*?a?*?b', { question: true })(long)),
      false,
    );
    assert.equal(
      prompt('*a*a*a*a*a*', () => compileWildcard('*a*a*a*a*a*', { question: true })(long)),
      true,
    );
    assert.equal(
      prompt('many stars', () => compileWildcard('*a'.repeat(500) + '*b', { question: true })(long)),
      false,
    );
  });
});

describe('CloudWatch Logs filter patterns (compiled)', () => {
  type Slot = { k: 'e' } | { k: 'f'; name: string; cond?: { op: '=' | '!='; value: string } };
  const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
  const cmp = (c: { op: '=' | '!='; value: string }, actual: string | undefined) => {
    if (actual === undefined) return false;
    const eq = NUMBER.test(c.value) ? NUMBER.test(actual) && Number(actual) === Number(c.value) : reference(c.value, actual, false);
    return c.op === '=' ? eq : !eq;
  };
  /** The backtracking matcher filter-pattern.ts had (exponential in the `...`s): the reference. */
  function backtracking(slots: Slot[], fields: string[]): boolean {
    const bound = new Map<string, string>();
    const go = (si: number, fi: number): boolean => {
      if (si === slots.length) return fi === fields.length && slots.every((s) => s.k === 'e' || !s.cond || cmp(s.cond, bound.get(s.name)));
      const s = slots[si]!;
      if (s.k === 'e') {
        for (let n = fi; n <= fields.length; n++) if (go(si + 1, n)) return true;
        return false;
      }
      if (fi >= fields.length) return false;
      const prev = bound.get(s.name);
      bound.set(s.name, fields[fi]!);
      const ok = go(si + 1, fi + 1);
      if (prev === undefined) bound.delete(s.name);
      else bound.set(s.name, prev);
      return ok;
    };
    return go(0, 0);
  }

  it('space-delimited patterns with several `...` agree with the backtracking matcher they replace', () => {
    const slot: fc.Arbitrary<Slot> = fc.oneof(
      fc.constant<Slot>({ k: 'e' }),
      fc.record({ k: fc.constant<'f'>('f'), name: fc.constantFrom('a', 'b', 'c') }),
      fc.record({
        k: fc.constant<'f'>('f'),
        name: fc.constantFrom('a', 'b', 'c'),
        cond: fc.record({ op: fc.constantFrom<'=' | '!='>('=', '!='), value: fc.constantFrom('1', '2', '*1*', 'x*') }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(slot, { minLength: 1, maxLength: 7 }),
        fc.array(fc.constantFrom('1', '2', '11', 'x', 'x1'), { maxLength: 8 }),
        (slots, fields) => {
          const pattern = `[${slots.map((s) => (s.k === 'e' ? '...' : s.cond ? `${s.name}${s.cond.op}${s.cond.value}` : s.name)).join(', ')}]`;
          let match;
          try {
            match = compileFilterPattern(pattern);
          } catch (e) {
            // a condition tying two floating segments together is refused rather than searched for
            assert.ok(e instanceof FilterPatternError && /between different '\.\.\.'/.test(e.message), String(e));
            return;
          }
          assert.equal(match(fields.join(' ')), backtracking(slots, fields), pattern);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('whole terms: a term occurring everywhere inside words is answered promptly', () => {
    const m = compileFilterPattern('a'.repeat(1000));
    assert.equal(
      prompt('term', () => m('a'.repeat(1_000_000))),
      false,
    );
    assert.equal(m(`x ${'a'.repeat(1000)} y`), true);
    assert.equal(containsTerm(`${'-ab'.repeat(100)}-a`, '-ab-ab-a'), true, 'only the last occurrence is a whole term');
    assert.equal(containsTerm(`${'-ab'.repeat(100)}-ac`, '-ab-ab-a'), false);
  });

  it("regular expressions in field values count towards AWS's limit of 2 per filter pattern", () => {
    // CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax": "There is a limit
    // of 2 regex for each filter pattern when creating a delimited or JSON filter pattern […]"
    const m = compileFilterPattern('[a=%^x[0-9]{1,3}$%, b!=%y%, ...]');
    assert.equal(m('x12 z more'), true);
    assert.equal(m('x12 y more'), false);
    assert.equal(m('x1234 z'), false);
    assert.throws(() => compileFilterPattern('[a=%x%, b=%y%, c=%z%]'), /at most 2 regular expressions/);
  });
});

describe('hostile filters against a running server', () => {
  let server: WorkerServer;
  let client: EC2Client;
  let logs: CloudWatchLogsClient;
  const name = 'a'.repeat(256); // the longest tag value EC2 accepts
  let vpcId: string;

  before(async () => {
    server = await startInWorker();
    client = ec2(server.url);
    logs = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: CREDS, maxAttempts: 1 });
    vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    await client.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'Name', Value: name }] }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'hostile' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'hostile', logStreamName: 's' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: 'hostile',
        logStreamName: 's',
        logEvents: [
          { timestamp: now - 3000, message: 'a'.repeat(50_000) },
          { timestamp: now - 2000, message: Array(3000).fill('1').join(' ') },
          { timestamp: now - 1000, message: '2 123456789012 eni-1 10.0.0.1 10.0.0.2 40000 443 6 20 4000 1700000000 1700000060 REJECT OK' },
        ],
      }),
    );
  });
  after(async () => {
    client?.destroy();
    logs?.destroy();
    await server?.close();
  });

  const vpcsNamed = async (value: string) =>
    (
      await withinTime(
        client.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: [value] }] })),
        10_000,
        `DescribeVpcs tag:Name=${value.slice(0, 40)}`,
      )
    ).Vpcs!.map((v) => v.VpcId);
  const filter = async (filterPattern: string) =>
    (
      await withinTime(
        logs.send(new FilterLogEventsCommand({ logGroupName: 'hostile', filterPattern })),
        10_000,
        `FilterLogEvents ${filterPattern.slice(0, 40)}`,
      )
    ).events!.map((e) => e.message!);
  const refused = async (filterPattern: string) =>
    withinTime(
      awsError(() => logs.send(new FilterLogEventsCommand({ logGroupName: 'hostile', filterPattern }))),
      10_000,
      `FilterLogEvents ${filterPattern.slice(0, 40)}`,
    );
  const stillServing = async () =>
    assert.ok((await withinTime(client.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })))).Vpcs!.length === 1);

  it('EC2: a Filter value with many `*` is answered promptly, with the same matches as before', async () => {
    assert.deepEqual(await vpcsNamed('*a*a*a*a*a*b'), []);
    assert.deepEqual(await vpcsNamed('*a*a*a*a*a*'), [vpcId]);
    assert.deepEqual(await vpcsNamed('a?a*'), [vpcId]);
    assert.deepEqual(await vpcsNamed('?'.repeat(256)), [vpcId]);
    assert.deepEqual(await vpcsNamed('?'.repeat(255)), []);
    assert.deepEqual(await vpcsNamed('A*'), [], 'case-sensitive');
    await stillServing();
  });

  it('Logs: `*` values in space-delimited patterns are answered promptly', async () => {
    assert.deepEqual(await filter('[w=*a*a*a*a*a*b]'), []);
    assert.equal((await filter('[w=*a*a*a*a*a*]')).length, 1);
    await stillServing();
  });

  it('Logs: several `...` do not backtrack', async () => {
    assert.deepEqual(await filter('[..., a=1, ..., b=1, ..., c=1, ..., d=2]'), []);
    assert.equal((await filter('[..., a=1, ..., b=1, ..., c=1, ...]')).length, 1);
    assert.equal((await filter('[..., action=REJECT, status]')).length, 1);
    await stillServing();
  });

  it('Logs: regular expressions run in linear time (RE2)', async () => {
    assert.deepEqual(await filter('%a*a*a*a*a*a*a*c%'), []);
    assert.equal((await filter('%^a*a*a*a*a*a*$%')).length, 1);
    assert.equal((await filter('%REJECT|NODATA%')).length, 1);
    assert.equal((await filter('[..., action=%REJ|ACC%, status]')).length, 1);
    await stillServing();
  });

  // CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax"
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html): only
  // alphanumerics, the symbols : _ # = @ / ; , - and the operators ^ $ ? [ ] { } | \ * + . ;
  // "The ( and ) operators are not supported"; "%something!% would be rejected since '!' is not supported".
  it('Logs: regular expressions outside the syntax AWS documents are refused (InvalidParameterException 400)', async () => {
    for (const p of ['%^(a+)+$%', '%a(?=b)%', '%(?<=a)b%', '%something!%', '%caf\u00e9%']) {
      const e = await refused(p);
      assert.deepEqual([e.name, e.status], ['InvalidParameterException', 400], p);
      assert.match(e.message, /^Invalid filter pattern: Invalid character\(s\) in term/, p);
    }
    const backreference = await refused('%a\\1%');
    assert.deepEqual([backreference.name, backreference.status], ['InvalidParameterException', 400]);
    const three = await refused('[a=%x%, b=%y%, c=%z%, ...]');
    assert.deepEqual([three.name, three.status], ['InvalidParameterException', 400]);
    await stillServing();
  });

  it('Logs: a filter pattern longer than 1024 characters is refused (FilterLogEvents: "Maximum length of 1024")', async () => {
    assert.deepEqual(await filter('x'.repeat(1024)), []);
    const e = await refused('x'.repeat(1025));
    assert.deepEqual([e.name, e.status], ['InvalidParameterException', 400]);
    assert.match(e.message, /at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024$/);
    await stillServing();
  });

  it('Logs: a term that occurs only inside longer words is answered promptly', async () => {
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'hostile', logStreamName: 'words' }));
    const message = 'a'.repeat(1_000_000); // one event of ~1 MB, the most PutLogEvents takes
    const now = Date.now();
    for (let k = 0; k < 24; k++) {
      await logs.send(
        new PutLogEventsCommand({ logGroupName: 'hostile', logStreamName: 'words', logEvents: [{ timestamp: now + k, message }] }),
      );
    }
    const term = 'a'.repeat(1024); // the longest pattern there is
    const out = await withinTime(
      logs.send(new FilterLogEventsCommand({ logGroupName: 'hostile', logStreamNames: ['words'], filterPattern: term })),
      10_000,
      'FilterLogEvents of a 1024-character term over 24 MB',
    );
    assert.equal(out.events!.length, 0);
    await stillServing();
  });

  it('Logs: events of many unclosed `[` are split into fields in linear time', async () => {
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'hostile', logStreamName: 'brackets' }));
    const message = '[ '.repeat(500_000).trimEnd(); // one event of ~1 MB, the most PutLogEvents takes
    const now = Date.now();
    for (let k = 0; k < 8; k++) {
      await logs.send(
        new PutLogEventsCommand({ logGroupName: 'hostile', logStreamName: 'brackets', logEvents: [{ timestamp: now + k, message }] }),
      );
    }
    const out = await withinTime(
      logs.send(new FilterLogEventsCommand({ logGroupName: 'hostile', logStreamNames: ['brackets'], filterPattern: '[first, ...]' })),
      10_000,
      'FilterLogEvents over 8 MB of `[`',
    );
    assert.equal(out.events!.length, 8);
    await stillServing();
  });
});
