/**
 * The local Athena: DuckDB running the project's own statements — exactly the strings the state machine sends —
 * over the lake files in their real layout (`s3://<bucket>/<prefix>dt=…/hour=…/<file>`), with the Trino bridge of
 * `dialect.ts`. A {@link QueryEngine} of the local world's Athena service.
 *
 * S3 is the world's object store: before a statement, the objects under each table's location are mirrored into a
 * folder (`<root>/<bucket>/<key>`, the same layout); after an `UNLOAD`, the files DuckDB wrote are put back into
 * the store under the destination. With `--out DIR` the folder is kept.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { EventField, EventSchema } from '../../../core/contracts/events';
import type { MemoryObjectStore } from '../../../core/storage/object-store';
import { parseS3Uri } from '../../../core/storage/s3-uri';
import { TaskError } from '../errors';
import type { QueryEngine, QueryOutcome } from '../services/athena';
import type { WorldContext } from '../types';
import { AthenaQueryError, bridgeQuery, copyStatement, DUCKDB_SETTINGS, parseUnload, TRINO_MACROS } from './dialect';

/** A Glue table over lake files. */
export interface LakeTable {
  readonly database: string;
  readonly name: string;
  /** `s3://bucket/prefix/` of the files (partitions `dt=…/hour=…/` below). */
  readonly location: string;
  /** The columns (the Glue table's, from the event schema). */
  readonly schema: EventSchema;
}

/** Options of {@link DuckDbAthena.create}. */
export interface DuckDbAthenaOptions {
  /** Folder mirroring S3 (`<root>/<bucket>/<key>`). */
  readonly root: string;
  readonly tables: readonly LakeTable[];
}

/** What the engine needs of the world's object store. */
export type LakeStore = Pick<MemoryObjectStore, 'get' | 'list' | 'put'>;

/** DuckDB's type of a Glue column. */
export function duckDbType(field: EventField): string {
  switch (field.type) {
    case 'string':
      return 'VARCHAR';
    case 'bigint':
      return 'BIGINT';
    case 'double':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    case 'timestamp':
      return 'TIMESTAMP';
    case 'array<double>':
      return 'DOUBLE[]';
    case 'array<struct>':
      return `STRUCT(${(field.fields ?? []).map((f) => `"${f.name}" ${duckDbType(f)}`).join(', ')})[]`;
  }
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function filesUnder(folder: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(folder);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** DuckDB as the local world's Athena. */
export class DuckDbAthena implements QueryEngine {
  /** Statements run, in order (as received). */
  readonly statements: string[] = [];
  private readonly mirrored = new Map<string, string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    private readonly options: DuckDbAthenaOptions,
  ) {}

  /** Opens an in-memory DuckDB with the Trino macros and the session in UTC. */
  static async create(options: DuckDbAthenaOptions): Promise<DuckDbAthena> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    for (const setting of DUCKDB_SETTINGS) await connection.run(setting);
    for (const macro of TRINO_MACROS) await connection.run(macro);
    for (const database of new Set(options.tables.map((t) => t.database))) {
      await connection.run(`CREATE SCHEMA IF NOT EXISTS "${database}"`);
    }
    mkdirSync(options.root, { recursive: true });
    return new DuckDbAthena(instance, connection, options);
  }

  /** The local folder of an S3 URI. */
  localPath(uri: string): string {
    const { bucket, key } = parseS3Uri(uri);
    return join(this.options.root, bucket, key);
  }

  /** Runs one statement (the world's Athena calls this); failures are the query's failure, as Athena reports it. */
  async execute(query: string, world: WorldContext): Promise<QueryOutcome> {
    this.statements.push(query);
    try {
      return await this.run(query, world.store);
    } catch (e) {
      const error = e as Error;
      const type = e instanceof AthenaQueryError ? e.errorType : 'GENERIC_INTERNAL_ERROR';
      throw new TaskError('Athena.QueryFailed', `${type}: ${error.message.split('\n')[0]}`);
    }
  }

  /** Runs one statement against a store (also usable without a world: tests, tools). */
  async run(query: string, store: LakeStore): Promise<QueryOutcome> {
    await this.mirror(store);
    const unload = parseUnload(query);
    if (!unload) {
      const reader = await this.connection.runAndReadAll(bridgeQuery(query));
      const rows = reader
        .getRowsJson()
        .map((r) => r.map((v) => (v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v))));
      return { rows: [reader.columnNames(), ...rows], summary: `${rows.length} rows` };
    }
    const { bucket, key } = parseS3Uri(unload.target);
    for await (const existing of store.list(bucket, key)) {
      throw new AthenaQueryError(
        'HIVE_PATH_ALREADY_EXISTS',
        `UNLOAD destination ${unload.target} is not empty (${existing}); Athena writes to an empty location only`,
      );
    }
    const folder = this.localPath(unload.target).replace(/\/$/, '');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    const reader = await this.connection.runAndReadAll(copyStatement(unload, folder));
    const written = Number(reader.getRowsJson()[0]?.[0] ?? 0);
    const files = filesUnder(folder).sort();
    for (const file of files) {
      await store.put(bucket, `${key}${relative(folder, file).split('\\').join('/')}`, readFileSync(file));
    }
    return { summary: `UNLOAD ${written} rows (${unload.format}) to ${unload.target} in ${files.length} files` };
  }

  /** Mirrors the tables' objects into the folder and (re)defines their views over the files. */
  private async mirror(store: LakeStore): Promise<void> {
    for (const table of this.options.tables) {
      const { bucket, key } = parseS3Uri(table.location.endsWith('/') ? table.location : `${table.location}/`);
      const files: string[] = [];
      for await (const k of store.list(bucket, key)) {
        const object = await store.get(bucket, k);
        if (!object) continue;
        const path = join(this.options.root, bucket, k);
        files.push(path);
        const tag = object.etag ?? '';
        if (this.mirrored.get(path) === tag && tag !== '') continue;
        const chunks: Buffer[] = [];
        for await (const chunk of object.body) chunks.push(Buffer.from(chunk));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, Buffer.concat(chunks));
        this.mirrored.set(path, tag);
      }
      await this.connection.run(this.viewStatement(table, files));
    }
  }

  private viewStatement(table: LakeTable, files: readonly string[]): string {
    const name = `"${table.database}"."${table.name}"`;
    const columns = table.schema.fields.map((f) => [f.name, duckDbType(f)] as const);
    const data = files.filter((f) => /\.(json|json\.gz|parquet)$/.test(f) && !/\/[._]/.test(f));
    if (data.length === 0) {
      const typed = [...columns, ['dt', 'VARCHAR'], ['hour', 'VARCHAR']]
        .map(([n, t]) => `CAST(NULL AS ${t}) AS "${n}"`)
        .join(', ');
      return `CREATE OR REPLACE VIEW ${name} AS SELECT ${typed} WHERE false`;
    }
    const list = `[${data.map(quote).join(', ')}]`;
    const hive = "hive_partitioning = true, hive_types = {'dt': 'VARCHAR', 'hour': 'VARCHAR'}";
    if (data.every((f) => f.endsWith('.parquet'))) {
      return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_parquet(${list}, ${hive}, union_by_name = true)`;
    }
    const spec = `{${columns.map(([n, t]) => `${quote(n)}: ${quote(t)}`).join(', ')}}`;
    return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM read_json(${list}, format = 'newline_delimited', columns = ${spec}, ${hive})`;
  }

  /** Closes DuckDB. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
