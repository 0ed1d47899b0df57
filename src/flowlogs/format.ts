// Flow log records as text (space-separated fields, `-` where a field does not apply) and the
// names AWS gives the files it writes to S3.
import { crypto } from '../core/lazy.ts';
import type { FlowRecord } from './aggregate.ts';

interface FormatContext {
  account: string;
  region: string;
  /** the record version: 2 for the default format, else the highest field version */
  version: number;
}

const NA = '-';

function field(name: string, r: FlowRecord, c: FormatContext): string | number {
  // Fields that describe the interface, the window or the log: in every record.
  switch (name) {
    case 'version':
      return c.version;
    case 'account-id':
      return c.account;
    case 'interface-id':
      return r.interfaceId;
    case 'start':
      return r.start;
    case 'end':
      return r.end;
    case 'log-status':
      return r.status;
    case 'vpc-id':
      return r.vpcId ?? NA;
    case 'subnet-id':
      return r.subnetId ?? NA;
    case 'instance-id':
      return r.instanceId ?? NA;
    case 'region':
      return c.region;
    case 'az-id':
      return r.azId ?? NA;
  }
  const f = r.flow;
  if (!f) return NA; // NODATA / SKIPDATA: nothing about traffic
  switch (name) {
    case 'srcaddr':
      return f.src;
    case 'dstaddr':
      return f.dst;
    // The packet's own addresses: the same but on a NAT gateway's interface (AWS's "Traffic
    // through a NAT gateway" example in the Flow Logs guide).
    case 'pkt-srcaddr':
      return f.pktSrc ?? f.src;
    case 'pkt-dstaddr':
      return f.pktDst ?? f.dst;
    case 'srcport':
      return f.srcPort;
    case 'dstport':
      return f.dstPort;
    case 'protocol':
      return f.proto;
    case 'packets':
      return f.packets;
    case 'bytes':
      return f.bytes;
    case 'action':
      return f.action;
    case 'tcp-flags':
      return f.tcpFlags;
    case 'type':
      return f.src.includes(':') ? 'IPv6' : 'IPv4';
    case 'flow-direction':
      return f.direction;
    case 'traffic-path':
      return f.direction === 'egress' && f.trafficPath !== undefined ? f.trafficPath : NA;
    default:
      return NA; // sublocation-*, pkt-*-aws-service, ecs-*: nothing in Palisade has them
  }
}

export function formatRecord(fields: readonly string[], r: FlowRecord, c: FormatContext): string {
  return fields.map((f) => String(field(f, r, c))).join(' ');
}

/** The first line of an S3 log file: the field names. */
export const headerLine = (fields: readonly string[]) => fields.join(' ');

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `[prefix/]AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/[HH/]ACCOUNT_vpcflowlogs_REGION_FLID_YYYYMMDDTHHmmZ_HASH.log.gz`
 * (or the Hive-compatible `aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…/[hour=…/]`).
 */
export function s3ObjectKey(o: {
  prefix?: string;
  account: string;
  region: string;
  flowLogId: string;
  time: number;
  content: Buffer | string;
  hive?: boolean;
  perHour?: boolean;
}): string {
  const d = new Date(o.time);
  const [Y, M, D, h, m] = [d.getUTCFullYear(), pad(d.getUTCMonth() + 1), pad(d.getUTCDate()), pad(d.getUTCHours()), pad(d.getUTCMinutes())];
  const hash = crypto().createHash('md5').update(o.flowLogId).update(String(o.time)).update(o.content).digest('hex').slice(0, 8);
  const file = `${o.account}_vpcflowlogs_${o.region}_${o.flowLogId}_${Y}${M}${D}T${h}${m}Z_${hash}.log.gz`;
  const base = o.prefix ? `${o.prefix.replace(/\/+$/, '')}/` : '';
  const dir = o.hive
    ? `AWSLogs/aws-account-id=${o.account}/aws-service=vpcflowlogs/aws-region=${o.region}/year=${Y}/month=${M}/day=${D}/${o.perHour ? `hour=${h}/` : ''}`
    : `AWSLogs/${o.account}/vpcflowlogs/${o.region}/${Y}/${M}/${D}/${o.perHour ? `${h}/` : ''}`;
  return base + dir + file;
}
