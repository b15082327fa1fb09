/**
 * The vision handlers bundle with esbuild (the options BlueprintFunction uses) into self-contained CommonJS: the
 * pure-JS image decoders and Powertools inside, the AWS SDK left to the runtime.
 */
import { buildSync } from 'esbuild';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

test.each(['image-consumer', 'review-router', 'label-merger', 'vision-baseline'])('%s bundles', (dir) => {
  const out = buildSync({
    entryPoints: [join(ROOT, 'lambdas', dir, 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    minify: true,
    write: false,
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  expect(out.errors).toEqual([]);
  const code = out.outputFiles[0].text;
  expect(code).toMatch(/handler/);
  expect(code).not.toMatch(/require\("\.\.?\//);
  if (dir === 'image-consumer' || dir === 'vision-baseline') expect(code).toMatch(/IHDR|jpeg/i);
});
