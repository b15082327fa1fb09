/**
 * `npm run review -- --dir <dir> [--bucket <name>] [--port <n>]`: the reviewers' page on this machine, over the
 * files kept by `npm run simulate -- --out <dir>` (see src/review/server.ts).
 */
import '../simulate/polyfill';
import { CliError, parseFlags, runCli } from '../cli/common';
import { REQUESTS_FILE, SeedError } from './seed';
import { startReviewServer } from './server';

export const USAGE = `usage: npm run review -- --dir <dir> [--bucket <name>] [--port <n>]
Serves the reviewers' page and the review API on 127.0.0.1 over a local folder: images from <dir>/s3/<bucket>/images/,
review requests from <dir>/${REQUESTS_FILE} (the demo set is written there when the file is missing), label events
delivered to <dir>/s3/<bucket>/events/dt=<day>/hour=<hour>/. Sign-in is stubbed: open the printed address with
?reviewer=<name>; no password is checked.`;

/** The flags, each with what --help says about it. */
export const FLAGS = {
  dir: {
    type: 'string',
    placeholder: '<dir>',
    description: 'folder of the local world, e.g. the one kept by npm run simulate -- --out <dir> (required)',
  },
  bucket: {
    type: 'string',
    placeholder: '<name>',
    description: "the raw bucket's folder under <dir>/s3/ (default: the one holding images/, else local-raw)",
  },
  port: { type: 'string', placeholder: '<n>', description: 'port on 127.0.0.1 (default 8014; 0 picks a free one)' },
} as const;

/** Parses the flags and starts the server (it runs until the process stops); --help is the shared one (runCli). */
export async function main(
  argv: readonly string[],
  print: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
) {
  const flags = parseFlags(argv, FLAGS, USAGE);
  if (!flags.dir) throw new CliError(`--dir is required\n${USAGE}`);
  let port = 8014;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535) {
      throw new CliError(`--port must be an integer between 0 and 65535; received "${flags.port}"\n${USAGE}`);
    }
  }
  let server;
  try {
    server = await startReviewServer({ dir: flags.dir, bucket: flags.bucket, port });
  } catch (e) {
    if (e instanceof SeedError) throw new CliError(e.message);
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`port ${port} on 127.0.0.1 is in use: choose another with --port`);
    }
    throw e;
  }
  const s = server.seed;
  print(
    `review queue: ${s.queued} items queued from ${s.requestsFile}${s.demo ? ' (the demo set, written now: the folder had no review requests)' : ''}` +
      `${s.conflicts > 0 ? `, including ${s.conflicts} label conflicts from the lake` : ''}` +
      `${s.alreadyDecided > 0 ? `; ${s.alreadyDecided} already labelled` : ''}` +
      `${s.missingImages > 0 ? `; ${s.missingImages} skipped (image not in s3/${server.bucket}/)` : ''}`,
  );
  print(`label events go to ${server.lake.eventsDir}`);
  print(`open ${server.url}/?reviewer=alice (sign-in is stubbed locally); Ctrl+C stops`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}

if (require.main === module) runCli('review', () => main(process.argv.slice(2)));
