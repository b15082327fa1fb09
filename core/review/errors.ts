/**
 * The one error type of the review queue: a code that says who is at fault (and maps to an HTTP status) and a
 * one-line message a reviewer can act on. A {@link ReviewError} never leaves a half-done change behind: every
 * check runs before anything is written.
 */

/** What went wrong, from the caller's side. */
export type ReviewErrorCode = 'bad-request' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict';

/** HTTP status of each code (the API's answer). */
export const REVIEW_ERROR_STATUS: Readonly<Record<ReviewErrorCode, number>> = {
  'bad-request': 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
};

/** A request the queue refuses, with the reason in words. */
export class ReviewError extends Error {
  constructor(
    readonly code: ReviewErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReviewError';
  }

  /** The HTTP status of the refusal. */
  get status(): number {
    return REVIEW_ERROR_STATUS[this.code];
  }
}
