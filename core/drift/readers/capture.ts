/**
 * Parsing of SageMaker endpoint data-capture records into flat feature records.
 *
 * A capture line looks like (on one line):
 * ```json
 * {"captureData": {
 *    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1.0,2.0,abc", "encoding": "CSV"},
 *    "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
 *                       "data": "eyJzY29yZSI6IDAuOX0=", "encoding": "BASE64"}},
 *  "eventMetadata": {"eventId": "…", "inferenceTime": "2026-11-23T10:00:00Z", "inferenceId": "optional"},
 *  "eventVersion": "0"}
 * ```
 * → `{ f0: 1, f1: 2, f2: "abc", "output.score": 0.9 }`.
 * Input features keep their names (CSV columns are named from the schema or `f0, f1, …`); output features are
 * prefixed with `output.`. Nothing here throws on bad data: problems are reported as `{ ok: false, reason }`.
 */
import { type FeatureRecord, type FeatureValue, OUTPUT_PREFIX, isFiniteNumberArray } from '../features';

/** Which side of the capture a problem was found in. */
export type PayloadSide = 'input' | 'output';

/**
 * What can be wrong with one side's payload:
 * - `invalid`: `endpointInput`/`endpointOutput` is not an object, or its `data` is not a string (SageMaker always
 *   writes the payload as a string, also for JSON);
 * - `unsupported-encoding`: `encoding` is not CSV, JSON or BASE64;
 * - `unsupported-content-type`: a content type that is neither CSV, JSON, JSON Lines nor an image (e.g. protobuf);
 * - `invalid-base64`, `invalid-json`, `invalid-csv` (unterminated quote): the payload does not decode;
 * - `empty`: nothing in the payload;
 * - `unsupported-shape`: valid JSON that cannot be mapped to features (e.g. `null`, a list of lists of strings);
 * - `column-mismatch`: a positional row (CSV or JSON array) whose length differs from the configured CSV columns.
 */
export type PayloadProblem =
  | 'invalid'
  | 'unsupported-encoding'
  | 'unsupported-content-type'
  | 'invalid-base64'
  | 'invalid-json'
  | 'invalid-csv'
  | 'empty'
  | 'unsupported-shape'
  | 'column-mismatch';

/**
 * Why a capture line was rejected: `invalid-json` (the line itself), `not-an-object`, `missing-capture-data`
 * (no `captureData` object, or neither input nor output in it), or a payload problem such as `input:invalid-base64`.
 */
export type CaptureInvalidReason =
  'invalid-json' | 'not-an-object' | 'missing-capture-data' | `${PayloadSide}:${PayloadProblem}`;

/** Result of parsing one capture record. */
export type CaptureParseResult =
  | {
      ok: true;
      /** Features of the (first) instance: input features by name plus `output.*` features. */
      record: FeatureRecord;
      /**
       * Present only when the request carried several instances (multi-row CSV, `{"instances":[…]}`, JSON Lines):
       * all of them, `record` first, each paired with the output of the same index.
       */
      instances: FeatureRecord[] | undefined;
      /** `eventMetadata.inferenceTime` as captured (ISO 8601), when present. */
      eventTime: string | undefined;
      /** `eventMetadata.inferenceId`, when present. */
      inferenceId: string | undefined;
      /**
       * Columnar mode, a one-row CSV input with named columns: the row's values in column order (a buffer reused by
       * the next parse); `record` then holds only the output features.
       */
      columns: readonly FeatureValue[] | undefined;
    }
  | { ok: false; reason: CaptureInvalidReason };

/** Options of {@link CaptureParser}. */
export interface CaptureParserOptions {
  /**
   * Names of the positional input columns (header-less CSV, JSON arrays). When given, rows with another number of
   * values are rejected (`input:column-mismatch`); when absent, columns are named `f0, f1, …`.
   */
  csvColumns?: readonly string[];
  /**
   * With `csvColumns`: a one-row CSV input is returned as `columns` (values in column order, in a reused buffer)
   * instead of a record object — for consumers that add each record before the next line is parsed.
   */
  columnar?: boolean;
}

/** How a payload is interpreted, derived from `observedContentType` (falling back to `encoding`). */
export type PayloadKind = 'csv' | 'json' | 'jsonlines' | 'image' | 'unknown';

type Obj = Record<string, unknown>;
type Failure = { ok: false; reason: CaptureInvalidReason };

const FAILURES = new Map<CaptureInvalidReason, Failure>();
const MAX_FLATTEN_DEPTH = 4;
const CONTENT_TYPE_CACHE_LIMIT = 512;
const contentTypeCache = new Map<string, PayloadKind>();
const defaultNames: string[] = [];
const classNames: string[] = [];

function fail(reason: CaptureInvalidReason): Failure {
  let f = FAILURES.get(reason);
  if (f === undefined) {
    f = Object.freeze({ ok: false as const, reason });
    FAILURES.set(reason, f);
  }
  return f;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses capture records. Create one per stream (it holds the column configuration) and call
 * {@link parseLine} or {@link parseValue} per record.
 */
export class CaptureParser {
  private readonly columns: readonly string[] | undefined;
  private readonly columnar: boolean;
  /** Whether the last decoded input was one CSV row left in `rowValues` (columnar mode). */
  private columnarRow = false;
  private readonly inputKeys: string[] = [];
  private readonly outputKeys: string[] = [];

  /** @param options See {@link CaptureParserOptions}. */
  constructor(options: CaptureParserOptions = {}) {
    this.columns = options.csvColumns !== undefined && options.csvColumns.length > 0 ? options.csvColumns : undefined;
    this.columnar = options.columnar === true && this.columns !== undefined;
  }

  /** Parses one capture line (one `JSON.parse`, plus one for a JSON payload). Never throws. */
  parseLine(line: string): CaptureParseResult {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return fail('invalid-json');
    }
    return this.parseValue(value);
  }

  /** Parses an already `JSON.parse`d capture record. Never throws. */
  parseValue(value: unknown): CaptureParseResult {
    if (!isObject(value)) return fail('not-an-object');
    const capture = value.captureData;
    if (!isObject(capture)) return fail('missing-capture-data');
    const input = capture.endpointInput;
    const output = capture.endpointOutput;
    const hasInput = input !== undefined && input !== null;
    const hasOutput = output !== undefined && output !== null;
    if (!hasInput && !hasOutput) return fail('missing-capture-data');

    let records: FeatureRecord[];
    let inputCount = 0;
    this.columnarRow = false;
    if (hasInput) {
      const decoded = this.decodeInput(input);
      if (typeof decoded === 'string') return fail(`input:${decoded}`);
      records = decoded;
      inputCount = decoded.length;
    } else {
      records = [];
    }
    if (hasOutput) {
      const problem = this.decodeOutput(output, records, inputCount);
      if (problem !== undefined) return fail(`output:${problem}`);
    }
    if (records.length === 0) records.push({});

    let eventTime: string | undefined;
    let inferenceId: string | undefined;
    const meta = value.eventMetadata;
    if (isObject(meta)) {
      const t = meta.inferenceTime;
      if (typeof t === 'string') eventTime = t;
      const id = meta.inferenceId;
      if (typeof id === 'string') inferenceId = id;
    }
    return {
      ok: true,
      record: records[0],
      instances: records.length > 1 ? records : undefined,
      eventTime,
      inferenceId,
      columns: this.columnarRow ? this.rowValues : undefined,
    };
  }

  // -- input ------------------------------------------------------------------------------------------------------

  private decodeInput(side: unknown): FeatureRecord[] | PayloadProblem {
    const status = decodePayload(side);
    if (status === 'skip') return []; // images: no input features
    if (status !== 'ok') return status;
    const kind = decodedKind;
    const text = decodedText;
    decodedText = ''; // do not keep a (possibly large) payload alive after this record
    const records: FeatureRecord[] = [];
    if (kind === 'csv') {
      if (this.columnar && text.indexOf('"') < 0) {
        // One row (an optional line break at the end): its values stay in the buffer, the record holds outputs.
        let end = text.length;
        if (end > 0 && text.charCodeAt(end - 1) === 10) end--;
        if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
        const nl = text.indexOf('\n');
        if (end > 0 && (nl < 0 || nl >= end) && !isBlankRange(text, 0, end)) {
          if (!this.csvValuesFast(this.columns!, text, 0, end)) return 'column-mismatch';
          this.columnarRow = true;
          records.push({});
          return records;
        }
      }
      if (text.indexOf('"') < 0) return this.csvRowsFast(text, records) ?? records;
      const rows = parseCsvRows(text);
      if (rows === null) return 'invalid-csv';
      if (rows.length === 0) return 'empty';
      for (let r = 0; r < rows.length; r++) {
        const record = this.csvRow(rows[r]);
        if (record === undefined) return 'column-mismatch';
        records.push(record);
      }
      return records;
    }
    if (kind === 'json') {
      if (isBlank(text)) return 'empty';
      if (parseFlatJson(text, this.inputKeys)) {
        records.push(flatRecord());
        return records;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return 'invalid-json';
      }
      const problem = this.inputJson(json, records);
      return problem ?? records;
    }
    // JSON Lines: one instance per line.
    const lines = splitLines(text);
    if (lines.length === 0) return 'empty';
    for (const line of lines) {
      if (parseFlatJson(line, this.inputKeys)) {
        records.push(flatRecord());
        continue;
      }
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return 'invalid-json';
      }
      const problem = this.inputInstance(json, records);
      if (problem !== undefined) return problem;
    }
    return records;
  }

  private inputJson(json: unknown, records: FeatureRecord[]): PayloadProblem | undefined {
    if (Array.isArray(json)) {
      if (json.length === 0) return 'empty';
      const first: unknown = json[0];
      if (typeof first !== 'object' || first === null) return this.pushRow(json, records);
      for (let i = 0; i < json.length; i++) {
        const problem = this.inputInstance(json[i], records);
        if (problem !== undefined) return problem;
      }
      return undefined;
    }
    if (isObject(json)) {
      const list = json.instances !== undefined ? json.instances : json.inputs;
      if (Array.isArray(list)) {
        if (list.length === 0) return 'empty';
        for (let i = 0; i < list.length; i++) {
          const problem = this.inputInstance(list[i], records);
          if (problem !== undefined) return problem;
        }
        return undefined;
      }
      return this.inputInstance(json, records);
    }
    if (json === null) return 'unsupported-shape';
    return this.pushRow([json], records);
  }

  /** One instance: an object (flat features or `{"features":[…]}`), an array (positional row) or a scalar. */
  private inputInstance(json: unknown, records: FeatureRecord[]): PayloadProblem | undefined {
    if (Array.isArray(json)) return this.pushRow(json, records);
    if (isObject(json)) {
      const features = json.features;
      if (Array.isArray(features) && hasSingleKey(json)) return this.pushRow(features, records);
      records.push(toFeatureRecord(json));
      return undefined;
    }
    if (json === null || json === undefined) return 'unsupported-shape';
    return this.pushRow([json], records);
  }

  private pushRow(values: readonly unknown[], records: FeatureRecord[]): PayloadProblem | undefined {
    const n = values.length;
    const names = this.columns ?? columnNames(n);
    if (names.length !== n) return 'column-mismatch';
    const record: FeatureRecord = {};
    for (let i = 0; i < n; i++) record[names[i]] = jsonFeatureValue(values[i]);
    records.push(record);
    return undefined;
  }

  /** Quote-free CSV: scans rows and fields in place, parsing numbers without intermediate strings. */
  private csvRowsFast(text: string, records: FeatureRecord[]): PayloadProblem | undefined {
    const n = text.length;
    let start = 0;
    while (start < n) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = n;
      let rowEnd = end;
      if (rowEnd > start && text.charCodeAt(rowEnd - 1) === 13) rowEnd--;
      if (!isBlankRange(text, start, rowEnd)) {
        const record = this.csvRowFast(text, start, rowEnd);
        if (record === undefined) return 'column-mismatch';
        records.push(record);
      }
      start = end + 1;
    }
    return records.length === 0 ? 'empty' : undefined;
  }

  /** Reused buffer of one CSV row's values (named columns only). */
  private readonly rowValues: FeatureValue[] = [];
  private makeRecord: ((values: readonly FeatureValue[]) => FeatureRecord) | undefined;

  private csvRowFast(text: string, start: number, end: number): FeatureRecord | undefined {
    const columns = this.columns;
    if (columns !== undefined) return this.csvNamedRowFast(columns, text, start, end);
    const record: FeatureRecord = {};
    let i = 0;
    let pos = start;
    for (;;) {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      record[defaultName(i)] = csvRangeValue(text, pos, comma);
      i++;
      if (comma >= end) break;
      pos = comma + 1;
    }
    return record;
  }

  /**
   * Named columns: values go to a reused buffer, then one object literal of a fixed shape is built by a factory
   * compiled once per column list. Every record then shares one hidden class, which keeps property stores and the
   * consumers' `for…in` on V8's fast path (dynamic keyed stores would make dictionary-mode objects).
   */
  private csvNamedRowFast(
    columns: readonly string[],
    text: string,
    start: number,
    end: number,
  ): FeatureRecord | undefined {
    if (!this.csvValuesFast(columns, text, start, end)) return undefined;
    this.makeRecord ??= recordFactory(columns);
    return this.makeRecord(this.rowValues);
  }

  /** Scans one row into `rowValues`; false when it does not have one value per column. */
  private csvValuesFast(columns: readonly string[], text: string, start: number, end: number): boolean {
    const values = this.rowValues;
    const n = columns.length;
    let i = 0;
    let pos = start;
    for (;;) {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      if (i >= n) return false;
      values[i++] = csvRangeValue(text, pos, comma);
      if (comma >= end) break;
      pos = comma + 1;
    }
    return i === n;
  }

  private csvRow(fields: readonly string[]): FeatureRecord | undefined {
    const n = fields.length;
    const names = this.columns ?? columnNames(n);
    if (names.length !== n) return undefined;
    const record: FeatureRecord = {};
    for (let i = 0; i < n; i++) record[names[i]] = csvValue(fields[i]);
    return record;
  }

  // -- output -----------------------------------------------------------------------------------------------------

  private decodeOutput(side: unknown, records: FeatureRecord[], inputCount: number): PayloadProblem | undefined {
    const status = decodePayload(side);
    if (status === 'skip') return undefined;
    if (status !== 'ok') return status;
    const kind = decodedKind;
    const text = decodedText;
    decodedText = ''; // do not keep a (possibly large) payload alive after this record
    if (kind === 'csv') {
      const rows = parseCsvRows(text);
      if (rows === null) return 'invalid-csv';
      if (rows.length === 0) return 'empty';
      if (rows.length === 1) {
        const row = rows[0];
        const values = row.map(csvValue);
        if (values.length === 1) return scalarOutput(values[0], target(records, 0));
        if (isFiniteNumberArray(values)) return numberArrayOutput(values, records, inputCount);
        if (inputCount > 1 && values.length === inputCount) {
          for (let i = 0; i < values.length; i++) scalarOutput(values[i], target(records, i));
          return undefined;
        }
        columnsOutput(values, target(records, 0));
        return undefined;
      }
      for (let r = 0; r < rows.length; r++) {
        const values = rows[r].map(csvValue);
        const into = target(records, r);
        if (values.length === 1) scalarOutput(values[0], into);
        else if (isFiniteNumberArray(values)) probabilitiesOutput(values, into);
        else columnsOutput(values, into);
      }
      return undefined;
    }
    if (kind === 'json') {
      if (isBlank(text)) return 'empty';
      // Fast paths: a bare number (regressors) and a flat object of scalars (`{"score":0.9}`).
      const n = bareNumber(text);
      if (n === n) return scalarOutput(n, target(records, 0));
      if (parseFlatJson(text, this.outputKeys)) {
        commitFlatOutput(target(records, 0));
        return undefined;
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return 'invalid-json';
      }
      return jsonOutput(json, records, inputCount);
    }
    const lines = splitLines(text);
    if (lines.length === 0) return 'empty';
    for (let i = 0; i < lines.length; i++) {
      let json: unknown;
      try {
        json = JSON.parse(lines[i]);
      } catch {
        return 'invalid-json';
      }
      const problem = instanceOutput(json, target(records, i));
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Payload decoding
// ---------------------------------------------------------------------------------------------------------------

// The result of the last decodePayload() call (module-level scratch instead of an object per payload; parsing is
// synchronous, so there is no interleaving).
let decodedKind: 'csv' | 'json' | 'jsonlines' = 'csv';
let decodedText = '';

/** Decodes one side; `ok` leaves the payload in `decodedKind`/`decodedText`; `skip` for images. */
function decodePayload(side: unknown): 'ok' | 'skip' | PayloadProblem {
  if (!isObject(side)) return 'invalid';
  const encoding = normalizeEncoding(side.encoding);
  if (encoding === null) return 'unsupported-encoding';
  const contentType = side.observedContentType;
  let kind = typeof contentType === 'string' ? classifyContentType(contentType) : 'unknown';
  if (kind === 'unknown') {
    if (encoding === 'CSV') kind = 'csv';
    else if (encoding === 'JSON') kind = 'json';
    else return 'unsupported-content-type';
  }
  if (kind === 'image') return 'skip';
  const data = side.data;
  if (typeof data !== 'string') return 'invalid';
  decodedKind = kind;
  if (encoding === 'BASE64') {
    if (data.length === 0) return 'empty';
    const text = decodeBase64Text(data);
    if (text === null) return 'invalid-base64';
    decodedText = text;
    return 'ok';
  }
  decodedText = data;
  return 'ok';
}

/** `CSV`/`JSON`/`BASE64` (any case); a missing encoding means "plain text"; anything else is `null`. */
function normalizeEncoding(encoding: unknown): 'CSV' | 'JSON' | 'BASE64' | undefined | null {
  if (encoding === 'CSV' || encoding === 'JSON' || encoding === 'BASE64') return encoding;
  if (encoding === undefined || encoding === null) return undefined;
  if (typeof encoding !== 'string') return null;
  const upper = encoding.trim().toUpperCase();
  return upper === 'CSV' || upper === 'JSON' || upper === 'BASE64' ? upper : null;
}

/**
 * Classifies a MIME type (parameters such as `; charset=utf-8` ignored, case-insensitive):
 * `text/csv`, `application/csv`, `text/plain` → csv; `application/json`, `text/json`, `*+json` → json;
 * `application/jsonlines` (and `x-jsonlines`, `jsonl`, `x-ndjson`, `ndjson`) → jsonlines;
 * `image/*`, `application/x-image` → image; anything else → unknown.
 */
export function classifyContentType(contentType: string): PayloadKind {
  // Two most recent types first (input and output types alternate), then the bounded cache.
  if (contentType === recentType0) return recentKind0;
  if (contentType === recentType1) return recentKind1;
  let kind = contentTypeCache.get(contentType);
  if (kind === undefined) {
    kind = classifyUncached(contentType);
    if (contentTypeCache.size < CONTENT_TYPE_CACHE_LIMIT) contentTypeCache.set(contentType, kind);
  }
  recentType1 = recentType0;
  recentKind1 = recentKind0;
  recentType0 = contentType;
  recentKind0 = kind;
  return kind;
}

let recentType0 = '';
let recentKind0: PayloadKind = 'unknown';
let recentType1 = '';
let recentKind1: PayloadKind = 'unknown';

function classifyUncached(contentType: string): PayloadKind {
  const semi = contentType.indexOf(';');
  const base = (semi >= 0 ? contentType.slice(0, semi) : contentType).trim().toLowerCase();
  let kind: PayloadKind;
  switch (base) {
    case 'text/csv':
    case 'application/csv':
    case 'text/x-csv':
    case 'text/plain':
      kind = 'csv';
      break;
    case 'application/json':
    case 'text/json':
      kind = 'json';
      break;
    case 'application/jsonlines':
    case 'application/x-jsonlines':
    case 'application/jsonl':
    case 'application/json-lines':
    case 'application/x-ndjson':
    case 'application/ndjson':
      kind = 'jsonlines';
      break;
    case 'application/x-image':
      kind = 'image';
      break;
    default:
      kind = base.startsWith('image/') ? 'image' : base.endsWith('+json') ? 'json' : 'unknown';
  }
  return kind;
}

/**
 * Decodes standard (or URL-safe) base64, returning `null` for anything Node would silently skip or truncate:
 * characters outside the alphabet, embedded whitespace or padding, impossible lengths.
 */
export function decodeBase64Strict(data: string): Buffer | null {
  const len = data.length;
  let pad = 0;
  if (len > 0 && data.charCodeAt(len - 1) === 61) {
    pad = 1;
    if (len > 1 && data.charCodeAt(len - 2) === 61) pad = 2;
  }
  const significant = len - pad;
  if (significant % 4 === 1 || (pad > 0 && len % 4 !== 0)) return null;
  const bytes = Buffer.from(data, 'base64');
  return bytes.length === Math.floor((significant * 3) / 4) ? bytes : null;
}

/**
 * Decodes base64 to UTF-8 text. Uses `atob` (fast, rejects characters outside the alphabet), falling back to
 * {@link decodeBase64Strict} for URL-safe base64; `null` when the data is not valid base64.
 */
export function decodeBase64Text(data: string): string | null {
  let binary: string;
  try {
    binary = atob(data);
  } catch {
    const bytes = decodeBase64Strict(data);
    return bytes === null ? null : bytes.toString('utf8');
  }
  for (let i = 0; i < binary.length; i++) {
    if (binary.charCodeAt(i) > 127) return Buffer.from(binary, 'latin1').toString('utf8');
  }
  return binary;
}

// ---------------------------------------------------------------------------------------------------------------
// Output mapping
// ---------------------------------------------------------------------------------------------------------------

function target(records: FeatureRecord[], index: number): FeatureRecord {
  while (records.length <= index) records.push({});
  return records[index];
}

function jsonOutput(json: unknown, records: FeatureRecord[], inputCount: number): PayloadProblem | undefined {
  if (Array.isArray(json)) {
    if (json.length === 0) return 'empty';
    if (typeof json[0] === 'number' && isFiniteNumberArray(json)) return numberArrayOutput(json, records, inputCount);
    return instanceListOutput(json, records);
  }
  if (isObject(json)) {
    const list = json.predictions !== undefined ? json.predictions : json.outputs;
    if (Array.isArray(list)) {
      if (list.length === 0) return 'empty';
      return instanceListOutput(list, records);
    }
    const into = target(records, 0);
    flattenInto(json, OUTPUT_PREFIX, into, 0);
    // A classifier's answer object (`{"label", "probabilities": [...], "embedding": [...]}`, models/vision): the
    // vector stays, and its argmax and maximum are the predicted class and the confidence, as for a bare vector.
    const probabilities = json.probabilities;
    if (Array.isArray(probabilities) && probabilities.length > 1 && isFiniteNumberArray(probabilities)) {
      if (into[OUTPUT_CLASS] === undefined && into[OUTPUT_CONFIDENCE] === undefined) {
        probabilitiesOutput(probabilities, into);
      }
    }
    return undefined;
  }
  return scalarOutput(json, target(records, 0));
}

/**
 * A bare array of numbers: per-instance scores when the request had that many instances, a single score when it
 * has one element, otherwise class probabilities of a single instance (image classifiers).
 */
function numberArrayOutput(values: number[], records: FeatureRecord[], inputCount: number): PayloadProblem | undefined {
  if (inputCount > 1 && values.length === inputCount) {
    for (let i = 0; i < values.length; i++) target(records, i)[OUTPUT_SCORE] = values[i];
  } else if (values.length === 1) {
    target(records, 0)[OUTPUT_SCORE] = values[0];
  } else {
    probabilitiesOutput(values, target(records, 0));
  }
  return undefined;
}

/** `predictions`/`outputs` lists and JSON arrays of non-numbers: element i is the output of instance i. */
function instanceListOutput(list: readonly unknown[], records: FeatureRecord[]): PayloadProblem | undefined {
  for (let i = 0; i < list.length; i++) {
    const problem = instanceOutput(list[i], target(records, i));
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function instanceOutput(value: unknown, into: FeatureRecord): PayloadProblem | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return 'empty';
    if (isFiniteNumberArray(value)) {
      if (value.length === 1) into[OUTPUT_SCORE] = value[0];
      else probabilitiesOutput(value, into);
      return undefined;
    }
    if (value.length === 1) return instanceOutput(value[0], into);
    return 'unsupported-shape';
  }
  if (isObject(value)) {
    flattenInto(value, OUTPUT_PREFIX, into, 0);
    return undefined;
  }
  return scalarOutput(value, into);
}

const OUTPUT_SCORE = `${OUTPUT_PREFIX}score`;
const OUTPUT_LABEL = `${OUTPUT_PREFIX}predicted_label`;
const OUTPUT_CLASS = `${OUTPUT_PREFIX}predicted_class`;
const OUTPUT_CONFIDENCE = `${OUTPUT_PREFIX}confidence`;

/** number → `output.score`, string/boolean → `output.predicted_label`, null → nothing. */
function scalarOutput(value: unknown, into: FeatureRecord): PayloadProblem | undefined {
  switch (typeof value) {
    case 'number':
      into[OUTPUT_SCORE] = value - value === 0 ? value : null;
      return undefined;
    case 'string':
      into[OUTPUT_LABEL] = value;
      return undefined;
    case 'boolean':
      into[OUTPUT_LABEL] = value ? 'true' : 'false';
      return undefined;
    default:
      return value === null ? undefined : 'unsupported-shape';
  }
}

/** Class probabilities → `output.predicted_class` (argmax index as a string) and `output.confidence` (max). */
function probabilitiesOutput(values: readonly number[], into: FeatureRecord): void {
  let best = 0;
  let max = values[0];
  for (let i = 1; i < values.length; i++) {
    if (values[i] > max) {
      max = values[i];
      best = i;
    }
  }
  into[OUTPUT_CLASS] = indexName(best);
  into[OUTPUT_CONFIDENCE] = max;
}

/** Mixed CSV output columns → `output.f0`, `output.f1`, … */
function columnsOutput(values: readonly FeatureValue[], into: FeatureRecord): void {
  const names = columnNames(values.length);
  for (let i = 0; i < values.length; i++) into[OUTPUT_PREFIX + names[i]] = values[i];
}

function indexName(i: number): string {
  if (i < 256) {
    let name = classNames[i];
    if (name === undefined) {
      name = String(i);
      classNames[i] = name;
    }
    return name;
  }
  return String(i);
}

// ---------------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------------

/** `f0 … f{n-1}` (cached). */
function columnNames(n: number): readonly string[] {
  for (let i = defaultNames.length; i < n; i++) defaultNames.push(`f${i}`);
  return n === defaultNames.length ? defaultNames : defaultNames.slice(0, n);
}

/** `f{i}` (cached). */
function defaultName(i: number): string {
  if (i < defaultNames.length) return defaultNames[i];
  columnNames(i + 1);
  return defaultNames[i];
}

const outputNames = new Map<string, string>();
const OUTPUT_NAME_CACHE_LIMIT = 4096;

/** `output.` + key, cached so hot keys are not concatenated (and re-hashed) per record. */
function outputName(key: string): string {
  let name = outputNames.get(key);
  if (name === undefined) {
    name = OUTPUT_PREFIX + key;
    if (outputNames.size < OUTPUT_NAME_CACHE_LIMIT) outputNames.set(key, name);
  }
  return name;
}

/**
 * A parsed JSON object as a feature record: the object itself when every value is already a feature value
 * (cheap, no copy), otherwise a flattened copy (see {@link flattenInto}).
 */
export function toFeatureRecord(obj: Obj): FeatureRecord {
  for (const key in obj) {
    const v = obj[key];
    const t = typeof v;
    if (key !== '__proto__') {
      if (t === 'string' || (t === 'number' && (v as number) - (v as number) === 0)) continue;
      if (v === null || (Array.isArray(v) && isFiniteNumberArray(v))) continue;
    }
    const record: FeatureRecord = {};
    flattenInto(obj, '', record, 0);
    return record;
  }
  return obj as FeatureRecord;
}

/**
 * Flattens a JSON object into `into`: scalars as they are (booleans as `"true"`/`"false"`), finite number arrays as
 * embeddings, other arrays as missing (`null`), nested objects as dotted names (`a.b`) up to a small depth.
 * The key `__proto__` is ignored.
 */
export function flattenInto(obj: Obj, prefix: string, into: FeatureRecord, depth: number): void {
  for (const key in obj) {
    if (key === '__proto__') continue;
    const value = obj[key];
    const name = prefix.length === 0 ? key : prefix === OUTPUT_PREFIX ? outputName(key) : prefix + key;
    switch (typeof value) {
      case 'number':
        into[name] = value - value === 0 ? value : null;
        break;
      case 'string':
        into[name] = value;
        break;
      case 'boolean':
        into[name] = value ? 'true' : 'false';
        break;
      case 'object':
        if (value === null) into[name] = null;
        else if (Array.isArray(value)) into[name] = isFiniteNumberArray(value) ? value : null;
        else if (depth < MAX_FLATTEN_DEPTH) flattenInto(value as Obj, `${name}.`, into, depth + 1);
        break;
      default:
        break;
    }
  }
}

/** A JSON value as a feature value (see {@link flattenInto}); nested objects become `null`. */
export function jsonFeatureValue(value: unknown): FeatureValue {
  switch (typeof value) {
    case 'number':
      return value - value === 0 ? value : null;
    case 'string':
      return value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return Array.isArray(value) && isFiniteNumberArray(value) ? value : null;
    default:
      return null;
  }
}

/**
 * A CSV field as a feature value: empty/blank, `NaN` and ±Infinity → `null`; a finite decimal number → number;
 * anything else (including hex/binary/octal literals) → the string, trimmed.
 */
export function csvValue(field: string): FeatureValue {
  const len = field.length;
  if (len === 0) return null;
  let s = field;
  let c = s.charCodeAt(0);
  if (c <= 32 || s.charCodeAt(len - 1) <= 32) {
    s = s.trim();
    if (s.length === 0) return null;
    c = s.charCodeAt(0);
  }
  if ((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46) {
    const n = +s;
    if (n !== n) return s;
    if (n - n !== 0) return null; // ±Infinity, 1e999
    if (c === 48 && s.length > 2) {
      const x = s.charCodeAt(1) | 0x20;
      if (x === 120 || x === 98 || x === 111) return s; // 0x…, 0b…, 0o… are not decimal numbers
    }
    return n;
  }
  if (s.length === 3 && (s === 'NaN' || s === 'nan' || s === 'NAN')) return null;
  if (c === 73 && s === 'Infinity') return null;
  return s;
}

/**
 * Splits CSV text into rows of raw fields. Blank rows are skipped; `\r\n` is accepted. Quoted fields (RFC 4180,
 * `""` escapes, embedded commas and newlines) are handled; text without a `"` takes a fast `split` path.
 * Returns `null` for an unterminated quoted field.
 */
export function parseCsvRows(text: string): string[][] | null {
  if (text.indexOf('"') < 0) {
    if (text.indexOf('\n') < 0) {
      const row = stripCr(text);
      return isBlank(row) ? [] : [row.split(',')];
    }
    const rows: string[][] = [];
    for (const raw of text.split('\n')) {
      const row = stripCr(raw);
      if (!isBlank(row)) rows.push(row.split(','));
    }
    return rows;
  }
  return parseQuotedCsv(text);
}

function parseQuotedCsv(text: string): string[][] | null {
  const rows: string[][] = [];
  const n = text.length;
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let field: string;
    if (i < n && text.charCodeAt(i) === 34) {
      i++;
      field = '';
      let segment = i;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null;
        if (text.charCodeAt(q + 1) === 34) {
          field += text.slice(segment, q + 1);
          i = q + 2;
          segment = i;
          continue;
        }
        field += text.slice(segment, q);
        i = q + 1;
        break;
      }
      const end = fieldEnd(text, i);
      if (end > i) field += stripCr(text.slice(i, end)); // lenient: text after the closing quote
      i = end;
    } else {
      const end = fieldEnd(text, i);
      field = stripCr(text.slice(i, end));
      i = end;
    }
    row.push(field);
    if (i >= n) break;
    if (text.charCodeAt(i) === 44) {
      i++;
      continue;
    }
    // newline
    if (row.length > 1 || !isBlank(row[0])) rows.push(row);
    row = [];
    i++;
    if (i >= n) return rows;
  }
  if (row.length > 1 || !isBlank(row[0])) rows.push(row);
  return rows;
}

function fieldEnd(text: string, from: number): number {
  const n = text.length;
  let i = from;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 10) return i;
    i++;
  }
  return n;
}

function stripCr(s: string): string {
  const n = s.length;
  return n > 0 && s.charCodeAt(n - 1) === 13 ? s.slice(0, n - 1) : s;
}

function isBlank(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  if (s.charCodeAt(0) > 32 && s.charCodeAt(n - 1) > 32) return false;
  return s.trim().length === 0;
}

function splitLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = stripCr(raw);
    if (!isBlank(line)) out.push(line);
  }
  return out;
}

function hasSingleKey(obj: Obj): boolean {
  let count = 0;
  for (const _key in obj) if (++count > 1) return false;
  return count === 1;
}

function isBlankRange(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) > 32) return false;
  return true;
}

/** A CSV field `text[start, end)` as a feature value; numbers are parsed in place when possible. */
/**
 * Compiles `(v) => ({ "<c0>": v[0], "<c1>": v[1], … })` for a column list. Names are JSON-quoted, so any name is
 * safe; `__proto__` is skipped like everywhere else in the readers.
 */
function recordFactory(columns: readonly string[]): (values: readonly FeatureValue[]) => FeatureRecord {
  const body = columns
    .map((c, i) => (c === '__proto__' ? '' : `${JSON.stringify(c)}: v[${i}]`))
    .filter(Boolean)
    .join(', ');
  return new Function('v', `return { ${body} };`) as (values: readonly FeatureValue[]) => FeatureRecord;
}

function csvRangeValue(text: string, start: number, end: number): FeatureValue {
  if (start === end) return null;
  const c = text.charCodeAt(start);
  if ((c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43) {
    const v = parseDecimal(text, start, end, false);
    if (v === v) return v - v === 0 ? v : null;
  }
  return csvValue(text.slice(start, end));
}

// ---------------------------------------------------------------------------------------------------------------
// Fast number and flat-JSON parsing
// ---------------------------------------------------------------------------------------------------------------

const POW10 = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
  1e21, 1e22,
];

/**
 * Parses the decimal number `text[start, end)`, returning `NaN` when the range is not a decimal literal.
 * With `json` the grammar is JSON's (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`); otherwise a leading `+`, leading
 * zeros and `.5` / `5.` forms are accepted too (as `Number()` does). Results are correctly rounded: values whose
 * significand is below 2^53 and whose decimal exponent is within ±22 are computed with one exact IEEE operation
 * (Clinger's fast path); others via `Number()`.
 */
export function parseDecimal(text: string, start: number, end: number, json: boolean): number {
  let i = start;
  let c = text.charCodeAt(i);
  let negative = false;
  if (c === 45) {
    negative = true;
    c = text.charCodeAt(++i);
  } else if (c === 43 && !json) {
    c = text.charCodeAt(++i);
  }
  let mantissa = 0;
  const intStart = i;
  while (i < end && c >= 48 && c <= 57) {
    mantissa = mantissa * 10 + (c - 48);
    c = text.charCodeAt(++i);
  }
  const intDigits = i - intStart;
  if (json && (intDigits === 0 || (intDigits > 1 && text.charCodeAt(intStart) === 48))) return NaN;
  let fracDigits = 0;
  if (i < end && c === 46) {
    c = text.charCodeAt(++i);
    const fracStart = i;
    while (i < end && c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      c = text.charCodeAt(++i);
    }
    fracDigits = i - fracStart;
    if (json && fracDigits === 0) return NaN;
  }
  if (intDigits + fracDigits === 0) return NaN;
  let exponent = 0;
  if (i < end && (c | 0x20) === 101) {
    c = text.charCodeAt(++i);
    let expNegative = false;
    if (c === 45 || c === 43) {
      expNegative = c === 45;
      c = text.charCodeAt(++i);
    }
    const expStart = i;
    while (i < end && c >= 48 && c <= 57) {
      if (exponent < 100000) exponent = exponent * 10 + (c - 48);
      c = text.charCodeAt(++i);
    }
    if (i === expStart) return NaN;
    if (expNegative) exponent = -exponent;
  }
  if (i !== end) return NaN;
  const scale = exponent - fracDigits;
  // Exact only while the significand fits in 53 bits (if the true one does not, neither does the computed one).
  if (mantissa >= 9007199254740992 || scale > 22 || scale < -22) return +text.slice(start, end);
  const value = scale === 0 ? mantissa : scale > 0 ? mantissa * POW10[scale] : mantissa / POW10[-scale];
  return negative ? -value : value;
}

/** `text` as a bare JSON number (surrounding whitespace allowed), or `NaN`. */
function bareNumber(text: string): number {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 32) start++;
  while (end > start && text.charCodeAt(end - 1) <= 32) end--;
  if (start === end) return NaN;
  const c = text.charCodeAt(start);
  return (c >= 48 && c <= 57) || c === 45 ? parseDecimal(text, start, end, true) : NaN;
}

const flatKeys: string[] = [];
const flatValues: FeatureValue[] = [];
/** Keys remembered per position by {@link parseFlatJson} (records of a stream usually share their key order). */
const KEY_CACHE_SIZE = 256;
let flatCount = 0;

function skipJsonWs(text: string, from: number): number {
  let i = from;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

function hasControlChar(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (text.charCodeAt(i) < 32) return true;
  return false;
}

/**
 * Fast path for the most common JSON payload: one flat object of scalars without escapes, e.g.
 * `{"score":0.9}` or `{"age":31,"country":"DE","is_new":true}`. On success the pairs are left in
 * `flatKeys`/`flatValues` (booleans as strings) and `true` is returned; anything else (nesting, arrays, escapes,
 * invalid JSON) returns `false` and the caller falls back to `JSON.parse`. Accepts exactly what `JSON.parse`
 * accepts for such objects. `keyCache` holds the key strings seen per position last time, so that repeated keys are
 * compared in place instead of being sliced and hashed again.
 */
function parseFlatJson(text: string, keyCache: string[]): boolean {
  const n = text.length;
  let i = skipJsonWs(text, 0);
  if (text.charCodeAt(i) !== 123 || text.indexOf('\\', i) >= 0) return false;
  flatCount = 0;
  i = skipJsonWs(text, i + 1);
  if (text.charCodeAt(i) === 125) return skipJsonWs(text, i + 1) === n;
  for (;;) {
    if (text.charCodeAt(i) !== 34) return false;
    const keyStart = i + 1;
    let key = keyCache[flatCount];
    let keyEnd: number;
    if (key !== undefined && text.charCodeAt(keyStart + key.length) === 34 && text.startsWith(key, keyStart)) {
      keyEnd = keyStart + key.length; // same key as in this position last time: reuse the string
    } else {
      keyEnd = text.indexOf('"', keyStart);
      if (keyEnd < 0 || hasControlChar(text, keyStart, keyEnd)) return false;
      key = text.slice(keyStart, keyEnd);
      if (flatCount < KEY_CACHE_SIZE) keyCache[flatCount] = key;
    }
    i = skipJsonWs(text, keyEnd + 1);
    if (text.charCodeAt(i) !== 58) return false;
    i = skipJsonWs(text, i + 1);
    const c = text.charCodeAt(i);
    let value: FeatureValue;
    if (c === 34) {
      const valueEnd = text.indexOf('"', i + 1);
      if (valueEnd < 0 || hasControlChar(text, i + 1, valueEnd)) return false;
      value = text.slice(i + 1, valueEnd);
      i = valueEnd + 1;
    } else if ((c >= 48 && c <= 57) || c === 45) {
      let j = i + 1;
      for (;;) {
        const d = text.charCodeAt(j);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) j++;
        else break;
      }
      const v = parseDecimal(text, i, j, true);
      if (v !== v) return false;
      value = v - v === 0 ? v : null;
      i = j;
    } else if (c === 116 && text.startsWith('true', i)) {
      value = 'true';
      i += 4;
    } else if (c === 102 && text.startsWith('false', i)) {
      value = 'false';
      i += 5;
    } else if (c === 110 && text.startsWith('null', i)) {
      value = null;
      i += 4;
    } else {
      return false;
    }
    flatKeys[flatCount] = key;
    flatValues[flatCount] = value;
    flatCount++;
    i = skipJsonWs(text, i);
    const d = text.charCodeAt(i);
    if (d === 44) {
      i = skipJsonWs(text, i + 1);
      continue;
    }
    if (d === 125) return skipJsonWs(text, i + 1) === n;
    return false;
  }
}

/** The pairs of the last successful {@link parseFlatJson} as a new input record. */
function flatRecord(): FeatureRecord {
  const record: FeatureRecord = {};
  for (let k = 0; k < flatCount; k++) {
    const key = flatKeys[k];
    if (key !== '__proto__') record[key] = flatValues[k];
  }
  return record;
}

/** The pairs of the last successful {@link parseFlatJson} as `output.*` features of `into`. */
function commitFlatOutput(into: FeatureRecord): void {
  for (let k = 0; k < flatCount; k++) {
    const key = flatKeys[k];
    if (key !== '__proto__') into[outputName(key)] = flatValues[k];
  }
}

let defaultParser: CaptureParser | undefined;

/** Parses one capture line with the given options (see {@link CaptureParser}). Never throws. */
export function parseCaptureLine(line: string, options?: CaptureParserOptions): CaptureParseResult {
  const parser = options === undefined ? (defaultParser ??= new CaptureParser()) : new CaptureParser(options);
  return parser.parseLine(line);
}

/** Parses an already `JSON.parse`d capture record (see {@link CaptureParser}). Never throws. */
export function parseCaptureRecord(value: unknown, options?: CaptureParserOptions): CaptureParseResult {
  const parser = options === undefined ? (defaultParser ??= new CaptureParser()) : new CaptureParser(options);
  return parser.parseValue(value);
}
