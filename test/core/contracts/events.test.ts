import {
  eventValidator,
  IMAGE_EVENT_SCHEMA,
  INTERACTION_EVENT_SCHEMA,
  INTERACTION_TYPES,
} from '../../../core/contracts/events';

const interaction = {
  event_id: '4f1c2a4e-8d7b-4a53-9a51-0c1f1c7f9b11',
  event_type: 'click',
  user_id: 'u-42',
  item_id: 'i-7',
  event_time: '2026-11-23T10:00:00.000Z',
  surface: 'home',
};

describe('event schemas', () => {
  const validate = eventValidator(INTERACTION_EVENT_SCHEMA);

  test('a complete interaction event is valid, with or without optional fields', () => {
    expect(validate.safeParse(interaction).success).toBe(true);
    expect(
      validate.safeParse({ ...interaction, position: 3, value: 12.5, inference_id: 'abc', device: 'tv' }).success,
    ).toBe(true);
  });

  test.each([
    ['missing user_id', { ...interaction, user_id: undefined }],
    ['unknown event type', { ...interaction, event_type: 'like' }],
    ['timestamp without zone', { ...interaction, event_time: '2026-11-23T10:00:00' }],
    ['impossible date', { ...interaction, event_time: '2026-13-45T10:00:00Z' }],
    ['negative position', { ...interaction, position: -1 }],
    ['unknown field', { ...interaction, usr: 'typo' }],
    ['empty item id', { ...interaction, item_id: '' }],
  ])('rejects %s', (_name, event) => {
    expect(validate.safeParse(event).success).toBe(false);
  });

  test('interaction types are the documented ones', () => {
    expect(INTERACTION_TYPES).toEqual(['impression', 'view', 'click', 'watch', 'purchase']);
  });

  test('image events require a key, a content type and a size', () => {
    const v = eventValidator(IMAGE_EVENT_SCHEMA);
    const ok = {
      event_id: 'e1',
      image_key: 'incoming/cam-1/0001.jpg',
      content_type: 'image/jpeg',
      size_bytes: 52_000,
      source: 'cam-1',
      event_time: '2026-11-23T10:00:00Z',
    };
    expect(v.safeParse(ok).success).toBe(true);
    expect(v.safeParse({ ...ok, content_type: 'image/gif' }).success).toBe(false);
    expect(v.safeParse({ ...ok, size_bytes: 1.5 }).success).toBe(false);
  });

  test('every schema has unique snake_case field names and the event_id/event_time pair', () => {
    for (const schema of [INTERACTION_EVENT_SCHEMA, IMAGE_EVENT_SCHEMA]) {
      const names = schema.fields.map((f) => f.name);
      expect(new Set(names).size).toBe(names.length);
      for (const n of names) expect(n).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(names).toEqual(expect.arrayContaining(['event_id', 'event_time']));
    }
  });
});
