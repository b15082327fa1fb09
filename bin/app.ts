#!/usr/bin/env node
/**
 * The CDK app. The only place that reads context and the environment:
 *   -c stage=sandbox|production          (default sandbox)
 *   -c caseStudies=recommender,vision    (default both)
 *   -c region=<aws region>               (default: see {@link deployRegion})
 *   -c overrides='{"recommender":{"ingestion":{"retentionHours":48}}}'   (validated like everything else)
 *   -c notifyEmail=you@example.com       (subscribed to every ML stack's notification topic; default none)
 */
import { App } from 'aws-cdk-lib';
import { buildBlueprint } from '../lib/app';
import {
  ConfigError,
  parseCaseStudies,
  parseNotifyEmails,
  parseOverrides,
  parseStage,
  type ConfigOverrides,
} from '../lib/config';

/** Where the region comes from, first match wins. */
export type RegionSource = '-c region' | 'overrides' | 'CDK_DEFAULT_REGION' | 'AWS_REGION' | 'AWS_DEFAULT_REGION';

/**
 * The region to deploy to: `-c region`, else a region set in `-c overrides` (left to the config), else the
 * environment the CDK CLI and the AWS SDK use (`CDK_DEFAULT_REGION`, which the CLI sets from `AWS_REGION` or the
 * profile, then `AWS_REGION`, `AWS_DEFAULT_REGION`), else undefined: the stage preset's region (us-east-1).
 */
export function deployRegion(
  contextRegion: unknown,
  overrides: ConfigOverrides,
  env: NodeJS.ProcessEnv,
): { region?: string; source?: RegionSource } {
  if (typeof contextRegion === 'string' && contextRegion !== '') return { region: contextRegion, source: '-c region' };
  const inOverrides = Object.values(overrides).some(
    (o) => typeof o === 'object' && o !== null && 'region' in (o as Record<string, unknown>),
  );
  if (inOverrides) return { source: 'overrides' };
  for (const name of ['CDK_DEFAULT_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const value = env[name];
    if (value) return { region: value, source: name };
  }
  return {};
}

/** Builds and synthesizes the app from context and environment; a bad configuration exits 1 with one line. */
export function main(): void {
  const app = new App();
  try {
    const context = (key: string): unknown => app.node.tryGetContext(key);
    const overrides = parseOverrides(context('overrides'));
    buildBlueprint(app, {
      stage: parseStage(context('stage')),
      caseStudies: parseCaseStudies(context('caseStudies')),
      overrides,
      account: process.env.CDK_DEFAULT_ACCOUNT,
      region: deployRegion(context('region'), overrides, process.env).region,
      notifyEmails: parseNotifyEmails(context('notifyEmail')),
    });
    app.synth();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`ml-blueprint: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
}

if (require.main === module) main();
