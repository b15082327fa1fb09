/** Builds SageMaker data-capture JSONL lines for tests. */
export interface CaptureInput {
  readonly features: Record<string, number | string>;
  readonly output: Record<string, number | string>;
  readonly time: Date;
  readonly encoding?: 'JSON' | 'BASE64';
}

let counter = 0;

/** One capture record as a JSONL line. */
export function captureLine(input: CaptureInput): string {
  const encode = (value: object) =>
    input.encoding === 'BASE64'
      ? { data: Buffer.from(JSON.stringify(value)).toString('base64'), encoding: 'BASE64' }
      : { data: JSON.stringify(value), encoding: 'JSON' };
  return JSON.stringify({
    captureData: {
      endpointInput: { observedContentType: 'application/json', mode: 'INPUT', ...encode(input.features) },
      endpointOutput: { observedContentType: 'application/json', mode: 'OUTPUT', ...encode(input.output) },
    },
    eventMetadata: { eventId: `e-${++counter}`, inferenceTime: input.time.toISOString(), inferenceId: `i-${counter}` },
    eventVersion: '0',
  });
}
