// One API call → one CloudTrail management event in AWS's record format (eventVersion 1.11).
import { uuid } from '../core/unique.ts';
import type { Ctx, ServiceDef } from '../core/context.ts';
import type { ApiError } from '../core/errors.ts';
import type { Principal } from '../auth/principals.ts';
import { ParamFormatter, isoSeconds } from './format.ts';
import { findResources, type LookupResource } from './resources.ts';

interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: Record<string, unknown>;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: unknown;
  responseElements: unknown;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources?: { accountId: string; type: string; ARN: string }[];
  eventType: string;
  managementEvent: boolean;
  recipientAccountId: string;
  eventCategory: string;
}

/** What the event table indexes, next to the record itself. */
export interface AuditEvent {
  account: string;
  region: string;
  /** epoch milliseconds (the record's eventTime is this, to the second) */
  time: number;
  eventId: string;
  eventName: string;
  eventSource: string;
  username?: string;
  accessKeyId?: string;
  readOnly: boolean;
  resources: LookupResource[];
  /** the CloudTrailEvent JSON */
  record: string;
}

const READ_ONLY = /^(Describe|Get|List|Lookup|Filter)[A-Z]/;
const isReadOnly = (action: string) => READ_ONLY.test(action);

/** Services whose events AWS records in the partition's first region (global services). */
const GLOBAL_SOURCES = new Set(['iam']);
function globalRegion(partition: string): string {
  return partition === 'aws-cn' ? 'cn-north-1' : partition === 'aws-us-gov' ? 'us-gov-west-1' : 'us-east-1';
}

export function userIdentity(p: Principal): Record<string, unknown> {
  const id: Record<string, unknown> = { type: p.type, principalId: p.userId, arn: p.arn, accountId: p.account };
  if (p.accessKeyId) id.accessKeyId = p.accessKeyId;
  if (p.type === 'IAMUser' && p.userName) id.userName = p.userName;
  const temporary = p.accessKeyId.startsWith('ASIA') || p.sessionToken !== undefined;
  if (p.type === 'AssumedRole' || p.type === 'FederatedUser' || temporary) {
    const ctx: Record<string, unknown> = {};
    if (p.role) {
      ctx.sessionIssuer = { type: 'Role', principalId: p.role.roleId, arn: p.role.arn, accountId: p.account, userName: p.role.name };
    }
    ctx.attributes = { creationDate: isoSeconds(p.issuedAt ?? Date.now()), mfaAuthenticated: 'false' };
    if (p.ec2RoleDelivery) ctx.ec2RoleDelivery = p.ec2RoleDelivery;
    id.sessionContext = ctx;
  }
  return id;
}

/** LookupEvents' Username: the user, the role session, or "root". */
function usernameOf(p: Principal): string | undefined {
  if (p.type === 'Root') return 'root';
  if (p.type === 'AssumedRole') return p.role?.sessionName ?? p.arn.split('/').pop();
  if (p.userName) return p.userName;
  return p.arn.split('/').pop();
}

/** The errorCode CloudTrail logs: EC2's `Client.`/`Server.` prefixed code, else the model's error shape name. */
function errorCodeOf(service: ServiceDef, e: ApiError): string {
  if (service.model.protocol === 'ec2') return `${e.status >= 500 ? 'Server' : 'Client'}.${e.code}`;
  const errors = service.model.errors;
  if (errors[e.code]) return e.code;
  for (const [shape, info] of Object.entries(errors)) if (info.code === e.code) return shape;
  return e.code;
}

const formatters = new WeakMap<ServiceDef['model'], ParamFormatter>();
function formatter(service: ServiceDef): ParamFormatter {
  let f = formatters.get(service.model);
  if (!f) formatters.set(service.model, (f = new ParamFormatter(service.model)));
  return f;
}

export function buildEvent(
  ctx: Ctx,
  call: { service: ServiceDef; action: string; input?: Record<string, unknown>; output?: Record<string, unknown>; error?: ApiError },
): AuditEvent {
  const { service, action, input, output, error } = call;
  const now = ctx.clock.now();
  const readOnly = isReadOnly(action);
  const region = GLOBAL_SOURCES.has(service.name) ? globalRegion(ctx.partition) : ctx.region;
  const f = formatter(service);
  const eventId = uuid();
  const source = `${service.name}.amazonaws.com`;
  const resources = findResources(service.name, input, readOnly || error ? undefined : output);
  const stsArns =
    service.name === 'sts' && !error
      ? resources.filter((r) => r.ResourceType === 'AWS::IAM::Role' && r.ResourceName.startsWith('arn:'))
      : [];
  // Built in AWS's field order.
  const record: CloudTrailRecord = {
    eventVersion: '1.11',
    userIdentity: userIdentity(ctx.principal),
    eventTime: isoSeconds(now),
    eventSource: source,
    eventName: action,
    awsRegion: region,
    sourceIPAddress: ctx.sourceIp,
    ...(ctx.userAgent ? { userAgent: ctx.userAgent.slice(0, 1024) } : {}),
    ...(error ? { errorCode: errorCodeOf(service, error), errorMessage: error.message } : {}),
    requestParameters: f.request(action, input),
    responseElements: error || readOnly ? null : f.response(action, output, ctx.requestId),
    requestID: ctx.requestId,
    eventID: eventId,
    readOnly,
    ...(stsArns.length
      ? {
          resources: stsArns.map((a) => ({
            accountId: a.ResourceName.split(':')[4] || ctx.account,
            type: a.ResourceType,
            ARN: a.ResourceName,
          })),
        }
      : {}),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ctx.account,
    eventCategory: 'Management',
  };
  return {
    account: ctx.account,
    region,
    time: now,
    eventId,
    eventName: action,
    eventSource: source,
    username: usernameOf(ctx.principal),
    accessKeyId: ctx.principal.accessKeyId || undefined,
    readOnly,
    resources,
    record: JSON.stringify(record),
  };
}
