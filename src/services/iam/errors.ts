// IAM's error codes and HTTP statuses (the model's `error` blocks): the gateway renders them in
// the query protocol's <ErrorResponse> shape.
import { ApiError } from '../../core/errors.ts';

export const noSuchEntity = (message: string) => new ApiError('NoSuchEntity', message, 404);
export const alreadyExists = (message: string) => new ApiError('EntityAlreadyExists', message, 409);
export const limitExceeded = (message: string) => new ApiError('LimitExceeded', message, 409);
export const deleteConflict = (message: string) => new ApiError('DeleteConflict', message, 409);
export const malformedPolicy = (message: string) => new ApiError('MalformedPolicyDocument', message, 400);
export const invalidInput = (message: string) => new ApiError('InvalidInput', message, 400);
export const validationError = (message: string) => new ApiError('ValidationError', message, 400);

export const noSuchRole = (name: string) => noSuchEntity(`The role with name ${name} cannot be found.`);
export const noSuchUser = (name: string) => noSuchEntity(`The user with name ${name} cannot be found.`);
export const noSuchProfile = (name: string) => noSuchEntity(`Instance Profile ${name} cannot be found.`);
export const noSuchPolicy = (arn: string) => noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
