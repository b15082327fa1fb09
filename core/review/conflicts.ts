/**
 * Images whose label sources disagree: the labels file says one class, the folder name another (or a model label
 * contradicts a heuristic one). Each becomes a `conflict` review request that two agreeing reviewers settle. An
 * image that already has a human label is settled and never queued again.
 */
import type { ReviewRequest } from './request';

/** The image-event fields the finder reads (lake rows). */
export interface LabelledEvent {
  readonly image_key: string;
  readonly content_type: string;
  readonly size_bytes: number;
  readonly label?: string | null;
  readonly label_source?: string | null;
  readonly inference_id?: string | null;
}

/**
 * Review requests for images with at least two different labels from different non-human sources and no human
 * label, in image-key order. Each source's latest label counts (events in lake order).
 */
export function findLabelConflicts(events: Iterable<LabelledEvent>): ReviewRequest[] {
  const byImage = new Map<string, { event: LabelledEvent; labels: Map<string, string>; human: boolean }>();
  for (const e of events) {
    if (!e.label || !e.label_source) continue;
    const entry = byImage.get(e.image_key) ?? { event: e, labels: new Map<string, string>(), human: false };
    if (e.label_source === 'human') entry.human = true;
    else entry.labels.set(e.label_source, e.label);
    byImage.set(e.image_key, entry);
  }
  const out: ReviewRequest[] = [];
  for (const [imageKey, { event, labels, human }] of [...byImage].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (human || new Set(labels.values()).size < 2) continue;
    if (event.content_type !== 'image/png' && event.content_type !== 'image/jpeg') continue;
    out.push({
      imageKey,
      contentType: event.content_type,
      sizeBytes: event.size_bytes,
      topK: [],
      reason: 'conflict',
      labels: [...labels].map(([source, label]) => ({ label, source })).sort((a, b) => (a.source < b.source ? -1 : 1)),
    });
  }
  return out;
}
