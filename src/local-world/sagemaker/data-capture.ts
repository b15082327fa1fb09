/**
 * Endpoint data capture in SageMaker's layout and record format:
 * `{dir}/{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm}-{ss}-{SSS}-{uuid}.jsonl`, one JSON record per line with
 * `captureData.endpointInput|endpointOutput {observedContentType, mode, data, encoding}`,
 * `eventMetadata {eventId, inferenceTime, inferenceId?}` and `eventVersion`.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** `DataCaptureConfig`, with a local folder standing for the bucket of `DestinationS3Uri`. */
export interface DataCaptureOptions {
  /** The folder that plays the destination bucket. */
  readonly dir: string;
  /** The key prefix of `DestinationS3Uri` inside the bucket. @default '' */
  readonly prefix?: string;
  /** `InitialSamplingPercentage` (0–100); sampling is deterministic (every 1/p-th request). @default 100 */
  readonly samplingPercent?: number;
  /** `CaptureOptions[].CaptureMode`. @default ['Input', 'Output'] */
  readonly captureModes?: readonly ('Input' | 'Output')[];
  /** `CaptureContentTypeHeader.CsvContentTypes`: data kept as text with encoding CSV. @default [] */
  readonly csvContentTypes?: readonly string[];
  /** `CaptureContentTypeHeader.JsonContentTypes`: data kept as text with encoding JSON. @default [] */
  readonly jsonContentTypes?: readonly string[];
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
}

/** One side of a captured invocation. */
export interface CapturedPayload {
  readonly observedContentType: string;
  readonly mode: 'INPUT' | 'OUTPUT';
  readonly data: string;
  readonly encoding: 'CSV' | 'JSON' | 'BASE64';
}

/** One line of a capture file. */
export interface CaptureRecord {
  readonly captureData: { readonly endpointInput?: CapturedPayload; readonly endpointOutput?: CapturedPayload };
  readonly eventMetadata: { readonly eventId: string; readonly inferenceTime: string; readonly inferenceId?: string };
  readonly eventVersion: '0';
}

/** One invocation to capture. */
export interface CapturedInvocation {
  readonly endpointName: string;
  readonly variantName: string;
  readonly inferenceId?: string;
  readonly requestContentType: string;
  readonly requestBody: Buffer;
  readonly responseContentType: string;
  readonly responseBody: Buffer;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
const mediaType = (contentType: string) => contentType.split(';')[0].trim().toLowerCase();

/** Writes capture files; one file per endpoint, variant and hour, named when its first record arrives. */
export class DataCaptureWriter {
  private readonly files = new Map<string, string>();
  private readonly seen = new Map<string, number>();
  private readonly percent: number;
  private readonly now: () => Date;

  constructor(private readonly options: DataCaptureOptions) {
    this.percent = options.samplingPercent ?? 100;
    if (!(this.percent >= 0 && this.percent <= 100)) {
      throw new Error(`samplingPercent must be between 0 and 100; received ${options.samplingPercent}`);
    }
    this.now = options.now ?? (() => new Date());
  }

  /** Capture the invocation if the sample takes it; returns the file written, if any. */
  async capture(invocation: CapturedInvocation): Promise<string | undefined> {
    const key = `${invocation.endpointName}/${invocation.variantName}`;
    const n = this.seen.get(key) ?? 0;
    this.seen.set(key, n + 1);
    if (Math.floor(((n + 1) * this.percent) / 100) === Math.floor((n * this.percent) / 100)) return undefined;
    const time = this.now();
    const file = this.fileFor(invocation, time);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, JSON.stringify(this.record(invocation, time)) + '\n');
    return file;
  }

  /** The record SageMaker writes for an invocation. */
  record(invocation: CapturedInvocation, time: Date): CaptureRecord {
    const modes = this.options.captureModes ?? ['Input', 'Output'];
    const captureData: { endpointInput?: CapturedPayload; endpointOutput?: CapturedPayload } = {};
    if (modes.includes('Input')) {
      captureData.endpointInput = this.payload('INPUT', invocation.requestContentType, invocation.requestBody);
    }
    if (modes.includes('Output')) {
      captureData.endpointOutput = this.payload('OUTPUT', invocation.responseContentType, invocation.responseBody);
    }
    return {
      captureData,
      eventMetadata: {
        eventId: randomUUID(),
        inferenceTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(invocation.inferenceId === undefined ? {} : { inferenceId: invocation.inferenceId }),
      },
      eventVersion: '0',
    };
  }

  private payload(mode: 'INPUT' | 'OUTPUT', contentType: string, body: Buffer): CapturedPayload {
    const type = mediaType(contentType);
    const listed = (types: readonly string[] | undefined) => (types ?? []).some((t) => mediaType(t) === type);
    if (listed(this.options.csvContentTypes)) {
      return { observedContentType: contentType, mode, data: body.toString('utf8'), encoding: 'CSV' };
    }
    if (listed(this.options.jsonContentTypes)) {
      return { observedContentType: contentType, mode, data: body.toString('utf8'), encoding: 'JSON' };
    }
    return { observedContentType: contentType, mode, data: body.toString('base64'), encoding: 'BASE64' };
  }

  private fileFor(invocation: CapturedInvocation, time: Date): string {
    const hour = [time.getUTCFullYear(), pad(time.getUTCMonth() + 1), pad(time.getUTCDate()), pad(time.getUTCHours())];
    const folder = path.join(
      this.options.dir,
      this.options.prefix ?? '',
      invocation.endpointName,
      invocation.variantName,
      ...hour.map(String),
    );
    const existing = this.files.get(folder);
    if (existing) return existing;
    const stamp = `${pad(time.getUTCMinutes())}-${pad(time.getUTCSeconds())}-${pad(time.getUTCMilliseconds(), 3)}`;
    const file = path.join(folder, `${stamp}-${randomUUID()}.jsonl`);
    this.files.set(folder, file);
    return file;
  }
}
