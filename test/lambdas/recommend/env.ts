/** The recommend function's environment in its tests (both its handler and its slate logger). */
export const RECOMMEND_ENV = {
  CASE_STUDY: 'recommender',
  STAGE: 'sandbox',
  TABLE_NAME: 'features',
  ENDPOINT_NAME: 'mlbp-sandbox-recommender',
  INVOKE_TIMEOUT_MS: '100',
  CANDIDATES: '10',
  MAX_K: '5',
  RECENT_ITEMS_PER_USER: '20',
  POPULARITY_BUCKET_MINUTES: '15',
  FEATURE_TTL_HOURS: '48',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};
