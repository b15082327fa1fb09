import {
  channelStats,
  ImageError,
  imageFeatures,
  imageStats,
  imageStatsKey,
  imageStatsRecord,
  readBounded,
  sniffFormat,
} from '../../../core/vision/image-stats';
import { makeJpeg, makePng } from '../../support/images';

const LIMITS = { maxBytes: 1_000_000, maxPixels: 1_000_000 };

describe('image statistics', () => {
  test('a PNG: exact size, per-channel mean and population standard deviation', () => {
    // Left half (0,100,200), right half (255,100,0) on 8×8: R mean 127.5 std 127.5; G constant; B mean 100 std 100.
    const png = makePng(8, 8, (x) => (x < 4 ? [0, 100, 200] : [255, 100, 0]));
    const s = imageStats(png, LIMITS);
    expect(s).toMatchObject({ format: 'png', width: 8, height: 8, fileSize: png.length });
    expect(s.mean).toEqual([127.5, 100, 100]);
    expect(s.std).toEqual([127.5, 0, 100]);
  });

  test('a non-square PNG keeps width and height apart', () => {
    const s = imageStats(
      makePng(16, 4, () => [10, 20, 30]),
      LIMITS,
    );
    expect([s.width, s.height]).toEqual([16, 4]);
    expect(s.mean).toEqual([10, 20, 30]);
  });

  test('a JPEG: size exact, statistics within the compression error', () => {
    const jpg = makeJpeg(16, 16, (x, y) => ((x + y) % 2 === 0 ? [200, 50, 50] : [100, 50, 50]), 100);
    const s = imageStats(jpg, LIMITS);
    expect(s).toMatchObject({ format: 'jpeg', width: 16, height: 16, fileSize: jpg.length });
    expect(s.mean[0]).toBeGreaterThan(140);
    expect(s.mean[0]).toBeLessThan(160);
    expect(s.mean[1]).toBeGreaterThan(40);
    expect(s.mean[1]).toBeLessThan(60);
    expect(s.std[0]).toBeGreaterThan(20); // the checkerboard's contrast survives
  });

  test('a brighter image has a higher mean: the signal drift sees', () => {
    const dark = imageStats(
      makeJpeg(8, 8, () => [40, 40, 40]),
      LIMITS,
    );
    const bright = imageStats(
      makeJpeg(8, 8, () => [220, 220, 220]),
      LIMITS,
    );
    expect(bright.mean[0] - dark.mean[0]).toBeGreaterThan(150);
  });

  test('channelStats equals the two-pass definition', () => {
    const px = [
      [1, 2, 3],
      [4, 5, 6],
      [7, 9, 250],
    ];
    const data = new Uint8Array(px.flatMap((p) => [...p, 255]));
    const { mean, std } = channelStats(data, 3);
    for (let c = 0; c < 3; c++) {
      const m = px.reduce((s, p) => s + p[c], 0) / 3;
      const v = px.reduce((s, p) => s + (p[c] - m) ** 2, 0) / 3;
      expect(mean[c]).toBeCloseTo(m, 12);
      expect(std[c]).toBeCloseTo(Math.sqrt(v), 12);
    }
  });

  test('size limits are checked before decoding', () => {
    const png = makePng(16, 16, () => [0, 0, 0]);
    expect(() => imageStats(png, { maxBytes: 10, maxPixels: 1e6 })).toThrow(/bytes; the limit is 10/);
    expect(() => imageStats(png, { maxBytes: 1e6, maxPixels: 255 })).toThrow(/16×16 = 256 pixels; the limit is 255/);
    const jpg = makeJpeg(16, 16, () => [0, 0, 0]);
    expect(() => imageStats(jpg, { maxBytes: 1e6, maxPixels: 100 })).toThrow(ImageError);
  });

  test('not an image, and a truncated image, are errors with a reason', () => {
    const text = Buffer.from('hello, world, not an image');
    expect(sniffFormat(text)).toBeUndefined();
    expect(() => imageStats(text, LIMITS)).toThrow(expect.objectContaining({ reason: 'unknown-format' }));
    const png = makePng(8, 8, () => [1, 2, 3]);
    expect(() => imageStats(png.subarray(0, 40), LIMITS)).toThrow(expect.objectContaining({ reason: 'undecodable' }));
  });

  test('features are numerical and named for the drift checker', () => {
    const f = imageFeatures(
      imageStats(
        makePng(8, 8, () => [10, 20, 30]),
        LIMITS,
      ),
    );
    expect(Object.keys(f)).toEqual([
      'image.width',
      'image.height',
      'image.file_size',
      'image.mean_r',
      'image.mean_g',
      'image.mean_b',
      'image.std_r',
      'image.std_g',
      'image.std_b',
    ]);
    expect(Object.values(f).every((v) => typeof v === 'number')).toBe(true);
  });

  test('records are capture-like and keys follow the capture hour layout', () => {
    const t = new Date('2026-11-23T09:05:00.000Z');
    const line = JSON.parse(imageStatsRecord('e1', t, { 'image.width': 8 }));
    expect(line).toEqual({
      captureData: {
        endpointInput: {
          observedContentType: 'application/json',
          mode: 'INPUT',
          data: '{"image.width":8}',
          encoding: 'JSON',
        },
      },
      eventMetadata: { eventId: 'e1', inferenceTime: '2026-11-23T09:05:00.000Z' },
      eventVersion: '0',
    });
    expect(imageStatsKey('image-stats/', 'mlbp-sandbox-vision', t, 'b1')).toBe(
      'image-stats/mlbp-sandbox-vision/2026/11/23/09/b1.jsonl',
    );
  });

  test('readBounded stops as soon as the limit is passed', async () => {
    let pulled = 0;
    async function* chunks() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield new Uint8Array(10);
      }
    }
    await expect(readBounded(chunks(), 35)).rejects.toThrow(/exceeds the 35-byte limit/);
    expect(pulled).toBe(4);
    await expect(readBounded(chunks(), 1000)).resolves.toHaveLength(1000);
  });
});
