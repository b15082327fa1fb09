/**
 * What a Task state calls: the service and action of its `Resource` (the optimized integrations, `aws-sdk:*` and
 * Lambda function ARNs alike), and every state of a definition by name.
 */

type Json = Record<string, unknown>;

/** The AWS call of a Task: `lambda`/`invoke` for a function ARN (its name in `functionName`). */
export interface Call {
  readonly service: string;
  readonly action: string;
  /** The function of a Lambda Task whose Resource is the function ARN itself. */
  readonly functionName?: string;
  /** The integration pattern: `.sync` (runs the job to its end) or `.waitForTaskToken` (waits for a callback). */
  readonly pattern?: 'sync' | 'waitForTaskToken';
}

const STATES_PREFIX = 'arn:aws:states:::';

/** Service and action of a Task resource (`arn:aws:states:::sagemaker:createTrainingJob.sync`, a function ARN…). */
export function callOf(resource: string): Call {
  const fn = /^arn:aws[a-z-]*:(?:lambda|fake):[^:]*:[^:]*:(?:function:)?(.+)$/.exec(resource);
  if (fn) return { service: 'lambda', action: 'invoke', functionName: fn[1] };
  if (!resource.startsWith(STATES_PREFIX)) return { service: 'unknown', action: resource };
  const parts = resource.slice(STATES_PREFIX.length).split(':');
  const [service, action] = parts[0] === 'aws-sdk' ? [parts[1], parts[2]] : [parts[0], parts[1]];
  const pattern = /\.(sync|waitForTaskToken)(:2)?$/.exec(String(action))?.[1] as Call['pattern'];
  return {
    service,
    action: String(action).replace(/\.(sync|waitForTaskToken)(:2)?$/, ''),
    ...(pattern ? { pattern } : {}),
  };
}

/** Every state of a definition (with Parallel branches and Map processors), by name. */
export function statesOf(definition: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  const walk = (states: Record<string, Json>) => {
    for (const [name, state] of Object.entries(states)) {
      out.set(name, state);
      for (const branch of (state.Branches as Array<{ States: Record<string, Json> }> | undefined) ?? []) {
        walk(branch.States);
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, Json> } | undefined;
      if (processor) walk(processor.States);
    }
  };
  walk(definition.States as Record<string, Json>);
  return out;
}
