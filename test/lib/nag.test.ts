import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { buildBlueprint } from '../../lib/app';
import { CDK_JSON_CONTEXT, synthesize, TEST_ACCOUNT } from '../support/synth';

/** Every acknowledgement in the app: construct path (below the stack) → rule ids, with their reasons. */
function acknowledgements(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const node of root.node.findAll()) {
    for (const entry of node.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      // Recorded by Validations.acknowledge as { [qualifiedRuleId]: reason }.
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: node.node.path, id, reason });
      }
    }
  }
  return out;
}

describe('cdk-nag AwsSolutions', () => {
  test.each([['sandbox'], ['production']] as const)('%s synthesizes with zero unacknowledged findings', (stage) => {
    expect(() => synthesize(stage)).not.toThrow();
  });

  test('an unacknowledged finding fails synthesis (the checks really run)', () => {
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const [{ data }] = buildBlueprint(app, { stage: 'sandbox', caseStudies: ['recommender'], account: TEST_ACCOUNT });
    new s3.Bucket(data, 'UnencryptedUnloggedBucket');
    expect(() => app.synth()).toThrow(/UnencryptedUnloggedBucket[\s\S]*AwsSolutions-S1'/);
  });

  test('acknowledgements are narrow: on a named construct below the stack, each with a reason', () => {
    const { app } = synthesize('production');
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      // Never on the app or a whole stack: at least stack/construct/resource.
      expect(ack.path.split('/').length).toBeGreaterThanOrEqual(3);
      expect(ack.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(40);
    }
    const stackNames = app.node.children.filter((c): c is Stack => c instanceof Stack).map((s) => s.node.id);
    expect(acks.filter((a) => stackNames.includes(a.path))).toEqual([]);
    // IAM5 is only ever acknowledged finding by finding.
    expect(acks.filter((a) => a.id.endsWith('AwsSolutions-IAM5'))).toEqual([]);
  });
});
