// Extracts the wire model of each AWS service Palisade speaks from the AWS SDK v3's own
// schemas (read with @smithy/core's NormalizedSchema) into a compact JSON per service, so the
// server's generic codecs never load the (slow, large) SDK client packages at run time.
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { NormalizedSchema } = require('@smithy/core/schema');

const SERVICES = [
  { name: 'ec2', pkg: '@aws-sdk/client-ec2', protocol: 'ec2', version: '2016-11-15', xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/' },
  { name: 'iam', pkg: '@aws-sdk/client-iam', protocol: 'query', version: '2010-05-08', xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/' },
  { name: 'sts', pkg: '@aws-sdk/client-sts', protocol: 'query', version: '2011-06-15', xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/' },
  {
    name: 'cloudtrail',
    pkg: '@aws-sdk/client-cloudtrail',
    protocol: 'json',
    target: 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101',
  },
  { name: 'logs', pkg: '@aws-sdk/client-cloudwatch-logs', protocol: 'json', target: 'Logs_20140328' },
  { name: 's3', pkg: '@aws-sdk/client-s3', protocol: 'rest', version: '2006-03-01', xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
];

/** Smithy's timestamp schemas (4: the protocol's default for where the value goes, 5: date-time, 6: http-date, 7: epoch-seconds). */
const TIMESTAMP_DEFAULT = 4;

/**
 * What a REST protocol needs of a member beyond its name and shape: where it travels (path label,
 * query parameter, header, headers by prefix, the payload, the status code) and how its XML is
 * written (attribute, namespace), its timestamp format when not the default, whether it streams.
 */
function restTraits(m, t, mns) {
  if (t.httpLabel) m.l = 1;
  if (t.httpQuery !== undefined) m.hq = t.httpQuery;
  if (t.httpQueryParams) m.hqp = 1;
  if (t.httpHeader !== undefined) m.h = t.httpHeader;
  if (t.httpPrefixHeaders !== undefined) m.hp = t.httpPrefixHeaders;
  if (t.httpPayload) m.p = 1;
  if (t.httpResponseCode) m.rc = 1;
  if (t.xmlAttribute) m.xa = 1;
  if (t.xmlNamespace) m.xn = t.xmlNamespace;
  if (t.streaming) m.st = 1;
  if (mns.isTimestampSchema() && mns.getSchema() !== TIMESTAMP_DEFAULT) m.tf = mns.getSchema();
}

/**
 * An operation's `http` trait as the service defines it. For S3 the SDK's schemas leave the
 * bucket out of the URI (`/{Key+}?x-id=GetObject`): its endpoint rules put it in the host or the
 * path. A server sees it in the path (path-style), so a label the input binds and the URI lacks
 * is put back first, as S3's own model writes it (`/{Bucket}/{Key+}?x-id=GetObject`).
 */
function httpTrait(http, input) {
  let [method, uri, code] = http;
  if (input && !input.isUnitSchema()) {
    for (const [member, mns] of input.structIterator()) {
      if (!mns.getMergedTraits().httpLabel) continue;
      const q = uri.indexOf('?');
      const path = q < 0 ? uri : uri.slice(0, q);
      if (path.includes(`{${member}}`) || path.includes(`{${member}+}`)) continue;
      uri = `/{${member}}${path === '/' ? '' : path}${q < 0 ? '' : uri.slice(q)}`;
    }
  }
  return [method, uri, code];
}

function scalarKind(ns) {
  if (ns.isBooleanSchema()) return '#boolean';
  if (ns.isTimestampSchema()) return '#timestamp';
  if (ns.isBlobSchema()) return '#blob';
  if (ns.isBigIntegerSchema() || ns.isBigDecimalSchema() || ns.isNumericSchema()) {
    const raw = ns.getSchema();
    // 1 = numeric; integers are told apart from floats by the shape name where the model has one.
    const name = ns.getName?.() ?? '';
    return /Double|Float/.test(String(name)) || raw === 'double' ? '#double' : '#integer';
  }
  if (ns.isDocumentSchema()) return '#document';
  return '#string';
}

function extract(svc) {
  const mod = require(svc.pkg);
  const rest = svc.protocol === 'rest';
  const shapes = {};
  const ops = {};
  const errors = {};

  function ref(ns) {
    if (ns.isStructSchema() || ns.isUnionSchema()) {
      const name = ns.getName();
      if (!shapes[name]) {
        const raw = ns.getSchema();
        const entry = { k: 'struct', m: {} };
        shapes[name] = entry;
        if (rest) {
          // The structure's own XML name and namespace (a member's traits may rename it in place).
          const own = NormalizedSchema.of(raw).getOwnTraits();
          if (own.xmlName) entry.x = own.xmlName;
          if (own.xmlNamespace) entry.xn = own.xmlNamespace;
        }
        const requiredCount = typeof raw[6] === 'number' ? raw[6] : 0;
        const names = raw[4] ?? [];
        if (requiredCount) entry.r = names.slice(0, requiredCount);
        for (const [member, mns] of ns.structIterator()) {
          const t = mns.getMergedTraits();
          const m = { s: ref(mns) };
          if (t.ec2QueryName) m.q = t.ec2QueryName;
          if (t.xmlName) m.x = t.xmlName;
          if (t.xmlFlattened) m.f = 1;
          if (t.jsonName) m.j = t.jsonName;
          if (t.timestampFormat !== undefined) m.tf = t.timestampFormat;
          if (t.idempotencyToken) m.it = 1;
          if (t.sensitive) m.sn = 1;
          if (rest) restTraits(m, t, mns);
          entry.m[member] = m;
        }
      }
      return name;
    }
    if (ns.isListSchema()) {
      const v = ns.getValueSchema();
      const t = v.getMergedTraits();
      return { k: 'list', v: ref(v), x: t.xmlName };
    }
    if (ns.isMapSchema()) {
      const k = ns.getKeySchema();
      const v = ns.getValueSchema();
      return { k: 'map', key: ref(k), v: ref(v), kx: k.getMergedTraits().xmlName, vx: v.getMergedTraits().xmlName };
    }
    return scalarKind(ns);
  }

  for (const [key, value] of Object.entries(mod)) {
    if (!key.endsWith('$') || !Array.isArray(value)) continue;
    if (value[0] === 9) {
      const op = NormalizedSchema.of(value);
      const raw = op.getSchema();
      const input = NormalizedSchema.of(raw[4]);
      const output = NormalizedSchema.of(raw[5]);
      ops[raw[2]] = {
        i: input.isUnitSchema() ? null : ref(input),
        o: output.isUnitSchema() ? null : ref(output),
      };
      if (rest) ops[raw[2]].h = httpTrait(raw[3].http, input);
    } else if (value[0] === -3) {
      // error schema: [-3, ns, name, traits, names, members]
      const traits = value[3] ?? {};
      const t = typeof traits === 'object' ? traits : {};
      errors[value[2]] = { status: t.httpError, code: t.awsQueryError?.[0] ?? value[2], type: t.error };
    }
  }
  return { service: svc.name, protocol: svc.protocol, version: svc.version, xmlns: svc.xmlns, target: svc.target, ops, errors, shapes };
}

/**
 * Plain JSON, laid out so the server can start without parsing all of it: `ops` then `shapes`
 * come last, one operation or shape per line (`"Name":{...}`), so src/protocol/model.ts parses
 * the small head at start and each operation or shape only when a call first needs it.
 */
function serialise(model) {
  const { shapes, ops, ...head } = model;
  const line = ([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`;
  return `${JSON.stringify(head).slice(0, -1)},"ops":{\n${Object.entries(ops).map(line).join(',\n')}\n},"shapes":{\n${Object.entries(shapes).map(line).join(',\n')}\n}}`;
}

/**
 * Where each part of that text is, in bytes: the head ends where `"ops":{` begins, and each
 * operation's and shape's JSON value has a [start, end) range. The server reads the head and then
 * only the bytes of the operations and shapes a call needs (<service>.index beside <service>.json).
 */
function indexOf(text) {
  const buf = Buffer.from(text, 'utf8');
  const section = (mark) => {
    const m = Buffer.from(mark);
    const ranges = {};
    let p = buf.indexOf(m) + m.length;
    while (p < buf.length && buf[p] === 34 /* " */) {
      let nl = buf.indexOf(10, p);
      if (nl < 0) nl = buf.length;
      const colon = buf.indexOf('":', p + 1) + 1;
      const name = JSON.parse(buf.toString('utf8', p, colon));
      const end = buf[nl - 1] === 44 /* , */ ? nl - 1 : nl;
      ranges[name] = [colon + 1, end];
      p = nl + 1;
    }
    return ranges;
  };
  return { head: buf.indexOf(Buffer.from('"ops":{\n')), ops: section('"ops":{\n'), shapes: section('"shapes":{\n') };
}

/**
 * A table the server searches in place: u32 count, count × (u32 start, u32 end, u32 name start,
 * u32 name end) sorted by name bytes, names (UTF-8). Name offsets are from the table's start.
 */
function table(ranges) {
  const sorted = Object.keys(ranges)
    .map((n) => [n, Buffer.from(n, 'utf8')])
    .sort((a, b) => Buffer.compare(a[1], b[1]));
  const t = Buffer.alloc(4 + sorted.length * 16);
  t.writeUInt32LE(sorted.length, 0);
  let at = t.length;
  sorted.forEach(([n, bytes], i) => {
    t.writeUInt32LE(ranges[n][0], 4 + i * 16);
    t.writeUInt32LE(ranges[n][1], 8 + i * 16);
    t.writeUInt32LE(at, 12 + i * 16);
    t.writeUInt32LE((at += bytes.length), 16 + i * 16);
  });
  return Buffer.concat([t, ...sorted.map(([, b]) => b)]);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'models');
mkdirSync(outDir, { recursive: true });
for (const svc of SERVICES) {
  const model = extract(svc);
  const text = serialise(model);
  const { ops, shapes, ...rest } = model;
  if (JSON.stringify(JSON.parse(text)) !== JSON.stringify({ ...rest, ops, shapes }))
    throw new Error(`model ${svc.name}: layout does not round-trip`);
  writeFileSync(join(outDir, `${svc.name}.json`), text);
  const index = indexOf(text);
  if (Object.keys(index.shapes).length !== Object.keys(model.shapes).length) throw new Error(`model ${svc.name}: shape index incomplete`);
  if (Object.keys(index.ops).length !== Object.keys(model.ops).length) throw new Error(`model ${svc.name}: operation index incomplete`);
  // Binary, to cost nothing to read: u32 head length, u32 byte offset of the shapes' table, the
  // operations' table, the shapes' table. The server finds an operation or a shape by binary
  // search in these bytes: no list of 2,500 names is built at start, no operation parsed unasked.
  const opsTable = table(index.ops);
  const top = Buffer.alloc(8);
  top.writeUInt32LE(index.head, 0);
  top.writeUInt32LE(8 + opsTable.length, 4);
  writeFileSync(join(outDir, `${svc.name}.index`), Buffer.concat([top, opsTable, table(index.shapes)]));
  console.log(`model ${svc.name}: ${Object.keys(model.ops).length} operations, ${Object.keys(model.shapes).length} shapes`);
}

// The regions of every partition, from the SDK's own partition table (not exported by the
// package, so read from its file): src/core/regions.ts reads the list, and the gateway refuses a
// request signed for a region AWS does not have.
const coreDir = dirname(require.resolve('@aws-sdk/core/package.json'));
const { partitionsInfo } = await import(
  pathToFileURL(join(coreDir, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js')).href
);
const regions = {};
for (const p of partitionsInfo.partitions) {
  const re = new RegExp(p.regionRegex);
  regions[p.id] = Object.keys(p.regions).filter((r) => re.test(r));
}
if (!regions.aws?.includes('us-east-1')) throw new Error('regions: the SDK partition table has no us-east-1');
writeFileSync(join(outDir, 'regions.json'), JSON.stringify(regions));
console.log(`regions: ${Object.values(regions).flat().length} in ${Object.keys(regions).length} partitions`);
