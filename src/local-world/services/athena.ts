/**
 * Athena: `StartQueryExecution` runs the statement on a query engine over the local lake, writes the result CSV
 * where the workgroup would (`<results>/<id>.csv`) and keeps the rows for `GetQueryResults`. The engine is a port:
 * today {@link loopQueryEngine} (the loop's own statements, evaluated in TypeScript); DuckDB over the lake files
 * plugs in here.
 */
import { parseS3Uri } from '../../../core/storage/s3-uri';
import { TaskError } from '../errors';
import type { Json, ServiceHandlers, WorldContext } from '../types';

/** What a query engine returns: rows (header first) for SELECTs, nothing for UNLOAD; a summary for the log. */
export interface QueryOutcome {
  readonly rows?: string[][];
  readonly summary: string;
}

/** Runs one statement over the lake. */
export interface QueryEngine {
  execute(query: string, world: WorldContext): Promise<QueryOutcome>;
}

const csvCell = (v: unknown) => `"${String(v).replace(/"/g, '""')}"`;

/** Options of {@link athenaService}. */
export interface AthenaOptions {
  readonly engine: QueryEngine;
  /** Where results go (the workgroup's output location), e.g. `s3://curated/athena-results/`. */
  readonly resultsUri: string;
}

/** The Athena actions of the loop, and the statements it ran (in order). */
export function athenaService(
  world: WorldContext,
  options: AthenaOptions,
): { handlers: ServiceHandlers; queries: string[] } {
  const queries: string[] = [];
  const results = new Map<string, string[][]>();
  let seq = 0;
  const handlers: ServiceHandlers = {
    startQueryExecution: async (i, ctx) => {
      const query = String(i.QueryString);
      queries.push(query);
      const id = `q-${++seq}-${ctx.state}`;
      const outputLocation = `${options.resultsUri}${id}.csv`;
      const outcome = await options.engine.execute(query, world);
      if (outcome.rows) {
        results.set(id, outcome.rows);
        const { bucket, key } = parseS3Uri(outputLocation);
        await world.store.put(bucket, key, outcome.rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
      }
      world.clock.advance(15_000);
      world.log('athena', `${ctx.state}: ${outcome.summary}`);
      return {
        QueryExecution: {
          QueryExecutionId: id,
          Query: query,
          Status: { State: 'SUCCEEDED' },
          ResultConfiguration: { OutputLocation: outputLocation },
        },
      };
    },
    getQueryResults: (i: Json) => {
      const rows = results.get(String(i.QueryExecutionId));
      if (!rows) throw new TaskError('Athena.InvalidRequestException', `no query ${String(i.QueryExecutionId)}`);
      const max = i.MaxResults === undefined ? rows.length : Number(i.MaxResults);
      return {
        ResultSet: { Rows: rows.slice(0, max).map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })) },
      };
    },
  };
  return { handlers, queries };
}
