import { eventValidator, IMAGE_EVENT_SCHEMA } from '../../../core/contracts/events';
import { labelEvent, labelEventId } from '../../../core/review/label-event';
import { vote, lease } from '../../../core/review/queue';
import { at, CLASSES, item } from './fixtures';

describe('labelEvent', () => {
  test('an accepted label is a human image event naming the prediction and the reviewer', () => {
    const leased = lease(item('uncertain'), 'alice', at(0), 300, 't1');
    const { item: decided } = vote(leased, { reviewerId: 'alice', leaseToken: 't1', label: 'dog' }, CLASSES, at(5));
    const event = labelEvent(decided);
    expect(event).toEqual({
      event_id: labelEventId(decided.itemId),
      image_key: 'images/cam-day/cat/p0-00001.png',
      content_type: 'image/png',
      size_bytes: 812,
      source: 'ground-truth',
      event_time: '2026-11-23T10:00:05.000Z',
      label: 'dog',
      label_source: 'human',
      reviewer_id: 'alice',
      inference_id: 'inf-1',
    });
    expect(eventValidator(IMAGE_EVENT_SCHEMA).safeParse(event).success).toBe(true);
  });

  test('a pending item has no label event', () => {
    expect(() => labelEvent(item())).toThrow(/has no accepted label/);
  });
});
