/** The committed data: price table entries, usage profiles, and the CLI's argument checks. */
import { CASE_STUDIES, INSTANCE_TYPES, resolveConfig, STAGES } from '../../lib/config';
import { parseCostCli } from '../../src/cli/cost';
import { loadLatestPriceTable, parsePriceTable, priceBook } from '../../src/cost/prices';
import { committedProfiles, loadUsageProfile, parseUsageProfile } from '../../src/cost/usage';

const table = loadLatestPriceTable();

test('every price has an https source and a date, in at least two regions', () => {
  expect(Object.keys(table.regions).length).toBeGreaterThanOrEqual(2);
  expect(Object.keys(table.regions)).toContain('us-east-1');
  for (const entries of Object.values(table.regions)) {
    for (const entry of Object.values(entries)) {
      expect(entry.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
      expect(entry.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  }
});

test('a price table entry without a source is rejected', () => {
  expect(() =>
    parsePriceTable({
      date: '2026-01-01',
      currency: 'USD',
      regions: { 'us-east-1': { x: { price: 1, unit: 'u', date: '2026-01-01' } } },
    }),
  ).toThrow(/regions\.us-east-1\.x\.source/);
});

test('every instance type of the stage presets is priced in every region', () => {
  for (const region of Object.keys(table.regions)) {
    const book = priceBook(table, region);
    for (const stage of STAGES) {
      for (const cs of CASE_STUDIES) {
        const c = resolveConfig(stage, cs);
        expect(book.instancePrice('training', c.training.instanceType)).toBeGreaterThan(0);
        expect(book.instancePrice('hosting', c.serving.instanceType)).toBeGreaterThan(0);
      }
    }
  }
});

test('priced instance types are in the instance catalogue', () => {
  const priced = Object.keys(table.regions['us-east-1'])
    .filter((k) => k.startsWith('sagemaker.training.') || k.startsWith('sagemaker.hosting.'))
    .map((k) => k.replace(/^sagemaker\.(training|hosting)\./, ''));
  expect(priced.filter((t) => !INSTANCE_TYPES[t])).toEqual([]);
});

test('the committed usage profiles parse and match their stage', () => {
  expect(committedProfiles()).toEqual(['idle', 'sandbox', 'production', 'production-100m']);
  expect(loadUsageProfile('idle').stage).toBe('sandbox');
  expect(loadUsageProfile('sandbox').stage).toBe('sandbox');
  expect(loadUsageProfile('production').stage).toBe('production');
  expect(loadUsageProfile('production-100m').stage).toBe('production');
});

test('a usage profile with an unknown or negative key fails naming the field', () => {
  const good = JSON.parse(JSON.stringify(loadUsageProfile('sandbox'))) as Record<string, any>;
  good.caseStudies.vision.serving.requestPerMonth = 1;
  expect(() => parseUsageProfile(good, 'x.json')).toThrow(
    /usage profile x\.json: caseStudies\.vision\.serving .*requestPerMonth/,
  );
  const negative = JSON.parse(JSON.stringify(loadUsageProfile('sandbox'))) as Record<string, any>;
  negative.caseStudies.recommender.training.retrainsPerMonth = -1;
  expect(() => parseUsageProfile(negative, 'y.json')).toThrow(/caseStudies\.recommender\.training\.retrainsPerMonth/);
  expect(() => loadUsageProfile('no-such-profile')).toThrow(
    /cannot read usage profile "no-such-profile".*committed: idle, sandbox, production, production-100m/,
  );
});

describe('command line', () => {
  test('defaults: table format and the committed profile of the stage', () => {
    expect(parseCostCli(['--stage', 'production'])).toMatchObject({
      stage: 'production',
      usage: 'production',
      format: 'table',
    });
  });

  test.each([
    [[], /--stage is required/],
    [['--stage', 'staging'], /--stage must be one of: sandbox, production; received "staging"/],
    [['--stage', 'sandbox', '--format', 'csv'], /--format must be one of: table, json, markdown; received "csv"/],
    [['--stage', 'sandbox', '--case', 'fraud'], /--case must be one of: recommender, vision; received "fraud"/],
    [['--stage', 'sandbox', '--compare', 'prod'], /--compare must be one of/],
    [['--stage', 'sandbox', '--bogus'], /Unknown option '--bogus'/],
  ])('%j fails with one message', (argv, message) => {
    expect(() => parseCostCli(argv as string[])).toThrow(message);
  });
});
