import { join } from 'node:path';
import { GENERATED_BLOCKS, regenerate } from '../src/docs/generate';

describe('generated docs are current (run `npm run docs` to refresh)', () => {
  test.each(GENERATED_BLOCKS.map((b) => [`${b.file} ${b.name}`, b] as const))('%s', (_name, block) => {
    const { current, expected } = regenerate(join(__dirname, '..'), block);
    expect(current).toBe(expected);
  });
});
