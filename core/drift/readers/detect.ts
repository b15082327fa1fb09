/**
 * Input-format auto-detection: SageMaker capture JSONL, plain feature JSONL, or a baseline-profile JSON document.
 *
 * The format is decided by the first line that parses as a non-empty JSON object:
 * - it has a `captureData` or `eventMetadata` member → `capture`;
 * - its `kind` is {@link BASELINE_PROFILE_KIND} → `profile` (a single JSON document; anything after it is invalid);
 * - otherwise → `plain`.
 * Lines before the decision that are not JSON, not objects, or `{}` are reported invalid and do not decide.
 * Once decided, the format is fixed: lines of another format are invalid (`format-mismatch` / `missing-capture-data`).
 *
 * A pretty-printed (multi-line) profile is recognised when the very first non-blank line starts with `{` but is not
 * valid JSON on its own: the following lines are buffered (up to `maxDocumentLength`) until a line consisting of
 * `}` completes the document. If the buffered text turns out not to be a profile (a column-0 line that is a JSON
 * object on its own, the size limit, or a complete non-profile document), the buffered lines are replayed as
 * ordinary lines, so nothing is lost or double counted.
 */
import { LineSplitter, type ChunkSource, type LineReaderOptions, type LineSink, iterateChunks } from './jsonl';

/** The `kind` marking a baseline-profile document. */
export const BASELINE_PROFILE_KIND = 'ml-blueprint/baseline-profile';

/** A detected input format. */
export type DataFormat = 'capture' | 'plain' | 'profile';

/** Format option of the readers: detect automatically, or force a line format. */
export type FormatOption = 'auto' | 'capture' | 'plain';

/** Why the detector rejected a line (before the format was known, or after a profile). */
export type DetectInvalidReason =
  'invalid-json' | 'not-an-object' | 'empty-record' | 'line-too-long' | 'trailing-content';

/** Default limit of a buffered multi-line profile document, in UTF-16 code units (64 Mi). */
export const DEFAULT_MAX_DOCUMENT_LENGTH = 64 * 1024 * 1024;

/**
 * Classifies one parsed JSON value: `capture` (object with `captureData`), `profile` (object whose `kind` is
 * {@link BASELINE_PROFILE_KIND}), `plain` (any other object) or `null` (not an object).
 */
export function classifyDocument(value: unknown): DataFormat | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  if (isCaptureLike(obj)) return 'capture';
  if (obj.kind === BASELINE_PROFILE_KIND) return 'profile';
  return 'plain';
}

/**
 * True for an object that is (or was meant to be) a capture record: it has `captureData` or `eventMetadata`.
 * A damaged capture record therefore never passes as a plain feature record.
 */
export function isCaptureLike(obj: Readonly<Record<string, unknown>>): boolean {
  return obj.captureData !== undefined || obj.eventMetadata !== undefined;
}

function isEmptyObject(obj: object): boolean {
  for (const _key in obj) return false;
  return true;
}

/** Receives the decisions and lines of a {@link FormatDetector}. */
export interface DetectorSink {
  /** Called once, when the format is known (`profile` carries the parsed document, otherwise `undefined`). */
  decided(format: DataFormat, profile: unknown): void;
  /**
   * A line to be parsed as the decided line format. `parsed` is the line's `JSON.parse` result when the detector
   * already parsed it (the first valid line), otherwise `undefined`.
   */
  line(text: string, lineNumber: number, parsed: unknown): void;
  /** A line the detector rejected itself. */
  invalid(reason: DetectInvalidReason, lineNumber: number): void;
}

/** Options of {@link FormatDetector}. */
export interface FormatDetectorOptions {
  /** Force a line format instead of detecting it (default `auto`). */
  format?: FormatOption;
  /** Largest multi-line profile document buffered (default {@link DEFAULT_MAX_DOCUMENT_LENGTH}). */
  maxDocumentLength?: number;
}

type State = 'detecting' | 'document' | 'decided' | 'profile';

/**
 * Incremental format detector. It is a {@link LineSink}, so it can be fed directly by a `LineSplitter`; once the
 * format is decided it passes lines straight through to its {@link DetectorSink}.
 */
export class FormatDetector implements LineSink {
  private state: State = 'detecting';
  private detected: DataFormat | undefined;
  private profileValue: unknown;
  private readonly maxDocumentLength: number;
  private seenLine = false;
  private documentTried = false;
  private docLines: string[] = [];
  private docNumbers: number[] = [];
  private docLength = 0;

  /**
   * @param sink Receives the decision and the lines.
   * @param options See {@link FormatDetectorOptions}.
   */
  constructor(
    private readonly sink: DetectorSink,
    options: FormatDetectorOptions = {},
  ) {
    this.maxDocumentLength = options.maxDocumentLength ?? DEFAULT_MAX_DOCUMENT_LENGTH;
    const forced = options.format ?? 'auto';
    if (forced !== 'auto') {
      this.state = 'decided';
      this.detected = forced;
      sink.decided(forced, undefined);
    }
  }

  /** The detected (or forced) format, once known. */
  get format(): DataFormat | undefined {
    return this.detected;
  }

  /** The parsed profile document when the format is `profile`. */
  get profile(): unknown {
    return this.profileValue;
  }

  /** Feeds one non-blank line. */
  line(text: string, lineNumber: number): void {
    switch (this.state) {
      case 'decided':
        this.sink.line(text, lineNumber, undefined);
        return;
      case 'profile':
        this.sink.invalid('trailing-content', lineNumber);
        return;
      case 'document':
        this.documentLine(text, lineNumber);
        return;
      default:
        this.detect(text, lineNumber);
    }
  }

  /** Feeds an overlong (skipped) line. */
  overlong(lineNumber: number, _length?: number): void {
    if (this.state === 'document') this.abortDocument();
    this.seenLine = true;
    this.sink.invalid('line-too-long', lineNumber);
  }

  /** Signals the end of input; completes a buffered document or replays it. */
  end(): void {
    if (this.state !== 'document') return;
    if (!this.tryCompleteDocument()) this.abortDocument();
  }

  private detect(text: string, lineNumber: number): void {
    const first = !this.seenLine;
    this.seenLine = true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (first && !this.documentTried && startsWithBrace(text)) {
        this.state = 'document';
        this.documentTried = true;
        this.docLines.push(text);
        this.docNumbers.push(lineNumber);
        this.docLength = text.length;
        return;
      }
      this.sink.invalid('invalid-json', lineNumber);
      return;
    }
    const format = classifyDocument(value);
    if (format === null) {
      this.sink.invalid('not-an-object', lineNumber);
    } else if (format === 'plain' && isEmptyObject(value as object)) {
      this.sink.invalid('empty-record', lineNumber);
    } else if (format === 'profile') {
      this.decideProfile(value);
    } else {
      this.state = 'decided';
      this.detected = format;
      this.sink.decided(format, undefined);
      this.sink.line(text, lineNumber, value);
    }
  }

  private documentLine(text: string, lineNumber: number): void {
    const c = text.charCodeAt(0);
    if (c === 123 /* { */ && isJsonObject(text)) {
      // A top-level JSON object on its own line: this is JSONL after all.
      this.abortDocument();
      this.line(text, lineNumber);
      return;
    }
    this.docLines.push(text);
    this.docNumbers.push(lineNumber);
    this.docLength += text.length + 1;
    if (this.docLength > this.maxDocumentLength) {
      this.abortDocument();
      return;
    }
    if (c === 125 /* } */ && text.trim() === '}') this.tryCompleteDocument();
  }

  /** Parses the buffered lines; on success decides `profile` or replays. Returns false when not valid JSON (yet). */
  private tryCompleteDocument(): boolean {
    let value: unknown;
    try {
      value = JSON.parse(this.docLines.join('\n'));
    } catch {
      return false;
    }
    if (classifyDocument(value) === 'profile') {
      this.docLines = [];
      this.docNumbers = [];
      this.decideProfile(value);
    } else {
      this.abortDocument();
    }
    return true;
  }

  private decideProfile(value: unknown): void {
    this.state = 'profile';
    this.detected = 'profile';
    this.profileValue = value;
    this.sink.decided('profile', value);
  }

  /** Leaves document mode and replays the buffered lines as ordinary lines. */
  private abortDocument(): void {
    const lines = this.docLines;
    const numbers = this.docNumbers;
    this.docLines = [];
    this.docNumbers = [];
    this.docLength = 0;
    this.state = 'detecting';
    for (let i = 0; i < lines.length; i++) this.line(lines[i], numbers[i]);
  }
}

function startsWithBrace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 32) return c === 123;
  }
  return false;
}

function isJsonObject(text: string): boolean {
  try {
    return classifyDocument(JSON.parse(text)) !== null;
  } catch {
    return false;
  }
}

/** Result of {@link detectFormat}. */
export interface DetectionResult {
  /** The detected format, or `unknown` when no line was a JSON object. */
  format: DataFormat | 'unknown';
  /** The parsed profile when `format` is `profile`. */
  profile?: unknown;
  /** Lines rejected before the decision. */
  invalidBefore: number;
}

/**
 * Detects the format of `source`, reading only as far as needed (a whole document for a profile). The source is
 * consumed; re-open it to read the records. Never throws on bad data.
 */
export async function detectFormat(
  source: ChunkSource,
  options: LineReaderOptions & Pick<FormatDetectorOptions, 'maxDocumentLength'> = {},
): Promise<DetectionResult> {
  let decided: DataFormat | undefined;
  let profile: unknown;
  let invalidBefore = 0;
  const detector = new FormatDetector(
    {
      decided: (format, value) => {
        decided ??= format;
        if (format === 'profile') profile = value;
      },
      line: () => undefined,
      invalid: () => {
        if (decided === undefined) invalidBefore++;
      },
    },
    options,
  );
  const splitter = new LineSplitter(options);
  for await (const chunk of iterateChunks(source)) {
    splitter.push(chunk, detector);
    if (decided !== undefined) break;
  }
  if (decided === undefined) {
    splitter.end(detector);
    detector.end();
  }
  const result: DetectionResult = { format: decided ?? 'unknown', invalidBefore };
  if (decided === 'profile') result.profile = profile;
  return result;
}
