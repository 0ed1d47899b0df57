// VPC Flow Logs, the EC2 API: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs. The engine that
// records and delivers them is src/flowlogs/engine.ts. An S3 destination is checked as AWS checks
// it (src/flowlogs/destination.ts): the bucket exists, and its policy lets the log delivery
// service write, else the resource is an Unsuccessful item ("Access Denied for LogDestination").
import type {
  CreateFlowLogsRequest,
  CreateFlowLogsResult,
  DeleteFlowLogsRequest,
  DeleteFlowLogsResult,
  DescribeFlowLogsRequest,
  DescribeFlowLogsResult,
  FlowLog,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import { type Ctx } from '../../core/context.ts';
import { crypto } from '../../core/lazy.ts';
import { newId, arn } from './ids.ts';
import { KIND, type EniDoc, type FlowLogDoc, type SubnetDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { DEFAULT_FORMAT, LogFormatError, parseLogFormat } from '../../flowlogs/fields.ts';
import { bucketConfig, findBucket, writeBucketConfig } from '../s3/storage.ts';
import { deliveryAllowed } from '../s3/bucket-policy.ts';
import { bucketPolicyFor, flowLogDelivery } from '../../flowlogs/destination.ts';
import { eniNotFound, subnetNotFound, vpcNotFound } from './lookups.ts';
import { forgetPending } from '../../flowlogs/engine.ts';
import { notFoundError } from '../../core/resource-types.ts';

const flowLogNotFound = (id: string) => notFoundError('fl', id);

const RESOURCE_TYPES = ['VPC', 'Subnet', 'NetworkInterface'] as const;
const UNMODELLED_TYPES = ['TransitGateway', 'TransitGatewayAttachment', 'RegionalNatGateway'];
const TRAFFIC_TYPES = ['ACCEPT', 'REJECT', 'ALL'] as const;
const ALREADY_EXISTS = 'Error. There is an existing Flow Log with the same configuration and log destination.';

function toFlowLog(f: FlowLogDoc): FlowLog {
  return {
    FlowLogId: f.id,
    CreationTime: new Date(f.created),
    ResourceId: f.resourceId,
    TrafficType: f.trafficType,
    LogDestinationType: f.destinationType,
    LogDestination: f.logDestination,
    LogGroupName: f.logGroupName,
    DeliverLogsPermissionArn: f.deliverLogsPermissionArn,
    DeliverCrossAccountRole: f.deliverCrossAccountRole,
    DeliverLogsStatus: f.deliverStatus,
    DeliverLogsErrorMessage: f.deliverError,
    FlowLogStatus: 'ACTIVE',
    LogFormat: f.logFormat,
    MaxAggregationInterval: f.maxAggregationInterval,
    Tags: tagList(f.tags),
    ...(f.destinationOptions
      ? {
          DestinationOptions: {
            FileFormat: f.destinationOptions.fileFormat as never,
            HiveCompatiblePartitions: f.destinationOptions.hiveCompatiblePartitions,
            PerHourPartition: f.destinationOptions.perHourPartition,
          },
        }
      : {}),
  };
}

function resourceMissing(ctx: Ctx, type: string, id: string): ApiError | undefined {
  if (type === 'VPC') return ctx.tx.get<VpcDoc>(KIND.vpc, ctx.scope, id) ? undefined : vpcNotFound(id);
  if (type === 'Subnet') return ctx.tx.get<SubnetDoc>(KIND.subnet, ctx.scope, id) ? undefined : subnetNotFound(id);
  return ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, id) ? undefined : eniNotFound(id);
}

export const flowLogHandlers = {
  CreateFlowLogs(ctx: Ctx, input: CreateFlowLogsRequest): CreateFlowLogsResult {
    const ids = input.ResourceIds ?? [];
    if (ids.length === 0) throw err.missing('ResourceId');
    if (ids.length > 1000) throw err.invalidParam('The maximum number of resource IDs (1000) has been exceeded.');
    const type = input.ResourceType;
    if (!type) throw err.missing('ResourceType');
    if (UNMODELLED_TYPES.includes(type))
      throw err.invalidParam(`Flow logs for ${type} are not supported by Palisade: use VPC, Subnet or NetworkInterface.`);
    if (!(RESOURCE_TYPES as readonly string[]).includes(type))
      throw err.invalidValue(`Value (${type}) for parameter resourceType is invalid.`);
    const traffic = input.TrafficType;
    if (!traffic) throw err.missing('TrafficType');
    if (!(TRAFFIC_TYPES as readonly string[]).includes(traffic))
      throw err.invalidValue(`Value (${traffic}) for parameter trafficType is invalid.`);
    const destType = input.LogDestinationType ?? 'cloud-watch-logs';
    if (destType === 'kinesis-data-firehose')
      throw err.invalidParam('Delivery to Kinesis Data Firehose is not supported by Palisade: use cloud-watch-logs or s3.');
    if (destType !== 'cloud-watch-logs' && destType !== 's3')
      throw err.invalidValue(`Value (${destType}) for parameter logDestinationType is invalid.`);
    const interval = input.MaxAggregationInterval ?? 600;
    if (interval !== 60 && interval !== 600) throw err.invalidParam('Invalid Flow Log Max Aggregation Interval');
    try {
      parseLogFormat(input.LogFormat);
    } catch (e) {
      if (e instanceof LogFormatError) throw err.invalidParam(e.message);
      throw e;
    }
    const logFormat = input.LogFormat?.trim() ?? DEFAULT_FORMAT;

    let dest: Pick<
      FlowLogDoc,
      'destinationType' | 'logDestination' | 'logGroupName' | 'bucket' | 'prefix' | 'deliverLogsPermissionArn' | 'destinationOptions'
    >;
    if (destType === 'cloud-watch-logs') {
      if (input.LogGroupName !== undefined && input.LogDestination !== undefined)
        throw err.invalidParam('Please only provide LogGroupName or only provide LogDestination.');
      if (input.LogGroupName === undefined && input.LogDestination === undefined)
        throw err.invalidParam(`LogDestination can't be empty if LogGroupName is not provided.`);
      let group = input.LogGroupName;
      if (group === undefined) {
        const m = /^arn:([^:]+):logs:([^:]+):(\d{12}):log-group:([^:]+)(:\*)?$/.exec(input.LogDestination!);
        if (!m) throw err.invalidParam(`LogDestination: ${input.LogDestination} is not a valid CloudWatch Logs log group ARN.`);
        if (m[2] !== ctx.region || m[3] !== ctx.account)
          throw err.invalidParam(`LogDestination: ${input.LogDestination} must be a log group of account ${ctx.account} in ${ctx.region}.`);
        group = m[4]!;
      }
      if (!/^[.\-_/#A-Za-z0-9]{1,512}$/.test(group)) throw err.invalidParam(`LogGroupName: ${group} is not a valid log group name.`);
      if (!input.DeliverLogsPermissionArn)
        throw err.invalidParam(`DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs.`);
      if (!/^arn:[^:]+:iam::\d{12}:role\/.+$/.test(input.DeliverLogsPermissionArn))
        throw err.invalidParam(`DeliverLogsPermissionArn: ${input.DeliverLogsPermissionArn} is not a valid IAM role ARN.`);
      dest = {
        destinationType: destType,
        logGroupName: group,
        logDestination: arn(ctx.partition, 'logs', ctx.region, ctx.account, `log-group:${group}`),
        deliverLogsPermissionArn: input.DeliverLogsPermissionArn,
      };
    } else {
      if (input.LogGroupName !== undefined)
        throw err.invalidParam('LogDestination type must be cloud-watch-logs if LogGroupName is provided.');
      // AWS's words (recorded in aws-samples/aws-secure-environment-accelerator#1111).
      if (input.DeliverLogsPermissionArn !== undefined)
        throw err.invalidParam('DeliverLogsPermissionArn is not applicable for s3 delivery');
      if (!input.LogDestination) throw err.invalidParam(`LogDestination can't be empty if LogDestinationType is s3.`);
      const m = /^arn:([^:]+):s3:::([^/]+)(?:\/(.*))?$/.exec(input.LogDestination);
      if (!m) throw err.invalidParam(`LogDestination: ${input.LogDestination} is not a valid S3 bucket ARN.`);
      const prefix = (m[3] ?? '').replace(/\/+$/, '');
      if (prefix === 'AWSLogs' || prefix.startsWith('AWSLogs/'))
        throw err.invalidParam(`LogDestination: the subfolder 'AWSLogs' is reserved; choose another subfolder name.`);
      const o = input.DestinationOptions;
      const fileFormat = o?.FileFormat ?? 'plain-text';
      if (fileFormat === 'parquet')
        throw err.invalidParam('Parquet flow log files are not supported by Palisade: use FileFormat plain-text.');
      if (fileFormat !== 'plain-text') throw err.invalidValue(`Value (${fileFormat}) for parameter FileFormat is invalid.`);
      dest = {
        destinationType: 's3',
        logDestination: input.LogDestination,
        bucket: m[2]!,
        ...(prefix ? { prefix } : {}),
        destinationOptions: {
          fileFormat,
          hiveCompatiblePartitions: o?.HiveCompatiblePartitions ?? false,
          perHourPartition: o?.PerHourPartition ?? false,
        },
      };
    }
    const tags = tagsFromSpecs(input.TagSpecifications, 'vpc-flow-log');

    const existing = ctx.tx.all<FlowLogDoc>(KIND.flowLog, ctx.scope);
    if (input.ClientToken) {
      const prior = existing.filter((f) => f.clientToken === input.ClientToken);
      if (prior.length) return { ClientToken: input.ClientToken, FlowLogIds: prior.map((f) => f.id), Unsuccessful: [] };
    }
    // With no token sent, AWS makes one and returns it (the CLI reference's example answer shows
    // `"ClientToken": "so2ybMm4WlzIV+F2e8hx84mRb5uB3jiuFqlpQtXm50Q="`: base64 of 32 bytes).
    const clientToken = input.ClientToken ?? crypto().randomBytes(32).toString('base64');
    const now = ctx.clock.now();
    const flowLogIds: string[] = [];
    const unsuccessful: UnsuccessfulItem[] = [];
    const fail = (id: string, code: string, message: string) =>
      unsuccessful.push({ ResourceId: id, Error: { Code: code, Message: message } });
    let attachedPolicy: string | undefined;
    for (const id of ids) {
      const missing = resourceMissing(ctx, type, id);
      if (missing) {
        fail(id, missing.code, missing.message);
        continue;
      }
      const dup = ctx.tx
        .all<FlowLogDoc>(KIND.flowLog, ctx.scope)
        .some(
          (f) =>
            f.resourceId === id &&
            f.destinationType === dest.destinationType &&
            f.logDestination === dest.logDestination &&
            f.trafficType === traffic &&
            f.logFormat === logFormat &&
            f.maxAggregationInterval === interval,
        );
      if (dup) {
        fail(id, 'FlowLogAlreadyExists', ALREADY_EXISTS);
        continue;
      }
      const flowLogId = newId('fl');
      if (dest.bucket) {
        // The bucket must exist and let the log delivery service write (its policy, evaluated as S3
        // would); the creator's own bucket without a policy gets the one AWS attaches.
        const b = findBucket(ctx.store.db, dest.bucket);
        if (!b) {
          fail(id, '400', `LogDestination: ${dest.bucket} does not exist`);
          continue;
        }
        const target = { id: flowLogId, prefix: dest.prefix, destinationOptions: dest.destinationOptions };
        if (b.account === ctx.account && attachedPolicy === undefined && bucketConfig(ctx.store.db, b.name, 'policy') == null) {
          const policy = (attachedPolicy = bucketPolicyFor(b.name, target, ctx.account, ctx.region, ctx.partition));
          ctx.tx.write((db) => writeBucketConfig(db, b.name, 'policy', policy));
        } else if (
          attachedPolicy === undefined &&
          !deliveryAllowed(ctx.store.db, b, flowLogDelivery(target, ctx.account, ctx.region, ctx.partition, now))
        ) {
          fail(id, '400', `Access Denied for LogDestination: ${dest.bucket}. Please check LogDestination permission`);
          continue;
        }
      }
      const doc: FlowLogDoc = {
        id: flowLogId,
        resourceId: id,
        resourceType: type as FlowLogDoc['resourceType'],
        trafficType: traffic as FlowLogDoc['trafficType'],
        ...dest,
        logFormat,
        customFormat: input.LogFormat !== undefined,
        maxAggregationInterval: interval,
        created: now,
        deliveredTo: now,
        deliverStatus: 'SUCCESS',
        clientToken,
        ...(input.DeliverCrossAccountRole ? { deliverCrossAccountRole: input.DeliverCrossAccountRole } : {}),
        tags: tags.map((t) => ({ ...t })),
      };
      ctx.tx.put(KIND.flowLog, ctx.scope, doc);
      flowLogIds.push(doc.id);
    }
    return { ClientToken: clientToken, FlowLogIds: flowLogIds, Unsuccessful: unsuccessful };
  },

  DescribeFlowLogs(ctx: Ctx, input: DescribeFlowLogsRequest): DescribeFlowLogsResult {
    const wanted = input.FlowLogIds && input.FlowLogIds.length ? new Set(input.FlowLogIds) : undefined;
    const match = compileFilters<FlowLogDoc>(input.Filter, {
      'deliver-log-status': (f) => f.deliverStatus,
      'log-destination-type': (f) => f.destinationType,
      'flow-log-id': (f) => f.id,
      'log-group-name': (f) => f.logGroupName,
      'resource-id': (f) => f.resourceId,
      'traffic-type': (f) => f.trafficType,
    });
    const all = ctx.tx.all<FlowLogDoc>(KIND.flowLog, ctx.scope).filter((f) => (!wanted || wanted.has(f.id)) && match(f));
    const { page, nextToken } = paginate(all, input.MaxResults, input.NextToken, { min: 1, max: 1000 });
    return { FlowLogs: page.map(toFlowLog), NextToken: nextToken };
  },

  DeleteFlowLogs(ctx: Ctx, input: DeleteFlowLogsRequest): DeleteFlowLogsResult {
    const ids = input.FlowLogIds ?? [];
    if (ids.length === 0) throw err.missing('FlowLogId');
    if (ids.length > 1000) throw err.invalidParam('The maximum number of flow log IDs (1000) has been exceeded.');
    const unsuccessful: UnsuccessfulItem[] = [];
    for (const id of ids) {
      if (!ctx.tx.get<FlowLogDoc>(KIND.flowLog, ctx.scope, id)) {
        const e = flowLogNotFound(id);
        unsuccessful.push({ ResourceId: id, Error: { Code: e.code, Message: e.message } });
        continue;
      }
      ctx.tx.delete(KIND.flowLog, ctx.scope, id);
      forgetPending(ctx, id);
    }
    return { Unsuccessful: unsuccessful };
  },
};
