import { entropyUncertainty, marginUncertainty, uncertainty } from '../../../core/vision/uncertainty';

describe('uncertainty scores', () => {
  // Expected values from scipy.stats.entropy(p) / ln K and 1 − (p₁ − p₂) (Debian's scipy 1.10).
  test.each([
    [[0.5, 0.3, 0.2], 0.8, 0.9372305632161297],
    [[0.9, 0.05, 0.05], 0.15, 0.3589962496465304],
    [[1 / 3, 1 / 3, 1 / 3], 1, 1],
    [[0.7, 0.3], 0.6, 0.8812908992306927],
  ])('%j: margin %d, entropy %d', (p, margin, entropy) => {
    expect(marginUncertainty(p)).toBeCloseTo(margin, 12);
    expect(entropyUncertainty(p)).toBeCloseTo(entropy, 12);
    expect(uncertainty(p, 'margin')).toBe(marginUncertainty(p));
    expect(uncertainty(p, 'entropy')).toBe(entropyUncertainty(p));
  });

  test('a one-hot answer is certain; the order of the classes does not matter', () => {
    expect(marginUncertainty([0, 1, 0])).toBe(0);
    expect(entropyUncertainty([0, 1, 0])).toBe(0);
    expect(marginUncertainty([0.2, 0.5, 0.3])).toBeCloseTo(0.8, 12);
  });

  test('a single class is certain', () => {
    expect(marginUncertainty([1])).toBe(0);
    expect(entropyUncertainty([1])).toBe(0);
  });

  test('margin and entropy rank differently when the tail is spread', () => {
    // Same top two, but the second answer spreads its tail over many classes.
    const twoWay = [0.5, 0.4, 0.1, 0, 0, 0];
    const spread = [0.5, 0.1, 0.1, 0.1, 0.1, 0.1];
    expect(marginUncertainty(twoWay)).toBeGreaterThan(marginUncertainty(spread));
    expect(entropyUncertainty(twoWay)).toBeLessThan(entropyUncertainty(spread));
  });

  test('bad input: one clear error', () => {
    expect(() => marginUncertainty([])).toThrow('uncertainty needs at least one class probability; received none');
    expect(() => entropyUncertainty([0.5, Number.NaN])).toThrow(/must be numbers in \[0, 1\]; received NaN/);
    expect(() => marginUncertainty([1.5, -0.5])).toThrow(/received 1.5/);
  });
});
