/**
 * Lambda functions: requests and GB-seconds at the function's architecture (arm64 or x86_64) and memory.
 * Invocations come from the templates (schedule rules, Task states of state machines × executions, stream
 * event source mappings, function URLs × API requests) plus the usage profile's per-function additions; X-Ray traces when tracing is active.
 * @see https://aws.amazon.com/lambda/pricing/
 */
import { costLine, type Pricer } from '../context';

/** Duration and extra invocations of a function from the usage profile (first key that its logical ID contains). */
export function functionUsage(
  id: string,
  usage: {
    averageDurationMs: number;
    functions: Record<string, { averageDurationMs?: number; invocationsPerMonth?: number; customMetrics?: number }>;
  },
) {
  const key = Object.keys(usage.functions).find((k) => id.includes(k));
  const o = key ? usage.functions[key] : {};
  return {
    durationMs: o.averageDurationMs ?? usage.averageDurationMs,
    extraInvocations: o.invocationsPerMonth ?? 0,
    customMetrics: o.customMetrics,
  };
}

export const lambdaFunction: Pricer = (ref, ctx) => {
  const p = ref.resource.Properties ?? {};
  const memoryMB = typeof p.MemorySize === 'number' ? p.MemorySize : 128;
  const arch = Array.isArray(p.Architectures) && p.Architectures[0] === 'arm64' ? 'arm64' : 'x86_64';
  const { durationMs, extraInvocations } = functionUsage(ref.id, ctx.usage.lambda);
  const invocations = ctx.workload.invocationsPerMonth(ref.id) + extraInvocations;
  const lines = [
    costLine(ref, 'requests', invocations, 'request', ctx.prices.price('lambda.request'), true),
    costLine(
      ref,
      `compute (${memoryMB} MB ${arch} × ${durationMs} ms per invocation)`,
      invocations * (durationMs / 1000) * (memoryMB / 1024),
      'GB-second',
      ctx.prices.price(`lambda.gbSecond.${arch}`),
      true,
    ),
  ];
  if ((p.TracingConfig as Record<string, unknown> | undefined)?.Mode === 'Active') {
    lines.push(
      costLine(
        ref,
        'X-Ray traces recorded (one per invocation)',
        invocations,
        'trace',
        ctx.prices.price('xray.traceRecorded'),
        true,
        'AWS::XRay::Trace',
      ),
    );
  }
  return lines;
};
