/**
 * A review request: what the vision loop puts on the review queue for one image (an uncertain prediction or a
 * random audit sample), or what a label-source check finds (two sources disagree). Parsed strictly: an unknown or
 * malformed field is refused with one line naming it, so a producer's typo surfaces instead of a half-empty item.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { IMAGE_CONTENT_TYPES } from '../contracts/events';
import { isValidLabel } from '../vision/labels';
import { ReviewError } from './errors';
import { REVIEW_REASONS, type ReviewReason } from './policy';
import { issueText } from '../contracts/issues';

/** One class of the model's answer. */
export interface ClassScore {
  readonly label: string;
  /** Probability in [0, 1]. */
  readonly confidence: number;
}

/** A label some source gave the image (for `conflict` items). */
export interface SourceLabel {
  readonly label: string;
  /** `label_source` of the image event: `labels-file`, `prefix`, `model`, `human`. */
  readonly source: string;
}

/** One image to review. */
export interface ReviewRequest {
  /** Key of the image in the raw bucket, under the images prefix. */
  readonly imageKey: string;
  readonly contentType: (typeof IMAGE_CONTENT_TYPES)[number];
  readonly sizeBytes: number;
  /** The prediction under review (the endpoint's inference id); required unless `reason` is `conflict`. */
  readonly inferenceId?: string;
  /** When the prediction was made (ISO-8601). */
  readonly predictedAt?: string;
  /** The model's top classes, most confident first (at most 3). */
  readonly topK: readonly ClassScore[];
  readonly reason: ReviewReason;
  /** Uncertainty score in [0, 1] (1 − margin, or normalized entropy): more uncertain items are shown first. */
  readonly uncertainty?: number;
  /** The disagreeing labels of a `conflict` item. */
  readonly labels?: readonly SourceLabel[];
  /**
   * The model version that made the prediction, when its producer knows it. An accepted audit item's outcome record
   * carries it; without it the record says `unknown` and the drift checker leaves it out of realised accuracy.
   */
  readonly modelVersion?: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const label = z.string().refine(isValidLabel, 'must be a class label (letters, digits, space, _ . -; ≤ 128)');
const probability = z.number().min(0).max(1);

const schema = z.strictObject({
  imageKey: z.string().min(1).max(1024),
  contentType: z.enum(IMAGE_CONTENT_TYPES),
  sizeBytes: z.number().int().positive(),
  inferenceId: z.string().min(1).max(256).optional(),
  predictedAt: z.string().regex(ISO, 'must be an ISO-8601 UTC time such as 2026-11-23T10:00:00.000Z').optional(),
  topK: z.array(z.strictObject({ label, confidence: probability })).max(3),
  reason: z.enum(REVIEW_REASONS),
  uncertainty: probability.optional(),
  labels: z
    .array(z.strictObject({ label, source: z.string().min(1).max(64) }))
    .min(2)
    .max(10)
    .optional(),
  modelVersion: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$/, 'must be a model version (letters, digits, . _ : + -; ≤ 128)')
    .optional(),
});

function describe(error: z.ZodError): string {
  return issueText(error.issues[0], 'the request');
}

/**
 * Parses a review request (a JSON value). Throws a `bad-request` {@link ReviewError} naming the first problem.
 * The image must be under `imagesPrefix` (the presigned URLs are scoped to it).
 */
export function parseReviewRequest(value: unknown, imagesPrefix: string): ReviewRequest {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ReviewError('bad-request', `invalid review request: ${describe(parsed.error)}`);
  const r = parsed.data;
  if (!r.imageKey.startsWith(imagesPrefix) || r.imageKey.includes('..')) {
    throw new ReviewError(
      'bad-request',
      `invalid review request: imageKey "${r.imageKey}" is not under ${imagesPrefix}`,
    );
  }
  if (r.reason !== 'conflict' && (r.inferenceId === undefined || r.predictedAt === undefined)) {
    throw new ReviewError(
      'bad-request',
      `invalid review request: an ${r.reason} item needs inferenceId and predictedAt (the prediction under review)`,
    );
  }
  if (r.reason !== 'conflict' && r.topK.length === 0) {
    throw new ReviewError('bad-request', `invalid review request: an ${r.reason} item needs the model's topK classes`);
  }
  if (r.reason === 'conflict' && r.labels === undefined) {
    throw new ReviewError('bad-request', 'invalid review request: a conflict item needs the disagreeing labels');
  }
  const topK = [...r.topK].sort((a, b) => b.confidence - a.confidence);
  return { ...r, topK };
}

/**
 * The item id of a request: the same request queued twice (SQS delivers at least once) is one item. An image may
 * be queued again for another prediction or reason.
 */
export function itemIdOf(request: ReviewRequest): string {
  return createHash('sha256')
    .update(`${request.reason}\n${request.imageKey}\n${request.inferenceId ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}
