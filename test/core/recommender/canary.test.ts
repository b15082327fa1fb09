/** The canary's one-sided CTR check: clearly worse fails, within the tolerance or too few impressions does not. */
import { canaryCtrCheck } from '../../../core/recommender/canary';
import { normalCdf } from '../../../core/drift/stats/special';

const window = (champion: [number, number], canary: [number, number]) => [
  { bucket: 0, modelVersion: 'm-1', impressions: champion[0], clicks: champion[1] },
  { bucket: 0, modelVersion: 'm-2', impressions: canary[0], clicks: canary[1] },
  { bucket: 0, modelVersion: 'fallback', impressions: 50_000, clicks: 10 },
];

test('a canary at half the champion’s CTR is inferior; the larger version is the champion', () => {
  const check = canaryCtrCheck(window([9000, 900], [1000, 50]));
  expect(check).toMatchObject({ champion: 'm-1', canary: 'm-2', championCtr: 0.1, canaryCtr: 0.05, inferior: true });
  // z by hand: (0.05 − 0.9 · 0.1) / √(0.05·0.95/1000 + 0.81·0.1·0.9/9000)
  const z = (0.05 - 0.09) / Math.sqrt((0.05 * 0.95) / 1000 + (0.81 * 0.1 * 0.9) / 9000);
  expect(check?.z).toBeCloseTo(z, 12);
  expect(check?.pValue).toBeCloseTo(normalCdf(z), 12);
});

test('a canary 5 % below is within a 10 % tolerance; equal CTRs are never inferior', () => {
  expect(canaryCtrCheck(window([9000, 900], [1000, 95]))?.inferior).toBe(false);
  expect(canaryCtrCheck(window([9000, 900], [1000, 100]))?.inferior).toBe(false);
  // Without a tolerance the same 5 % loss is still not significant on 1,000 impressions.
  expect(canaryCtrCheck(window([9000, 900], [1000, 95]), { tolerance: 0 })?.inferior).toBe(false);
});

test('nothing is decided with one version or too few impressions; bad settings are refused', () => {
  expect(canaryCtrCheck(window([9000, 900], [100, 0]))).toBeUndefined();
  expect(canaryCtrCheck([{ bucket: 0, modelVersion: 'm-1', impressions: 9000, clicks: 900 }])).toBeUndefined();
  expect(() => canaryCtrCheck([], { tolerance: 1 })).toThrow(/tolerance must be in \[0, 1\)/);
});
