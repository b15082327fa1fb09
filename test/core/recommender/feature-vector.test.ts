/**
 * The feature vector with a distinct value in every column, checked by name: a column computed from the wrong
 * signal, or two columns swapped (surface and device, hour and weekday, …), fails here.
 */
import { FEATURE_NAMES, featureVector, requestPart } from '../../../core/recommender/contract';

const request = {
  // Wednesday 11:30 UTC.
  now: new Date('2026-11-25T11:30:00.000Z'),
  surface: 'notification', // index 4
  device: 'tablet', // index 2
  // 5 engagements: 2 clicks; 3 in the candidate's category; 1 with the candidate itself.
  recent: [
    { itemId: 'i9', eventType: 'click', category: 'books' },
    { itemId: 'i1', eventType: 'click', category: 'books' },
    { itemId: 'i2', eventType: 'watch', category: 'books' },
    { itemId: 'i3', eventType: 'purchase', category: 'toys' },
    { itemId: 'i4', eventType: 'watch', category: 'music' },
  ],
};
const candidate = { itemId: 'i9', category: 'books', popularity: 9, impressions: 30, clicks: 4, covisitation: 0.5 };

const EXPECTED: Record<string, number> = {
  item_popularity: 2.302585, // ln(1 + 9)
  item_ctr: 0.1, // (4 + 1) / (30 + 20)
  item_impressions: 3.433987, // ln(1 + 30)
  user_activity: 1.791759, // ln(1 + 5)
  user_click_share: 0.4, // 2 / 5
  covisit_strength: 0.405465, // ln(1 + 0.5)
  category_affinity: 0.6, // 3 / 5
  user_item_engagements: 0.693147, // ln(1 + 1)
  hour_of_day: 0.478261, // 11 / 23
  day_of_week: 0.333333, // Wednesday: 2 / 6
  surface: 4,
  device: 2,
};

test('every column has its own value, named and in contract order', () => {
  expect(new Set(Object.values(EXPECTED)).size).toBe(FEATURE_NAMES.length);
  expect(FEATURE_NAMES).toEqual(Object.keys(EXPECTED));
  const vector = featureVector(candidate, request);
  expect(Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, vector[i]]))).toEqual(EXPECTED);
});

test('the request part computed once gives the same vector as the request itself', () => {
  expect(featureVector(candidate, requestPart(request))).toEqual(featureVector(candidate, request));
});

test('unknown surface and device are -1, not another column’s value', () => {
  const vector = featureVector(candidate, { ...request, surface: undefined, device: undefined });
  expect(vector.slice(-2)).toEqual([-1, -1]);
});
