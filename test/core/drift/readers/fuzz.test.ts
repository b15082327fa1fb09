/**
 * Deterministic fuzzing of the record readers, a small sample of the corpus that `npm run fuzz -- --seed N --size M`
 * runs at scale (generators and checks in `test/support/reader-fuzz.ts`): the readers never throw, count every bad
 * line as invalid with the expected reason and return exactly the records of the valid lines, in order, whether read
 * whole or in random chunks.
 */
import {
  captureCase,
  checkChunkings,
  checkMix,
  checkPlain,
  checkWhole,
  checkWindow,
} from '../../../support/reader-fuzz';

describe('fuzz: capture lines (a sample; npm run fuzz runs the large corpus)', () => {
  const sample = captureCase(20261123, 400);

  it('has a meaningful mix', () => checkMix(sample));
  it('counts every bad line and returns every valid record (whole buffer)', () => checkWhole(sample));
  it('gives the same result for random chunkings of a stream', () => checkChunkings(sample, 5));
  it('applies the time window to valid lines only', () => checkWindow(sample));
});

describe('fuzz: plain lines', () => {
  it('counts every bad line and returns every valid record', () => checkPlain(77, 300));
});
