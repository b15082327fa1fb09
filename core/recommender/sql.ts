/**
 * The recommender's Athena SQL (Trino dialect), written once: the retraining loop sends exactly these statements
 * (placeholders filled by `States.Format`), the local world runs exactly these strings on DuckDB
 * (`src/local-world/athena/`), and a test compares their columns with the feature contract.
 *
 * | statement                 | what it writes                                                                      |
 * | ------------------------- | ----------------------------------------------------------------------------------- |
 * | {@link coVisitationQuery} | top-N co-visitation neighbours per item (JSON), loaded where the API reads them       |
 * | dataset (slates)          | served slates joined to the interactions they led to: features as served            |
 * | dataset (bootstrap)       | before a first model has served: impressions, features computed point-in-time       |
 *
 * A dataset is three `UNLOAD`s of the same rows: the training channels (`channels/split=train|validation/`,
 * headerless CSV `label,group_id,<features>` as `models/recommender/train.py` reads them), the scoring set (the
 * validation split as `label,group_id,item_id,<features>`, for batch transform and the offline metrics) and the
 * drift baseline sample (the validation features by name, JSON).
 *
 * Rows are (request, shown item). Labels are graded — 0 shown and not engaged, 1 click or view, 2 watch,
 * 3 purchase — the highest interaction with the same `(inference_id, item_id)` within the attribution window.
 * Requests without any positive are dropped (no pair to order); the split is by time (the latest
 * `validationFraction` of requests validate; a request is on one side only); negatives of the training split are
 * downsampled at `negativeSamplingRate` by a hash of `(inference_id, item_id)` (deterministic).
 *
 * No AWS or CDK imports.
 */
import type { EventSchema } from '../contracts/events';
import { FEATURE_NAMES, FEATURE_VERSION, NUM_FEATURES, DEVICES, SURFACES } from './contract';

/** Run-time values of a statement, filled by the state machine (`States.Format`, in order of appearance). */
export type SqlParameter = 'windowStart' | 'windowEnd' | 'datasetId';

/** A statement with named placeholders (`{windowStart}`), and how to turn it into a `States.Format` template. */
export interface Statement {
  /** The SQL with `{name}` placeholders. */
  readonly sql: string;
}

/** The `States.Format` template (`{}` placeholders) and the parameter of each placeholder, in order. */
export function statesFormat(statement: Statement): { template: string; parameters: SqlParameter[] } {
  const parameters: SqlParameter[] = [];
  const template = statement.sql.replace(/\{(windowStart|windowEnd|datasetId)\}/g, (_, name: SqlParameter) => {
    parameters.push(name);
    return '{}';
  });
  // CDK tokens (`${Token[…]}`, e.g. a bucket name) are resolved before States.Format sees the string.
  if (/[{}]/.test(template.replace(/\$\{Token\[[^\]]*\]\}/g, '').replace(/\{\}/g, ''))) {
    throw new Error('a statement may hold no braces besides its placeholders (States.Format would read them)');
  }
  return { template, parameters };
}

/** Fills the placeholders as the state machine does (tests and local tools). */
export function fillStatement(statement: Statement, values: Readonly<Record<SqlParameter, string>>): string {
  return statement.sql.replace(/\{(windowStart|windowEnd|datasetId)\}/g, (_, name: SqlParameter) => values[name]);
}

/** What the statements read and how they build the data. Times are whole minutes, hours or days. */
export interface RecommenderSqlOptions {
  /** The interaction events table, quoted: `"database"."interaction_events"`. */
  readonly events: string;
  /** The served slates table, quoted: `"database"."served_slate_events"`. */
  readonly slates: string;
  /** Where datasets go: `s3://<curated>/datasets/` (the dataset id and a folder are appended). */
  readonly datasetsUri: string;
  /** Bucket of the real-time counters (the sliding popularity window). */
  readonly popularityBucketMinutes: number;
  /** Recent engagements the API reads per user. */
  readonly recentItemsPerUser: number;
  /** How long the feature store keeps a user's engagements. */
  readonly featureTtlHours: number;
  /** An interaction counts for a served item when it follows within this many minutes. @default 30 */
  readonly attributionMinutes?: number;
  /** Share of the latest requests that validate. @default 0.2 */
  readonly validationFraction?: number;
  /** Share of the training split's negatives kept. @default 1 */
  readonly negativeSamplingRate?: number;
  /** Training shards (`shard=<n>/` folders; groups never split): several instances read them by S3 key. @default 1 */
  readonly shards?: number;
  /** Co-visitation: two engagements of a user within this many minutes are a pair. @default 60 */
  readonly coVisitationMinutes?: number;
  /** Co-visitation: days of engagements counted. @default 7 */
  readonly coVisitationDays?: number;
  /** Co-visitation: neighbours kept per item. @default 50 */
  readonly coVisitationNeighbours?: number;
  /** Co-visitation: most recent engagements per user considered (bounds a heavy user's pairs). @default 100 */
  readonly coVisitationItemsPerUser?: number;
  /** Co-visitation: users a pair needs to be kept. @default 2 */
  readonly coVisitationMinUsers?: number;
}

/** The defaults of the optional settings. */
export const SQL_DEFAULTS = {
  attributionMinutes: 30,
  validationFraction: 0.2,
  negativeSamplingRate: 1,
  shards: 1,
  coVisitationMinutes: 60,
  coVisitationDays: 7,
  coVisitationNeighbours: 50,
  coVisitationItemsPerUser: 100,
  coVisitationMinUsers: 2,
} as const;

type Resolved = Required<RecommenderSqlOptions>;

function resolve(o: RecommenderSqlOptions): Resolved {
  const r = { ...SQL_DEFAULTS, ...o };
  const positiveInts: (keyof Resolved)[] = [
    'popularityBucketMinutes',
    'recentItemsPerUser',
    'featureTtlHours',
    'attributionMinutes',
    'shards',
    'coVisitationMinutes',
    'coVisitationDays',
    'coVisitationNeighbours',
    'coVisitationItemsPerUser',
    'coVisitationMinUsers',
  ];
  for (const key of positiveInts) {
    const v = r[key] as number;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${key} must be a positive integer; received ${v}`);
  }
  if (!(r.validationFraction > 0 && r.validationFraction < 1)) {
    throw new Error(`validationFraction must be between 0 and 1 (exclusive); received ${r.validationFraction}`);
  }
  if (!(r.negativeSamplingRate > 0 && r.negativeSamplingRate <= 1)) {
    throw new Error(`negativeSamplingRate must be in (0, 1]; received ${r.negativeSamplingRate}`);
  }
  if (!r.datasetsUri.startsWith('s3://') || !r.datasetsUri.endsWith('/')) {
    throw new Error(`datasetsUri must be an s3:// URI ending with "/"; received "${r.datasetsUri}"`);
  }
  return r;
}

/** The graded label of an interaction type (impressions and unknown types: null). */
export const LABEL_GRADES: Readonly<Record<string, number>> = { click: 1, view: 1, watch: 2, purchase: 3 };

const gradeSql = (column: string) =>
  `CASE ${column} ${Object.entries(LABEL_GRADES)
    .map(([type, grade]) => `WHEN '${type}' THEN ${grade}`)
    .join(' ')} END`;

const codeSql = (column: string, values: readonly string[]) =>
  `CASE ${column} ${values.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE -1 END`;

const WINDOW_START = "from_iso8601_timestamp('{windowStart}')";
const WINDOW_END = "from_iso8601_timestamp('{windowEnd}')";
/** The `dt` partition (a date string) of a timestamp expression, for partition pruning. */
const dtOf = (timestamp: string) => `CAST(CAST(${timestamp} AS date) AS varchar)`;
const dbl = (x: string) => `CAST(${x} AS double)`;

/** The dataset's folder: `s3://<curated>/datasets/<datasetId>/<folder>/`. */
const destination = (o: Resolved, folder: string) => `${o.datasetsUri}{datasetId}/${folder}/`;

/**
 * Co-visitation neighbours of every item, from the engagements of the last `coVisitationDays` days up to the window
 * end: two items are co-visited when a user engaged with both within `coVisitationMinutes`; an item's neighbours are
 * the items co-visited by the most distinct users (at least `coVisitationMinUsers`), at most
 * `coVisitationNeighbours`, strongest first. Written as JSON lines `{item_id, neighbours, strengths}`.
 */
export function coVisitationQuery(options: RecommenderSqlOptions): Statement {
  const o = resolve(options);
  const since = `${WINDOW_END} - INTERVAL '${o.coVisitationDays}' DAY`;
  return {
    sql: `UNLOAD (
WITH engaged AS (
  SELECT user_id, item_id, event_time FROM (
    SELECT user_id, item_id, event_time,
      row_number() OVER (PARTITION BY user_id ORDER BY event_time DESC, event_id DESC) AS recency
    FROM ${o.events}
    WHERE dt >= ${dtOf(since)} AND event_time > ${since} AND event_time <= ${WINDOW_END}
      AND event_type <> 'impression'
  ) WHERE recency <= ${o.coVisitationItemsPerUser}
),
pairs AS (
  SELECT a.item_id, b.item_id AS neighbour_id, count(DISTINCT a.user_id) AS strength
  FROM engaged a JOIN engaged b ON b.user_id = a.user_id AND b.item_id <> a.item_id
    AND b.event_time BETWEEN a.event_time - INTERVAL '${o.coVisitationMinutes}' MINUTE
      AND a.event_time + INTERVAL '${o.coVisitationMinutes}' MINUTE
  GROUP BY a.item_id, b.item_id
),
ranked AS (
  SELECT item_id, neighbour_id, strength,
    row_number() OVER (PARTITION BY item_id ORDER BY strength DESC, neighbour_id) AS rank
  FROM pairs WHERE strength >= ${o.coVisitationMinUsers}
)
SELECT item_id, array_agg(neighbour_id ORDER BY rank) AS neighbours, array_agg(strength ORDER BY rank) AS strengths
FROM ranked WHERE rank <= ${o.coVisitationNeighbours}
GROUP BY item_id
ORDER BY item_id
) TO '${destination(o, 'covisitation')}' WITH (format = 'JSON')`,
  };
}

/**
 * `labelled` from served slates: one row per served item of a slate whose labels have matured (served at least
 * `attributionMinutes` before the window end), deduplicated by inference id (the stream is at-least-once), with the
 * features as served (slates of another feature version, or with vectors of the wrong width, are left out).
 */
function slateRows(o: Resolved): string {
  const features = FEATURE_NAMES.map((name, i) => `features[${i + 1}] AS ${name}`).join(',\n    ');
  return `slates AS (
  SELECT inference_id, event_time, items FROM (
    SELECT inference_id, event_time, items,
      row_number() OVER (PARTITION BY inference_id ORDER BY event_time) AS copy
    FROM ${o.slates}
    WHERE dt >= substr('{windowStart}', 1, 10) AND event_time > ${WINDOW_START}
      AND event_time <= ${WINDOW_END} - INTERVAL '${o.attributionMinutes}' MINUTE
      AND feature_version = ${FEATURE_VERSION}
  ) WHERE copy = 1
),
served AS (
  SELECT s.inference_id, s.event_time, i.item_id, i.features
  FROM slates s
  CROSS JOIN UNNEST(s.items) AS i (item_id, position, score, source, features)
  WHERE cardinality(i.features) = ${NUM_FEATURES}
),
outcomes AS (
  SELECT inference_id, item_id, event_type, event_time FROM ${o.events}
  WHERE dt >= substr('{windowStart}', 1, 10) AND event_time > ${WINDOW_START} AND event_time <= ${WINDOW_END}
    AND inference_id IS NOT NULL AND event_type <> 'impression'
),
graded AS (
  SELECT s.inference_id, s.event_time, s.item_id, arbitrary(s.features) AS features,
    coalesce(max(${gradeSql('o.event_type')}), 0) AS label
  FROM served s LEFT JOIN outcomes o ON o.inference_id = s.inference_id AND o.item_id = s.item_id
    AND o.event_time >= s.event_time - INTERVAL '1' MINUTE
    AND o.event_time <= s.event_time + INTERVAL '${o.attributionMinutes}' MINUTE
  GROUP BY s.inference_id, s.event_time, s.item_id
),
labelled AS (
  SELECT label, inference_id, event_time, item_id,
    ${features}
  FROM graded
)`;
}

/**
 * `labelled` before a first model has served: the impressions of served requests (any ranking, e.g. the popularity
 * fallback) with each contract column computed point-in-time in SQL, from events before the request only:
 *
 * - item: engagements in the last popularity bucket before the request; impressions and clicks since the start of
 *   the previous bucket (what the API reads from its counters);
 * - user: the user's last `recentItemsPerUser` engagements within the feature TTL;
 * - user × item: category matches and repeats among those; co-visitation with them counted over the
 *   `coVisitationDays` days before the request's day (serving reads the neighbour lists of the last co-visitation
 *   job, which ran before the request; top-N truncation is not applied here);
 * - context: the request's time, surface and device.
 */
function bootstrapRows(o: Resolved): string {
  const bucket = o.popularityBucketMinutes * 60;
  const lookbackHours = Math.max(o.featureTtlHours, o.coVisitationDays * 24 + 24);
  const since = `${WINDOW_START} - INTERVAL '${lookbackHours}' HOUR`;
  const requestBucket = `floor(to_unixtime(r.t) / ${bucket}) * ${bucket}`;
  const columns: Record<string, string> = {
    item_popularity: 'ln(1 + coalesce(ip.popularity, 0))',
    item_ctr: `${dbl('coalesce(ip.clicks, 0) + 1')} / (coalesce(ip.impressions, 0) + 20)`,
    item_impressions: 'ln(1 + coalesce(ip.impressions, 0))',
    user_activity: 'ln(1 + up.activity)',
    user_click_share: `CASE WHEN up.activity > 0 THEN ${dbl('up.clicks')} / up.activity ELSE 0 END`,
    covisit_strength: 'ln(1 + coalesce(cv.strength, 0))',
    category_affinity: `CASE WHEN up.activity > 0 THEN ${dbl('coalesce(af.in_category, 0)')} / up.activity ELSE 0 END`,
    user_item_engagements: 'ln(1 + coalesce(af.same_item, 0))',
    hour_of_day: `${dbl('hour(r.t)')} / 23`,
    day_of_week: `${dbl('day_of_week(r.t) - 1')} / 6`,
    surface: codeSql('r.surface', SURFACES),
    device: codeSql('r.device', DEVICES),
  };
  const missing = FEATURE_NAMES.filter((n) => !(n in columns));
  if (missing.length > 0) throw new Error(`the bootstrap dataset has no SQL for ${missing.join(', ')}`);
  const features = FEATURE_NAMES.map((n) => `round(${dbl(columns[n])}, 6) AS ${n}`).join(',\n    ');
  return `events AS (
  SELECT event_id, event_type, user_id, item_id, event_time, surface, device, inference_id, category
  FROM ${o.events}
  WHERE dt >= ${dtOf(since)} AND event_time > ${since} AND event_time <= ${WINDOW_END}
),
engaged AS (SELECT * FROM events WHERE event_type <> 'impression'),
shown AS (
  SELECT inference_id, item_id, min(user_id) AS user_id, min(event_time) AS shown_at, min(category) AS category,
    min(surface) AS surface, min(device) AS device
  FROM events
  WHERE event_type = 'impression' AND inference_id IS NOT NULL AND event_time > ${WINDOW_START}
    AND event_time <= ${WINDOW_END} - INTERVAL '${o.attributionMinutes}' MINUTE
  GROUP BY inference_id, item_id
),
requests AS (
  SELECT inference_id, min(user_id) AS user_id, min(shown_at) AS t, min(surface) AS surface, min(device) AS device
  FROM shown GROUP BY inference_id
),
graded AS (
  SELECT s.inference_id, s.item_id, coalesce(max(${gradeSql('o.event_type')}), 0) AS label
  FROM shown s LEFT JOIN engaged o ON o.inference_id = s.inference_id AND o.item_id = s.item_id
    AND o.event_time >= s.shown_at - INTERVAL '1' MINUTE
    AND o.event_time <= s.shown_at + INTERVAL '${o.attributionMinutes}' MINUTE
  GROUP BY s.inference_id, s.item_id
),
recent AS (
  SELECT inference_id, item_id, event_type, category FROM (
    SELECT r.inference_id, e.item_id, e.event_type, e.category,
      row_number() OVER (PARTITION BY r.inference_id ORDER BY e.event_time DESC, e.event_id DESC) AS recency
    FROM requests r JOIN engaged e ON e.user_id = r.user_id AND e.event_time < r.t
      AND e.event_time >= r.t - INTERVAL '${o.featureTtlHours}' HOUR
  ) WHERE recency <= ${o.recentItemsPerUser}
),
user_part AS (
  SELECT r.inference_id, count(e.item_id) AS activity, count_if(e.event_type = 'click') AS clicks
  FROM requests r LEFT JOIN recent e ON e.inference_id = r.inference_id
  GROUP BY r.inference_id
),
affinity AS (
  SELECT s.inference_id, s.item_id, count_if(e.category = s.category) AS in_category,
    count_if(e.item_id = s.item_id) AS same_item
  FROM shown s JOIN recent e ON e.inference_id = s.inference_id
  GROUP BY s.inference_id, s.item_id
),
pairs AS (
  SELECT a.item_id, b.item_id AS neighbour_id, a.user_id, CAST(greatest(a.event_time, b.event_time) AS date) AS day
  FROM engaged a JOIN engaged b ON b.user_id = a.user_id AND b.item_id <> a.item_id
    AND b.event_time BETWEEN a.event_time - INTERVAL '${o.coVisitationMinutes}' MINUTE
      AND a.event_time + INTERVAL '${o.coVisitationMinutes}' MINUTE
),
covisit AS (
  SELECT inference_id, item_id, sum(strength) AS strength FROM (
    SELECT s.inference_id, s.item_id, ri.item_id AS recent_item, count(DISTINCT p.user_id) AS strength
    FROM shown s
    JOIN requests r ON r.inference_id = s.inference_id
    JOIN (SELECT DISTINCT inference_id, item_id FROM recent) ri ON ri.inference_id = s.inference_id
    JOIN pairs p ON p.item_id = ri.item_id AND p.neighbour_id = s.item_id
      AND p.day < CAST(r.t AS date) AND p.day >= CAST(r.t AS date) - INTERVAL '${o.coVisitationDays}' DAY
    GROUP BY s.inference_id, s.item_id, ri.item_id
    HAVING count(DISTINCT p.user_id) >= ${o.coVisitationMinUsers}
  ) GROUP BY inference_id, item_id
),
item_part AS (
  SELECT s.inference_id, s.item_id,
    count_if(e.event_type <> 'impression' AND e.event_time >= r.t - INTERVAL '${o.popularityBucketMinutes}' MINUTE) AS popularity,
    count_if(e.event_type = 'impression' AND to_unixtime(e.event_time) >= ${requestBucket} - ${bucket}) AS impressions,
    count_if(e.event_type = 'click' AND to_unixtime(e.event_time) >= ${requestBucket} - ${bucket}) AS clicks
  FROM shown s
  JOIN requests r ON r.inference_id = s.inference_id
  LEFT JOIN events e ON e.item_id = s.item_id AND e.event_time < r.t
    AND e.event_time >= r.t - INTERVAL '${2 * o.popularityBucketMinutes}' MINUTE
  GROUP BY s.inference_id, s.item_id
),
labelled AS (
  SELECT g.label, g.inference_id, r.t AS event_time, g.item_id,
    ${features}
  FROM graded g
  JOIN requests r ON r.inference_id = g.inference_id
  JOIN user_part up ON up.inference_id = g.inference_id
  LEFT JOIN item_part ip ON ip.inference_id = g.inference_id AND ip.item_id = g.item_id
  LEFT JOIN affinity af ON af.inference_id = g.inference_id AND af.item_id = g.item_id
  LEFT JOIN covisit cv ON cv.inference_id = g.inference_id AND cv.item_id = g.item_id
)`;
}

/**
 * `rows` from `labelled`: requests with a positive, their group id (unique over both splits), the time-based split
 * and the training split's negative downsampling.
 */
function splitRows(o: Resolved): string {
  const keep = Math.round(o.negativeSamplingRate * 10_000);
  const hash =
    "bitwise_and(from_big_endian_64(xxhash64(to_utf8(concat(l.inference_id, '|', l.item_id)))), 9223372036854775807)";
  const features = FEATURE_NAMES.map((n) => `l.${n}`).join(', ');
  return `requests_with_positive AS (
  SELECT inference_id, max(event_time) AS event_time FROM labelled GROUP BY inference_id HAVING max(label) > 0
),
groups AS (
  SELECT inference_id, dense_rank() OVER (ORDER BY inference_id) AS group_id,
    CASE WHEN percent_rank() OVER (ORDER BY event_time, inference_id) >= ${1 - o.validationFraction}
      THEN 'validation' ELSE 'train' END AS split
  FROM requests_with_positive
),
rows AS (
  SELECT l.label, g.group_id, l.item_id, ${features}, g.split, g.group_id % ${o.shards} AS shard, l.event_time
  FROM labelled l JOIN groups g ON g.inference_id = l.inference_id${
    keep < 10_000
      ? `
  WHERE g.split = 'validation' OR l.label > 0 OR ${hash} % 10000 < ${keep}`
      : ''
  }
)`;
}

/** The time field of the baseline sample: when the request was served (epoch seconds). */
export const BASELINE_TIME_FIELD = 'event_time';

/** The three exports of a dataset. */
export interface DatasetStatements {
  /** Training channels: `channels/split=train/`, `channels/split=validation/` (`shard=<n>/` below with shards). */
  readonly channels: Statement;
  /** The validation split with item ids: `scoring/` (`label,group_id,item_id,<features>`). */
  readonly scoring: Statement;
  /**
   * The validation features by name and the request's time (`event_time`, epoch seconds: the seasonal baseline's
   * time field): `baseline/` (JSON lines).
   */
  readonly baseline: Statement;
}

function datasetStatements(o: Resolved, labelled: string): DatasetStatements {
  const features = FEATURE_NAMES.join(', ');
  const cte = `WITH ${labelled},\n${splitRows(o)}`;
  const partitions = o.shards > 1 ? "ARRAY['split', 'shard']" : "ARRAY['split']";
  // Item ids go into CSV: commas (and the escape character) are percent-encoded.
  const itemId = "replace(replace(item_id, '%', '%25'), ',', '%2C')";
  return {
    channels: {
      sql: `UNLOAD (
${cte}
SELECT label, group_id, ${features}, split${o.shards > 1 ? ', shard' : ''}
FROM rows ORDER BY group_id
) TO '${destination(o, 'channels')}' WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ${partitions})`,
    },
    scoring: {
      sql: `UNLOAD (
${cte}
SELECT label, group_id, ${itemId} AS item_id, ${features}
FROM rows WHERE split = 'validation' ORDER BY group_id
) TO '${destination(o, 'scoring')}' WITH (format = 'TEXTFILE', field_delimiter = ',')`,
    },
    baseline: {
      sql: `UNLOAD (
${cte}
SELECT ${features}, to_unixtime(event_time) AS ${BASELINE_TIME_FIELD}
FROM rows WHERE split = 'validation'
) TO '${destination(o, 'baseline')}' WITH (format = 'JSON')`,
    },
  };
}

/** The dataset from served slates (once a model has served): features exactly as served. */
export function slateDataset(options: RecommenderSqlOptions): DatasetStatements {
  const o = resolve(options);
  return datasetStatements(o, slateRows(o));
}

/** The bootstrap dataset (before a first model has served): features computed point-in-time from the events. */
export function bootstrapDataset(options: RecommenderSqlOptions): DatasetStatements {
  const o = resolve(options);
  return datasetStatements(o, bootstrapRows(o));
}

/**
 * Click-through rate per model version over a window, from served slates and the clicks they led to (offline
 * monitoring; the canary check reads the consumer's real-time counters instead).
 */
export function ctrByModelVersionQuery(options: RecommenderSqlOptions): Statement {
  const o = resolve(options);
  return {
    sql: `WITH served AS (
  SELECT DISTINCT s.inference_id, s.model_version, i.item_id
  FROM ${o.slates} s CROSS JOIN UNNEST(s.items) AS i (item_id, position, score, source, features)
  WHERE dt >= substr('{windowStart}', 1, 10) AND s.event_time > ${WINDOW_START} AND s.event_time <= ${WINDOW_END}
),
clicked AS (
  SELECT DISTINCT inference_id, item_id FROM ${o.events}
  WHERE dt >= substr('{windowStart}', 1, 10) AND event_time > ${WINDOW_START}
    AND event_time <= ${WINDOW_END} + INTERVAL '${o.attributionMinutes}' MINUTE
    AND event_type = 'click' AND inference_id IS NOT NULL
)
SELECT s.model_version, count(*) AS impressions, count(c.item_id) AS clicks
FROM served s LEFT JOIN clicked c ON c.inference_id = s.inference_id AND c.item_id = s.item_id
GROUP BY s.model_version ORDER BY s.model_version`,
  };
}

/** Column names of a statement's outer `SELECT` (the test that compares them with the contract reads these). */
export function selectedColumns(statement: Statement): string[] {
  const sql = statement.sql;
  const start = sql.lastIndexOf('\nSELECT ');
  const end = sql.indexOf('\nFROM ', start);
  if (start < 0 || end < 0) throw new Error('no outer SELECT … FROM found');
  // Split at commas outside parentheses and quotes.
  const columns: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const ch of sql.slice(start + '\nSELECT '.length, end)) {
    if (ch === "'") quoted = !quoted;
    if (!quoted && ch === '(') depth++;
    if (!quoted && ch === ')') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      columns.push(current);
      current = '';
    } else current += ch;
  }
  columns.push(current);
  return columns.map((c) => c.trim()).map((c) => / AS (\w+)$/.exec(c)?.[1] ?? c);
}

// ---------------------------------------------------------------------------------------------------------------
// Legacy (feature version 1): the statements the retraining loop sends until its recommender dataset states use the
// statements above. Kept so the loop synthesizes meanwhile.

/** The label of an interaction: a click, watch or purchase is a positive. */
export const LABEL_COLUMN_SQL = "CASE WHEN event_type IN ('click', 'watch', 'purchase') THEN 1 ELSE 0 END AS label";

/** A stable bucket of the event in [0, 1024): an event never moves between the training and validation splits. */
export const SPLIT_BUCKET_SQL = 'bitwise_and(from_big_endian_64(xxhash64(to_utf8(event_id))), 1023)';

/** Events whose split bucket is below this are the validation split (about 10 %); the others train. */
export const VALIDATION_BUCKETS = 102;

/** Feature columns of the version-1 model, computed in SQL from the interaction events (model input order). */
export function featureColumnsSql(schema: EventSchema): string[] {
  const code = (field: string) => {
    const values = schema.fields.find((f) => f.name === field)?.values ?? [];
    if (values.length === 0) throw new Error(`event schema ${schema.name} has no closed value set for ${field}`);
    return `CASE ${field} ${values.map((v, i) => `WHEN '${v}' THEN ${i}`).join(' ')} ELSE -1 END AS ${field}_code`;
  };
  return [
    'coalesce(position, -1) AS position',
    code('surface'),
    code('device'),
    'hour(event_time) AS hour_of_day',
    'day_of_week(event_time) AS day_of_week',
  ];
}

/** Where and what the version-1 dataset statements read and write. */
export interface DatasetQueryOptions {
  readonly schema: EventSchema;
  readonly table: string;
  readonly inWindow: string;
  readonly destination: string;
}

/** The four exports of a version-1 dataset. */
export interface DatasetQueries {
  readonly train: string;
  readonly validation: string;
  readonly baseline: string;
  readonly scoring: string;
}

/** The `UNLOAD` statements of a version-1 dataset. */
export function datasetQueries(o: DatasetQueryOptions): DatasetQueries {
  const features = featureColumnsSql(o.schema);
  const labelled = `${LABEL_COLUMN_SQL}, ${features.join(', ')}`;
  const baselineColumns = features.map((f, i) => `${f.replace(/ AS \w+$/, '')} AS f${i}`).join(', ');
  const train = `${SPLIT_BUCKET_SQL} >= ${VALIDATION_BUCKETS}`;
  const validation = `${SPLIT_BUCKET_SQL} < ${VALIDATION_BUCKETS}`;
  const unload = (columns: string, split: string, folder: string, format: string) =>
    `UNLOAD (SELECT ${columns} FROM ${o.table} WHERE ${o.inWindow} AND ${split}) TO '${o.destination}${folder}/' WITH (${format})`;
  return {
    train: unload(labelled, train, 'train', "format = 'PARQUET'"),
    validation: unload(labelled, validation, 'validation', "format = 'PARQUET'"),
    baseline: unload(baselineColumns, validation, 'baseline', "format = 'JSON'"),
    scoring: unload(labelled, validation, 'scoring', "format = 'TEXTFILE', field_delimiter = ','"),
  };
}
