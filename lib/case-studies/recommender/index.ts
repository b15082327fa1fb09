import { Duration } from 'aws-cdk-lib';
import { INTERACTION_EVENT_SCHEMA, SERVED_SLATE_SCHEMA } from '../../../core/contracts/events';
import type { CaseStudy } from '../case-study';
import { RECOMMENDER_PRESETS } from './presets';
import { recommenderRecipe } from './recipe';
import { recommenderRetraining } from './retraining';
import { RECOMMENDER_SERVING_ID, RecommenderServing } from './serving';
import { lakeNamesOf, SlateOutcomes } from './slate-outcomes';

/** Where the stream's served slates land in the raw zone (their own table). */
const SLATES_PREFIX = 'slates/';

/**
 * The recommender: two stages — candidate generation (co-visitation, trending, fresh items) and an XGBoost
 * learning-to-rank model (`models/recommender/`, script mode in the XGBoost 1.7-1 container) over one feature
 * contract, trained on the slates the `recommend` API served; promoted by a paired bootstrap of nDCG@10.
 */
export const RECOMMENDER: CaseStudy = {
  name: 'recommender',
  displayName: 'Recommender',
  summary: 'Ranks catalogue items for a user: candidate generation, then a learning-to-rank model on served slates.',
  eventSchema: INTERACTION_EVENT_SCHEMA,
  // The API logs every served slate on the stream; its own table is what the training dataset reads.
  extraEventSchemas: [{ schema: SERVED_SLATE_SCHEMA, prefix: SLATES_PREFIX }],
  presets: RECOMMENDER_PRESETS,
  algorithm: 'xgboost',
  trainingRecipe: (scope, options) => recommenderRecipe(scope, options),
  retraining: (config) => recommenderRetraining(config),
  addToMlStack(stack, c) {
    const serving = new RecommenderServing(stack, RECOMMENDER_SERVING_ID, {
      config: c.config,
      stream: c.dataPlane.stream,
      rawBucket: c.dataPlane.raw,
      captureBucket: c.dataPlane.capture,
      dataKey: c.dataPlane.key,
      opsKey: c.opsKey,
      alarmTopic: c.topic,
      endpointName: c.endpointName,
      driftChecker: c.driftChecker,
    });
    // Served slates with the clicks they led to, as the drift checker's outcome records (realised CTR, nDCG@10).
    const ranking = c.config.ranking;
    if (ranking) {
      new SlateOutcomes(stack, 'SlateOutcomes', {
        caseStudy: c.config.caseStudy,
        stage: c.config.stage,
        endpointName: c.endpointName,
        rawBucket: c.dataPlane.raw,
        curatedBucket: c.dataPlane.curated,
        artifactsBucket: c.dataPlane.artifacts,
        ...lakeNamesOf(c.config),
        eventsTable: { name: `${INTERACTION_EVENT_SCHEMA.name}_events`, prefix: 'events/' },
        slatesTable: { name: `${SERVED_SLATE_SCHEMA.name}_events`, prefix: SLATES_PREFIX },
        attributionMinutes: ranking.attributionMinutes,
        deliveryAllowanceMinutes: ranking.outcomes.deliveryAllowanceMinutes,
        catchUpHours: ranking.outcomes.catchUpHours,
        schedule: Duration.minutes(ranking.outcomes.scheduleMinutes),
        encryptionKey: c.opsKey,
        alarmTopic: c.topic,
      });
    }
    return {
      configureReferences: (fn) => serving.configureReferences(fn),
      ...(serving.canaryCtrAlarm ? { rollbackAlarms: [serving.canaryCtrAlarm] } : {}),
    };
  },
};
