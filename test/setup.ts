// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22+): the local world's polyfill.
import '../src/local-world/polyfill';

// Powertools in the handlers under test would print its JSON log lines and "No application metrics to publish"
// warnings into the test output. Logger: silent unless a test sets a level. Metrics writes that warning through
// its own Console straight to stderr, so exactly that line is dropped (everything else still goes through).
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
{
  const POWERTOOLS_EMPTY_METRICS = /^No application metrics to publish\. /;
  const write = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && POWERTOOLS_EMPTY_METRICS.test(chunk)
      ? true
      : write(chunk, ...rest)) as typeof process.stderr.write;
}
