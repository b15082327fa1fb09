/**
 * An accepted label as an image event: the same event the label merger publishes for Ground Truth reviews, on the
 * same stream, so Firehose lands it in the lake and the dataset's precedence (human > labels file > prefix > model)
 * makes it win. It names the prediction it corrects (`inference_id`) and who decided (`reviewer_id`).
 */
import { eventValidator, IMAGE_EVENT_SCHEMA } from '../contracts/events';
import { LABEL_UPDATE_SOURCE } from '../vision/ingest';
import type { ReviewItem } from './item';

const validate = eventValidator(IMAGE_EVENT_SCHEMA);

/** The event id of an item's label: deterministic, so a republished event deduplicates downstream. */
export const labelEventId = (itemId: string) => `review-${itemId}`;

/**
 * The label event of a decided item. `reviewer_id` lists the agreeing reviewers (comma-separated, sorted) when a
 * consensus took several. Throws when the item is not accepted or the event would not pass the schema.
 */
export function labelEvent(item: ReviewItem): Record<string, unknown> {
  const d = item.decision;
  if (item.status !== 'accepted' || !d) throw new Error(`item ${item.itemId} has no accepted label`);
  const r = item.request;
  const event: Record<string, unknown> = {
    event_id: labelEventId(item.itemId),
    image_key: r.imageKey,
    content_type: r.contentType,
    size_bytes: r.sizeBytes,
    source: LABEL_UPDATE_SOURCE,
    event_time: d.at,
    label: d.label,
    label_source: 'human',
    reviewer_id: d.reviewers.join(','),
    ...(r.inferenceId !== undefined ? { inference_id: r.inferenceId } : {}),
  };
  const checked = validate.safeParse(event);
  if (!checked.success) {
    throw new Error(`label event of item ${item.itemId} does not match the image schema: ${checked.error.message}`);
  }
  return event;
}
