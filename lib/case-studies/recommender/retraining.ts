/**
 * The recommender's part of the retraining loop (every statement is `core/recommender/sql.ts`, sent as is):
 *
 * - co-visitation: the top-N neighbours of every item over the last days (Athena `UNLOAD`, JSON), loaded into the
 *   feature table where the `recommend` API reads them (`lambdas/covisitation-load`);
 * - dataset: once a model has served, the served slates joined to the interactions they led to (features exactly
 *   as served); before that, the bootstrap dataset (impressions, features computed point-in-time in SQL). Either
 *   writes the training channels (time-based split, negatives downsampled, groups per request, sharded by request
 *   when several instances train), the scoring set (the holdout with item ids) and the drift baseline sample;
 * - scoring: candidate (always) and champion by batch transform on the holdout (`label,group_id,item_id,score`);
 * - promotion: nDCG@10 of popularity, champion and candidate, paired bootstrap interval of the gain against the
 *   margin (`lambdas/recommender-evaluate`, `core/recommender/promotion.ts`); the report is the package's metrics;
 * - baseline: the holdout's features by contract name, what the drift checker reads from served slates.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { RANKING_SOURCE_KIND } from '../../../core/recommender/promotion';
import {
  bootstrapDataset,
  coVisitationQuery,
  slateDataset,
  statesFormat,
  type DatasetStatements,
  type RecommenderSqlOptions,
  type SqlParameter,
  type Statement,
  BASELINE_TIME_FIELD,
} from '../../../core/recommender/sql';
import type { BlueprintConfig } from '../../config';
import { BlueprintFunction } from '../../constructs/blueprint-function';
import { acknowledgeBucketGrants } from '../../nag';
import type { DatasetContext, DatasetStates, LoopCaseStudy } from '../../retraining/case-study';
import type { RetrainingLoopProps } from '../../retraining/props';
import { invokeFunction } from '../../retraining/states';
import { RECOMMENDER_SERVING_ID } from './serving';

/** What the recommender's dataset is built with (the stage's `realtime.features` and `ranking`). */
export interface RecommenderRetrainingSettings {
  readonly popularityBucketMinutes: number;
  readonly recentItemsPerUser: number;
  readonly featureTtlHours: number;
  readonly attributionMinutes: number;
  readonly validationFraction: number;
  readonly negativeSamplingRate: number;
  readonly shards: number;
  readonly coVisitation: {
    readonly minutes: number;
    readonly days: number;
    readonly neighbours: number;
    readonly itemsPerUser: number;
    readonly minUsers: number;
  };
  /** Instances that train (several: each reads its shards, `ShardedByS3Key`). */
  readonly instanceCount: number;
}

/** The settings of a stage (or the sandbox defaults without one). */
export function retrainingSettings(config?: BlueprintConfig): RecommenderRetrainingSettings {
  const f = config?.realtime?.features;
  const r = config?.ranking;
  return {
    popularityBucketMinutes: f?.popularityBucketMinutes ?? 15,
    recentItemsPerUser: f?.recentItemsPerUser ?? 20,
    featureTtlHours: f?.ttlHours ?? 48,
    attributionMinutes: r?.attributionMinutes ?? 30,
    validationFraction: r?.validationFraction ?? 0.2,
    negativeSamplingRate: r?.negativeSamplingRate ?? 1,
    shards: r?.shards ?? 1,
    coVisitation: r?.coVisitation ?? { minutes: 60, days: 7, neighbours: 50, itemsPerUser: 100, minUsers: 2 },
    instanceCount: config?.training.instanceCount ?? 1,
  };
}

/** The run's values of the statements' placeholders. */
const PARAMETER_PATHS: Readonly<Record<SqlParameter, string>> = {
  windowStart: '$.run.windowStart',
  windowEnd: '$.run.windowEnd',
  datasetId: '$.run.datasetId',
};

/** The recommender's dataset, scoring, promotion and baseline. */
export function recommenderRetraining(config?: BlueprintConfig): LoopCaseStudy {
  const settings = retrainingSettings(config);
  return {
    // The interaction table also holds the stream's served slates as rows without an event type.
    newRecordCondition: ' AND event_type IS NOT NULL',
    scoring: {
      transformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', 'S3Uri.$': '$.dataset.scoringUri' } },
        ContentType: 'text/csv',
        CompressionType: 'Gzip',
        SplitType: 'Line',
      },
      accept: 'text/csv',
      assembleWith: 'Line',
      // Send the features (drop label, group and item), write back "label,group_id,item_id,score".
      dataProcessing: { InputFilter: '$[3:]', JoinSource: 'Input', OutputFilter: '$[0,1,2,-1]' },
      // A first model is compared with popularity on the holdout: it is scored too.
      alwaysScoreCandidate: true,
      source: (outputUri) => ({
        kind: RANKING_SOURCE_KIND,
        outputUri,
        scoringUri: sfn.JsonPath.stringAt('$.dataset.scoringUri'),
        reportUri: sfn.JsonPath.stringAt('$.dataset.reportUri'),
      }),
    },
    evaluateFunction: (endpointName) => ({
      handlerDir: 'recommender-evaluate',
      description: `Decides by the paired bootstrap of nDCG@10 whether a candidate replaces ${endpointName}`,
      timeout: Duration.minutes(10),
      memorySize: 1769,
      environment: { BOOTSTRAP_CONFIDENCE: '0.95', BOOTSTRAP_RESAMPLES: '2000' },
    }),
    modelMetrics: {
      ModelQuality: { Statistics: { ContentType: 'application/json', 'S3Uri.$': '$.evaluation.reportUri' } },
    },
    baselineFunction: (endpointName) => ({
      handlerDir: 'retraining-baseline',
      description: `Refreshes the drift baseline of ${endpointName}`,
      timeout: Duration.minutes(10),
      memorySize: 1769,
    }),
    buildDataset: (c) => buildDataset(c, settings),
    baselinePayload: (props: RetrainingLoopProps) => ({
      sourceUri: sfn.JsonPath.stringAt('$.dataset.baselineUri'),
      artifactsBucket: props.artifactsBucket.bucketName,
      endpointName: props.endpointName,
      datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
      exclude: [],
      // Served time of each validation request: the baseline keeps per-hour data for seasonal comparisons.
      timeField: BASELINE_TIME_FIELD,
    }),
  };
}

/** The feature table of the stack's recommender serving (where the API reads the neighbour lists). */
function featureTable(scope: Construct): dynamodb.ITable {
  const serving = Stack.of(scope).node.tryFindChild(RECOMMENDER_SERVING_ID) as
    { featureStore?: { table: dynamodb.ITable } } | undefined;
  if (!serving?.featureStore) {
    throw new Error(
      `the recommender's retraining loads co-visitation into the feature table of ${RECOMMENDER_SERVING_ID}; add the case study's constructs to the stack first`,
    );
  }
  return serving.featureStore.table;
}

/**
 * `ComputeCoVisitation` → `LoadCoVisitation` → `ServedSlatesYet?` → three exports of the served slates or of the
 * bootstrap → `DescribeDataset`.
 */
function buildDataset(c: DatasetContext, s: RecommenderRetrainingSettings): DatasetStates {
  const { props, states } = c;
  const database = c.table.split('.')[0];
  const sql: RecommenderSqlOptions = {
    events: c.table,
    slates: `${database}."served_slate_events"`,
    datasetsUri: `s3://${props.curatedBucket.bucketName}/datasets/`,
    popularityBucketMinutes: s.popularityBucketMinutes,
    recentItemsPerUser: s.recentItemsPerUser,
    featureTtlHours: s.featureTtlHours,
    attributionMinutes: s.attributionMinutes,
    validationFraction: s.validationFraction,
    negativeSamplingRate: s.negativeSamplingRate,
    shards: s.shards,
    coVisitationMinutes: s.coVisitation.minutes,
    coVisitationDays: s.coVisitation.days,
    coVisitationNeighbours: s.coVisitation.neighbours,
    coVisitationItemsPerUser: s.coVisitation.itemsPerUser,
    coVisitationMinUsers: s.coVisitation.minUsers,
  };
  const athena = (stateId: string, statement: Statement) => {
    const { template, parameters } = statesFormat(statement);
    return states.athena(
      c.scope,
      stateId,
      sfn.JsonPath.DISCARD,
      template,
      ...parameters.map((p) => PARAMETER_PATHS[p]),
    );
  };

  // Co-visitation: computed over the lake, loaded where the API reads it.
  const loadFn = new BlueprintFunction(c.loop, 'CoVisitationFunction', {
    handlerDir: 'covisitation-load',
    description: `Loads the co-visitation neighbours of ${props.endpointName} into the feature table`,
    encryptionKey: props.opsKey,
    timeout: Duration.minutes(15),
    memorySize: 1769,
    environment: {
      TABLE_NAME: featureTable(c.scope).tableName,
      // Lists outlive a missed run; a newer run replaces them.
      NEIGHBOURS_TTL_HOURS: String(Math.max(s.featureTtlHours, 7 * 24)),
    },
  });
  featureTable(c.scope).grantWriteData(loadFn);
  props.curatedBucket.grantRead(loadFn, 'datasets/*');
  acknowledgeBucketGrants(loadFn.role!.node.findChild('DefaultPolicy'), [
    { bucket: props.curatedBucket, prefixes: ['datasets/'], encrypted: true },
  ]);
  const computeCoVisitation = athena('ComputeCoVisitation', coVisitationQuery(sql));
  const loadCoVisitation = states.guard(
    invokeFunction(
      c.scope,
      'LoadCoVisitation',
      loadFn,
      {
        uri: c.datasetUri('covisitation/'),
        datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
      },
      '$.coVisitation',
      { 'items.$': '$.items', 'rejected.$': '$.rejected' },
    ),
  );

  const exports = (prefix: string, label: string, statements: DatasetStatements) => {
    const mark = new sfn.Pass(c.scope, `Use${prefix}`, {
      comment: label,
      result: sfn.Result.fromString(label),
      resultPath: '$.datasetSource',
    });
    const channels = athena(`Export${prefix}Channels`, statements.channels);
    const scoring = athena(`Export${prefix}ScoringSet`, statements.scoring);
    const baseline = athena(`Export${prefix}Baseline`, statements.baseline);
    mark.next(channels).next(scoring).next(baseline);
    return { start: mark, end: baseline };
  };
  const slates = exports('ServedSlates', 'served slates joined to their interactions', slateDataset(sql));
  const bootstrap = exports('Bootstrap', 'bootstrap: impressions with point-in-time features', bootstrapDataset(sql));

  const distribution = s.instanceCount > 1 ? 'ShardedByS3Key' : 'FullyReplicated';
  const channel = (name: 'train' | 'validation') => ({
    ChannelName: name,
    ContentType: 'text/csv',
    DataSource: {
      S3DataSource: {
        S3DataType: 'S3Prefix',
        S3Uri: c.datasetUri(`channels/split=${name}/`),
        S3DataDistributionType: distribution,
      },
    },
  });
  const recipe = props.recipe;
  const describe = new sfn.Pass(c.scope, 'DescribeDataset', {
    parameters: {
      trainUri: c.datasetUri('channels/split=train/'),
      validationUri: c.datasetUri('channels/split=validation/'),
      scoringUri: c.datasetUri('scoring/'),
      baselineUri: c.datasetUri('baseline/'),
      reportUri: c.datasetUri('evaluation.json'),
      'source.$': '$.datasetSource',
      hyperparameters: { ...recipe.hyperparameters, negative_sampling_rate: String(s.negativeSamplingRate) },
      channels: [
        channel('train'),
        channel('validation'),
        ...(recipe.sourceChannel
          ? [
              {
                ChannelName: recipe.sourceChannel.name,
                ContentType: 'application/x-tar',
                DataSource: {
                  S3DataSource: {
                    S3DataType: 'S3Prefix',
                    S3Uri: recipe.sourceChannel.s3Url,
                    S3DataDistributionType: 'FullyReplicated',
                  },
                },
              },
            ]
          : []),
      ],
    },
    resultPath: '$.dataset',
  });
  slates.end.next(describe);
  bootstrap.end.next(describe);
  computeCoVisitation.next(loadCoVisitation).next(
    new sfn.Choice(c.scope, 'ServedSlatesYet?', {
      comment: 'A champion has served slates (their features are the training data); before it, the bootstrap.',
    })
      .when(sfn.Condition.booleanEquals('$.champion.found', true), slates.start)
      .otherwise(bootstrap.start),
  );
  return { start: computeCoVisitation, end: describe, functions: { coVisitation: loadFn } };
}
