import {
  checkContent,
  checkObject,
  quarantineKey,
  quarantineRecord,
  validateImageEvent,
  type ImageEvent,
  type IngestPolicy,
} from '../../../core/vision/ingest';
import { makeJpeg, makePng } from '../../support/images';

const POLICY: IngestPolicy = {
  contentTypes: ['image/jpeg', 'image/png'],
  minBytes: 100,
  maxBytes: 5_000_000,
  maxPixels: 25_000_000,
  knownSources: ['camera-a', 'uploader'],
  imagesPrefix: 'images/',
};

const event = (over: Record<string, unknown> = {}) => ({
  event_id: '3f1c0d9e-0000-4000-8000-000000000001',
  image_key: 'images/cat/0001.jpg',
  content_type: 'image/jpeg',
  size_bytes: 2048,
  source: 'camera-a',
  event_time: '2026-11-23T10:00:00.000Z',
  ...over,
});

describe('image event validation', () => {
  test('a valid event passes', () => {
    const v = validateImageEvent(JSON.stringify(event({ label: 'cat', label_source: 'prefix' })), POLICY);
    expect(v).toEqual({ ok: true, value: expect.objectContaining({ image_key: 'images/cat/0001.jpg', label: 'cat' }) });
  });

  test.each([
    ['not JSON', '{oops', 'not-json', /payload is not JSON/],
    ['missing field', JSON.stringify({ ...event(), source: undefined }), 'schema', /source/],
    ['unknown field', JSON.stringify(event({ colour: 'red' })), 'schema', /colour|unrecognized/i],
    ['bad timestamp', JSON.stringify(event({ event_time: 'yesterday' })), 'schema', /event_time/],
    [
      'unknown source',
      JSON.stringify(event({ source: 'scraper' })),
      'unknown-source',
      /"scraper" is not one of: camera-a, uploader/,
    ],
    ['unsupported type', JSON.stringify(event({ content_type: 'image/gif' })), 'schema', /content_type/],
    ['too small', JSON.stringify(event({ size_bytes: 10 })), 'too-small', /10 is below the minimum of 100/],
    ['too large', JSON.stringify(event({ size_bytes: 9_000_000 })), 'too-large', /above the limit of 5000000/],
    ['outside prefix', JSON.stringify(event({ image_key: 'secrets/a.jpg' })), 'outside-prefix', /not under images\//],
    ['path traversal', JSON.stringify(event({ image_key: 'images/../secrets/a.jpg' })), 'outside-prefix', /not under/],
  ])('%s is rejected with its reason', (_name, payload, reason, detail) => {
    const v = validateImageEvent(payload, POLICY);
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe(reason);
      expect(v.detail).toMatch(detail);
    }
  });

  test('a content type the stage does not accept is rejected even when the schema allows it', () => {
    const v = validateImageEvent(JSON.stringify(event({ content_type: 'image/png' })), {
      ...POLICY,
      contentTypes: ['image/jpeg'],
    });
    expect(v).toMatchObject({ ok: false, reason: 'content-type' });
  });
});

describe('object checks', () => {
  const e = event() as unknown as ImageEvent;
  test('missing object, size mismatch and oversize are rejected', () => {
    expect(checkObject(e, undefined, POLICY)).toMatchObject({ ok: false, reason: 'missing-object' });
    expect(checkObject(e, { size: 2049 }, POLICY)).toMatchObject({ ok: false, reason: 'size-mismatch' });
    expect(checkObject(e, { size: 2048 }, POLICY)).toEqual({ ok: true, value: true });
    expect(checkObject({ ...e, size_bytes: 6e6 }, { size: 6e6 }, POLICY)).toMatchObject({ reason: 'too-large' });
  });

  test('the bytes must be the declared format', () => {
    expect(
      checkContent(
        e,
        makeJpeg(8, 8, () => [1, 2, 3]),
      ),
    ).toEqual({ ok: true, value: true });
    expect(
      checkContent(
        e,
        makePng(8, 8, () => [1, 2, 3]),
      ),
    ).toMatchObject({
      ok: false,
      reason: 'content-mismatch',
      detail: 'the object is image/png; the event says image/jpeg',
    });
    expect(checkContent(e, Buffer.from('GIF89a....'))).toMatchObject({ ok: false, reason: 'unknown-format' });
  });
});

describe('quarantine', () => {
  test('records keep the reason, the origin and the payload; keys are browsable by reason and day', () => {
    const at = new Date('2026-11-23T10:00:00Z');
    expect(quarantineKey('quarantine/images/', 'unknown-source', at, 'shard-1/49590338271')).toBe(
      'quarantine/images/reason=unknown-source/dt=2026-11-23/shard-1_49590338271.json',
    );
    const r = quarantineRecord({ reason: 'schema', detail: 'x' }, 'a'.repeat(70_000), { shard: 's1' }, at);
    expect(r).toMatchObject({ reason: 'schema', detail: 'x', quarantinedAt: '2026-11-23T10:00:00.000Z' });
    expect(r.payload).toHaveLength(65_536);
  });
});
