/** Tiny generated test images (PNG with pngjs, JPEG with jpeg-js): no binary fixtures in the repository. */
import * as jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

/** A pixel function: RGB at (x, y). */
export type Paint = (x: number, y: number) => readonly [number, number, number];

function rgba(width: number, height: number, paint: Paint): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = paint(x, y);
      const i = (y * width + x) * 4;
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
      data[i + 3] = 255;
    }
  }
  return data;
}

/** A PNG of the given size and pixels. */
export function makePng(width: number, height: number, paint: Paint): Buffer {
  const png = new PNG({ width, height });
  png.data = rgba(width, height, paint);
  return PNG.sync.write(png);
}

/** A JPEG of the given size and pixels (lossy: statistics are approximately the painted ones). */
export function makeJpeg(width: number, height: number, paint: Paint, quality = 95): Buffer {
  return Buffer.from(jpeg.encode({ data: rgba(width, height, paint), width, height }, quality).data);
}
