import type { CaseStudyName, StageName } from './schema';

/**
 * Runtime name of the case study's SageMaker endpoint. The endpoint is created by the retraining loop, not by
 * CloudFormation, and clients, the drift checker and data capture paths need to find it, so its name is stable
 * per stage and case study (and unique when both stages share an account).
 */
export function endpointNameOf(stage: StageName, caseStudy: CaseStudyName): string {
  return `mlbp-${stage}-${caseStudy}`;
}
