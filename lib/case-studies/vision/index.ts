import { IMAGE_EVENT_SCHEMA } from '../../../core/contracts/events';
import type { CaseStudy } from '../case-study';
import { VISION_PRESETS } from './presets';
import { AUDIT_SALT } from './daily-review';
import { visionRecipe } from './recipe';
import { visionRetraining } from './retraining';
import { VisionSystem } from './system';

/**
 * The vision system: classifies a large, changing stream of images. A PyTorch model (`models/vision/`, script mode
 * in the SageMaker PyTorch containers) trained on every label so far (human reviews first), promoted by McNemar's
 * test on a fixed human-verified test set; served as an inference component that scales to zero in the sandbox.
 */
export const VISION: CaseStudy = {
  name: 'vision',
  displayName: 'Vision',
  summary: 'Classifies arriving images; low-confidence predictions go to human review.',
  eventSchema: IMAGE_EVENT_SCHEMA,
  presets: VISION_PRESETS,
  algorithm: 'pytorch',
  trainingRecipe: (scope, options) => visionRecipe(scope, options),
  retraining: (config) =>
    visionRetraining(
      config?.vision && {
        imagesPrefix: config.vision.ingestion.imagesPrefix,
        imageLimits: { maxBytes: config.vision.ingestion.maxBytes, maxPixels: config.vision.ingestion.maxPixels },
        alpha: config.vision.promotion.alpha,
        audit: { share: config.vision.activeLearning.auditShare, salt: AUDIT_SALT },
        pretrainedWeightsKey: config.vision.pretrainedWeightsKey,
      },
    ),
  addToMlStack(stack, c) {
    const system = new VisionSystem(stack, 'Vision', {
      config: c.config,
      endpointName: c.endpointName,
      stream: c.dataPlane.stream,
      imagesBucket: c.dataPlane.raw,
      captureBucket: c.dataPlane.capture,
      reviewBucket: c.dataPlane.artifacts,
      dataKey: c.dataPlane.key,
      encryptionKey: c.opsKey,
      alarmTopic: c.topic,
      driftChecker: c.driftChecker,
      rollbackAlarms: c.rollbackAlarms,
    });
    return {
      servingPlan: system.serving.plan,
      grantDeploy: (grantee) => system.serving.grantDeploy(grantee),
      grantModelRole: (role) => system.dailyReview.grantModelRole(role),
    };
  },
};
