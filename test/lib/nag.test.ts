import { App, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildBlueprint } from '../../lib/app';
import { CDK_JSON_CONTEXT, synthesizedStage, TEST_ACCOUNT, type SynthesizedStage } from '../support/synth';

/** Every acknowledgement of a stage, as the cloud assembly records it: construct path → rule ids, with reasons. */
function acknowledgements(stage: SynthesizedStage): Array<{ path: string; id: string; reason: string }> {
  return stage.stackNames.flatMap((name) =>
    stage
      .stack(name)
      .findMetadataByType(Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // Recorded by Validations.acknowledge as { [qualifiedRuleId]: reason }.
      .flatMap((entry) =>
        Object.entries(entry.data as unknown as Record<string, string>).map(([id, reason]) => ({
          path: entry.path.replace(/^\//, ''),
          id,
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  test.each([['sandbox'], ['production']] as const)('%s synthesizes with zero unacknowledged findings', (stage) => {
    // The shared assembly is synthesized with the checks on: an unacknowledged finding would have thrown.
    const synthesized = synthesizedStage(stage);
    expect(synthesized.stackNames).toHaveLength(4);
    for (const name of synthesized.stackNames) {
      expect(synthesized.stack(name).messages.filter((m) => m.level === 'error')).toEqual([]);
    }
  });

  test('an unacknowledged finding fails synthesis (the checks really run)', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const [{ data }] = buildBlueprint(app, { stage: 'sandbox', caseStudies: ['recommender'], account: TEST_ACCOUNT });
    new s3.Bucket(data, 'UnencryptedUnloggedBucket');
    expect(() => app.synth()).toThrow(/UnencryptedUnloggedBucket[\s\S]*AwsSolutions-S1'/);
  });

  test('acknowledgements are narrow: on a named construct below the stack, each with a reason', () => {
    const production = synthesizedStage('production');
    const acks = acknowledgements(production);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      // Never on the app or a whole stack: at least stack/construct/resource.
      expect(ack.path.split('/').length).toBeGreaterThanOrEqual(3);
      expect(ack.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(40);
    }
    expect(acks.filter((a) => production.stackNames.includes(a.path))).toEqual([]);
    // IAM5 is only ever acknowledged finding by finding.
    expect(acks.filter((a) => a.id.endsWith('AwsSolutions-IAM5'))).toEqual([]);
  });
});
