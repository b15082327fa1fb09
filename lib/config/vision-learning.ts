/**
 * The vision settings of active learning, promotion and pretrained weights (`vision.activeLearning`,
 * `vision.promotion`, `vision.pretrainedWeightsKey` in the config schema), and the ECR image URI rule the
 * training and inference image overrides share.
 */
import { z } from 'zod';

const number = (min: number, max: number, unit: string, integer: boolean) => {
  const msg = `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${unit ? ` ${unit}` : ''}`;
  const n = z.number({ error: msg }).min(min, { error: msg }).max(max, { error: msg });
  return integer ? n.int({ error: msg }) : n;
};

/** An ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>` or `@sha256:…`). */
export const ecrImageUri = () =>
  z
    .string({ error: 'must be an ECR image URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag' })
    .regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[a-f0-9]{64})$/, {
      error: 'must be an ECR image URI such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag',
    });

/**
 * Active learning with a budget: each day the most uncertain predictions up to `dailyBudget` go to the reviewers'
 * queue, plus a random `auditShare` of all predictions (an unbiased accuracy estimate whose human labels grow the
 * fixed test set).
 */
export const activeLearningSchema = z.strictObject({
  dailyBudget: number(0, 1_000_000, 'images a day', true),
  auditShare: number(0, 0.5, '(a fraction)', false),
  uncertainty: z.enum(['margin', 'entropy'], { error: 'must be "margin" or "entropy"' }),
});

/** Promotion: McNemar's one-sided exact test on the fixed test set at `alpha` (and retraining.minImprovement). */
export const promotionSchema = z.strictObject({
  alpha: number(0, 0.5, '(exclusive of 0)', false).refine((a) => a > 0, { error: 'must be greater than 0' }),
});

/**
 * Key (in the artifacts bucket, under `models/`) of the backbone's pretrained weights for a first model trained
 * with `pretrained=channel` (network isolation).
 */
export const pretrainedWeightsKeySchema = z.string().regex(/^models\/[A-Za-z0-9._/-]+$/, {
  error: 'must be a key under models/ such as models/pretrained/resnet50.pth',
});
