import {
  MODEL_PACKAGE_TAG,
  championFromEndpoint,
  packageOfModel,
  packageVerdict,
  servedModel,
  type PackageView,
} from '../../../core/retraining/champion';

const endpoint = {
  name: 'mlbp-sandbox-recommender',
  status: 'InService',
  configName: 'mlbp-sandbox-recommender-run-7',
};
const pkg: PackageView = {
  arn: 'arn:aws:sagemaker:us-east-1:123456789012:model-package/mlbp-sandbox-recommender/7',
  status: 'Approved',
  metadata: { datasetEnd: '2026-11-01T00:00:00.000Z', metricValue: '0.8' },
};
const tags = [
  { Key: 'ml-blueprint:dataset-id', Value: 'run-7' },
  { Key: MODEL_PACKAGE_TAG, Value: pkg.arn },
];

describe('served model', () => {
  test('no endpoint, or one that failed or is being created, serves nothing', () => {
    expect(servedModel({})).toEqual({ serving: false, reason: 'no endpoint: nothing serves yet' });
    expect(servedModel({ endpoint: { ...endpoint, status: 'Failed' } })).toEqual({
      serving: false,
      reason: 'endpoint mlbp-sandbox-recommender is Failed: nothing serves',
    });
    expect(servedModel({ endpoint: { ...endpoint, status: 'Creating' } }).serving).toBe(false);
  });

  test("an instance-based endpoint serves its config's AllTraffic model, also while it updates", () => {
    const config = {
      variants: [
        { name: 'Shadow', modelName: 'other' },
        { name: 'AllTraffic', modelName: 'mlbp-sandbox-recommender-run-7' },
      ],
    };
    expect(servedModel({ endpoint, config })).toEqual({ serving: true, modelName: 'mlbp-sandbox-recommender-run-7' });
    expect(servedModel({ endpoint: { ...endpoint, status: 'Updating' }, config }).serving).toBe(true);
    expect(servedModel({ endpoint, config: { variants: [{ name: 'Only', modelName: 'm' }] } })).toEqual({
      serving: true,
      modelName: 'm',
    });
  });

  test('an inference-component endpoint serves the model of its component, unless the component failed', () => {
    const component = { name: 'mlbp-sandbox-vision-ic', status: 'InService', modelName: 'mlbp-sandbox-vision-run-3' };
    expect(servedModel({ endpoint, config: { variants: [{ name: 'AllTraffic' }] }, component })).toEqual({
      serving: true,
      modelName: 'mlbp-sandbox-vision-run-3',
    });
    expect(servedModel({ endpoint, component: { ...component, status: 'Failed' } })).toEqual({
      serving: false,
      reason: 'inference component mlbp-sandbox-vision-ic is Failed: nothing serves',
    });
  });

  test('a config without a model on its variant (and no component) names nothing', () => {
    expect(servedModel({ endpoint, config: { variants: [{ name: 'AllTraffic' }] } })).toEqual({
      serving: false,
      reason: expect.stringMatching(/config mlbp-sandbox-recommender-run-7 names no model/),
    });
  });
});

describe('champion from the endpoint', () => {
  const served = { serving: true as const, modelName: 'mlbp-sandbox-recommender-run-7' };

  test("the champion is the served model's tagged package; new data counts from its dataset end", () => {
    expect(packageOfModel(tags)).toBe(pkg.arn);
    expect(championFromEndpoint({ served, modelTags: tags, package: pkg })).toEqual({
      found: true,
      modelName: 'mlbp-sandbox-recommender-run-7',
      modelPackageArn: pkg.arn,
      metadata: pkg.metadata,
      since: '2026-11-01T00:00:00.000Z',
      reconcile: false,
    });
  });

  test('a served package that the registry does not list as Approved is reconciled, not ignored', () => {
    const champion = championFromEndpoint({ served, modelTags: tags, package: { ...pkg, status: 'Rejected' } });
    expect(champion).toMatchObject({ found: true, reconcile: true });
  });

  test('nothing served, or a model without the tag, means no champion, with the reason', () => {
    expect(championFromEndpoint({ served: { serving: false, reason: 'no endpoint: nothing serves yet' } })).toEqual({
      found: false,
      reason: 'no endpoint: nothing serves yet',
    });
    expect(championFromEndpoint({ served, modelTags: [tags[0]] })).toEqual({
      found: false,
      reason: `the served model mlbp-sandbox-recommender-run-7 carries no ${MODEL_PACKAGE_TAG} tag: its registry package is unknown`,
    });
  });

  test('a tagged package that was not described, or lacks the loop metadata, is an error', () => {
    expect(() => championFromEndpoint({ served, modelTags: tags })).toThrow(/was not described/);
    expect(() => championFromEndpoint({ served, modelTags: tags, package: { ...pkg, metadata: {} } })).toThrow(
      /has no datasetEnd metadata/,
    );
  });
});

describe('package verdict', () => {
  test('only a deployed package is Approved; every other ending is Rejected with its reason', () => {
    expect(packageVerdict('deployed', 'beats the champion')).toEqual({
      status: 'Approved',
      metadata: { deployment: 'deployed', deploymentReason: 'beats the champion' },
    });
    for (const result of ['failed', 'timed-out', 'rolled-back', 'skipped', 'approval-timed-out'] as const) {
      expect(packageVerdict(result, 'why')).toEqual({
        status: 'Rejected',
        metadata: { deployment: result, deploymentReason: 'why' },
      });
    }
    expect(packageVerdict('failed', 'x'.repeat(400)).metadata.deploymentReason).toHaveLength(256);
  });
});
