/**
 * What the local queue starts with. Review requests come from `<dir>/review/requests.jsonl` (one request per line,
 * exactly what the vision loop puts on the review queue); when the file is missing, the demo set is written there
 * first (generated images and their requests, see `demo.ts`). Images whose label sources disagree in the local
 * lake are queued as `conflict` items. Items already decided (their label event is in the lake) are not queued
 * again, so a restarted server carries on where the last one stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findLabelConflicts, type LabelledEvent } from '../../core/review/conflicts';
import { ReviewError } from '../../core/review/errors';
import { labelEventId } from '../../core/review/label-event';
import { itemIdOf, parseReviewRequest, type ReviewRequest } from '../../core/review/request';
import type { ReviewService } from '../../core/review/service';
import { writeDemoSet } from './demo';
import type { LocalLake } from './lake';

/** The requests file, relative to the folder. */
export const REQUESTS_FILE = path.join('review', 'requests.jsonl');

/** A problem with the folder's files: one line, nothing queued. */
export class SeedError extends Error {}

/** What seeding did. */
export interface SeedReport {
  readonly requestsFile: string;
  readonly demo: boolean;
  readonly requests: number;
  readonly queued: number;
  readonly alreadyDecided: number;
  readonly missingImages: number;
  readonly conflicts: number;
}

/** Reads and checks every line first: one bad line refuses the whole file. */
export function readRequests(file: string, imagesPrefix: string): ReviewRequest[] {
  const out: ReviewRequest[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch {
      throw new SeedError(`${file} line ${i + 1}: not JSON`);
    }
    try {
      out.push(parseReviewRequest(value, imagesPrefix));
    } catch (e) {
      if (e instanceof ReviewError) throw new SeedError(`${file} line ${i + 1}: ${e.message}`);
      throw e;
    }
  }
  return out;
}

/** Fills the queue. */
export async function seedQueue(
  service: ReviewService,
  args: { dir: string; bucket: string; imagesPrefix: string; lake: LocalLake },
): Promise<SeedReport> {
  const file = path.join(args.dir, REQUESTS_FILE);
  let demo = false;
  if (!fs.existsSync(file)) {
    const requests = writeDemoSet(args.dir, args.bucket);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    demo = true;
  }
  const requests = readRequests(file, args.imagesPrefix);
  const lakeEvents = args.lake.read();
  const decided = new Set(lakeEvents.map((e) => String(e.event_id)));
  const conflicts = findLabelConflicts(lakeEvents as unknown as LabelledEvent[]).filter((r) =>
    r.imageKey.startsWith(args.imagesPrefix),
  );
  let queued = 0;
  let alreadyDecided = 0;
  let missingImages = 0;
  for (const request of [...requests, ...conflicts]) {
    if (decided.has(labelEventId(itemIdOf(request)))) {
      alreadyDecided++;
      continue;
    }
    if (!fs.existsSync(path.join(args.dir, 's3', args.bucket, request.imageKey))) {
      missingImages++;
      continue;
    }
    if ((await service.intake(request)) === 'queued') queued++;
  }
  return {
    requestsFile: file,
    demo,
    requests: requests.length,
    queued,
    alreadyDecided,
    missingImages,
    conflicts: conflicts.length,
  };
}
