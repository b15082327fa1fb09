/**
 * The review queue's use cases, behind the HTTP API and the intake: take the next item, label it, skip it, list
 * classes, show progress; queue requests; and the periodic keeper (queue depth, label events and audit outcomes
 * left unwritten). Ports only: the Lambda handler and the local server give it the same DynamoDB store, a publisher
 * on the image stream, an outcome writer into the drift checker's outcomes prefix, a presigner scoped to the images
 * prefix and a clock.
 */
import { ReviewError } from './errors';
import { newItem, type Lease, type ReviewItem } from './item';
import { labelEvent } from './label-event';
import { auditOutcome, hasOutcome, UNKNOWN_MODEL_VERSION, type AuditOutcome } from './outcome';
import { REVIEW_REASON_TITLES, validatePolicy, type ReviewPolicy } from './policy';
import { availability, lease, skip, vote, type VoteOutcome } from './queue';
import { parseReviewRequest, type ClassScore, type SourceLabel } from './request';
import type { ReviewStore } from './store';

/** The metrics the queue emits (EMF through Powertools in AWS). */
export type ReviewMetric =
  | 'QueueDepth'
  | 'DisputedItems'
  | 'ItemsLeased'
  | 'VotesRecorded'
  | 'LabelsAccepted'
  | 'NewClasses'
  | 'ItemsSkipped'
  | 'ItemsDisputed'
  | 'AuditAgreement'
  | 'AuditModelCorrect'
  | 'ItemsQueued'
  | 'LabelEventsPublished'
  | 'LabelEventsPending'
  | 'AuditOutcomesWritten'
  | 'AuditOutcomesPending'
  | 'AuditOutcomesUnattributed';

/** A signed-in reviewer (from the JWT the API's authorizer verified). */
export interface Reviewer {
  /** Stable id (the user pool `sub`): what votes and label events record. */
  readonly id: string;
  /** Display name. */
  readonly name: string;
}

/** What the service needs from outside. */
export interface ReviewPorts {
  readonly store: ReviewStore;
  /** Puts label events on the image stream (throws when any was not accepted). */
  publish(events: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /**
   * Writes an accepted audit item's outcome record where the drift checker reads it (throws when it was not
   * written). Idempotent: the same outcome always goes to the same object.
   */
  writeOutcome(outcome: AuditOutcome): Promise<void>;
  /** A short-lived GET URL of an image under the images prefix. */
  presign(imageKey: string, now: Date): Promise<string>;
  now(): Date;
  /** A fresh, unguessable lease token. */
  newToken(): string;
  metric(name: ReviewMetric, value: number): void;
}

/** Settings. */
export interface ReviewSettings {
  /** Images must be under this prefix of the raw bucket. */
  readonly imagesPrefix: string;
  readonly policy: ReviewPolicy;
}

/** An item as the page shows it. */
export interface ItemView {
  readonly itemId: string;
  readonly imageUrl: string;
  readonly imageKey: string;
  readonly inferenceId?: string;
  readonly predictedAt?: string;
  readonly reason: string;
  readonly reasonTitle: string;
  readonly topK: readonly ClassScore[];
  readonly labels?: readonly SourceLabel[];
  readonly votes: number;
  readonly agreement: number;
  readonly lease: { readonly token: string; readonly expiresAt: string };
}

/** The answer to "next". */
export interface NextResponse {
  readonly item: ItemView | null;
  readonly waiting: number;
}

/** The answer to a label. */
export interface LabelResponse extends VoteOutcome {
  readonly itemId: string;
}

/** What a keeper's tick found and did. */
export interface KeeperResult {
  readonly pending: number;
  readonly disputed: number;
  /** Label events published by this tick (their first attempt had failed). */
  readonly republished: number;
  /** Audit outcomes written by this tick (their first attempt had failed). */
  readonly outcomesWritten: number;
}

/** How many times a lost race is retried before the caller is told to try again. */
const MAX_RACES = 8;

/** The review queue. */
export class ReviewService {
  private readonly policy: ReviewPolicy;

  constructor(
    private readonly ports: ReviewPorts,
    private readonly settings: ReviewSettings,
  ) {
    this.policy = validatePolicy(settings.policy);
  }

  /** Leases the next item available to the reviewer, or says the queue has nothing for them. */
  async next(reviewer: Reviewer): Promise<NextResponse> {
    const now = this.ports.now();
    for await (const candidate of this.ports.store.candidates(reviewer.id, now)) {
      if (availability(candidate, reviewer.id, now) !== 'available') continue;
      const leased = lease(candidate, reviewer.id, now, this.policy.leaseSeconds, this.ports.newToken());
      // Lost the race for this one (another reviewer leased or labelled it since it was read): try the next.
      if (!(await this.ports.store.replace(leased))) continue;
      this.ports.metric('ItemsLeased', 1);
      const waiting = (await this.ports.store.counts()).pending;
      return { item: await this.view(leased, leased.lease), waiting };
    }
    return { item: null, waiting: (await this.ports.store.counts()).pending };
  }

  /** Records the reviewer's label on an item they hold (body: `{ leaseToken, label, newClass? }`). */
  async label(reviewer: Reviewer, itemId: string, body: unknown): Promise<LabelResponse> {
    const b = asObject(body);
    const classes = await this.ports.store.classes();
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const item = await this.load(itemId);
      const now = this.ports.now();
      const { item: next, outcome } = vote(
        item,
        { reviewerId: reviewer.id, leaseToken: b.leaseToken, label: b.label, newClass: b.newClass },
        classes,
        now,
      );
      if (!(await this.ports.store.replace(next))) continue;
      this.record(outcome);
      if (outcome.newClass) await this.ports.store.addClasses([outcome.newClass]);
      if (next.status === 'accepted') await this.settle(next);
      return { itemId, ...outcome };
    }
    throw new ReviewError('conflict', `item ${itemId} is changing under heavy contention; try again`);
  }

  /** Gives an item back unlabelled (body: `{ leaseToken }`). */
  async skip(reviewer: Reviewer, itemId: string, body: unknown): Promise<{ itemId: string; skipped: true }> {
    const b = asObject(body);
    for (let attempt = 0; attempt < MAX_RACES; attempt++) {
      const item = await this.load(itemId);
      if (await this.ports.store.replace(skip(item, reviewer.id, b.leaseToken, this.ports.now()))) {
        this.ports.metric('ItemsSkipped', 1);
        return { itemId, skipped: true };
      }
    }
    throw new ReviewError('conflict', `item ${itemId} is changing under heavy contention; try again`);
  }

  /** The class list. */
  async classes(): Promise<{ classes: string[] }> {
    return { classes: await this.ports.store.classes() };
  }

  /** Who is signed in and how long the queue is. */
  async status(reviewer: Reviewer): Promise<{ reviewer: Reviewer; waiting: number; disputed: number }> {
    const counts = await this.ports.store.counts();
    return { reviewer, waiting: counts.pending, disputed: counts.disputed };
  }

  /** Queues one review request (a JSON value); a duplicate is ignored. */
  async intake(value: unknown): Promise<'queued' | 'duplicate'> {
    return intakeRequest(this.ports, this.settings, value);
  }

  /** The keeper: publishes label events and writes audit outcomes left undone, and reports the queue depth. */
  async tick(): Promise<KeeperResult> {
    let republished = 0;
    let outcomesWritten = 0;
    for await (const item of this.ports.store.unpublished()) {
      const done = await this.settle(item);
      if (done.labelEvent) republished++;
      if (done.outcome) outcomesWritten++;
    }
    const counts = await this.ports.store.counts();
    this.ports.metric('QueueDepth', counts.pending);
    this.ports.metric('DisputedItems', counts.disputed);
    return { ...counts, republished, outcomesWritten };
  }

  private async load(itemId: string): Promise<ReviewItem> {
    if (!/^[0-9a-f]{24}$/.test(itemId)) {
      throw new ReviewError('bad-request', `item id must be 24 hexadecimal characters; received "${itemId}"`);
    }
    const item = await this.ports.store.get(itemId);
    if (!item) throw new ReviewError('not-found', `no item ${itemId} in the queue`);
    return item;
  }

  /**
   * Carries out what an accepted item's decision sets off and is not confirmed yet: its label event on the stream
   * and, for an audit item, its outcome record for the drift checker. The decision is stored first; whatever fails
   * here stays undone on the item (not `published`), and the keeper retries it later. Both effects are idempotent
   * (the event id and the outcome's key are deterministic), so a repeat after a lost race changes nothing.
   * Returns what this call did and recorded.
   */
  private async settle(item: ReviewItem): Promise<{ labelEvent: boolean; outcome: boolean }> {
    let labelEventPublished = item.labelEventPublished === true;
    let outcomeWritten = !hasOutcome(item) || item.outcomeWritten === true;
    const done = { labelEvent: false, outcome: false };
    if (!labelEventPublished) {
      try {
        await this.ports.publish([labelEvent(item)]);
        this.ports.metric('LabelEventsPublished', 1);
        labelEventPublished = done.labelEvent = true;
      } catch {
        this.ports.metric('LabelEventsPending', 1);
      }
    }
    if (!outcomeWritten) {
      try {
        const outcome = auditOutcome(item);
        await this.ports.writeOutcome(outcome);
        this.ports.metric('AuditOutcomesWritten', 1);
        if (outcome.record.modelVersion === UNKNOWN_MODEL_VERSION) this.ports.metric('AuditOutcomesUnattributed', 1);
        outcomeWritten = done.outcome = true;
      } catch {
        this.ports.metric('AuditOutcomesPending', 1);
      }
    }
    if (!done.labelEvent && !done.outcome) return done;
    const stored = await this.ports.store.replace({
      ...item,
      ...(labelEventPublished ? { labelEventPublished: true } : {}),
      ...(hasOutcome(item) && outcomeWritten ? { outcomeWritten: true } : {}),
      published: labelEventPublished && outcomeWritten,
      version: item.version + 1,
    });
    return stored ? done : { labelEvent: false, outcome: false };
  }

  private record(outcome: VoteOutcome): void {
    this.ports.metric('VotesRecorded', 1);
    if (outcome.kind === 'accepted') this.ports.metric('LabelsAccepted', 1);
    if (outcome.kind === 'disputed') this.ports.metric('ItemsDisputed', 1);
    if (outcome.newClass) this.ports.metric('NewClasses', 1);
    if (outcome.auditAgreement !== undefined) this.ports.metric('AuditAgreement', outcome.auditAgreement ? 1 : 0);
    if (outcome.modelCorrect !== undefined) this.ports.metric('AuditModelCorrect', outcome.modelCorrect ? 1 : 0);
  }

  private async view(item: ReviewItem, held: Lease | undefined): Promise<ItemView> {
    if (!held) throw new Error(`item ${item.itemId} was leased without a lease`);
    const r = item.request;
    return {
      itemId: item.itemId,
      imageUrl: await this.ports.presign(r.imageKey, this.ports.now()),
      imageKey: r.imageKey,
      inferenceId: r.inferenceId,
      predictedAt: r.predictedAt,
      reason: r.reason,
      reasonTitle: REVIEW_REASON_TITLES[r.reason],
      topK: r.topK,
      labels: r.labels,
      votes: item.votes.length,
      agreement: item.agreement,
      lease: { token: held.token, expiresAt: held.expiresAt },
    };
  }
}

/**
 * Queues one review request (a JSON value from the review queue): registers its classes, adds the item unless it
 * is a duplicate. Throws a `bad-request` {@link ReviewError} for a malformed request (nothing is written).
 */
export async function intakeRequest(
  ports: Pick<ReviewPorts, 'store' | 'now' | 'metric'>,
  settings: ReviewSettings,
  value: unknown,
): Promise<'queued' | 'duplicate'> {
  const request = parseReviewRequest(value, settings.imagesPrefix);
  // Classes first (idempotent): a retry after a failure between the two writes still registers them.
  await ports.store.addClasses([...request.topK.map((c) => c.label), ...(request.labels ?? []).map((l) => l.label)]);
  const added = await ports.store.add(newItem(request, ports.now(), validatePolicy(settings.policy)));
  if (!added) return 'duplicate';
  ports.metric('ItemsQueued', 1);
  return 'queued';
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ReviewError('bad-request', 'the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
