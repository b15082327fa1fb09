/** The errors a local AWS call raises, named as Step Functions reports them (what a Retry or Catch matches). */

/** An error whose `name` is what a Retry/Catch matches (`DynamoDB.ConditionalCheckFailedException`, …). */
export class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** Name of the error of a call the local world does not serve; the run then fails naming the call. */
export const UNSUPPORTED_CALL = 'Simulator.UnsupportedCall';
