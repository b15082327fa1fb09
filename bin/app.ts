#!/usr/bin/env node
/**
 * The CDK app. The only place that reads context and the environment:
 *   -c stage=sandbox|production          (default sandbox)
 *   -c caseStudies=recommender,vision    (default both)
 *   -c region=<aws region>               (default: the stage preset's region)
 *   -c overrides='{"recommender":{"ingestion":{"shardCount":4}}}'   (validated like everything else)
 */
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../lib/app';
import { ConfigError, parseCaseStudies, parseOverrides, parseStage } from '../lib/config';

const app = new App();
try {
  const context = (key: string): unknown => app.node.tryGetContext(key);
  buildBlueprint(app, {
    stage: parseStage(context('stage')),
    caseStudies: parseCaseStudies(context('caseStudies')),
    overrides: parseOverrides(context('overrides')),
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: (context('region') as string | undefined) ?? undefined,
  });
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`ml-blueprint: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
