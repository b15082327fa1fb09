/** Validation issues in one line, as every parser words them. */
import { z } from 'zod';
import { issuesText, issueText } from '../../../core/contracts/issues';

test('path: message, the root named by the caller, several issues joined and bounded', () => {
  const schema = z.strictObject({ a: z.number(), b: z.object({ c: z.string() }) });
  const nested = schema.safeParse({ a: 'x', b: { c: 1 } });
  expect(nested.success).toBe(false);
  if (nested.success) return;
  expect(issuesText(nested.error)).toMatch(/^a: .+; b\.c: .+$/);
  expect(issuesText(nested.error, '', 1)).toMatch(/^a: [^;]+$/);
  const root = z.string().safeParse(3);
  if (root.success) throw new Error('a number is not a string');
  expect(issueText(root.error.issues[0], 'the value')).toMatch(/^the value: /);
});
