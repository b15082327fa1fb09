/**
 * The two time layouts of the project's object keys, named once:
 * - **capture hours** `yyyy/mm/dd/hh/` — SageMaker data capture's layout, which the drift checker lists and every
 *   capture-like writer (served features, image statistics, outcome records) follows;
 * - **lake partitions** `dt=yyyy-mm-dd/hour=hh/` — the arrival partitions Firehose writes and Athena prunes by.
 * All in UTC.
 */
const two = (n: number) => String(n).padStart(2, '0');

/** `yyyy-mm-dd` (UTC). */
export const utcDate = (t: Date): string => `${t.getUTCFullYear()}-${two(t.getUTCMonth() + 1)}-${two(t.getUTCDate())}`;

/** `yyyy/mm/dd/hh/` of the hour `t` falls in (UTC). */
export const captureHourFolder = (t: Date): string => `${utcDate(t).replace(/-/g, '/')}/${two(t.getUTCHours())}/`;

/** `dt=yyyy-mm-dd/hour=hh/` of the hour `t` falls in (UTC). */
export const lakeHourPartition = (t: Date): string => `dt=${utcDate(t)}/hour=${two(t.getUTCHours())}/`;
