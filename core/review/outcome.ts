/**
 * Audit outcomes: what a decided **audit** item tells the drift checker. An audit item is a random sample of served
 * predictions (`core/vision/active-learning.ts`), so its accepted label against the model's top class is an unbiased
 * measurement of the served model's accuracy: the checker's realised quality (`core/drift/quality.ts`) reads it as
 * an outcome record, `{"kind":"label","time":<predictedAt>,"modelVersion","predicted","label"}`, one object per item
 * under `<prefix><endpoint>/yyyy/mm/dd/hh/audit-<itemId>.jsonl` (the UTC hour of the prediction, as the checker
 * lists them). The key and the body depend only on the item, so writing twice writes the same object.
 *
 * Only accepted audit items have an outcome: uncertain items are chosen for being hard (their accuracy would be
 * biased low), conflict items judge label sources rather than a prediction, and a disputed item has no label.
 * Pure apart from the object-store port; no AWS imports.
 */
import { captureHourFolder } from '../storage/layout';
import { DEFAULT_OUTCOMES_PREFIX } from '../drift/quality';
import type { ObjectStore } from '../storage/object-store';
import type { ReviewItem } from './item';

/** The drift checker's outcomes prefix (its default `outcomesPrefix`). */
export const OUTCOMES_PREFIX = DEFAULT_OUTCOMES_PREFIX;

/**
 * The version of a prediction whose producer did not record it. The checker leaves such outcomes out of the
 * realised accuracy (it cannot tell which model it would be measuring), like the recommender's unattributed slates.
 */
export const UNKNOWN_MODEL_VERSION = 'unknown';

/** The outcome record of one audit label, in the checker's format. */
export interface LabelOutcomeRecord {
  readonly kind: 'label';
  /** When the prediction was served (the request's `predictedAt`). */
  readonly time: string;
  readonly modelVersion: string;
  /** The model's top class. */
  readonly predicted: string;
  /** The label the reviewers accepted. */
  readonly label: string;
}

/** What the outcome port writes: the item it comes from (which names the object) and the record. */
export interface AuditOutcome {
  readonly itemId: string;
  readonly record: LabelOutcomeRecord;
}

/** Whether a decided item has an outcome to write: an accepted audit item. */
export function hasOutcome(item: ReviewItem): boolean {
  return item.status === 'accepted' && item.request.reason === 'audit';
}

/** The outcome of an accepted audit item; throws when the item is not one or lacks the prediction it judges. */
export function auditOutcome(item: ReviewItem): AuditOutcome {
  const r = item.request;
  const d = item.decision;
  if (!hasOutcome(item) || !d) throw new Error(`item ${item.itemId} is not an accepted audit item`);
  const predicted = r.topK[0]?.label;
  if (r.predictedAt === undefined || predicted === undefined) {
    throw new Error(`audit item ${item.itemId} has no prediction (predictedAt and topK) to judge`);
  }
  return {
    itemId: item.itemId,
    record: {
      kind: 'label',
      time: r.predictedAt,
      modelVersion: r.modelVersion ?? UNKNOWN_MODEL_VERSION,
      predicted,
      label: d.label,
    },
  };
}

/** `<prefix><endpoint>/yyyy/mm/dd/hh/audit-<itemId>.jsonl`, the hour (UTC) of the prediction. */
export function auditOutcomeKey(prefix: string, endpointName: string, outcome: AuditOutcome): string {
  const time = new Date(outcome.record.time);
  if (Number.isNaN(time.getTime())) throw new Error(`outcome of item ${outcome.itemId} has no valid time`);
  const hour = captureHourFolder(time);
  return `${prefix}${endpointName}/${hour}audit-${outcome.itemId}.jsonl`;
}

/** Where outcomes go: the artifacts bucket, the checker's outcomes prefix and the endpoint it checks. */
export interface OutcomeDestination {
  readonly bucket: string;
  /** Ends with `/` (the checker's default is `drift/outcomes/`). */
  readonly prefix: string;
  readonly endpointName: string;
}

/** The outcome port on an object store: one JSON line per object, at the item's deterministic key. */
export function objectStoreOutcomeWriter(store: ObjectStore, destination: OutcomeDestination) {
  return async (outcome: AuditOutcome): Promise<void> => {
    const key = auditOutcomeKey(destination.prefix, destination.endpointName, outcome);
    await store.put(destination.bucket, key, `${JSON.stringify(outcome.record)}\n`, {
      contentType: 'application/x-ndjson',
    });
  };
}
