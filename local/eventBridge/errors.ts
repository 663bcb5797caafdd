/** Errors of the local bus, named after the AWS error codes they stand for. */

/** A whole-request refusal, answered as AWS's JSON protocol error (`__type` + `message`). */
export class BusRequestError extends Error {
  override readonly name = 'BusRequestError';
  constructor(
    /** AWS error code, e.g. `ValidationException`. */
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** Per-entry error codes the local bus produces (AWS's codes). */
export type EntryErrorCode =
  | 'InvalidArgument'
  | 'MalformedDetail'
  | 'NotAuthorizedForSourceException'
  | 'ThrottlingException'
  | 'InternalFailure';
