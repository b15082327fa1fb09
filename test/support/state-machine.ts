import type { Template } from 'aws-cdk-lib/assertions';
import { resolveIntrinsics } from '../../src/local-world/intrinsics';

/**
 * The (only) state machine definition of a template, parsed, with intrinsics resolved by the local world's
 * resolver (fixed account and region, ARNs named after the logical IDs), for reading the definition in tests.
 */
export function stateMachineDefinition(template: Template): Record<string, unknown> {
  const resources = (template.toJSON().Resources ?? {}) as Record<string, { Type: string; Properties?: unknown }>;
  // The retraining loop's (a sandbox ML stack also holds the teardown provider's waiter state machine).
  const all = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const loops = all.filter(([id]) => id.startsWith('RetrainingStateMachine'));
  const machines = (all.length === 1 ? all : loops).map(([, r]) => r);
  if (machines.length !== 1) throw new Error(`expected one retraining state machine; found ${machines.length}`);
  const types = Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
  const definition = (machines[0].Properties as { DefinitionString: unknown }).DefinitionString;
  return JSON.parse(String(resolveIntrinsics(definition, { types }))) as Record<string, unknown>;
}
