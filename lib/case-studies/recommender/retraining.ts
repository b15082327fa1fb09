/**
 * The recommender's part of the retraining loop: the dataset is four Athena exports of the window (training and
 * validation splits as Parquet, a baseline sample as JSON, the validation split as label-first CSV for scoring);
 * both models are scored on that CSV by batch transform; the drift baseline is the feature profile of the sample.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { datasetQueries } from '../../../core/recommender/sql';
import type { DatasetContext, DatasetStates, LoopCaseStudy } from '../../retraining/case-study';
import type { RetrainingLoopProps } from '../../retraining/props';

/** The recommender's dataset, scoring and baseline. */
export function recommenderRetraining(): LoopCaseStudy {
  return {
    scoring: {
      transformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', 'S3Uri.$': '$.dataset.scoringUri' } },
        ContentType: 'text/csv',
        CompressionType: 'Gzip',
        SplitType: 'Line',
      },
      accept: 'text/csv',
      assembleWith: 'Line',
      // Send the features (drop the label), write back "label,prediction".
      dataProcessing: { InputFilter: '$[1:]', JoinSource: 'Input', OutputFilter: '$[0,-1]' },
      source: (outputUri) => ({ kind: 'recommender', outputUri }),
    },
    baselineFunction: (endpointName) => ({
      handlerDir: 'retraining-baseline',
      description: `Refreshes the drift baseline of ${endpointName}`,
      timeout: Duration.minutes(10),
      memorySize: 1769,
    }),
    buildDataset,
    baselinePayload: (props: RetrainingLoopProps) => ({
      sourceUri: sfn.JsonPath.stringAt('$.dataset.baselineUri'),
      artifactsBucket: props.artifactsBucket.bucketName,
      endpointName: props.endpointName,
      datasetId: sfn.JsonPath.stringAt('$.run.datasetId'),
      exclude: ['label'],
    }),
  };
}

/** `ExportTrainingSet` → `ExportValidationSet` → `ExportBaselineSample` → `ExportScoringSet` → `DescribeDataset`. */
function buildDataset(c: DatasetContext): DatasetStates {
  const { props, states } = c;
  const queries = datasetQueries({
    schema: props.eventSchema,
    table: c.table,
    inWindow: c.inWindow,
    destination: `s3://${props.curatedBucket.bucketName}/datasets/{}/`,
  });
  const unload = (stateId: string, query: string) =>
    states.athena(
      c.scope,
      stateId,
      sfn.JsonPath.DISCARD,
      query,
      '$.run.windowStart',
      '$.run.windowStart',
      '$.run.windowEnd',
      '$.run.datasetId',
    );
  const trainSet = unload('ExportTrainingSet', queries.train);
  const describe = new sfn.Pass(c.scope, 'DescribeDataset', {
    parameters: {
      trainUri: c.datasetUri('train/'),
      validationUri: c.datasetUri('validation/'),
      baselineUri: c.datasetUri('baseline/'),
      scoringUri: c.datasetUri('scoring/'),
      hyperparameters: props.recipe.hyperparameters,
    },
    resultPath: '$.dataset',
  });
  trainSet
    .next(unload('ExportValidationSet', queries.validation))
    .next(unload('ExportBaselineSample', queries.baseline))
    .next(unload('ExportScoringSet', queries.scoring))
    .next(describe);
  return { start: trainSet, end: describe };
}
