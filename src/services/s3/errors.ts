// S3's errors of its operations. An S3 error is the REST-XML codec's error (protocol/rest-xml.ts):
// code, message, status and the elements S3 adds to its <Error> document (BucketName, Key, …).
import { RestXmlError as S3Error, restErrors } from '../../protocol/rest-xml.ts';

export { S3Error };

export const s3Errors = {
  noSuchBucket: (name: string) => new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name }),
  noSuchKey: (key: string) => new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key }),
  accessDenied: (message = 'Access Denied') => new S3Error('AccessDenied', message, 403),
  notImplemented: restErrors.notImplemented,
  invalidArgument: restErrors.invalidArgument,
  invalidRequest: restErrors.invalidRequest,
  malformedXml: restErrors.malformedXml,
  internalError: restErrors.internalError,
  preconditionFailed: (condition: string) =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412, { Condition: condition }),
};
