/**
 * `npm run retrain -- --case <recommender|vision> --stage <sandbox|production> [--reason <text>] [--requested-by <who>]
 *  [--region <region>] [--state-machine-arn <arn>] [--dry-run]`
 *
 * Starts a run of a deployed retraining loop with the AWS SDK. The state machine is found by the stack tags
 * (`ml-blueprint:stage`, `ml-blueprint:case-study`) unless its ARN is given. The execution input records why the run
 * started (`trigger.kind = "manual"`). Exit 0 with the execution ARN; 2 with one message for a usage or AWS problem.
 * `--help` describes every flag.
 */
import {
  ListStateMachinesCommand,
  ListTagsForResourceCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CASE_STUDIES, STAGES, type CaseStudyName, type StageName } from '../../lib/config/schema';
import type { Trigger } from '../../core/retraining/plan';
import { CliError, describeAwsError, parseFlags, runCli } from './common';

export { CliError };

/** Parsed command line of `retrain`. */
export interface RetrainOptions {
  readonly caseStudy: CaseStudyName;
  readonly stage: StageName;
  readonly reason: string;
  readonly requestedBy: string;
  readonly region?: string;
  readonly stateMachineArn?: string;
  readonly dryRun: boolean;
}

const USAGE =
  'usage: npm run retrain -- --case <recommender|vision> --stage <sandbox|production> [--reason <text>] [--requested-by <who>] [--region <region>] [--state-machine-arn <arn>] [--dry-run]';

/** The flags of `retrain`, with what `--help` says about each. */
export const RETRAIN_FLAGS = {
  case: { type: 'string', placeholder: '<case>', description: `case study to retrain: ${CASE_STUDIES.join(' or ')}` },
  stage: { type: 'string', placeholder: '<stage>', description: `deployed stage: ${STAGES.join(' or ')}` },
  reason: {
    type: 'string',
    placeholder: '<text>',
    description: 'why, recorded in the execution input (default "manual retraining")',
  },
  'requested-by': { type: 'string', placeholder: '<who>', description: 'who asked, recorded too (default $USER)' },
  region: {
    type: 'string',
    placeholder: '<region>',
    description: "AWS region of the stage (default: AWS_REGION or the profile's region)",
  },
  'state-machine-arn': {
    type: 'string',
    placeholder: '<arn>',
    description: 'start this state machine instead of finding it by the stage and case-study tags',
  },
  'dry-run': {
    type: 'boolean',
    default: false,
    description: 'print the execution name and input without calling AWS',
  },
} as const;

/** Parses the command line; throws {@link CliError} naming the flag, the value and what is allowed. */
export function parseRetrainArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): RetrainOptions {
  const values = parseFlags(argv, RETRAIN_FLAGS, USAGE);
  const caseStudy = values.case;
  if (!caseStudy || !(CASE_STUDIES as readonly string[]).includes(caseStudy)) {
    throw new CliError(
      `--case must be one of: ${CASE_STUDIES.join(', ')}; received ${JSON.stringify(caseStudy ?? null)}\n${USAGE}`,
    );
  }
  const stage = values.stage;
  if (!stage || !(STAGES as readonly string[]).includes(stage)) {
    throw new CliError(
      `--stage must be one of: ${STAGES.join(', ')}; received ${JSON.stringify(stage ?? null)}\n${USAGE}`,
    );
  }
  const arn = values['state-machine-arn'];
  if (arn !== undefined && !/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$/.test(arn)) {
    throw new CliError(`--state-machine-arn must be a Step Functions state machine ARN; received "${arn}"`);
  }
  return {
    caseStudy: caseStudy as CaseStudyName,
    stage: stage as StageName,
    reason: values.reason ?? 'manual retraining',
    requestedBy: values['requested-by'] ?? env.USER ?? 'unknown',
    region: values.region,
    stateMachineArn: arn,
    dryRun: values['dry-run'] ?? false,
  };
}

/** The execution input of a manual run. */
export function manualInput(options: RetrainOptions): { trigger: Trigger } {
  return { trigger: { kind: 'manual', reason: options.reason, requestedBy: options.requestedBy } };
}

/** An execution name (also the dataset ID and the base of every runtime name): `manual-<UTC time>-<random>`. */
export function executionName(now: Date, random: () => number = Math.random): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `manual-${stamp}-${Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
}

/** Finds the retraining state machine of a stage and case study by its stack tags. */
export async function findStateMachine(sfn: SFNClient, stage: StageName, caseStudy: CaseStudyName): Promise<string> {
  const matches: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    for (const m of page.stateMachines ?? []) {
      if (!m.stateMachineArn || !m.name?.startsWith('RetrainingStateMachine')) continue;
      const { tags } = await sfn.send(new ListTagsForResourceCommand({ resourceArn: m.stateMachineArn }));
      const tag = (key: string) => tags?.find((t) => t.key === key)?.value;
      if (tag('ml-blueprint:stage') === stage && tag('ml-blueprint:case-study') === caseStudy) {
        matches.push(m.stateMachineArn);
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  if (matches.length !== 1) {
    throw new CliError(
      matches.length === 0
        ? `no retraining state machine tagged ml-blueprint:stage=${stage}, ml-blueprint:case-study=${caseStudy} in this account and region; deploy the stage or pass --state-machine-arn`
        : `several retraining state machines match ${stage}/${caseStudy}: ${matches.join(', ')}; pass --state-machine-arn`,
    );
  }
  return matches[0];
}

/** Starts the run; returns the execution ARN. */
export async function startRetraining(sfn: SFNClient, options: RetrainOptions, now = new Date()): Promise<string> {
  const arn = options.stateMachineArn ?? (await findStateMachine(sfn, options.stage, options.caseStudy));
  const out = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: arn,
      name: executionName(now),
      input: JSON.stringify(manualInput(options)),
    }),
  );
  if (!out.executionArn) throw new CliError('StartExecution returned no execution ARN');
  return out.executionArn;
}

async function main(): Promise<string> {
  const options = parseRetrainArgs(process.argv.slice(2));
  if (options.dryRun) return JSON.stringify({ name: executionName(new Date()), input: manualInput(options) }, null, 2);
  const sfn = new SFNClient(options.region ? { region: options.region } : {});
  try {
    return `started ${await startRetraining(sfn, options)}`;
  } catch (e) {
    // AWS problems (no region, no credentials, access denied, not deployed) are one-line problems too.
    throw e instanceof CliError ? e : new CliError(describeAwsError(e));
  }
}

if (require.main === module) void runCli('retrain', main);
