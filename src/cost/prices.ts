/**
 * The committed price table: `data/prices/<date>.json`, one entry per price key and region, each with its
 * source page and the date it was recorded. No Price List API: refreshing is a reviewed edit of that file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CostError } from './types';

const entrySchema = z.strictObject({
  price: z.number().min(0),
  unit: z.string().min(1),
  source: z.url({ protocol: /^https$/ }),
  date: z.iso.date(),
});

const tableSchema = z.strictObject({
  $comment: z.string().optional(),
  date: z.iso.date(),
  currency: z.literal('USD'),
  regions: z.record(z.string(), z.record(z.string(), entrySchema)),
});

/** One price: USD per unit. */
export type PriceEntry = z.infer<typeof entrySchema>;

/** Where price tables live. */
export const PRICES_DIR = join(__dirname, '..', '..', 'data', 'prices');

/** Prices of one region, with lookups that fail naming what is missing. */
export class PriceBook {
  constructor(
    /** Date of the price table (its file name). */
    public readonly date: string,
    public readonly region: string,
    private readonly entries: Readonly<Record<string, PriceEntry>>,
  ) {}

  /** USD per unit for a price key such as `kinesis.provisioned.shardHour`. */
  price(key: string): number {
    const entry = this.entries[key];
    if (!entry) throw new CostError(`no price "${key}" for region ${this.region} in the price table of ${this.date}`);
    return entry.price;
  }

  /** Hourly price of a SageMaker instance type for training or real-time hosting. */
  instancePrice(use: 'training' | 'hosting', instanceType: string): number {
    const prefix = `sagemaker.${use}.`;
    const entry = this.entries[prefix + instanceType];
    if (!entry) {
      const known = Object.keys(this.entries)
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length));
      throw new CostError(
        `unknown SageMaker ${use} instance type "${instanceType}" in region ${this.region} (price table ${this.date}); known: ${known.join(', ')}`,
      );
    }
    return entry.price;
  }

  /** Every price key of the region. */
  keys(): string[] {
    return Object.keys(this.entries);
  }
}

/** A validated price table. */
export type PriceTable = z.infer<typeof tableSchema>;

/** Parses a price table document; throws CostError naming the first bad entry. */
export function parsePriceTable(json: unknown, name = 'price table'): PriceTable {
  const parsed = tableSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CostError(`${name}: ${issue.path.join('.')} ${issue.message}`);
  }
  return parsed.data;
}

/** The newest committed price table (`data/prices/<yyyy-mm-dd>.json`). */
export function loadLatestPriceTable(dir = PRICES_DIR): PriceTable {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f))
    .sort();
  if (files.length === 0) throw new CostError(`no price table in ${dir}`);
  const file = files[files.length - 1];
  return parsePriceTable(JSON.parse(readFileSync(join(dir, file), 'utf8')), file);
}

/** The prices of one region; an unknown region fails naming the known ones. */
export function priceBook(table: PriceTable, region: string): PriceBook {
  const entries = table.regions[region];
  if (!entries) {
    throw new CostError(
      `no prices for region "${region}" in the price table of ${table.date}; known regions: ${Object.keys(table.regions).join(', ')}`,
    );
  }
  return new PriceBook(table.date, region, entries);
}
