import { newItem, type ReviewItem } from '../../../core/review/item';
import { DEFAULT_REVIEW_POLICY, type ReviewReason } from '../../../core/review/policy';
import type { ReviewRequest } from '../../../core/review/request';

export const T0 = new Date('2026-11-23T10:00:00.000Z');
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
export const CLASSES = ['bird', 'cat', 'dog'];

/** A valid review request of a reason. */
export function request(reason: ReviewReason = 'uncertain', n = 1): ReviewRequest {
  return {
    imageKey: `images/cam-day/cat/p0-${String(n).padStart(5, '0')}.png`,
    contentType: 'image/png',
    sizeBytes: 812,
    inferenceId: `inf-${n}`,
    predictedAt: '2026-11-23T09:59:00.000Z',
    topK: [
      { label: 'cat', confidence: 0.48 },
      { label: 'dog', confidence: 0.41 },
      { label: 'bird', confidence: 0.11 },
    ],
    reason,
    uncertainty: 0.93,
  };
}

/** A new pending item of a reason, queued at T0. */
export const item = (reason: ReviewReason = 'uncertain', n = 1): ReviewItem =>
  newItem(request(reason, n), T0, DEFAULT_REVIEW_POLICY);
