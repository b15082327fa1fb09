/**
 * Simulated reviewers for the vision simulation: each review request goes through the review queue's own rules
 * (`core/review`: the request parser, leases, votes, consensus: one reviewer for an uncertain prediction, two
 * agreeing for an audit sample) and each accepted label becomes the label event the reviewers' page publishes. The
 * reviewers answer what the generated image shows (the generator knows): people who look carefully. A shape nobody
 * has named yet is a new class ("none of these"), named by the first reviewer.
 */
import { labelEvent } from '../../core/review/label-event';
import { newItem } from '../../core/review/item';
import { DEFAULT_REVIEW_POLICY } from '../../core/review/policy';
import { lease, vote } from '../../core/review/queue';
import { parseReviewRequest, type ReviewRequest } from '../../core/review/request';

/** What a day of reviewing produced. */
export interface ReviewOutcome {
  /** The label events (image events with `label_source: human`), in request order. */
  readonly events: Array<Record<string, unknown>>;
  readonly accepted: number;
  readonly audit: number;
  readonly uncertain: number;
  /** Audit items whose accepted label was the model's top class: the unbiased accuracy estimate. */
  readonly auditModelCorrect: number;
  /** Classes reviewers created. */
  readonly newClasses: string[];
}

const REVIEWERS = ['reviewer-ana', 'reviewer-ben', 'reviewer-chen'];

/**
 * Reviews the requests at `at` (one second per vote). `truth` says what each image shows; `known` is the class
 * list the page offers (grown by the classes reviewers create).
 */
export function reviewRequests(
  requests: readonly ReviewRequest[],
  truth: (imageKey: string) => string | undefined,
  known: Set<string>,
  imagesPrefix: string,
  at: Date,
): ReviewOutcome {
  const events: Array<Record<string, unknown>> = [];
  const newClasses: string[] = [];
  let t = at.getTime();
  let auditModelCorrect = 0;
  let audit = 0;
  for (const raw of requests) {
    const request = parseReviewRequest(JSON.parse(JSON.stringify(raw)) as unknown, imagesPrefix);
    const shows = truth(request.imageKey);
    if (!shows) throw new Error(`the simulation knows no truth for ${request.imageKey}`);
    for (const c of request.topK) known.add(c.label);
    let item = newItem(request, new Date(t), DEFAULT_REVIEW_POLICY);
    for (const reviewer of REVIEWERS) {
      if (item.status !== 'pending') break;
      const now = new Date((t += 1000));
      item = lease(item, reviewer, now, DEFAULT_REVIEW_POLICY.leaseSeconds, `${reviewer}-${item.itemId}`);
      const isNew = !known.has(shows);
      const result = vote(
        item,
        { reviewerId: reviewer, leaseToken: `${reviewer}-${item.itemId}`, label: shows, newClass: isNew },
        [...known],
        now,
      );
      item = result.item;
      if (result.outcome.newClass) {
        known.add(result.outcome.newClass);
        newClasses.push(result.outcome.newClass);
      }
      if (result.outcome.kind === 'accepted' && request.reason === 'audit' && result.outcome.modelCorrect) {
        auditModelCorrect++;
      }
    }
    if (item.status === 'accepted') events.push(labelEvent(item));
    if (request.reason === 'audit') audit++;
  }
  return {
    events,
    accepted: events.length,
    audit,
    uncertain: requests.length - audit,
    auditModelCorrect,
    newClasses,
  };
}
