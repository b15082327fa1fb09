/**
 * A seeded synthetic ranking task in the recommender's training CSV contract (`label,group_id,f_1..f_6`), with
 * structure a model can learn: relevance grows with f_1 (affinity) and f_2 (quality); f_4..f_6 are noise.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const NUM_FEATURES = 6;
export const SLATE = 10;
export const RECOMMENDER_SOURCE = path.join(__dirname, '..', '..', '..', 'models', 'recommender');

/** mulberry32: a small deterministic PRNG. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** One request's candidates: feature rows and graded labels (3 for the best, then 2, 2, 1, 1, rest 0). */
export function slate(random: () => number): { features: number[][]; labels: number[] } {
  const features = Array.from({ length: SLATE }, () => Array.from({ length: NUM_FEATURES }, () => normal(random)));
  const utility = features.map((f) => 1.5 * f[0] + f[1] + 0.3 * f[2] + 0.5 * normal(random));
  const order = utility.map((u, i) => [u, i]).sort((a, b) => b[0] - a[0]);
  const grades = [3, 2, 2, 1, 1];
  const labels = new Array<number>(SLATE).fill(0);
  order.forEach(([, i], rank) => (labels[i] = grades[rank] ?? 0));
  return { features, labels };
}

const fmt = (v: number) => v.toFixed(5);

/** Training CSV text of `groups` requests numbered from `firstGroupId`. */
export function trainingCsv(seed: number, groups: number, firstGroupId: number): string {
  const random = prng(seed);
  const lines: string[] = [];
  for (let g = 0; g < groups; g++) {
    const { features, labels } = slate(random);
    features.forEach((row, i) => lines.push([String(labels[i]), String(firstGroupId + g), ...row.map(fmt)].join(',')));
  }
  return lines.join('\n') + '\n';
}

/** Serving CSV of one slate (features only) with its labels. */
export function servingSlate(seed: number): { csv: string; labels: number[] } {
  const { features, labels } = slate(prng(seed));
  return { csv: features.map((row) => row.map(fmt).join(',')).join('\n') + '\n', labels };
}

/** Channel folders: train in two shards, validation in one. */
export function writeChannels(root: string): { train: string; validation: string } {
  const train = path.join(root, 'train');
  const validation = path.join(root, 'validation');
  mkdirSync(train, { recursive: true });
  mkdirSync(validation, { recursive: true });
  writeFileSync(path.join(train, 'part-00000.csv'), trainingCsv(1, 100, 0));
  writeFileSync(path.join(train, 'part-00001.csv'), trainingCsv(2, 100, 100));
  writeFileSync(path.join(validation, 'part-00000.csv'), trainingCsv(3, 60, 10_000));
  return { train, validation };
}

/** Mean nDCG@k over groups (gain 2^label - 1, XGBoost's), of `scores` for `labels` in slates of {@link SLATE}. */
export function ndcgAtK(labels: readonly number[], scores: readonly number[], k = 10): number {
  const dcg = (ordered: number[]) =>
    ordered.slice(0, k).reduce((sum, l, i) => sum + (2 ** l - 1) / Math.log2(i + 2), 0);
  let total = 0;
  const groups = labels.length / SLATE;
  for (let g = 0; g < groups; g++) {
    const idx = Array.from({ length: SLATE }, (_, i) => g * SLATE + i);
    const ideal = dcg(idx.map((i) => labels[i]).sort((a, b) => b - a));
    total += dcg([...idx].sort((a, b) => scores[b] - scores[a]).map((i) => labels[i])) / ideal;
  }
  return total / groups;
}

/** The labels of a training CSV text (first column). */
export function labelsOf(csv: string): number[] {
  return csv
    .trim()
    .split('\n')
    .map((line) => Number(line.split(',')[0]));
}

/** Hyperparameters of the tiny jobs: a model rich enough to give every candidate of a slate its own score. */
export const TINY_JOB_HYPERPARAMETERS = {
  num_features: NUM_FEATURES,
  feature_version: 'fixture-v1',
  num_round: 60,
  max_depth: 4,
  eta: 0.2,
  early_stopping_rounds: 15,
};
