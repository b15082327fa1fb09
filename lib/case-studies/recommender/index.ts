import { INTERACTION_EVENT_SCHEMA, SERVED_SLATE_SCHEMA } from '../../../core/contracts/events';
import type { CaseStudy } from '../case-study';
import { RECOMMENDER_PRESETS } from './presets';
import { recommenderRecipe } from './recipe';
import { recommenderRetraining } from './retraining';
import { RECOMMENDER_SERVING_ID, RecommenderServing } from './serving';

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
  extraEventSchemas: [{ schema: SERVED_SLATE_SCHEMA, prefix: 'slates/' }],
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
    return serving.canaryCtrAlarm ? { rollbackAlarms: [serving.canaryCtrAlarm] } : {};
  },
};
