/**
 * The recommender's SQL: its columns are the feature contract's, in order, for both datasets; the statements are
 * valid `States.Format` templates; settings are validated. (DuckDB runs them in test/local-world/.)
 */
import { FEATURE_NAMES } from '../../../core/recommender/contract';
import {
  bootstrapDataset,
  coVisitationQuery,
  fillStatement,
  selectedColumns,
  slateDataset,
  statesFormat,
  type RecommenderSqlOptions,
} from '../../../core/recommender/sql';

const OPTIONS: RecommenderSqlOptions = {
  events: '"db"."interaction_events"',
  slates: '"db"."served_slate_events"',
  datasetsUri: 's3://curated/datasets/',
  popularityBucketMinutes: 15,
  recentItemsPerUser: 20,
  featureTtlHours: 48,
};

describe.each([
  ['served slates', slateDataset],
  ['bootstrap', bootstrapDataset],
])('%s dataset', (_name, build) => {
  const statements = build(OPTIONS);

  test('the training channels are label, group id and the contract’s features in contract order (split partitions)', () => {
    expect(selectedColumns(statements.channels)).toEqual(['label', 'group_id', ...FEATURE_NAMES, 'split']);
    expect(statements.channels.sql).toMatch(/partitioned_by = ARRAY\['split'\]\)$/);
  });

  test('the scoring set adds the item id; the baseline sample is the features by name and the serving time', () => {
    expect(selectedColumns(statements.scoring)).toEqual(['label', 'group_id', 'item_id', ...FEATURE_NAMES]);
    expect(selectedColumns(statements.baseline)).toEqual([...FEATURE_NAMES, 'event_time']);
    expect(statements.scoring.sql).toMatch(/WHERE split = 'validation'/);
  });

  test('requests without a positive are dropped; the split is by time; group ids span both splits', () => {
    expect(statements.channels.sql).toMatch(/HAVING max\(label\) > 0/);
    expect(statements.channels.sql).toMatch(/percent_rank\(\) OVER \(ORDER BY event_time, inference_id\) >= 0\.8/);
    expect(statements.channels.sql).toMatch(/dense_rank\(\) OVER \(ORDER BY inference_id\) AS group_id/);
  });

  test('a States.Format template: placeholders in order, no other braces', () => {
    const { template, parameters } = statesFormat(statements.channels);
    expect(template).not.toMatch(/\{(windowStart|windowEnd|datasetId)\}/);
    expect(parameters.filter((p) => p === 'datasetId')).toHaveLength(1);
    expect(parameters[parameters.length - 1]).toBe('datasetId');
    expect(template.split('{}').length - 1).toBe(parameters.length);
  });
});

test('negative downsampling applies to the training split only, by a hash, at the recorded rate', () => {
  const full = slateDataset(OPTIONS).channels.sql;
  expect(full).not.toMatch(/xxhash64/);
  const sampled = slateDataset({ ...OPTIONS, negativeSamplingRate: 0.25 }).channels.sql;
  expect(sampled).toMatch(/WHERE g\.split = 'validation' OR l\.label > 0 OR .*xxhash64.* % 10000 < 2500/);
});

test('shards partition the channels by group (a group never spans shards)', () => {
  const sql = slateDataset({ ...OPTIONS, shards: 4 }).channels.sql;
  expect(sql).toMatch(/g\.group_id % 4 AS shard/);
  expect(sql).toMatch(/partitioned_by = ARRAY\['split', 'shard'\]/);
  expect(selectedColumns(slateDataset({ ...OPTIONS, shards: 4 }).channels).slice(-2)).toEqual(['split', 'shard']);
});

test('served slates: deduplicated, matured, of the contract’s version and width; labels within the attribution window', () => {
  const sql = slateDataset({ ...OPTIONS, attributionMinutes: 20 }).channels.sql;
  expect(sql).toMatch(/row_number\(\) OVER \(PARTITION BY inference_id ORDER BY event_time\) AS copy/);
  expect(sql).toMatch(/event_time <= from_iso8601_timestamp\('\{windowEnd\}'\) - INTERVAL '20' MINUTE/);
  expect(sql).toMatch(/feature_version = 2/);
  expect(sql).toMatch(/cardinality\(i\.features\) = 12/);
  expect(sql).toMatch(/WHEN 'purchase' THEN 3/);
});

test('co-visitation: top-N neighbours per item with a user minimum, as JSON arrays', () => {
  const statement = coVisitationQuery({ ...OPTIONS, coVisitationNeighbours: 30, coVisitationMinUsers: 3 });
  expect(statement.sql).toMatch(/WHERE rank <= 30/);
  expect(statement.sql).toMatch(/WHERE strength >= 3/);
  expect(selectedColumns(statement)).toEqual(['item_id', 'neighbours', 'strengths']);
  expect(fillStatement(statement, { windowStart: 'a', windowEnd: '2026-11-23T10:00:00Z', datasetId: 'd1' })).toMatch(
    /TO 's3:\/\/curated\/datasets\/d1\/covisitation\/'/,
  );
});

test.each([
  [{ validationFraction: 1 }, /validationFraction must be between 0 and 1/],
  [{ negativeSamplingRate: 0 }, /negativeSamplingRate must be in \(0, 1\]/],
  [{ attributionMinutes: 2.5 }, /attributionMinutes must be a positive integer; received 2.5/],
  [{ datasetsUri: 'curated/datasets' }, /datasetsUri must be an s3:\/\/ URI ending with "\/"/],
])('bad settings fail with the setting named: %p', (override, message) => {
  expect(() => slateDataset({ ...OPTIONS, ...override })).toThrow(message);
});

test('a statement with a stray brace cannot become a States.Format template', () => {
  expect(() => statesFormat({ sql: "SELECT '{x}'" })).toThrow(/no braces besides its placeholders/);
});
