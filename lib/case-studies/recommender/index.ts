import { INTERACTION_EVENT_SCHEMA } from '../../../core/contracts/events';
import type { CaseStudy } from '../case-study';
import { RECOMMENDER_PRESETS } from './presets';
import { recommenderRetraining } from './retraining';
import { RecommenderServing } from './serving';

/**
 * The recommender: ranks items for a user from interaction history and real-time features. XGBoost on tabular
 * features exported by Athena; served behind the `recommend` API with a popularity fallback.
 */
export const RECOMMENDER: CaseStudy = {
  name: 'recommender',
  displayName: 'Recommender',
  summary: 'Ranks catalogue items for a user from interaction events (click-through prediction).',
  eventSchema: INTERACTION_EVENT_SCHEMA,
  presets: RECOMMENDER_PRESETS,
  algorithm: 'xgboost',
  retraining: () => recommenderRetraining(),
  addToMlStack(stack, c) {
    new RecommenderServing(stack, 'RecommenderServing', {
      config: c.config,
      stream: c.dataPlane.stream,
      rawBucket: c.dataPlane.raw,
      dataKey: c.dataPlane.key,
      opsKey: c.opsKey,
      alarmTopic: c.topic,
      endpointName: c.endpointName,
      driftChecker: c.driftChecker,
    });
    return {};
  },
};
