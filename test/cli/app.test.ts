/**
 * The CDK app's reading of context and environment (bin/app.ts), and the README's configuration examples: each
 * `-c overrides=…` the README shows resolves for every case study it names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { deployRegion } from '../../bin/app';
import { buildBlueprint } from '../../lib/app';
import { CASE_STUDIES, ConfigError, parseNotifyEmails, parseOverrides, resolveConfig } from '../../lib/config';
import { CDK_JSON_CONTEXT, TEST_ACCOUNT } from '../support/synth';

const root = join(__dirname, '..', '..');

describe('the deploy region', () => {
  const env = { CDK_DEFAULT_REGION: 'eu-west-1', AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-south-1' };

  test('-c region wins over everything', () => {
    expect(deployRegion('us-west-2', { '*': { region: 'sa-east-1' } }, env)).toEqual({
      region: 'us-west-2',
      source: '-c region',
    });
  });

  test('a region in -c overrides is left to the configuration, whatever the environment says', () => {
    expect(deployRegion(undefined, { vision: { region: 'sa-east-1' } }, env)).toEqual({ source: 'overrides' });
  });

  test('else the environment: CDK_DEFAULT_REGION (set by the CDK CLI), then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(deployRegion(undefined, {}, env)).toEqual({ region: 'eu-west-1', source: 'CDK_DEFAULT_REGION' });
    expect(deployRegion(undefined, {}, { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'x' })).toEqual({
      region: 'eu-central-1',
      source: 'AWS_REGION',
    });
    expect(deployRegion('', {}, { AWS_DEFAULT_REGION: 'ap-south-1' })).toEqual({
      region: 'ap-south-1',
      source: 'AWS_DEFAULT_REGION',
    });
  });

  test('else nothing: the stage preset’s region, us-east-1, as the README says', () => {
    expect(deployRegion(undefined, {}, {})).toEqual({});
    expect(resolveConfig('sandbox', 'recommender').region).toBe('us-east-1');
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toMatch(/else \*\*us-east-1\*\*/);
  });
});

describe('the README’s configuration examples', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/-c overrides='([^']+)'/g)].map((m) => m[1]);

  test('the README shows at least one -c overrides example', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  test.each(examples)('%s resolves for every case study it names, in the stage it is shown with', (json) => {
    const overrides = parseOverrides(json);
    for (const caseStudy of CASE_STUDIES) {
      expect(() => resolveConfig('sandbox', caseStudy, overrides)).not.toThrow();
    }
  });
});

test('a misspelt key lists every allowed key, the optional ones (shardCount) included', () => {
  expect(() =>
    resolveConfig('sandbox', 'recommender', parseOverrides('{"recommender":{"ingestion":{"shardCont":4}}}')),
  ).toThrow(
    'ingestion has unknown key "shardCont"; allowed: capacityMode, traffic, shardCount, retentionHours, firehose',
  );
});

describe('-c notifyEmail subscribes addresses to the notification topic', () => {
  test('one address or several, comma-separated; absent or empty: none', () => {
    expect(parseNotifyEmails(undefined)).toEqual([]);
    expect(parseNotifyEmails('')).toEqual([]);
    expect(parseNotifyEmails('ann@example.com')).toEqual(['ann@example.com']);
    expect(parseNotifyEmails('ann@example.com, bob@example.org,ann@example.com')).toEqual([
      'ann@example.com',
      'bob@example.org',
    ]);
  });

  test.each(['ann', 'ann@example', 'a b@example.com', 'ann@example.com,,'])('"%s" fails with one line', (raw) => {
    expect(() => parseNotifyEmails(raw)).toThrow(ConfigError);
    expect(() => parseNotifyEmails(raw)).toThrow(
      `Invalid configuration (context): notifyEmail must be an email address such as you@example.com (or several, comma-separated); received ${JSON.stringify(raw)}`,
    );
  });

  test('each address becomes an email subscription of the ML stack’s topic; without it, nothing subscribes', () => {
    const synth = (notifyEmails?: string[]) => {
      const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
      const [vision] = buildBlueprint(app, {
        stage: 'sandbox',
        caseStudies: ['vision'],
        account: TEST_ACCOUNT,
        nag: false,
        notifyEmails,
      });
      return {
        template: Template.fromStack(vision.ml),
        topic: vision.ml.getLogicalId(vision.ml.topic.node.defaultChild as never),
      };
    };
    const { template, topic } = synth(['ann@example.com', 'bob@example.org']);
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    for (const email of ['ann@example.com', 'bob@example.org']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: email,
        TopicArn: { Ref: topic },
      });
    }
    synth().template.resourceCountIs('AWS::SNS::Subscription', 0);
  }, 180_000);
});
