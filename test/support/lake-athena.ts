/**
 * The local Athena over the recommender's two lake tables (`db.interaction_events` under `s3://raw/events/`,
 * `db.served_slate_events` under `s3://raw/slates/`), created before a file's tests and removed after them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INTERACTION_EVENT_SCHEMA, SERVED_SLATE_SCHEMA } from '../../core/contracts/events';
import { DuckDbAthena } from '../../src/local-world/athena/engine';

/** Registers `beforeAll`/`afterAll` for the file; the engine is available from the first test on. */
export function recommenderLakeAthena(prefix: string): () => DuckDbAthena {
  let root: string | undefined;
  let athena: DuckDbAthena | undefined;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), prefix));
    athena = await DuckDbAthena.create({
      root,
      tables: [
        { database: 'db', name: 'interaction_events', location: 's3://raw/events/', schema: INTERACTION_EVENT_SCHEMA },
        { database: 'db', name: 'served_slate_events', location: 's3://raw/slates/', schema: SERVED_SLATE_SCHEMA },
      ],
    });
  });
  afterAll(() => {
    athena?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  return () => {
    if (!athena) throw new Error('the local Athena is created in beforeAll: use it inside a test');
    return athena;
  };
}
