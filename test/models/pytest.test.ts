/**
 * `npm test` runs the Python model tests: `python -m pytest models -q` under Debian's interpreter (or
 * `$ML_BLUEPRINT_PYTHON`). Missing Python, xgboost, torch or pytest fails this test, never skips it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { pythonExecutable } from '../../src/local-world/sagemaker/python';

const REPO = path.join(__dirname, '..', '..');
const REQUIRED_MODULES = ['pytest', 'numpy', 'xgboost', 'torch', 'torchvision'];

function run(args: string[]) {
  return spawnSync(pythonExecutable(), args, {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 15 * 60_000,
  });
}

test('the Python interpreter has the model packages', () => {
  const probe = run(['-c', `import ${REQUIRED_MODULES.join(', ')}`]);
  if (probe.error || probe.status !== 0) {
    throw new Error(
      `${pythonExecutable()} cannot import ${REQUIRED_MODULES.join(', ')}: ` +
        `${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}. ` +
        'Run `npm test` (it installs Debian packages) or set ML_BLUEPRINT_PYTHON to a venv that has them.',
    );
  }
});

test(
  'pytest models passes',
  () => {
    const result = run(['-m', 'pytest', 'models', '-q']);
    if (result.error) throw new Error(`cannot run pytest under ${pythonExecutable()}: ${result.error.message}`);
    if (result.status !== 0) {
      throw new Error(`pytest models failed (exit code ${result.status}):\n${result.stdout}\n${result.stderr}`);
    }
    expect(result.stdout).toMatch(/\d+ passed/);
  },
  15 * 60_000,
);
