import { parseReviewRequest } from '../../../core/review/request';
import {
  auditDraw,
  isAuditSample,
  selectForReview,
  type ActiveLearningPolicy,
} from '../../../core/vision/active-learning';
import {
  parsePredictionLogLine,
  predictionLogKey,
  predictionLogRecord,
  readDayLog,
  type PredictionLogRecord,
} from '../../../core/vision/prediction-log';
import { parseModelAnswer } from '../../../core/vision/prediction';
import { MemoryObjectStore } from '../../../core/storage/object-store';
import { createRng } from '../../../core/drift/stats';

const POLICY: ActiveLearningPolicy = { dailyBudget: 10, auditShare: 0.02, auditSalt: 'audit-v1', method: 'margin' };
const AT = new Date('2026-11-23T10:00:00.000Z');

/** A day's predictions: seeded random probability vectors over three classes. */
function day(n: number, seed = 1): PredictionLogRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const raw = [rng.nextFloat() * 3, rng.nextFloat(), rng.nextFloat()];
    const sum = raw.reduce((a, b) => a + b, 0);
    return predictionLogRecord(
      { predictedClass: 0, confidence: 0, probabilities: raw.map((v) => v / sum) },
      {
        inferenceId: `e-${String(i).padStart(5, '0')}`,
        imageKey: `images/cam/${i}.png`,
        contentType: 'image/png',
        sizeBytes: 100 + i,
        predictedAt: AT,
        classes: ['circle', 'square', 'triangle'],
      },
    );
  });
}

describe('audit draw', () => {
  test('is uniform: about 2% of 20,000 inference ids, and the same id always draws the same', () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `inference-${i}`);
    const drawn = ids.filter((id) => isAuditSample(id, 0.02, 'audit-v1')).length;
    // Binomial(20000, 0.02): mean 400, sd 19.8; ±4 sd.
    expect(drawn).toBeGreaterThan(320);
    expect(drawn).toBeLessThan(480);
    expect(auditDraw('inference-7', 'audit-v1')).toBe(auditDraw('inference-7', 'audit-v1'));
    expect(auditDraw('inference-7', 'audit-v2')).not.toBe(auditDraw('inference-7', 'audit-v1'));
  });

  test('a share of 0 draws nothing', () => {
    expect(isAuditSample('x', 0, 's')).toBe(false);
  });
});

describe('selectForReview', () => {
  test('the audit draw plus the most uncertain of the rest up to the budget, in the review queue format', () => {
    const records = day(2000);
    const sel = selectForReview(records, POLICY);
    const audit = sel.requests.filter((r) => r.reason === 'audit');
    const uncertain = sel.requests.filter((r) => r.reason === 'uncertain');
    expect(sel.considered).toBe(2000);
    expect(audit.length).toBe(sel.audit);
    expect(audit.length).toBe(records.filter((r) => isAuditSample(r.inference_id, 0.02, 'audit-v1')).length);
    expect(audit.length).toBeGreaterThan(20);
    expect(uncertain.length).toBe(10);
    expect(sel.overBudget).toBe(2000 - audit.length - 10);
    // The uncertain ones are the ten largest margins among the non-audit predictions, most uncertain first.
    const rest = records
      .filter((r) => !isAuditSample(r.inference_id, 0.02, 'audit-v1'))
      .map((r) => r.margin!)
      .sort((a, b) => b - a);
    expect(uncertain.map((r) => r.uncertainty)).toEqual(rest.slice(0, 10));
    // Every request passes the review queue's own parser unchanged (apart from topK order, already sorted).
    for (const request of sel.requests) {
      expect(parseReviewRequest(JSON.parse(JSON.stringify(request)), 'images/')).toEqual(request);
      expect(request.topK.length).toBe(3);
    }
  });

  test('the audit is independent of confidence: its mean margin matches the population, the uncertain set does not', () => {
    const records = day(5000, 3);
    const sel = selectForReview(records, { ...POLICY, auditShare: 0.1 });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const population = mean(records.map((r) => r.margin!));
    const audit = mean(sel.requests.filter((r) => r.reason === 'audit').map((r) => r.uncertainty!));
    const uncertain = mean(sel.requests.filter((r) => r.reason === 'uncertain').map((r) => r.uncertainty!));
    expect(Math.abs(audit - population)).toBeLessThan(0.03);
    expect(uncertain).toBeGreaterThan(population + 0.2);
  });

  test('entropy ranks by entropy; deterministic; duplicates count once; labelled images are not sent as uncertain', () => {
    const records = day(300, 5);
    const sel = selectForReview([...records, ...records], { ...POLICY, method: 'entropy', auditShare: 0 });
    expect(sel.considered).toBe(300);
    const top = [...records].sort((a, b) => b.entropy! - a.entropy!)[0];
    expect(sel.requests[0].inferenceId).toBe(top.inference_id);
    expect(sel.requests[0].uncertainty).toBe(top.entropy);
    expect(selectForReview(records, { ...POLICY, method: 'entropy', auditShare: 0 })).toEqual(sel);
    const without = selectForReview(records, { ...POLICY, method: 'entropy', auditShare: 0 }, new Set([top.image_key]));
    expect(without.requests.map((r) => r.imageKey)).not.toContain(top.image_key);
    expect(without.requests.length).toBe(10);
  });

  test('a budget of 0 sends only the audit; minUncertainty leaves the budget unspent', () => {
    const records = day(500, 2);
    expect(selectForReview(records, { ...POLICY, dailyBudget: 0 }).uncertain).toBe(0);
    const strict = selectForReview(records, { ...POLICY, auditShare: 0, minUncertainty: 0.999 });
    expect(strict.requests).toEqual([]);
  });

  test('bad policy: one clear error', () => {
    expect(() => selectForReview([], { ...POLICY, dailyBudget: -1 })).toThrow(
      'dailyBudget must be a non-negative integer; received -1',
    );
    expect(() => selectForReview([], { ...POLICY, auditShare: 1 })).toThrow('auditShare must be in [0, 1); received 1');
    expect(() => selectForReview([], { ...POLICY, method: 'least' as 'margin' })).toThrow(
      'method must be one of margin, entropy; received least',
    );
  });
});

describe('prediction log', () => {
  test('a model answer becomes a record with top 3 classes and both uncertainty scores; it round-trips', () => {
    const answer = parseModelAnswer(
      JSON.stringify({
        label: 'square',
        probabilities: [0.1, 0.6, 0.25, 0.05],
        top_k: [
          { label: 'square', probability: 0.6 },
          { label: 'triangle', probability: 0.25 },
          { label: 'circle', probability: 0.1 },
          { label: 'star', probability: 0.05 },
        ],
        embedding: [0.5, -0.5],
      }),
    );
    const record = predictionLogRecord(answer, {
      inferenceId: 'e-1',
      imageKey: 'images/a.png',
      contentType: 'image/png',
      sizeBytes: 321,
      predictedAt: AT,
    });
    expect(record).toEqual({
      inference_id: 'e-1',
      image_key: 'images/a.png',
      content_type: 'image/png',
      size_bytes: 321,
      predicted_at: '2026-11-23T10:00:00.000Z',
      top_k: [
        { label: 'square', confidence: 0.6 },
        { label: 'triangle', confidence: 0.25 },
        { label: 'circle', confidence: 0.1 },
      ],
      margin: 0.65,
      entropy: record.entropy,
    });
    expect(record.entropy).toBeGreaterThan(0.5);
    expect(parsePredictionLogLine(JSON.stringify(record))).toEqual(record);
  });

  test("the answer's model_version is logged and read back; a malformed one is dropped, a logged one checked", () => {
    const ctx = { inferenceId: 'e-1', imageKey: 'images/a.png', contentType: 'image/png' as const, sizeBytes: 3 };
    const body = (v: unknown) => JSON.stringify({ label: 'a', probabilities: [0.7, 0.3], model_version: v });
    const answer = parseModelAnswer(body('vision-train-2026-11-20-01-02-03-456'));
    expect(answer.modelVersion).toBe('vision-train-2026-11-20-01-02-03-456');
    const record = predictionLogRecord(answer, { ...ctx, predictedAt: AT });
    expect(record.model_version).toBe('vision-train-2026-11-20-01-02-03-456');
    expect(parsePredictionLogLine(JSON.stringify(record))).toEqual(record);
    const [request] = selectForReview([record], { ...POLICY, auditShare: 0.999999 }).requests;
    expect(request.modelVersion).toBe('vision-train-2026-11-20-01-02-03-456');
    expect(parseReviewRequest(JSON.parse(JSON.stringify(request)), 'images/')).toEqual(request);
    for (const bad of [null, '', 42, 'has space', '-leading', 'x'.repeat(129)]) {
      const parsed = parseModelAnswer(body(bad));
      expect(parsed).not.toHaveProperty('modelVersion');
      expect(predictionLogRecord(parsed, { ...ctx, predictedAt: AT })).not.toHaveProperty('model_version');
    }
    expect(() => parsePredictionLogLine(JSON.stringify({ ...record, model_version: 'has space' }))).toThrow(
      /^prediction log line: model_version: /,
    );
  });

  test('without top_k, classes are named from the class map (or by index)', () => {
    const answer = { predictedClass: 1, confidence: 0.7, probabilities: [0.2, 0.7, 0.1] };
    const ctx = { inferenceId: 'i', imageKey: 'images/x.png', contentType: 'image/png' as const, sizeBytes: 1 };
    expect(
      predictionLogRecord(answer, { ...ctx, predictedAt: AT, classes: ['a', 'b', 'c'] }).top_k.map((c) => c.label),
    ).toEqual(['b', 'a', 'c']);
    expect(predictionLogRecord(answer, { ...ctx, predictedAt: AT }).top_k.map((c) => c.label)).toEqual(['1', '0', '2']);
    // Only a class and a confidence: no uncertainty score (never sent as uncertain, still drawn for the audit).
    const bare = predictionLogRecord({ predictedClass: 2, confidence: 0.4 }, { ...ctx, predictedAt: AT });
    expect(bare).toMatchObject({ margin: null, entropy: null, top_k: [{ label: '2', confidence: 0.4 }] });
  });

  test('reads a day; a bad line is reported with its place and skipped', async () => {
    const store = new MemoryObjectStore();
    const records = day(5);
    const key = predictionLogKey('vision/predictions/', 'ep', AT, 'shard-1/0001');
    expect(key).toBe('vision/predictions/ep/dt=2026-11-23/shard-1_0001.jsonl');
    await store.put('b', key, [...records.map((r) => JSON.stringify(r)), '{"inference_id": 3}', ''].join('\n'));
    await store.put('b', 'vision/predictions/ep/dt=2026-11-24/x.jsonl', JSON.stringify(records[0]));
    const log = await readDayLog(store, 'b', 'vision/predictions/', 'ep', '2026-11-23');
    expect(log.records).toEqual(records);
    expect(log.invalid).toEqual([
      { key, line: 6, reason: expect.stringMatching(/^prediction log line: inference_id: /) },
    ]);
    await expect(readDayLog(store, 'b', 'vision/predictions/', 'ep', '23/11/2026')).rejects.toThrow(
      'day must be yyyy-mm-dd; received "23/11/2026"',
    );
  });
});
