/**
 * `npm run approve -- --token <taskToken> --decision <approve|reject> [--comment <text>] [--approver <who>]
 *  [--case <case>] [--stage <stage>] [--region <region>]`
 *
 * Answers a production approval request of the retraining loop (the SNS message carries the task token):
 * approve resumes the run (the model package becomes Approved and is deployed); reject ends it (the package becomes
 * Rejected, nothing is deployed). `--case`/`--stage` are accepted for the record and copied into the answer.
 * `--help` describes every flag.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { MODEL_REJECTED_ERROR_NAME } from '../../core/retraining/approval';
import { CliError, describeAwsError, parseFlags, runCli } from './common';

/** Parsed command line of `approve`. */
export interface ApproveOptions {
  readonly token: string;
  readonly decision: 'approve' | 'reject';
  readonly comment: string;
  readonly approver: string;
  readonly caseStudy?: string;
  readonly stage?: string;
  readonly region?: string;
}

const USAGE =
  'usage: npm run approve -- --token <taskToken> --decision <approve|reject> [--comment <text>] [--approver <who>] [--case <case>] [--stage <stage>] [--region <region>]';

/** The flags of `approve`, with what `--help` says about each. */
export const APPROVE_FLAGS = {
  token: {
    type: 'string',
    placeholder: '<taskToken>',
    description: 'the taskToken of the approval request (in the SNS message)',
  },
  decision: {
    type: 'string',
    placeholder: '<approve|reject>',
    description: 'approve deploys the model; reject ends the run',
  },
  comment: { type: 'string', placeholder: '<text>', description: 'why; required with --decision reject' },
  approver: {
    type: 'string',
    placeholder: '<who>',
    description: 'who decided, recorded in the answer (default $USER)',
  },
  case: { type: 'string', placeholder: '<case>', description: 'case study, copied into the answer for the record' },
  stage: { type: 'string', placeholder: '<stage>', description: 'stage, copied into the answer for the record' },
  region: {
    type: 'string',
    placeholder: '<region>',
    description: "AWS region of the stage (default: AWS_REGION or the profile's region)",
  },
} as const;

/** Parses the command line; a rejection needs a comment (it becomes the recorded cause). */
export function parseApproveArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ApproveOptions {
  const values = parseFlags(argv, APPROVE_FLAGS, USAGE);
  if (!values.token) throw new CliError(`--token is required (the taskToken of the approval request)\n${USAGE}`);
  if (values.decision !== 'approve' && values.decision !== 'reject') {
    throw new CliError(`--decision must be approve or reject; received ${JSON.stringify(values.decision ?? null)}`);
  }
  if (values.decision === 'reject' && !values.comment) {
    throw new CliError('--comment is required with --decision reject (it is recorded as the reason)');
  }
  return {
    token: values.token,
    decision: values.decision,
    comment: values.comment ?? '',
    approver: values.approver ?? env.USER ?? 'unknown',
    caseStudy: values.case,
    stage: values.stage,
    region: values.region,
  };
}

/** Sends the answer. */
export async function answerApproval(sfn: SFNClient, options: ApproveOptions): Promise<void> {
  if (options.decision === 'approve') {
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: options.token,
        output: JSON.stringify({
          approved: true,
          approver: options.approver,
          comment: options.comment,
          caseStudy: options.caseStudy,
          stage: options.stage,
        }),
      }),
    );
    return;
  }
  await sfn.send(
    new SendTaskFailureCommand({
      taskToken: options.token,
      error: MODEL_REJECTED_ERROR_NAME,
      cause: `${options.comment} (${options.approver})`.slice(0, 32_000),
    }),
  );
}

async function main(): Promise<string> {
  const options = parseApproveArgs(process.argv.slice(2));
  try {
    await answerApproval(new SFNClient(options.region ? { region: options.region } : {}), options);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError(describeAwsError(e));
  }
  return options.decision === 'approve' ? 'approved' : 'rejected';
}

if (require.main === module) void runCli('approve', main);
