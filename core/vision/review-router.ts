/**
 * Turns a batch of review-queue messages (low-confidence predictions) into one SageMaker Ground Truth input
 * manifest in S3. Messages that are not review items are reported as failures: after the queue's maxReceiveCount
 * they land in its dead-letter queue (alarmed), never silently dropped.
 */
import { inputManifest, type ReviewItem } from './ground-truth';

/** Where manifests go. */
export interface ReviewRouterSettings {
  readonly endpointName: string;
  readonly bucket: string;
  /** Manifests: `s3://{bucket}/{prefix}{endpoint}/dt=yyyy-mm-dd/{time}-{firstId}.manifest`. */
  readonly prefix: string;
}

/** One queue message. */
export interface ReviewMessage {
  readonly id: string;
  readonly body: string;
}

/** What a batch did. */
export interface ReviewBatchResult {
  readonly manifestUri?: string;
  readonly items: number;
  /** Ids of messages that are not review items. */
  readonly failures: string[];
}

function parseItem(body: string): ReviewItem | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const o = json as Partial<ReviewItem> | null;
  if (
    !o ||
    typeof o.sourceRef !== 'string' ||
    !o.sourceRef.startsWith('s3://') ||
    typeof o.eventId !== 'string' ||
    typeof o.predictedClass !== 'number' ||
    typeof o.confidence !== 'number' ||
    typeof o.predictedAt !== 'string'
  ) {
    return undefined;
  }
  return {
    sourceRef: o.sourceRef,
    eventId: o.eventId,
    predictedClass: o.predictedClass,
    confidence: o.confidence,
    predictedAt: o.predictedAt,
  };
}

/** Writes the manifest of one batch. */
export async function routeReviews(
  messages: readonly ReviewMessage[],
  settings: ReviewRouterSettings,
  put: (bucket: string, key: string, body: string) => Promise<void>,
  now: Date,
): Promise<ReviewBatchResult> {
  const items: ReviewItem[] = [];
  const failures: string[] = [];
  for (const m of messages) {
    const item = parseItem(m.body);
    if (item) items.push(item);
    else failures.push(m.id);
  }
  if (items.length === 0) return { items: 0, failures };
  const manifest = inputManifest(items);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const firstId = messages[0].id.replace(/[^A-Za-z0-9-]/g, '_');
  const key = `${settings.prefix}${settings.endpointName}/dt=${now.toISOString().slice(0, 10)}/${stamp}-${firstId}.manifest`;
  await put(settings.bucket, key, manifest.body);
  return { manifestUri: `s3://${settings.bucket}/${key}`, items: manifest.count, failures };
}
