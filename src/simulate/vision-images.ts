/**
 * Generated camera images with learnable class structure for the vision simulation: a filled shape (circle,
 * square, triangle; a star in the drifted period, a class nobody has labelled yet) in a colour typical of its class
 * (jittered, so colour alone does not decide), at a random place and size on a noisy background. A night camera
 * sees the same scenes darker and flatter. Seeded; PNG through pngjs.
 */
import { PNG } from 'pngjs';
import type { Rng } from '../../core/drift/stats/random';

/** Shapes of the day camera, in the order the first model's class map sorts them. */
export const DAY_CLASSES = ['circle', 'square', 'triangle'] as const;
/** The class that appears in the drifted period. */
export const NEW_CLASS = 'star';
/** Every class the generator draws. */
export type Shape = (typeof DAY_CLASSES)[number] | typeof NEW_CLASS;

/** Base colour per shape (RGB). */
const COLOURS: Readonly<Record<Shape, readonly [number, number, number]>> = {
  circle: [210, 70, 60],
  square: [60, 180, 80],
  triangle: [70, 90, 210],
  star: [200, 180, 60],
};

/** Pixel edge of the generated images. */
export const IMAGE_SIZE = 32;

/** Whether (x, y) is inside the shape centred at (cx, cy) with half-size r. */
function inside(shape: Shape, x: number, y: number, cx: number, cy: number, r: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r;
    case 'square':
      return Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8;
    case 'triangle':
      // Apex up: the half-width grows linearly from the top edge to the base.
      return dy >= -r && dy <= r && Math.abs(dx) <= ((dy + r) / (2 * r)) * r;
    case 'star': {
      // Five points: the radius swings between r and r/2.5 with the angle.
      const angle = Math.atan2(dy, dx);
      const reach = r * (0.4 + 0.6 * Math.abs(Math.cos((5 * angle) / 2)));
      return dx * dx + dy * dy <= reach * reach;
    }
  }
}

/** How a camera sees: `brightness` scales every pixel, `noise` is the background's amplitude. */
export interface Lighting {
  readonly brightness: number;
  readonly noise: number;
}

/** Daylight, and the night camera of the drifted period (darker, flatter). */
export const DAY: Lighting = { brightness: 1, noise: 50 };
export const NIGHT: Lighting = { brightness: 0.3, noise: 15 };

/** One image of `shape` as a PNG. */
export function paintShape(rng: Rng, shape: Shape, light: Lighting, size = IMAGE_SIZE): Buffer {
  const r = size * (0.22 + 0.14 * rng.nextFloat());
  const cx = r + rng.nextFloat() * (size - 2 * r);
  const cy = r + rng.nextFloat() * (size - 2 * r);
  const colour = COLOURS[shape].map((c) => c + (rng.nextFloat() - 0.5) * 80);
  const background = 90 + rng.nextFloat() * 60;
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = inside(shape, x + 0.5, y + 0.5, cx, cy, r);
      const p = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) {
        const base = on ? colour[c] : background + (rng.nextFloat() - 0.5) * 2 * light.noise;
        png.data[p + c] = Math.max(0, Math.min(255, Math.round(base * light.brightness)));
      }
      png.data[p + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
