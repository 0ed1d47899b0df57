// The flow log record fields AWS documents (VPC user guide, "Flow log records"), with the
// version that introduced each, and the LogFormat grammar: `${field} ${field} …`.
const FIELD_VERSIONS: Readonly<Record<string, number>> = {
  version: 2,
  'account-id': 2,
  'interface-id': 2,
  srcaddr: 2,
  dstaddr: 2,
  srcport: 2,
  dstport: 2,
  protocol: 2,
  packets: 2,
  bytes: 2,
  start: 2,
  end: 2,
  action: 2,
  'log-status': 2,
  'vpc-id': 3,
  'subnet-id': 3,
  'instance-id': 3,
  'tcp-flags': 3,
  type: 3,
  'pkt-srcaddr': 3,
  'pkt-dstaddr': 3,
  region: 4,
  'az-id': 4,
  'sublocation-type': 4,
  'sublocation-id': 4,
  'pkt-src-aws-service': 5,
  'pkt-dst-aws-service': 5,
  'flow-direction': 5,
  'traffic-path': 5,
  'ecs-cluster-arn': 7,
  'ecs-cluster-name': 7,
  'ecs-container-instance-arn': 7,
  'ecs-container-instance-id': 7,
  'ecs-container-id': 7,
  'ecs-second-container-id': 7,
  'ecs-service-name': 7,
  'ecs-task-definition-arn': 7,
  'ecs-task-arn': 7,
  'ecs-task-id': 7,
};

const DEFAULT_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
] as const;
export const DEFAULT_FORMAT = DEFAULT_FIELDS.map((f) => `\${${f}}`).join(' ');

export class LogFormatError extends Error {}

/** The fields of a LogFormat, in order; throws LogFormatError for anything AWS would refuse. */
export function parseLogFormat(format: string | undefined): string[] {
  if (format === undefined) return [...DEFAULT_FIELDS];
  const text = format.trim();
  if (text === '') throw new LogFormatError('LogFormat must specify at least one field.');
  const fields: string[] = [];
  const unknown: string[] = [];
  for (const token of text.split(/\s+/)) {
    const m = /^\$\{([a-z0-9-]+)\}$/.exec(token);
    if (!m) throw new LogFormatError(`Invalid LogFormat: '${token}' is not of the form \${field-name}`);
    const name = m[1]!;
    if (!Object.hasOwn(FIELD_VERSIONS, name))
      unknown.push(name); // own: `${constructor}` is no field
    else fields.push(name);
  }
  if (unknown.length) throw new LogFormatError(`Unknown fields provided: ${unknown.join(', ')}`);
  return fields;
}

/** 2 for the default format; for a custom one the highest version among its fields. */
export function formatVersion(fields: readonly string[], custom: boolean): number {
  if (!custom) return 2;
  return Math.max(2, ...fields.map((f) => (Object.hasOwn(FIELD_VERSIONS, f) ? FIELD_VERSIONS[f]! : 2)));
}
