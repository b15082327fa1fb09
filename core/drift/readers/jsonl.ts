/**
 * Streaming line splitting in constant memory.
 *
 * {@link LineSplitter} is the synchronous core (push chunks, get lines through a {@link LineSink}); it is what the
 * record readers use, with one `await` per chunk rather than per line. {@link readLines} wraps it as an async
 * generator for callers that prefer `for await`.
 */
import { StringDecoder } from 'node:string_decoder';

/** A chunk of input: bytes (decoded as UTF-8) or already decoded text. */
export type Chunk = Uint8Array | string;

/**
 * Anything that can provide chunks: a Node `Readable` (e.g. an S3 `GetObject` body or `fs.createReadStream`), any
 * (async) iterable of chunks, or a whole text/buffer.
 */
export type ChunkSource = AsyncIterable<Chunk> | Iterable<Chunk> | Chunk;

/** Default maximum line length in UTF-16 code units (16 Mi; ≈ 16 MiB of ASCII). Fits a 6 MB payload in base64. */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024 * 1024;

/** Options of {@link LineSplitter} and {@link readLines}. */
export interface LineReaderOptions {
  /**
   * Lines longer than this (in UTF-16 code units after decoding, excluding the line terminator) are reported as
   * overlong and skipped; at most this much of a line is ever buffered. Default {@link DEFAULT_MAX_LINE_LENGTH}.
   */
  maxLineLength?: number;
}

/** Receives the output of a {@link LineSplitter}. */
export interface LineSink {
  /**
   * A non-blank line without its terminator (`\n` or `\r\n`). `lineNumber` is 1-based and counts every physical
   * line, blank ones included.
   */
  line(text: string, lineNumber: number): void;
  /** A line longer than the maximum; its content has been discarded. `length` is at least `maxLineLength + 1`. */
  overlong(lineNumber: number, length: number): void;
}

/**
 * Splits a stream of chunks into lines. Handles `\n` and `\r\n`, a final line without terminator, UTF-8 sequences
 * split across chunks, a leading byte-order mark, and skips blank (empty or whitespace-only) lines.
 *
 * Memory is bounded by `maxLineLength` plus the size of the current chunk: once the unterminated tail exceeds the
 * maximum it is dropped and the rest of that line is skipped until the next `\n`.
 */
export class LineSplitter {
  private readonly max: number;
  private readonly decoder = new StringDecoder('utf8');
  /** Unterminated tail of the previous chunks. */
  private pending = '';
  /** True while skipping the rest of an overlong line. */
  private skipping = false;
  private skippedLength = 0;
  private lineNumber = 0;
  private atStart = true;
  private ended = false;

  /** @param options See {@link LineReaderOptions}. */
  constructor(options: LineReaderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!(max >= 1)) throw new RangeError(`maxLineLength must be >= 1, got ${String(max)}`);
    this.max = max;
  }

  /** Number of physical lines completed so far (including blank and overlong ones). */
  get linesSeen(): number {
    return this.lineNumber;
  }

  /** Characters currently buffered for an unterminated line (never more than `maxLineLength`). */
  get bufferedLength(): number {
    return this.pending.length;
  }

  /** Feeds one chunk; complete lines are delivered to `sink` before this returns. */
  push(chunk: Chunk, sink: LineSink): void {
    if (this.ended) throw new Error('LineSplitter: push() after end()');
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (text.length > 0) this.feed(text, sink);
  }

  /** Signals the end of input, delivering the final unterminated line (if any). */
  end(sink: LineSink): void {
    if (this.ended) return;
    const rest = this.decoder.end();
    if (rest.length > 0) this.feed(rest, sink);
    this.ended = true;
    if (this.skipping) {
      this.skipping = false;
      this.lineNumber++;
      sink.overlong(this.lineNumber, this.skippedLength);
    } else if (this.pending.length > 0) {
      const line = this.pending;
      this.pending = '';
      this.emit(line, sink);
    }
  }

  private feed(text: string, sink: LineSink): void {
    let start = 0;
    let nl = text.indexOf('\n');
    if (this.skipping) {
      if (nl < 0) {
        this.skippedLength += text.length;
        return;
      }
      this.skipping = false;
      this.lineNumber++;
      sink.overlong(this.lineNumber, this.skippedLength + nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    } else if (this.pending.length > 0) {
      if (nl < 0) {
        this.pending += text;
        this.checkPending();
        return;
      }
      const line = this.pending + text.slice(0, nl);
      this.pending = '';
      this.emit(line, sink);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      this.emit(text.slice(start, nl), sink);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      this.pending = start === 0 ? text : text.slice(start);
      this.checkPending();
    }
  }

  /** Drops an unterminated tail that already exceeds the maximum (plus room for a `\r`). */
  private checkPending(): void {
    if (this.pending.length > this.max + 1) {
      this.skipping = true;
      this.skippedLength = this.pending.length;
      this.pending = '';
    }
  }

  private emit(raw: string, sink: LineSink): void {
    this.lineNumber++;
    let line = raw;
    let len = line.length;
    if (len > 0 && line.charCodeAt(len - 1) === 13) line = line.slice(0, --len);
    if (this.atStart) {
      this.atStart = false;
      if (len > 0 && line.charCodeAt(0) === 0xfeff) {
        line = line.slice(1);
        len--;
      }
    }
    if (len === 0) return;
    if (len > this.max) {
      sink.overlong(this.lineNumber, len);
      return;
    }
    // Blank check only when the line starts or ends with whitespace (cheap for JSON lines).
    if ((line.charCodeAt(0) <= 32 || line.charCodeAt(len - 1) <= 32) && line.trim().length === 0) return;
    sink.line(line, this.lineNumber);
  }
}

/** Options of {@link readLines}. */
export interface ReadLinesOptions extends LineReaderOptions {
  /** Called for every overlong (skipped) line. */
  onOverlong?: (lineNumber: number, length: number) => void;
}

/**
 * Yields the non-blank lines of `source` one by one (see {@link LineSplitter} for the rules). Overlong lines are
 * skipped and reported through `options.onOverlong`.
 */
export async function* readLines(source: ChunkSource, options: ReadLinesOptions = {}): AsyncGenerator<string> {
  const splitter = new LineSplitter(options);
  const batch: string[] = [];
  const onOverlong = options.onOverlong;
  const sink: LineSink = {
    line: (text) => {
      batch.push(text);
    },
    overlong: (lineNumber, length) => onOverlong?.(lineNumber, length),
  };
  for await (const chunk of iterateChunks(source)) {
    splitter.push(chunk, sink);
    for (let i = 0; i < batch.length; i++) yield batch[i];
    batch.length = 0;
  }
  splitter.end(sink);
  for (let i = 0; i < batch.length; i++) yield batch[i];
}

/**
 * Normalizes a {@link ChunkSource} to an iterable of chunks (a whole string or buffer becomes a single chunk;
 * Node `Readable` streams are async iterables already).
 */
export function iterateChunks(source: ChunkSource): AsyncIterable<Chunk> | Iterable<Chunk> {
  if (typeof source === 'string' || source instanceof Uint8Array) return [source];
  return source;
}
