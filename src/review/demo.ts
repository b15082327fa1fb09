/**
 * The demo review set that `npm run review` writes when the folder has no review requests yet: generated PNG
 * shapes (circle, square, triangle; day and night brightness, noise) in the local raw bucket, and their review
 * requests. The "model" is a real, tiny one: it compares each image with the clean shape templates and turns the
 * distances into probabilities, so the top 3 shown are what that model says, not invented numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { createRng, type Rng } from '../../core/drift/stats/random';
import type { ReviewRequest } from '../../core/review/request';

/** Classes of the demo set. */
export const DEMO_CLASSES = ['circle', 'square', 'triangle'] as const;
type Shape = (typeof DEMO_CLASSES)[number];

const SIZE = 48;
const COLOURS: Record<Shape, readonly [number, number, number]> = {
  circle: [220, 90, 70],
  square: [70, 140, 220],
  triangle: [80, 180, 110],
};

function inside(shape: Shape, x: number, y: number, jitter: number): boolean {
  const c = SIZE / 2 + jitter;
  const r = SIZE * 0.32;
  if (shape === 'circle') return (x - c) ** 2 + (y - c) ** 2 <= r * r;
  if (shape === 'square') return Math.abs(x - c) <= r * 0.85 && Math.abs(y - c) <= r * 0.85;
  const top = c - r;
  const bottom = c + r * 0.8;
  if (y < top || y > bottom) return false;
  const half = ((y - top) / (bottom - top)) * r;
  return Math.abs(x - c) <= half;
}

/** Grey intensity map of a shape (1 inside, 0 outside), the template the tiny model compares with. */
function mask(shape: Shape, jitter = 0): Float64Array {
  const m = new Float64Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) m[y * SIZE + x] = inside(shape, x, y, jitter) ? 1 : 0;
  return m;
}

const TEMPLATES = DEMO_CLASSES.map((s) => mask(s));

/** A noisy shape image; `blend` mixes in a second shape (the hard, uncertain cases). */
function paint(rng: Rng, shape: Shape, options: { night: boolean; blend?: Shape; blendWeight?: number }) {
  const png = new PNG({ width: SIZE, height: SIZE });
  const jitter = Math.round((rng.nextFloat() - 0.5) * 6);
  const own = mask(shape, jitter);
  const other = options.blend ? mask(options.blend, jitter) : undefined;
  const w = options.blendWeight ?? 0;
  const light = options.night ? 0.45 : 1;
  for (let p = 0; p < SIZE * SIZE; p++) {
    const v = (1 - w) * own[p] + w * (other?.[p] ?? 0);
    for (let c = 0; c < 3; c++) {
      const fg = COLOURS[shape][c];
      const bg = 236;
      const noise = (rng.nextFloat() - 0.5) * 36;
      png.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round((v * fg + (1 - v) * bg) * light + noise)));
    }
    png.data[p * 4 + 3] = 255;
  }
  return { bytes: PNG.sync.write(png), grey: darkness(png.data) };
}

/** What the model sees: each pixel's darkness relative to the image's own range (0 background … 1 shape). */
function darkness(rgba: Uint8Array): Float64Array {
  const lum = new Float64Array(SIZE * SIZE);
  for (let p = 0; p < lum.length; p++) lum[p] = (rgba[p * 4] + rgba[p * 4 + 1] + rgba[p * 4 + 2]) / 3;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of lum) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  return lum.map((v) => (hi - v) / (hi - lo + 1e-9));
}

/** The tiny model's version, which its requests (and so the audit outcomes) carry. */
export const DEMO_MODEL_VERSION = 'demo-templates-1';

/** The tiny model: softmax over negative mean squared distances to the templates. */
function predict(grey: Float64Array): Array<{ label: string; confidence: number }> {
  const scores = TEMPLATES.map((t) => {
    let d = 0;
    for (let p = 0; p < t.length; p++) d += (grey[p] - t[p]) ** 2;
    return -d / t.length / 0.02;
  });
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return DEMO_CLASSES.map((label, i) => ({ label, confidence: Math.round((exps[i] / sum) * 1000) / 1000 })).sort(
    (a, b) => b.confidence - a.confidence,
  );
}

/** Writes the demo set under `dir` (images in `s3/<bucket>/images/demo/`); returns its requests. */
export function writeDemoSet(dir: string, bucket: string, count = 12, seed = 14): ReviewRequest[] {
  const rng = createRng(seed);
  const requests: ReviewRequest[] = [];
  for (let n = 0; n < count; n++) {
    const shape = DEMO_CLASSES[n % DEMO_CLASSES.length];
    const blend = DEMO_CLASSES[(n + 1) % DEMO_CLASSES.length];
    const reason = n % 4 === 3 ? 'audit' : 'uncertain';
    const night = n % 3 === 1;
    const { bytes, grey } = paint(rng, shape, { night, blend, blendWeight: reason === 'audit' ? 0.15 : 0.42 });
    const key = `images/demo/${night ? 'night' : 'day'}-${String(n + 1).padStart(3, '0')}.png`;
    const file = path.join(dir, 's3', bucket, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    const topK = predict(grey);
    const margin = topK[0].confidence - (topK[1]?.confidence ?? 0);
    requests.push({
      imageKey: key,
      contentType: 'image/png',
      sizeBytes: bytes.length,
      inferenceId: `demo-inference-${String(n + 1).padStart(3, '0')}`,
      predictedAt: new Date(Date.UTC(2026, 10, 23, 9, n)).toISOString(),
      topK,
      reason,
      uncertainty: Math.round((1 - margin) * 1000) / 1000,
      modelVersion: DEMO_MODEL_VERSION,
    });
  }
  return requests;
}
