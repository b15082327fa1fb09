/**
 * One-line descriptions of zod validation issues, as every parser of the project words them:
 * `<path>: <message>` (the path dot-joined, or a name for the whole value when the issue is at the root).
 */
import type { z } from 'zod';

/** `<path>: <message>` of one issue; `whole` names the value when the issue is at its root. */
export function issueText(issue: z.core.$ZodIssue, whole = ''): string {
  return `${issue.path.map(String).join('.') || whole}: ${issue.message}`;
}

/** Every issue (or the first `limit`), `; `-separated. */
export function issuesText(error: z.ZodError, whole = '', limit = Infinity): string {
  return error.issues
    .slice(0, limit)
    .map((i) => issueText(i, whole))
    .join('; ');
}
