/**
 * Renders a Step Functions definition (Amazon States Language) as a Mermaid `stateDiagram-v2`, so the docs show
 * the retraining loop exactly as synthesized. Used by `npm run docs`; `test/docs.test.ts` fails when a committed
 * diagram is stale.
 */
import type { CaseStudyName, StageName } from '../../lib/config/schema';
import { synthesizeStacks } from '../synth/assembly';
import { resolveDefinitionString } from '../cost/definition';

interface ChoiceRule {
  readonly Next?: string;
  readonly Condition?: string;
  readonly Variable?: string;
  readonly [comparator: string]: unknown;
}

interface CatchRule {
  readonly ErrorEquals?: readonly string[];
  readonly Next?: string;
}

interface StateSpec {
  readonly Type?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly ChoiceRule[];
  readonly Catch?: readonly CatchRule[];
  readonly Comment?: string;
}

/** The parts of a definition the diagram needs. */
export interface DefinitionShape {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, StateSpec>>;
}

const id = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

/** A short, readable label of a Choice rule. */
export function choiceLabel(rule: ChoiceRule): string {
  let text: string;
  if (typeof rule.Condition === 'string') {
    text = rule.Condition.replace(/^\{%\s*|\s*%\}$/g, '');
  } else {
    const comparator = Object.keys(rule).find((k) => !['Next', 'Variable', 'Condition'].includes(k));
    const variable = typeof rule.Variable === 'string' ? rule.Variable.replace(/^\$\./, '') : '';
    if (comparator === 'And' || comparator === 'Or' || comparator === 'Not') text = `${comparator.toLowerCase()}(…)`;
    else if (comparator) {
      const value = rule[comparator];
      const op = comparator.replace(/Path$/, '').replace(/^(String|Numeric|Boolean|Timestamp)/, '');
      text = `${variable} ${op} ${JSON.stringify(value)}`;
    } else text = variable;
  }
  text = text.replace(/[:;"]/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 48 ? `${text.slice(0, 45)}…` : text;
}

/**
 * Mermaid diagram of a definition: every transition (Next, Choice rules with their conditions, Default), terminal
 * states to `[*]`. Catch transitions to a state that catches for more than `commonCatchThreshold` states (the loop's
 * failure path) are summarized in a note instead of drawn one by one.
 */
export function mermaidStateDiagram(definition: DefinitionShape, commonCatchThreshold = 3): string {
  const lines = ['stateDiagram-v2', `  [*] --> ${id(definition.StartAt)}`];
  const catchTargets = new Map<string, number>();
  for (const state of Object.values(definition.States)) {
    for (const c of state.Catch ?? []) if (c.Next) catchTargets.set(c.Next, (catchTargets.get(c.Next) ?? 0) + 1);
  }
  const common = [...catchTargets.entries()].filter(([, n]) => n > commonCatchThreshold).map(([t]) => t);
  for (const [name, state] of Object.entries(definition.States)) {
    if (id(name) !== name) lines.push(`  state "${name}" as ${id(name)}`);
    if (state.Type === 'Choice') lines.push(`  state ${id(name)} <<choice>>`);
  }
  for (const [name, state] of Object.entries(definition.States)) {
    const from = id(name);
    if (state.Next) lines.push(`  ${from} --> ${id(state.Next)}`);
    for (const rule of state.Choices ?? []) {
      if (rule.Next) lines.push(`  ${from} --> ${id(rule.Next)} : ${choiceLabel(rule)}`);
    }
    if (state.Default) lines.push(`  ${from} --> ${id(state.Default)} : otherwise`);
    for (const c of state.Catch ?? []) {
      if (c.Next && !common.includes(c.Next)) {
        lines.push(`  ${from} --> ${id(c.Next)} : ${(c.ErrorEquals ?? ['error']).join(', ').slice(0, 40)}`);
      }
    }
    if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') lines.push(`  ${from} --> [*]`);
  }
  for (const target of common) {
    lines.push(`  note right of ${id(target)}`, `    every Task catches errors into ${target}`, '  end note');
  }
  return lines.join('\n');
}

/** The retraining state machine of a stage and case study, as synthesized, rendered for Markdown. */
export function retrainingDiagram(stage: StageName, caseStudy: CaseStudyName): string {
  const stacks = synthesizeStacks(stage, { caseStudies: [caseStudy] });
  const ml = stacks.find((s) => s.stackName.endsWith('-ML'));
  // The stack may hold other workflows (e.g. a daily job): the loop's is the retraining construct's.
  const machine = Object.entries(ml?.resources ?? {}).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('RetrainingStateMachine'),
  )?.[1];
  if (!ml || !machine) throw new Error(`no retraining state machine in the ${stage} ${caseStudy} templates`);
  const definition = JSON.parse(resolveDefinitionString(machine.Properties?.DefinitionString)) as DefinitionShape;
  return [
    `The retraining loop of \`${ml.stackName}\`, rendered from its synthesized definition by \`npm run docs\`` +
      ` (${Object.keys(definition.States).length} states).`,
    '',
    '```mermaid',
    mermaidStateDiagram(definition),
    '```',
  ].join('\n');
}
