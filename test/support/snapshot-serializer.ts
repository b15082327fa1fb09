/**
 * Normalizes values that change without a behaviour change (asset hashes, the Lambda runtime map that
 * aws-cdk-lib refreshes between releases) so that snapshots only move when the infrastructure does.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '[ASSET_HASH]');
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'LatestNodeRuntimeMap') out[key] = '[RUNTIME_MAP]';
      else out[key.replace(ASSET_HASH, '[ASSET_HASH]')] = normalize(inner);
    }
    return out;
  }
  return value;
}

const MARK = Symbol.for('ml-blueprint.normalized');

module.exports = {
  test(value: unknown): boolean {
    return (
      value !== null &&
      typeof value === 'object' &&
      !(value as Record<symbol, unknown>)[MARK] &&
      ('Resources' in (value as object) || 'AWSTemplateFormatVersion' in (value as object))
    );
  },
  serialize(
    value: unknown,
    config: unknown,
    indentation: string,
    depth: number,
    refs: unknown,
    printer: (value: unknown, ...rest: unknown[]) => string,
  ) {
    const normalized = normalize(value) as Record<symbol, unknown>;
    Object.defineProperty(normalized, MARK, { value: true, enumerable: false });
    return printer(normalized, config, indentation, depth, refs);
  },
};
