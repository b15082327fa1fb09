/**
 * `npm run teardown -- --stage <sandbox|production> --case <recommender|vision> (--confirm | --dry-run)
 *  [--region <region>] [--timeout-minutes <n>]`
 *
 * Deletes what the retraining loop created at run time for one stage and case study — stops its running training
 * and transform jobs, deregisters its scalable targets (their policies and target-tracking alarms go with them),
 * deletes its inference components, endpoint, endpoint configs, models and the model packages of its group — with
 * the same logic as the sandbox ML stack's teardown custom resource (`core/retraining/teardown.ts`). Production
 * keeps all of this when its stacks are deleted: this command is the deliberate removal. `--dry-run` lists what the
 * first step would do and changes nothing. Exit 0 when nothing of the loop is left; 2 with one message otherwise.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeActions,
  teardownAll,
  teardownStep,
  type TeardownPort,
  type TeardownScope,
} from '../../core/retraining/teardown';
import { sdkTeardownPort } from '../../lambdas/loop-teardown/sdk-port';
import { endpointNameOf } from '../../lib/config/names';
import { CASE_STUDIES, STAGES, type CaseStudyName, type StageName } from '../../lib/config/schema';
import { CliError, describeAwsError, parseFlags, runCli } from './common';

/** Parsed command line of `teardown`. */
export interface TeardownOptions {
  readonly stage: StageName;
  readonly caseStudy: CaseStudyName;
  readonly mode: 'confirm' | 'dry-run';
  readonly region?: string;
  readonly timeoutMinutes: number;
}

export const TEARDOWN_USAGE =
  'usage: npm run teardown -- --stage <sandbox|production> --case <recommender|vision> (--confirm | --dry-run) [--region <region>] [--timeout-minutes <n>]\n\n' +
  "Deletes what the retraining loop created at run time for one stage and case study (found by name and the loop's\n" +
  'tags): running training and transform jobs are stopped, scalable targets deregistered, then the inference\n' +
  'components, the endpoint, its endpoint configs, models and the model packages of its group are deleted, in that\n' +
  'order. CloudFormation stacks, buckets and data are not touched.';
const USAGE_LINE = TEARDOWN_USAGE.split('\n')[0];

/** Parses the command line; throws {@link CliError} naming the flag, the value and what is allowed. */
export function parseTeardownArgs(argv: readonly string[]): TeardownOptions {
  const values = parseFlags(
    argv,
    {
      stage: { type: 'string', placeholder: '<sandbox|production>', description: 'the stage of the loop' },
      case: { type: 'string', placeholder: '<recommender|vision>', description: 'the case study of the loop' },
      confirm: { type: 'boolean', default: false, description: 'delete (nothing is deleted without it)' },
      'dry-run': { type: 'boolean', default: false, description: 'list what would be deleted first; change nothing' },
      region: { type: 'string', placeholder: '<region>', description: "AWS region (default: the SDK's)" },
      'timeout-minutes': {
        type: 'string',
        placeholder: '<n>',
        description: 'give up after this long (default 60); rerun to resume',
      },
    },
    TEARDOWN_USAGE,
  );
  const stage = values.stage;
  if (!stage || !(STAGES as readonly string[]).includes(stage)) {
    throw new CliError(
      `--stage must be one of: ${STAGES.join(', ')}; received ${JSON.stringify(stage ?? null)}\n${USAGE_LINE}`,
    );
  }
  const caseStudy = values.case;
  if (!caseStudy || !(CASE_STUDIES as readonly string[]).includes(caseStudy)) {
    throw new CliError(
      `--case must be one of: ${CASE_STUDIES.join(', ')}; received ${JSON.stringify(caseStudy ?? null)}\n${USAGE_LINE}`,
    );
  }
  if (values.confirm === values['dry-run']) {
    throw new CliError(
      `give exactly one of --confirm (delete) or --dry-run (list only); received ${values.confirm ? 'both' : 'neither'}\n${USAGE_LINE}`,
    );
  }
  const timeoutMinutes = Number(values['timeout-minutes'] ?? 60);
  if (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 1 || timeoutMinutes > 600) {
    throw new CliError(`--timeout-minutes must be an integer from 1 to 600; received "${values['timeout-minutes']}"`);
  }
  return {
    stage: stage as StageName,
    caseStudy: caseStudy as CaseStudyName,
    mode: values.confirm ? 'confirm' : 'dry-run',
    region: values.region,
    timeoutMinutes,
  };
}

/** What `teardown` tears down. */
export function teardownScope(options: TeardownOptions): TeardownScope {
  return {
    stage: options.stage,
    caseStudy: options.caseStudy,
    endpointName: endpointNameOf(options.stage, options.caseStudy),
  };
}

/** Runs the teardown (or the dry run) and returns the report; polls every `pauseSeconds` between steps. */
export async function runTeardown(
  port: TeardownPort,
  options: TeardownOptions,
  pause: () => Promise<void>,
  pauseSeconds = 15,
  print: (line: string) => void = () => undefined,
): Promise<string> {
  const scope = teardownScope(options);
  if (options.mode === 'dry-run') {
    const plan = await teardownStep(port, scope, { dryRun: true });
    const lines = describeActions(plan.actions);
    return [
      `dry run: ${scope.endpointName} (${scope.stage}/${scope.caseStudy})`,
      ...(lines.length > 0 ? lines : ['nothing of the retraining loop is left']),
    ].join('\n');
  }
  const maxSteps = Math.max(1, Math.floor((options.timeoutMinutes * 60) / pauseSeconds));
  const last = await teardownAll(port, scope, {
    maxSteps,
    pause,
    onStep: (step, failures) => {
      for (const line of describeActions(step.actions.filter((a) => a.action !== 'wait' && a.action !== 'skip')))
        print(line);
      for (const failure of failures) print(`failed     ${failure} (retried next step)`);
    },
  });
  if (!last.done) {
    const left = describeActions(last.actions.filter((a) => a.action !== 'skip'));
    throw new CliError(
      `still waiting after ${options.timeoutMinutes} minutes; rerun to resume. Left:\n${left.join('\n')}`,
    );
  }
  const skipped = last.actions.filter((a) => a.action === 'skip');
  return [
    `nothing of the retraining loop of ${scope.endpointName} is left`,
    ...(skipped.length > 0 ? ["left alone (not the loop's, or needs a hand):", ...describeActions(skipped)] : []),
  ].join('\n');
}

async function main(): Promise<string> {
  const options = parseTeardownArgs(process.argv.slice(2));
  const config = options.region ? { region: options.region } : {};
  const port = sdkTeardownPort({
    sagemaker: new SageMakerClient(config),
    autoscaling: new ApplicationAutoScalingClient(config),
    cloudwatch: new CloudWatchClient(config),
  });
  try {
    return await runTeardown(
      port,
      options,
      () => sleep(15_000),
      15,
      (line) => process.stderr.write(`${line}\n`),
    );
  } catch (e) {
    // AWS problems (no credentials, access denied) and partial failures are one-line problems too.
    throw e instanceof CliError ? e : new CliError(describeAwsError(e));
  }
}

if (require.main === module) runCli('teardown', main);
