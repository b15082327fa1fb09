/**
 * The vision daily review workflow (`DailyReview`): synthesized per stage in a test stack with cdk-nag's
 * AwsSolutions checks on, then its definition executed by the local world with the job's real steps
 * (`core/vision/daily-review.ts`) on a local S3. The batch transform here is a stand-in that answers from the image
 * name (this file tests the workflow's plumbing; the simulation runs it with trained models).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseReviewRequest } from '../../../../core/review/request';
import { MemoryObjectStore } from '../../../../core/storage/object-store';
import { parseS3Uri } from '../../../../core/storage/s3-uri';
import { backfillInferenceId } from '../../../../core/vision/backfill';
import { parseModelAnswer } from '../../../../core/vision/prediction';
import { predictionLogRecord, readDayLog } from '../../../../core/vision/prediction-log';
import { endpointNameOf, resolveConfig, type StageName } from '../../../../lib/config';
import { AUDIT_SALT, DailyReview } from '../../../../lib/case-studies/vision/daily-review';
import { visionServingPlan } from '../../../../lib/case-studies/vision/serving';
import { SimClock } from '../../../../src/local-world/clock';
import { TaskError } from '../../../../src/local-world/errors';
import type { CallContext, Json, ModelRuntime } from '../../../../src/local-world/types';
import { LocalWorld } from '../../../../src/local-world/world';
import { dailyReviewMachine, runDailyReview } from '../../../../src/simulate/vision-daily-review';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../../../support/synth';

const arn = (service: string, rest: string) => `arn:aws:${service}:us-east-1:${TEST_ACCOUNT}:${rest}`;

/** The daily review of a stage in a test stack, synthesized with the checks on. */
function build(stage: StageName) {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'Review', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
  const config = resolveConfig(stage, 'vision');
  const v = config.vision!;
  const endpointName = endpointNameOf(stage, 'vision');
  const plan = visionServingPlan({ endpointName, ...config.serving, ...v.serving });
  const dataKey = kms.Key.fromKeyArn(stack, 'LakeKey', arn('kms', 'key/11111111-2222-3333-4444-555555555555'));
  const opsKey = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
  const bucket = (id: string, name: string) =>
    s3.Bucket.fromBucketAttributes(stack, id, { bucketArn: `arn:aws:s3:::${name}`, encryptionKey: dataKey });
  const dlq = new sqs.Queue(stack, 'Dlq', { encryptionMasterKey: opsKey, enforceSSL: true });
  const queue = new sqs.Queue(stack, 'Queue', {
    encryptionMasterKey: opsKey,
    enforceSSL: true,
    deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
  });
  const policy = {
    dailyBudget: v.activeLearning.dailyBudget,
    auditShare: v.activeLearning.auditShare,
    auditSalt: AUDIT_SALT,
    method: v.activeLearning.uncertainty,
  };
  const review = new DailyReview(stack, 'DailyReview', {
    endpointName,
    logBucket: bucket('Artifacts', 'artifacts-bucket'),
    imagesBucket: bucket('Raw', 'raw-bucket'),
    imagesPrefix: v.ingestion.imagesPrefix,
    reviewQueue: queue,
    policy,
    transformInstanceType: config.serving.instanceType,
    inferenceComponentName: plan.inferenceComponentName,
    dataKey,
    encryptionKey: opsKey,
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', arn('sns', 'notifications')),
  });
  const modelRole = new iam.Role(stack, 'ModelRole', {
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
  });
  review.grantModelRole(modelRole);
  app.synth();
  return { app, stack, endpointName, policy, plan, template: Template.fromStack(stack) };
}

let sbx: ReturnType<typeof build>;
let prd: ReturnType<typeof build>;
beforeAll(() => {
  sbx = build('sandbox');
  prd = build('production');
});

const policyDoc = (t: Template, prefix: string) =>
  JSON.stringify(
    Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp(prefix) } })),
  );

describe('the synthesized workflow', () => {
  test('runs daily at 02:00 UTC; the job carries the stage policy with the audit salt', () => {
    for (const b of [sbx, prd]) {
      b.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(0 2 * * ? *)',
        Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 3 } })],
      });
      b.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            REVIEW_POLICY: JSON.stringify(b.policy),
            ENDPOINT_NAME: b.endpointName,
            LOG_BUCKET: 'artifacts-bucket',
            IMAGES_URI: 's3://raw-bucket/images/',
          }),
        },
      });
    }
    expect(sbx.policy).toEqual({ dailyBudget: 200, auditShare: 0.02, auditSalt: 'audit-v1', method: 'margin' });
    expect(prd.policy.dailyBudget).toBe(5000);
  });

  test('the workflow starts only its own transforms, creates no model and passes no role', () => {
    const sandbox = policyDoc(sbx.template, '^DailyReviewStateMachineRole');
    expect(sandbox).toContain('sagemaker:CreateTransformJob');
    expect(sandbox).toContain('transform-job/mlbp-sandbox-vision-bf-*');
    expect(sandbox).toContain('inference-component/mlbp-sandbox-vision-ic');
    const production = policyDoc(prd.template, '^DailyReviewStateMachineRole');
    expect(production).toContain('endpoint/mlbp-production-vision');
    expect(production).toContain('endpoint-config/mlbp-production-vision-*');
    for (const doc of [sandbox, production]) {
      expect(doc).not.toContain('iam:PassRole');
      expect(doc).not.toContain('sagemaker:CreateModel');
      expect(doc).not.toMatch(/"Action":"\*"|"[a-z0-9-]+:\*"/);
    }
    // The job sends to the queue and reads the log; the served model's role writes the backfill's outputs only.
    const job = policyDoc(sbx.template, '^DailyReviewFunctionRole');
    expect(job).toContain('sqs:SendMessage');
    expect(job).toContain('arn:aws:s3:::artifacts-bucket/vision/deferred/*');
    const model = policyDoc(sbx.template, '^ModelRole');
    expect(model).toContain('arn:aws:s3:::artifacts-bucket/vision/backfill/*');
    expect(model).not.toContain('vision/predictions/');
  });

  test('failed runs alarm to the topic; the backfill transform writes with the lake key', () => {
    sbx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      AlarmActions: [arn('sns', 'notifications')],
    });
    const backfill = statesOf(dailyReviewMachine(sbx.template.toJSON()).definition).Backfill as Json;
    expect(backfill).toMatchObject({
      Resource: 'arn:aws:states:::sagemaker:createTransformJob.sync',
      Parameters: {
        'ModelName.$': '$.served.name',
        TransformOutput: { KmsKeyId: arn('kms', 'key/11111111-2222-3333-4444-555555555555') },
      },
    });
  });

  test('no unacknowledged AwsSolutions findings in either stage', () => {
    for (const b of [sbx, prd]) {
      expect(
        b.app
          .synth()
          .getStackByName('Review')
          .messages.filter((m) => m.level === 'error'),
      ).toEqual([]);
    }
  });
});

const statesOf = (definition: Json) => definition.States as Record<string, Json>;

const DAY = '2026-11-23';
const SETUP = {
  run: { rollout: { componentPolls: { create: 0, update: 0 }, endpointPolls: { create: 0, update: 0 } } },
} as unknown as CallContext;

/** The stand-in model's answer (a fixture): odd images are ambiguous between circle and square. */
const answer = (i: number) => {
  const p = i % 2 === 1 ? [0.48, 0.46, 0.06] : [0.94, 0.04, 0.02];
  return JSON.stringify({
    label: 'circle',
    probabilities: p,
    top_k: ['circle', 'square', 'star'].map((label, k) => ({ label, probability: p[k] })),
  });
};
const indexOf = (key: string) => Number(/(\d+)\.png$/.exec(key)?.[1]);

/** A batch transform stand-in: answers each manifest entry under the output path, as SageMaker names them. */
function transforms(store: MemoryObjectStore, failure?: string): ModelRuntime & { readonly requests: Json[] } {
  const requests: Json[] = [];
  return {
    requests,
    train: () => {
      throw new Error('no training in this test');
    },
    transform: async (request) => {
      requests.push(request);
      if (failure) throw new TaskError('SageMaker.TransformJobFailed', failure);
      const input = ((request.TransformInput as Json).DataSource as Json).S3DataSource as Json;
      const manifest = parseS3Uri(String(input.S3Uri));
      const [head, ...keys] = JSON.parse(store.text(manifest.bucket, manifest.key)!) as [{ prefix: string }, string];
      const out = parseS3Uri(String((request.TransformOutput as Json).S3OutputPath));
      for (const key of keys) {
        expect(store.bytes(parseS3Uri(head.prefix).bucket, parseS3Uri(head.prefix).key + key)).toBeDefined();
        await store.put(out.bucket, `${out.key}${key}.out`, answer(indexOf(key)));
      }
      return { records: keys.length };
    },
  };
}

/** A local world serving `vision-model-1` on the stage's endpoint, with a day of live and deferred predictions. */
async function world(b: typeof sbx) {
  const store = new MemoryObjectStore();
  const w = new LocalWorld({
    dynamo: new DynamoDBClient({ region: 'us-east-1' }),
    store,
    clock: new SimClock(new Date('2026-11-24T02:00:00.000Z')),
  });
  const h = w.hosting.handlers();
  await h.createModel({ ModelName: 'vision-model-1', PrimaryContainer: { Image: 'pytorch-inference' } }, SETUP);
  const config = `${b.endpointName}-run1`;
  await h.createEndpointConfig(
    { EndpointConfigName: config, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'vision-model-1' }] },
    SETUP,
  );
  await h.createEndpoint({ EndpointName: b.endpointName, EndpointConfigName: config }, SETUP);
  await h.describeEndpoint({ EndpointName: b.endpointName }, SETUP);
  if (b.plan.inferenceComponentName) {
    await h.createInferenceComponent(
      {
        InferenceComponentName: b.plan.inferenceComponentName,
        EndpointName: b.endpointName,
        Specification: { ModelName: 'vision-model-1' },
        RuntimeConfig: { CopyCount: 1 },
      },
      SETUP,
    );
  }
  const at = new Date(`${DAY}T10:00:00.000Z`);
  const live = [];
  const deferred = [];
  for (let i = 0; i < 10; i++) {
    const key = `images/cam/${String(i).padStart(3, '0')}.png`;
    await store.put('raw-bucket', key, `png ${i}`);
    const context = { imageKey: key, contentType: 'image/png' as const, sizeBytes: 5 };
    if (i < 6) {
      live.push(
        JSON.stringify(
          predictionLogRecord(parseModelAnswer(answer(i)), { ...context, inferenceId: `e-${i}`, predictedAt: at }),
        ),
      );
    } else {
      deferred.push(
        JSON.stringify({
          event_id: `e-${i}`,
          image_key: key,
          content_type: 'image/png',
          size_bytes: 5,
          deferred_at: at.toISOString(),
        }),
      );
    }
  }
  const folder = (prefix: string) => `vision/${prefix}/${b.endpointName}/dt=${DAY}/`;
  await store.put('artifacts-bucket', `${folder('predictions')}seq-1-6.jsonl`, `${live.join('\n')}\n`);
  await store.put('artifacts-bucket', `${folder('deferred')}seq-2-4.jsonl`, `${deferred.join('\n')}\n`);
  return { store, w };
}

describe('the workflow executed locally on its synthesized definition', () => {
  test('sandbox: the deferred images are scored by the served model, logged, and the day goes to review', async () => {
    const { store, w } = await world(sbx);
    const models = transforms(store);
    const run = await runDailyReview(w, dailyReviewMachine(sbx.template.toJSON()), {
      day: DAY,
      execution: '0f3c2a1b-9d8e-4f00-8c1d-2e3f4a5b6c7d',
      models,
    });
    expect(run.record.visited).toEqual([
      'PlanBackfill',
      'AnyDeferred?',
      'FindServedModel',
      'Backfill',
      'RecordBackfill',
      'SelectForReview',
    ]);
    // As the served model (no model created), one job per run named after the execution.
    expect(models.requests).toHaveLength(1);
    expect(models.requests[0]).toMatchObject({
      TransformJobName: 'mlbp-sandbox-vision-bf-0f3c2a1b',
      ModelName: 'vision-model-1',
      TransformInput: { ContentType: 'application/x-image', SplitType: 'None' },
      TransformResources: { InstanceType: 'ml.g4dn.xlarge', InstanceCount: 1 },
    });
    expect(run.output.recorded).toMatchObject({ predictions: 4, missing: [] });
    const log = await readDayLog(store, 'artifacts-bucket', 'vision/predictions/', sbx.endpointName, DAY);
    const backfilled = log.records.filter((r) => r.backfilled);
    expect(backfilled.map((r) => r.inference_id)).toEqual(['e-6', 'e-7', 'e-8', 'e-9'].map(backfillInferenceId));
    // Logged when recorded, on the world's clock (the transform's time after the plan).
    expect(backfilled[0].predicted_at >= '2026-11-24T02:00:00.000Z').toBe(true);
    // Live and backfilled alike: every prediction is considered; the 200 budget takes them all (audit first).
    expect(run.output.selection).toMatchObject({ considered: 10, overBudget: 0 });
    expect(run.requests).toHaveLength(10);
    const parsed = run.requests.map((r) => parseReviewRequest(JSON.parse(JSON.stringify(r)), 'images/'));
    expect(new Set(parsed.map((r) => r.imageKey)).size).toBe(10);
    // The ambiguous ones (odd images) are ranked before the sure ones among the uncertainty picks.
    const uncertain = parsed.filter((r) => r.reason !== 'audit');
    expect(indexOf(uncertain[0].imageKey) % 2).toBe(1);
  });

  test('a failed backfill still sends the live predictions to review; the run succeeds with the error recorded', async () => {
    const { store, w } = await world(sbx);
    const run = await runDailyReview(w, dailyReviewMachine(sbx.template.toJSON()), {
      day: DAY,
      execution: 'a1b2c3d4-0000',
      models: transforms(store, 'ClientError: the model container exited'),
    });
    expect(run.record.visited).toEqual([
      'PlanBackfill',
      'AnyDeferred?',
      'FindServedModel',
      'Backfill',
      'SelectForReview',
    ]);
    expect(run.output.backfillError?.Error).toBe('SageMaker.TransformJobFailed');
    expect(run.output.selection).toMatchObject({ considered: 6 });
  });

  test("production: the endpoint config's model; without an input day the run reviews the day before it", async () => {
    const { store, w } = await world(prd);
    const models = transforms(store);
    const machine = dailyReviewMachine(prd.template.toJSON());
    const requests: unknown[] = [];
    const record = await w.run(machine.definition, {
      execution: 'b2c3d4e5-1111',
      input: { version: '0', 'detail-type': 'Scheduled Event', time: '2026-11-24T02:00:00Z' },
      models,
      functions: {
        [machine.functionId]: async (event) => {
          const { runDailyReviewStep } = await import('../../../../core/vision/daily-review');
          return runDailyReviewStep(store, machine.settings, event as never, async (r) => {
            requests.push(...r);
          });
        },
      },
    });
    expect(record.status).toBe('SUCCEEDED');
    expect(record.visited).toEqual([
      'PlanBackfill',
      'AnyDeferred?',
      'FindServingEndpoint',
      'FindServedModel',
      'Backfill',
      'RecordBackfill',
      'SelectForReview',
    ]);
    expect((record.output as Json).backfill).toMatchObject({ day: DAY, images: 4 });
    expect(models.requests[0]).toMatchObject({
      ModelName: 'vision-model-1',
      TransformJobName: 'mlbp-production-vision-bf-b2c3d4e5',
    });
    expect(requests).toHaveLength(10);
  });

  test('nothing deferred: straight to the selection; a malformed day in the input fails the run naming it', async () => {
    const { store, w } = await world(sbx);
    const models = transforms(store);
    const machine = dailyReviewMachine(sbx.template.toJSON());
    const quiet = await runDailyReview(w, machine, { day: '2026-11-20', execution: 'c3d4e5f6-2222', models });
    expect(quiet.record.visited).toEqual(['PlanBackfill', 'AnyDeferred?', 'SelectForReview']);
    expect(quiet.requests).toEqual([]);
    expect(models.requests).toEqual([]);
    await expect(runDailyReview(w, machine, { day: '23/11/2026', execution: 'd4e5f6a7-3333', models })).rejects.toThrow(
      /the input's day must be a date yyyy-mm-dd; received "23\/11\/2026"/,
    );
  });
});
