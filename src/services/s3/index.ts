// The built-in Amazon S3, enough for flow-log and trail delivery, for reading it back with the aws
// CLI, boto3 or @aws-sdk/client-s3, and for Terraform's aws_s3_bucket and its companions: buckets
// (create, head, list, delete, location), their configuration (policy, ACL, ownership controls,
// public access block, tagging, versioning, encryption, CORS, website, logging, lifecycle,
// acceleration, request payment: bucket-access.ts, bucket-config.ts) and objects (put, get with
// ranges and conditions, head, delete, batch delete, list v1/v2). Path-style (`/bucket/key`) and
// `bucket.localhost` hosts. Requests are routed here by their SigV4 scope's service, `s3`.
//
// S3 speaks REST-XML: the codec (protocol/rest-xml.ts) routes, decodes and encodes every call from
// S3's wire model, and the operations are handlers like every other service's (buckets.ts,
// listing.ts, objects.ts), typed with @aws-sdk/client-s3's shapes, run by the gateway's pipeline
// like every other call (gateway/s3-protocol.ts says what S3 does differently).
import type { Handler, ServiceDef } from '../../core/context.ts';
import { loadModel } from '../../protocol/model.ts';
import { bucketHandlers } from './buckets.ts';
import { bucketAccessHandlers } from './bucket-access.ts';
import { bucketConfigHandlers } from './bucket-config.ts';
import { listingHandlers } from './listing.ts';
import { objectHandlers } from './objects.ts';
import type { S3Storage } from './storage.ts';

export { S3Error } from './errors.ts';
export { decodeAwsChunked, xmlEscape } from '../../protocol/rest-xml.ts';
export { readXml, type XmlElement } from '../../protocol/xml-reader.ts';
export { canonicalUserId, validBucketName } from './buckets.ts';

/**
 * The IAM action (`s3:…`) each operation is authorized as, where it is not the operation's name
 * (Service Authorization Reference, "Actions defined by Amazon S3", and each operation's API
 * reference: "To use this operation, you must have the s3:… permission").
 */
const S3_IAM_ACTIONS: Readonly<Record<string, string>> = {
  ListBuckets: 'ListAllMyBuckets',
  HeadBucket: 'ListBucket',
  ListObjects: 'ListBucket',
  ListObjectsV2: 'ListBucket',
  HeadObject: 'GetObject',
  DeleteObjects: 'DeleteObject',
  DeleteBucketTagging: 'PutBucketTagging',
  GetBucketEncryption: 'GetEncryptionConfiguration',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  DeleteBucketEncryption: 'PutEncryptionConfiguration',
  DeleteBucketOwnershipControls: 'PutBucketOwnershipControls',
  GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 'PutBucketPublicAccessBlock',
  GetBucketCors: 'GetBucketCORS',
  PutBucketCors: 'PutBucketCORS',
  DeleteBucketCors: 'PutBucketCORS',
  GetBucketLifecycleConfiguration: 'GetLifecycleConfiguration',
  PutBucketLifecycleConfiguration: 'PutLifecycleConfiguration',
  DeleteBucketLifecycle: 'PutLifecycleConfiguration',
  GetBucketReplication: 'GetReplicationConfiguration',
  DeleteBucketReplication: 'PutReplicationConfiguration',
  GetBucketAccelerateConfiguration: 'GetAccelerateConfiguration',
  PutBucketAccelerateConfiguration: 'PutAccelerateConfiguration',
  GetObjectLockConfiguration: 'GetBucketObjectLockConfiguration',
};

/** S3 as a service definition: its model, its handlers, and the IAM action each call needs. */
export function s3Service(storage: S3Storage): ServiceDef {
  const handlers: Record<string, Handler> = {
    ...bucketHandlers(storage),
    ...bucketAccessHandlers(storage),
    ...bucketConfigHandlers(storage),
    ...listingHandlers(storage),
    ...objectHandlers(storage),
  };
  return {
    name: 's3',
    get model() {
      return loadModel('s3');
    },
    handlers,
    iamAction: (op) => (Object.hasOwn(S3_IAM_ACTIONS, op) ? S3_IAM_ACTIONS[op]! : op),
  };
}
