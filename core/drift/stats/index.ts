/**
 * Drift statistics in pure TypeScript, checked against scipy/numpy (see `docs/drift-statistics.md` and
 * `scripts/fixtures/generate_drift_fixtures.py`). No AWS imports: usable from Lambda handlers, CLIs and tests.
 */
export * from './special';
export * from './ks-distribution';
export * from './ks';
export * from './sample';
export * from './histogram';
export * from './psi';
export * from './jensen-shannon';
export * from './wasserstein';
export * from './chi-square';
export * from './proportions';
export * from './random';
export * from './mmd';
