/** A failure a handler reports the AWS way: the gateway renders it in the protocol's error shape. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    /** 'Sender' or 'Receiver' in the query protocol's error shape. */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
  }
}

export const err = {
  missing: (name: string) => new ApiError('MissingParameter', `The request must contain the parameter ${name}`),
  invalidValue: (message: string) => new ApiError('InvalidParameterValue', message),
  invalidParam: (message: string) => new ApiError('InvalidParameter', message),
  combination: (message: string) => new ApiError('InvalidParameterCombination', message),
  dryRun: () => new ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412),
};
