/**
 * The local end of the label path. In AWS a label event goes onto the image stream and Firehose delivers it to the
 * raw bucket under `events/dt=<day>/hour=<hour>/` (Parquet). Locally the same event goes onto the same kind of
 * stream (kinesalite), and {@link LocalLake.deliver} plays Firehose: it drains the stream into the same folders of
 * the local raw bucket, as JSON lines (no Parquet writer needed to read them back).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Emulators } from '../simulate/emulators';

/** The lake of one local raw bucket. */
export class LocalLake {
  private files = 0;

  constructor(
    /** `<dir>/s3/<raw bucket>`. */
    readonly bucketDir: string,
    private readonly prefix = 'events/',
  ) {}

  /** Folder of the events. */
  get eventsDir(): string {
    return path.join(this.bucketDir, this.prefix);
  }

  /** Drains new records of `stream` into one file of the hour of `now`; returns how many were written. */
  async deliver(emulators: Emulators, stream: string, now: Date): Promise<number> {
    const records = await emulators.readNew(stream);
    if (records.length === 0) return 0;
    const iso = now.toISOString();
    const folder = path.join(this.eventsDir, `dt=${iso.slice(0, 10)}`, `hour=${iso.slice(11, 13)}`);
    fs.mkdirSync(folder, { recursive: true });
    const stamp = iso.slice(0, 19).replace(/[T:]/g, '-');
    const name = `${stream}-${stamp}-${String(++this.files).padStart(4, '0')}-${process.pid}.jsonl`;
    const lines = records.map((r) => Buffer.from(r.data).toString('utf8'));
    fs.writeFileSync(path.join(folder, name), lines.join('\n') + '\n');
    return records.length;
  }

  /** Every event in the lake (JSON lines files under the events prefix), in file-name order. */
  read(): Array<Record<string, unknown>> {
    if (!fs.existsSync(this.eventsDir)) return [];
    const files = (fs.readdirSync(this.eventsDir, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.jsonl') || f.endsWith('.json'))
      .sort();
    const out: Array<Record<string, unknown>> = [];
    for (const f of files) {
      for (const line of fs.readFileSync(path.join(this.eventsDir, f), 'utf8').split('\n')) {
        if (line.trim()) out.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    return out;
  }
}
