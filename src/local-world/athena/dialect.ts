/**
 * The Trino-to-DuckDB bridge of the local Athena, in one place. The project's statements are written for Athena
 * (engine version 3, Trino); DuckDB runs them after exactly these changes, and nothing else is rewritten:
 *
 * | Trino (Athena)                                         | DuckDB                                                        |
 * | ------------------------------------------------------ | ------------------------------------------------------------- |
 * | `from_iso8601_timestamp(s)` (timestamp with time zone)  | macro: `CAST(CAST(s AS TIMESTAMPTZ) AS TIMESTAMP)`, session in UTC |
 * | `to_unixtime(t)`                                       | macro: `epoch(t)`                                             |
 * | `day_of_week(t)` (ISO, Monday = 1)                     | macro: `isodow(t)`                                            |
 * | `cardinality(array)`                                   | macro: `len(array)`                                           |
 * | `to_utf8(s)`, `xxhash64(b)`, `from_big_endian_64(b)`   | macros: `s`, `hash(s)`, `hash % (2^63 - 1)` — a deterministic 64-bit hash, **not** the same values as Athena's xxhash64 (sampling keeps the same rate, picks other rows) |
 * | `bitwise_and(a, b)`                                    | macro: `(a & b)`                                              |
 * | `to_iso8601(t)` (a timestamp without zone: no offset)   | macro: `strftime(t, '%Y-%m-%dT%H:%M:%S.%g')` (milliseconds, as Athena's timestamp(3)) |
 * | `CAST(x AS JSON)` (a varchar becomes a JSON string, an array a JSON array) | `to_json(x)` (DuckDB's cast would parse the varchar as JSON) |
 * | `json_format(j)`                                       | macro: `CAST(j AS VARCHAR)`                                   |
 * | `CROSS JOIN UNNEST(array_of_rows) AS t (c1, c2, …)` (rows expand into columns) | `CROSS JOIN (SELECT unnest(u) FROM (SELECT unnest(array_of_rows) AS u)) AS t (c1, c2, …)` |
 * | `UNLOAD (query) TO 's3://b/p/' WITH (format = …, field_delimiter = …, partitioned_by = ARRAY[…])` | `COPY (query) TO '<root>/b/p/…' (FORMAT …, PARTITION_BY (…))`; TEXTFILE is gzip CSV without header, as Athena writes it; the destination must be empty, as Athena requires |
 *
 * Functions both engines share under the same name and meaning need nothing: `row_number`, `dense_rank`,
 * `percent_rank`, `count_if`, `arbitrary`, `array_agg(x ORDER BY y)`, `date_diff`, `hour`, `ln`, `round`,
 * `greatest`, `replace`, `concat`, `substr`, `coalesce`, `INTERVAL 'n' MINUTE|HOUR|DAY`, casts to `date`,
 * `varchar` and `double`, 1-based array subscripts.
 */

/**
 * Settings of the DuckDB session, besides UTC. DuckDB 1.5.6's `top_n_window_elimination` optimizer (which turns
 * `row_number() … WHERE rn <= n` into a top-n) fails with "Failed to cast expression to type" — or aborts the
 * process — on these statements' deduplication and recency windows over list-of-struct columns; it is an
 * optimization only, so it is off.
 */
export const DUCKDB_SETTINGS: readonly string[] = [
  "SET disabled_optimizers = 'top_n_window_elimination'",
  // One thread: rows reach the files in one order, so a seeded local run trains the same model every time
  // (Athena promises no order either; the training script's contract does not depend on it).
  'SET threads = 1',
];

/** The macros that give DuckDB the Trino functions the statements use. */
export const TRINO_MACROS: readonly string[] = [
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(CAST(s AS TIMESTAMPTZ) AS TIMESTAMP)',
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE MACRO day_of_week(t) AS isodow(t)',
  'CREATE OR REPLACE MACRO cardinality(x) AS len(x)',
  'CREATE OR REPLACE MACRO to_utf8(s) AS s',
  'CREATE OR REPLACE MACRO xxhash64(s) AS hash(s)',
  'CREATE OR REPLACE MACRO from_big_endian_64(h) AS CAST(h % 9223372036854775807 AS BIGINT)',
  'CREATE OR REPLACE MACRO bitwise_and(a, b) AS (a & b)',
  "CREATE OR REPLACE MACRO to_iso8601(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%g')",
  'CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)',
];

/** An Athena `UNLOAD`, taken apart. */
export interface Unload {
  /** The query between `UNLOAD (` and `) TO`. */
  readonly query: string;
  /** The destination, an `s3://` folder. */
  readonly target: string;
  /** `format`: `TEXTFILE`, `JSON`, `PARQUET`, … */
  readonly format: string;
  readonly fieldDelimiter: string;
  readonly partitionedBy: readonly string[];
  /** `compression` (Athena's default for TEXTFILE and JSON is gzip). */
  readonly compression: string;
}

/** An error Athena itself would raise (the local world reports it as the query's failure). */
export class AthenaQueryError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = 'AthenaQueryError';
  }
}

/** Takes an `UNLOAD` statement apart; undefined for any other statement. */
export function parseUnload(statement: string): Unload | undefined {
  const text = statement.trim();
  if (!/^UNLOAD\s*\(/i.test(text)) return undefined;
  const to = /\)\s*TO\s*'(s3:\/\/[^']+)'\s*WITH\s*\((.*)\)\s*;?$/is.exec(text);
  if (!to) throw new AthenaQueryError('SYNTAX_ERROR', "UNLOAD needs `) TO 's3://…' WITH (format = …)`");
  const query = text.slice(text.indexOf('(') + 1, to.index).trim();
  const props = new Map<string, string | string[]>();
  for (const m of to[2].matchAll(/(\w+)\s*=\s*(?:'([^']*)'|ARRAY\s*\[([^\]]*)\])/gi)) {
    props.set(m[1].toLowerCase(), m[2] !== undefined ? m[2] : [...m[3].matchAll(/'([^']*)'/g)].map((x) => x[1]));
  }
  const format = String(props.get('format') ?? '').toUpperCase();
  if (!format) throw new AthenaQueryError('SYNTAX_ERROR', 'UNLOAD needs a format');
  const target = to[1].endsWith('/') ? to[1] : `${to[1]}/`;
  return {
    query,
    target,
    format,
    fieldDelimiter: String(props.get('field_delimiter') ?? '\u0001'),
    partitionedBy: (props.get('partitioned_by') as string[] | undefined) ?? [],
    compression: String(props.get('compression') ?? (format === 'PARQUET' ? 'SNAPPY' : 'GZIP')).toUpperCase(),
  };
}

/** `CROSS JOIN UNNEST(x) AS t (a, b)`: Trino expands rows into the named columns; DuckDB unnests the struct. */
export function bridgeUnnest(sql: string): string {
  return sql.replace(
    /CROSS JOIN UNNEST\(([^()]+)\)\s+AS\s+(\w+)\s*\(([^)]*)\)/gi,
    (_, array: string, alias: string, columns: string) =>
      `CROSS JOIN (SELECT unnest(u) FROM (SELECT unnest(${array}) AS u)) AS ${alias} (${columns})`,
  );
}

/**
 * `CAST(x AS JSON)`: Trino turns a varchar into a JSON string and an array into a JSON array; DuckDB's cast would
 * parse the varchar as JSON text, its `to_json(x)` converts as Trino does. Parentheses inside `x` are balanced.
 */
export function bridgeJsonCasts(sql: string): string {
  let out = '';
  let from = 0;
  for (let at = sql.search(/\bCAST\s*\(/i); at >= 0;) {
    const open = sql.indexOf('(', at);
    let depth = 0;
    let quoted = false;
    let close = -1;
    for (let i = open; i < sql.length; i++) {
      const ch = sql[i];
      if (ch === "'") quoted = !quoted;
      if (quoted) continue;
      if (ch === '(') depth++;
      if (ch === ')' && --depth === 0) {
        close = i;
        break;
      }
    }
    if (close < 0) break;
    const inner = sql.slice(open + 1, close);
    const json = /^([\s\S]*)\s+AS\s+JSON\s*$/i.exec(inner);
    if (json) {
      out += `${sql.slice(from, at)}to_json(${bridgeJsonCasts(json[1])})`;
      from = close + 1;
    }
    const next = sql.slice(json ? close + 1 : open + 1).search(/\bCAST\s*\(/i);
    at = next < 0 ? -1 : next + (json ? close + 1 : open + 1);
  }
  return out + sql.slice(from);
}

/** Every rewrite of a statement's query: UNNEST of rows, then JSON casts. */
export function bridgeQuery(sql: string): string {
  return bridgeJsonCasts(bridgeUnnest(sql));
}

/** The DuckDB `COPY` of an unload into a local folder. */
export function copyStatement(unload: Unload, folder: string): string {
  const options: string[] = [];
  const compressed = unload.compression !== 'NONE';
  switch (unload.format) {
    case 'TEXTFILE':
      options.push('FORMAT CSV', 'HEADER false', `DELIMITER '${unload.fieldDelimiter.replace(/'/g, "''")}'`);
      options.push("QUOTE ''", "ESCAPE ''");
      if (compressed) options.push('COMPRESSION gzip');
      break;
    case 'JSON':
      options.push('FORMAT JSON');
      if (compressed) options.push('COMPRESSION gzip');
      break;
    case 'PARQUET':
      options.push('FORMAT PARQUET');
      break;
    default:
      throw new AthenaQueryError(
        'NOT_SUPPORTED',
        `the local Athena writes TEXTFILE, JSON and PARQUET; received ${unload.format}`,
      );
  }
  const extension = { TEXTFILE: 'csv', JSON: 'json', PARQUET: 'parquet' }[unload.format] as string;
  const suffix = compressed && unload.format !== 'PARQUET' ? `${extension}.gz` : extension;
  if (unload.partitionedBy.length > 0) {
    options.push(`PARTITION_BY (${unload.partitionedBy.join(', ')})`, "FILENAME_PATTERN 'part-{i}'");
    return `COPY (${bridgeQuery(unload.query)}) TO '${folder}' (${options.join(', ')})`;
  }
  return `COPY (${bridgeQuery(unload.query)}) TO '${folder}/part-00000.${suffix}' (${options.join(', ')})`;
}
