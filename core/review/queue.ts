/**
 * The queue's transitions, as pure functions of an item, a reviewer and the time: lease, vote, skip. Each checks
 * everything first and throws a {@link ReviewError} (nothing changed), or returns the next version of the item.
 * The store writes the result only if nobody changed the item meanwhile, which makes every transition race-free.
 */
import { isValidLabel } from '../vision/labels';
import { decide } from './consensus';
import { ReviewError } from './errors';
import { leaseHeld, type ReviewItem, type Vote } from './item';

/** Why an item is not offered to a reviewer. */
export type Unavailable = 'decided' | 'leased' | 'voted' | 'skipped';

/**
 * Whether a reviewer may take the item at `now`: it is pending, nobody else holds an unexpired lease (an expired
 * lease returns the item to the queue; the reviewer's own lease is renewed), and the reviewer has neither voted
 * on it (consensus needs different people) nor skipped it.
 */
export function availability(item: ReviewItem, reviewerId: string, now: Date): 'available' | Unavailable {
  if (item.status !== 'pending') return 'decided';
  if (item.votes.some((v) => v.reviewerId === reviewerId)) return 'voted';
  if (item.skippedBy.includes(reviewerId)) return 'skipped';
  if (item.lease && leaseHeld(item.lease, now) && item.lease.reviewerId !== reviewerId) return 'leased';
  return 'available';
}

/** Leases the item to the reviewer for `seconds`. */
export function lease(item: ReviewItem, reviewerId: string, now: Date, seconds: number, token: string): ReviewItem {
  const state = availability(item, reviewerId, now);
  if (state !== 'available') {
    throw new ReviewError('conflict', `item ${item.itemId} cannot be leased to you: ${UNAVAILABLE[state]}`);
  }
  return {
    ...item,
    lease: { reviewerId, token, expiresAt: new Date(now.getTime() + seconds * 1000).toISOString() },
    version: item.version + 1,
  };
}

const UNAVAILABLE: Record<Unavailable, string> = {
  decided: 'it is already decided',
  leased: 'another reviewer holds it',
  voted: 'you already labelled it',
  skipped: 'you skipped it',
};

/**
 * Checks that the reviewer holds the item's lease with this token at `now`; throws the reason otherwise. Someone
 * else's lease, or none, is "not leased to you"; the reviewer's own lease with an old token (they took the item
 * again since) or past its expiry is stale.
 */
export function checkLease(item: ReviewItem, reviewerId: string, token: unknown, now: Date): void {
  if (item.status !== 'pending') {
    throw new ReviewError('conflict', `item ${item.itemId} is already decided; nothing was changed`);
  }
  const held = item.lease;
  if (!held || held.reviewerId !== reviewerId) {
    throw new ReviewError(
      'forbidden',
      `item ${item.itemId} is not leased to you; take the next item instead (nothing was changed)`,
    );
  }
  if (typeof token !== 'string' || token !== held.token) {
    throw new ReviewError(
      'conflict',
      `stale lease on item ${item.itemId}: it was leased to you again since; reload the item (nothing was changed)`,
    );
  }
  if (!leaseHeld(held, now)) {
    throw new ReviewError(
      'conflict',
      `stale lease on item ${item.itemId}: it expired at ${held.expiresAt} and the item went back to the queue; take the next item (nothing was changed)`,
    );
  }
}

/**
 * The class a reviewer chose: one of `classes`, or with `newClass` a new name ("none of these"); a new name that
 * matches a known class (ignoring case) is that class.
 */
export function resolveLabel(
  label: unknown,
  newClass: unknown,
  classes: readonly string[],
): { label: string; newClass: boolean } {
  if (typeof label !== 'string' || label.trim() === '') {
    throw new ReviewError('bad-request', 'label is required: choose a class or name a new one');
  }
  if (newClass !== undefined && typeof newClass !== 'boolean') {
    throw new ReviewError('bad-request', `newClass must be true or false; received ${JSON.stringify(newClass)}`);
  }
  if (newClass === true) {
    const name = label.trim();
    const known = classes.find((c) => c.toLowerCase() === name.toLowerCase());
    if (known) return { label: known, newClass: false };
    if (!isValidLabel(name)) {
      throw new ReviewError(
        'bad-request',
        `new class name "${name}" is not valid: start with a letter or digit, then letters, digits, space, _ . - (at most 128 characters)`,
      );
    }
    return { label: name, newClass: true };
  }
  if (!classes.includes(label)) {
    const shown = classes.slice(0, 8).join(', ') + (classes.length > 8 ? ', …' : '');
    throw new ReviewError(
      'bad-request',
      `unknown class "${label}": choose one of the ${classes.length} classes (${shown}) or name a new class`,
    );
  }
  return { label, newClass: false };
}

/** What a vote did. */
export interface VoteOutcome {
  /** `accepted`: the label is decided; `recorded`: more votes are needed; `disputed`: no agreement, out of the queue. */
  readonly kind: 'accepted' | 'recorded' | 'disputed';
  readonly label?: string;
  /** Votes so far and votes for one label needed. */
  readonly votes: number;
  readonly agreement: number;
  /** Audit items, at their second vote: whether the first two reviewers agreed. */
  readonly auditAgreement?: boolean;
  /** Audit items, when accepted: whether the accepted label is the model's top class (unbiased accuracy). */
  readonly modelCorrect?: boolean;
  /** A class this vote created ("none of these"); it joins the class list so other reviewers can choose it. */
  readonly newClass?: string;
}

/** Records a reviewer's label on an item they hold; decides it when enough reviewers agree. */
export function vote(
  item: ReviewItem,
  args: { reviewerId: string; leaseToken: unknown; label: unknown; newClass?: unknown },
  classes: readonly string[],
  now: Date,
): { item: ReviewItem; outcome: VoteOutcome } {
  checkLease(item, args.reviewerId, args.leaseToken, now);
  const chosen = resolveLabel(args.label, args.newClass, classes);
  const v: Vote = {
    reviewerId: args.reviewerId,
    label: chosen.label,
    newClass: chosen.newClass,
    at: now.toISOString(),
  };
  const votes = [...item.votes, v];
  const consensus = decide(votes, item.agreement, item.maxVotes);
  const audit = item.request.reason === 'audit';
  const auditAgreement = audit && votes.length === 2 ? votes[0].label === votes[1].label : undefined;
  const base = { ...item, votes, lease: undefined, version: item.version + 1 };
  if (consensus.kind === 'accepted') {
    const decision = { label: consensus.label, newClass: consensus.newClass, at: v.at, reviewers: consensus.reviewers };
    return {
      item: { ...base, status: 'accepted', decision },
      outcome: {
        kind: 'accepted',
        label: consensus.label,
        votes: votes.length,
        agreement: item.agreement,
        auditAgreement,
        modelCorrect: audit ? item.request.topK[0]?.label === consensus.label : undefined,
        newClass: chosen.newClass ? chosen.label : undefined,
      },
    };
  }
  const kind = consensus.kind === 'disputed' ? 'disputed' : 'recorded';
  return {
    item: { ...base, status: consensus.kind === 'disputed' ? 'disputed' : 'pending' },
    outcome: {
      kind,
      votes: votes.length,
      agreement: item.agreement,
      auditAgreement,
      newClass: chosen.newClass ? chosen.label : undefined,
    },
  };
}

/** Gives the item back without a label; it is not offered to this reviewer again. */
export function skip(item: ReviewItem, reviewerId: string, leaseToken: unknown, now: Date): ReviewItem {
  checkLease(item, reviewerId, leaseToken, now);
  return { ...item, lease: undefined, skippedBy: [...item.skippedBy, reviewerId], version: item.version + 1 };
}
