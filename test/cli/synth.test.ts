/**
 * The main job's filter of `cdk synth` output (scripts/synth.ts): the bundling progress of every Lambda asset and
 * the CLI's closing hints are dropped and counted; warnings, errors and cdk-nag findings pass unchanged.
 */
import { SynthOutputFilter } from '../../scripts/synth';

/** What cdk synth printed for one bundled asset, as captured from a real run. */
const bundling = (path: string) => [
  `Bundling asset ${path}/Code/Stage...`,
  '',
  '  ...636c32b02e24767c26486bcbb61b7fb085c0ae94a992e5-building/index.js  670.8kb',
  '  ...32b02e24767c26486bcbb61b7fb085c0ae94a992e5-building/index.js.map    2.5mb',
  '',
  '⚡ Done in 375ms',
];

test('bundling progress and the closing hints are dropped and the assets counted; everything else is kept', () => {
  const filter = new SynthOutputFilter();
  const lines = [
    ...bundling('Sandbox-Recommender-ML/DriftMonitor/Function'),
    ...bundling('Sandbox-Recommender-ML/Retraining/PlanFunction'),
    '[Warning at /Sandbox-Vision-ML/Thing] something to read',
    '',
    'Successfully synthesized to /work/main/cdk.out',
    'Supply a stack id (Sandbox-Recommender-Data, Sandbox-Recommender-ML) to display its template.',
  ];
  const kept = lines.map((l) => filter.line(l)).filter((l) => l !== undefined);
  expect(kept).toEqual(['[Warning at /Sandbox-Vision-ML/Thing] something to read', '']);
  expect(filter.bundled).toBe(2);
});

test('an esbuild warning inside a bundling block is kept', () => {
  const filter = new SynthOutputFilter();
  const [first, ...rest] = bundling('Stack/Fn');
  const lines = [first, '▲ [WARNING] "import.meta" is not available [empty-import-meta]', ...rest, 'ERROR x'];
  expect(lines.map((l) => filter.line(l)).filter((l) => l !== undefined)).toEqual([
    '▲ [WARNING] "import.meta" is not available [empty-import-meta]',
    'ERROR x',
  ]);
});
