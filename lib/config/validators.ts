/** Number validators with messages that say what is allowed; every config schema file uses them. */
import { z } from 'zod';

export function between(min: number, max: number, unit: string, integer = true) {
  const msg = `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${unit ? ` ${unit}` : ''}`;
  const n = z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
  return integer ? n.int({ error: msg }) : n;
}

export function positiveInt(unit: string) {
  const msg = `must be a positive integer${unit ? ` (${unit})` : ''}`;
  return z.number({ error: msg }).int({ error: msg }).min(1, { error: msg });
}

export function positiveNumber(unit: string) {
  const msg = `must be a positive number${unit ? ` (${unit})` : ''}`;
  return z.number({ error: msg }).gt(0, { error: msg }).finite({ error: msg });
}

export const fraction = () => between(0, 1, '(a fraction)', false);

export const bool = () => z.boolean({ error: 'must be true or false' });
