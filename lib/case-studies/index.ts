import type { CaseStudyName } from '../config/schema';
import { RECOMMENDER } from './recommender';
import type { CaseStudySpec } from './types';
import { VISION } from './vision';

export * from './types';
export { RECOMMENDER } from './recommender';
export { VISION } from './vision';

/** Every case study, by name. */
export const CASE_STUDY_SPECS: Readonly<Record<CaseStudyName, CaseStudySpec>> = {
  recommender: RECOMMENDER,
  vision: VISION,
};
