/**
 * Active learning with a budget: once a day, from the day's logged predictions (live and backfilled),
 * 1. a **random audit** share, drawn per prediction from a hash of its inference id (so the draw is independent of
 *    the model's confidence, reproducible, and the same prediction is always in or out): reviewers label them
 *    whatever the model said, which gives an unbiased accuracy estimate, and their labels grow the fixed test set
 *    (`dataset.ts` recognises them by the same draw);
 * 2. then the **most uncertain** of the rest (margin or entropy), up to the labelling budget: the examples a label
 *    teaches the model most about.
 * Both become review requests in the review queue's format (`core/review/request.ts`), with the version of the model
 * that made the prediction when the record names it (an accepted audit's outcome record carries it to the drift
 * checker). Pure, no AWS imports.
 */
import { createHash } from 'node:crypto';
import type { ReviewRequest } from '../review/request';
import type { PredictionLogRecord } from './prediction-log';
import { UNCERTAINTY_METHODS, type UncertaintyMethod } from './uncertainty';

/** How the day's review items are chosen. */
export interface ActiveLearningPolicy {
  /** Uncertain predictions sent to review per day, at most (the labelling budget). */
  readonly dailyBudget: number;
  /** Share of all predictions drawn at random for the audit, in [0, 1). */
  readonly auditShare: number;
  /** Salt of the audit draw: another salt draws another sample. */
  readonly auditSalt: string;
  readonly method: UncertaintyMethod;
  /** Predictions less uncertain than this are never sent as uncertain (the budget may stay unspent). @default 0 */
  readonly minUncertainty?: number;
}

/** Checks a policy; throws one line naming the value and what is allowed. */
export function validateActiveLearningPolicy(policy: ActiveLearningPolicy): ActiveLearningPolicy {
  if (!Number.isInteger(policy.dailyBudget) || policy.dailyBudget < 0) {
    throw new Error(`dailyBudget must be a non-negative integer; received ${policy.dailyBudget}`);
  }
  if (!(policy.auditShare >= 0 && policy.auditShare < 1)) {
    throw new Error(`auditShare must be in [0, 1); received ${policy.auditShare}`);
  }
  if (!policy.auditSalt) throw new Error('auditSalt must be a non-empty string');
  if (!UNCERTAINTY_METHODS.includes(policy.method)) {
    throw new Error(`method must be one of ${UNCERTAINTY_METHODS.join(', ')}; received ${String(policy.method)}`);
  }
  const min = policy.minUncertainty ?? 0;
  if (!(min >= 0 && min <= 1)) throw new Error(`minUncertainty must be in [0, 1]; received ${min}`);
  return policy;
}

/** A uniform number in [0, 1) from the salt and the inference id (48 bits of SHA-256). */
export function auditDraw(inferenceId: string, salt: string): number {
  const digest = createHash('sha256').update(`${salt}\n${inferenceId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** Whether the prediction with this inference id belongs to the random audit. */
export function isAuditSample(inferenceId: string, share: number, salt: string): boolean {
  return auditDraw(inferenceId, salt) < share;
}

/** The day's selection. */
export interface ReviewSelection {
  readonly requests: ReviewRequest[];
  /** Distinct predictions considered (repeated inference ids count once). */
  readonly considered: number;
  readonly audit: number;
  readonly uncertain: number;
  /** Uncertain candidates left out by the budget. */
  readonly overBudget: number;
}

/**
 * A logged prediction as active learning reads it: a prediction log record, with `model_version` when the model's
 * answer named it (live or backfilled; records of models that name none go without `modelVersion`, and their audit
 * outcomes count as `unknown`).
 */
export type LoggedPrediction = PredictionLogRecord;

function scoreOf(record: PredictionLogRecord, method: UncertaintyMethod): number | null {
  return method === 'margin' ? record.margin : record.entropy;
}

function byInferenceId(a: PredictionLogRecord, b: PredictionLogRecord): number {
  return a.inference_id < b.inference_id ? -1 : a.inference_id > b.inference_id ? 1 : 0;
}

function toRequest(record: LoggedPrediction, reason: 'audit' | 'uncertain', score: number | null): ReviewRequest {
  return {
    imageKey: record.image_key,
    contentType: record.content_type,
    sizeBytes: record.size_bytes,
    inferenceId: record.inference_id,
    predictedAt: record.predicted_at,
    topK: record.top_k.map((c) => ({ label: c.label, confidence: c.confidence })),
    reason,
    ...(score === null ? {} : { uncertainty: score }),
    ...(record.model_version ? { modelVersion: record.model_version } : {}),
  };
}

/**
 * Chooses the day's review items: the audit draw first (all of it, outside the budget), then the most uncertain of
 * the rest up to the budget (ties by inference id, so the choice is deterministic). `alreadyLabelled` image keys
 * (a human label exists) are not sent as uncertain again; audit draws are kept, or the audit would be biased.
 */
export function selectForReview(
  records: Iterable<LoggedPrediction>,
  policy: ActiveLearningPolicy,
  alreadyLabelled: ReadonlySet<string> = new Set(),
): ReviewSelection {
  validateActiveLearningPolicy(policy);
  const byId = new Map<string, LoggedPrediction>();
  for (const r of records) if (!byId.has(r.inference_id)) byId.set(r.inference_id, r);
  const auditDrawn: LoggedPrediction[] = [];
  const candidates: Array<{ record: LoggedPrediction; score: number }> = [];
  const min = policy.minUncertainty ?? 0;
  for (const record of byId.values()) {
    const score = scoreOf(record, policy.method);
    if (isAuditSample(record.inference_id, policy.auditShare, policy.auditSalt)) {
      auditDrawn.push(record);
    } else if (score !== null && score >= min && !alreadyLabelled.has(record.image_key)) {
      candidates.push({ record, score });
    }
  }
  candidates.sort((a, b) => b.score - a.score || byInferenceId(a.record, b.record));
  const uncertain = candidates.slice(0, policy.dailyBudget).map((c) => toRequest(c.record, 'uncertain', c.score));
  const audit = auditDrawn
    .sort(byInferenceId)
    .map((record) => toRequest(record, 'audit', scoreOf(record, policy.method)));
  return {
    requests: [...audit, ...uncertain],
    considered: byId.size,
    audit: audit.length,
    uncertain: uncertain.length,
    overBudget: Math.max(0, candidates.length - uncertain.length),
  };
}
