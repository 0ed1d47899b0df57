// An S3 destination of VPC Flow Logs as the log delivery service sees it (VPC User Guide, "Amazon
// S3 bucket permissions for flow logs"): it writes as delivery.logs.amazonaws.com, with
// aws:SourceAccount the flow log's account and aws:SourceArn one of the account's CloudWatch Logs
// ARNs in the region; the bucket's policy must let it GetBucketAcl the bucket and PutObject the
// log files. When the flow log's creator owns a bucket that has no policy, AWS attaches the
// policy the guide shows; CreateFlowLogs does the same (bucketPolicyFor).
import type { Delivery } from '../services/s3/bucket-policy.ts';
import { s3ObjectKey } from './format.ts';

export const LOG_DELIVERY_SERVICE = 'delivery.logs.amazonaws.com';

interface S3Destination {
  /** the flow log's id */
  id: string;
  prefix?: string;
  destinationOptions?: { hiveCompatiblePartitions?: boolean; perHourPartition?: boolean };
}

const sourceArn = (partition: string, region: string, account: string) => `arn:${partition}:logs:${region}:${account}:*`;

/** What the delivery service is and writes, for the bucket policy: a log file of this flow log at `now`. */
export function flowLogDelivery(dest: S3Destination, account: string, region: string, partition: string, now: number): Delivery {
  return {
    service: LOG_DELIVERY_SERVICE,
    account,
    sourceArn: sourceArn(partition, region, account),
    partition,
    key: s3ObjectKey({
      prefix: dest.prefix,
      account,
      region,
      flowLogId: dest.id,
      time: now,
      content: '',
      hive: dest.destinationOptions?.hiveCompatiblePartitions,
      perHour: dest.destinationOptions?.perHourPartition,
    }),
  };
}

/** The bucket policy AWS attaches for a flow log's delivery (the guide's, for this bucket, prefix, account and region). */
export function bucketPolicyFor(bucket: string, dest: S3Destination, account: string, region: string, partition: string): string {
  const base = dest.prefix ? `${dest.prefix.replace(/\/+$/, '')}/` : '';
  const logs = dest.destinationOptions?.hiveCompatiblePartitions ? `AWSLogs/aws-account-id=${account}/*` : `AWSLogs/${account}/*`;
  const condition = {
    StringEquals: { 'aws:SourceAccount': account },
    ArnLike: { 'aws:SourceArn': sourceArn(partition, region, account) },
  };
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'AWSLogDeliveryWrite20150319',
    Statement: [
      {
        Sid: 'AWSLogDeliveryWrite',
        Effect: 'Allow',
        Principal: { Service: LOG_DELIVERY_SERVICE },
        Action: 's3:PutObject',
        Resource: `arn:${partition}:s3:::${bucket}/${base}${logs}`,
        Condition: { ...condition, StringEquals: { ...condition.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' } },
      },
      {
        Sid: 'AWSLogDeliveryAclCheck',
        Effect: 'Allow',
        Principal: { Service: LOG_DELIVERY_SERVICE },
        Action: ['s3:GetBucketAcl', 's3:ListBucket'],
        Resource: `arn:${partition}:s3:::${bucket}`,
        Condition: condition,
      },
    ],
  });
}
