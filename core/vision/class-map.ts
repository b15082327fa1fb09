/**
 * The vision model's class map: an ordered list of class names where a class's index never moves. Each model carries
 * the map it was trained with (`classes.json` in its artifact); the next training run starts from the champion's map
 * and appends the classes it has not seen, in sorted order, so the classifier head only grows and predictions of the
 * champion and the candidate can be compared class by class.
 */
import { isValidLabel } from './labels';

/** The champion's map followed by the new labels (sorted, de-duplicated). Throws on an invalid or repeated name. */
export function extendClassMap(previous: readonly string[], labels: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const name of previous) {
    if (seen.has(name)) throw new Error(`the class map lists "${name}" twice; a class map must not repeat a class`);
    seen.add(name);
  }
  const added = new Set<string>();
  for (const label of labels) {
    if (!isValidLabel(label)) throw new Error(`invalid class name "${label}"`);
    if (!seen.has(label)) added.add(label);
  }
  return [...previous, ...[...added].sort()];
}

/** Index in `to` of the class at `index` in `from`; -1 when `to` does not know that class. */
export function remapIndex(index: number, from: readonly string[], to: readonly string[]): number {
  const name = from[index];
  if (name === undefined) throw new Error(`class index ${index} is outside the map of ${from.length} classes`);
  return to.indexOf(name);
}
