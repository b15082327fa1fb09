import {
  conformValue,
  csvColumnsOf,
  FeatureKindInferrer,
  FeatureSchemaError,
  featureSchemaSchema,
  inferFeatureKinds,
  parseFeatureSchema,
  safeParseFeatureSchema,
  schemaFromInference,
  valueKind,
} from '../../../core/drift/features';

describe('valueKind', () => {
  it.each<[unknown, string | null]>([
    [1.5, 'numerical'],
    [0, 'numerical'],
    [NaN, null],
    [Infinity, null],
    ['x', 'categorical'],
    ['', 'categorical'],
    [true, 'categorical'],
    [[0.1, 2], 'embedding'],
    [[], null],
    [[1, 'a'], null],
    [[1, NaN], null],
    [null, null],
    [undefined, null],
    [{ a: 1 }, null],
  ])('%p → %p', (value, kind) => {
    expect(valueKind(value)).toBe(kind);
  });
});

describe('conformValue', () => {
  it('keeps conforming values and turns others into missing', () => {
    expect(conformValue('numerical', 3)).toBe(3);
    expect(conformValue('numerical', '3')).toBeNull();
    expect(conformValue('numerical', NaN)).toBeNull();
    expect(conformValue('categorical', 'a')).toBe('a');
    expect(conformValue('categorical', false)).toBe('false');
    expect(conformValue('categorical', 1)).toBeNull();
    expect(conformValue('embedding', [1, 2])).toEqual([1, 2]);
    expect(conformValue('embedding', [1, 2], 3)).toBeNull();
    expect(conformValue('embedding', 'x')).toBeNull();
  });
});

describe('FeatureKindInferrer', () => {
  it('infers kinds, counts missing (absent, null, unusable) and keeps first-seen order', () => {
    const features = inferFeatureKinds([
      { age: 31, country: 'DE', emb: [1, 2], flag: true },
      { age: 40, country: 'FR', emb: [3, 4], extra: null },
      { age: null, country: 'US', emb: [5, 6] },
      { age: 22, emb: [7, 8], flag: false },
    ]);
    expect(features.map((f) => [f.name, f.kind, f.missing, f.nonConforming])).toEqual([
      ['age', 'numerical', 1, 0],
      ['country', 'categorical', 1, 0],
      ['emb', 'embedding', 0, 0],
      ['flag', 'categorical', 2, 0],
      ['extra', null, 4, 0],
    ]);
    expect(features[2].dimension).toBe(2);
    expect(features[0].counts).toEqual({ numerical: 3, categorical: 0, embedding: 0, missing: 1 });
  });

  it('takes the majority kind for mixed features and counts the rest as missing', () => {
    const inferrer = new FeatureKindInferrer();
    for (const v of [1, 2, 3, 'x', 'y', [1, 2], null]) inferrer.observe({ mixed: v });
    inferrer.observe({});
    const [mixed] = inferrer.features();
    expect(inferrer.recordsObserved).toBe(8);
    expect(mixed).toMatchObject({
      name: 'mixed',
      kind: 'numerical',
      counts: { numerical: 3, categorical: 2, embedding: 1, missing: 2 },
      nonConforming: 3,
      missing: 5,
    });
  });

  it('breaks ties in the order numerical, categorical, embedding', () => {
    expect(inferFeatureKinds([{ a: 1 }, { a: 'x' }])[0].kind).toBe('numerical');
    expect(inferFeatureKinds([{ a: [1] }, { a: 'x' }])[0].kind).toBe('categorical');
  });

  it('uses the most frequent embedding length and counts other lengths as non-conforming', () => {
    const [emb] = inferFeatureKinds([{ e: [1, 2, 3] }, { e: [1, 2] }, { e: [4, 5] }, { e: [1, 2, 3, 4] }]);
    expect(emb).toMatchObject({ kind: 'embedding', dimension: 2, nonConforming: 2, missing: 2 });
    const [tie] = inferFeatureKinds([{ e: [1, 2, 3] }, { e: [1, 2] }]);
    expect(tie.dimension).toBe(2);
  });
});

describe('feature schema', () => {
  const valid = {
    features: [
      { name: 'age', kind: 'numerical', threshold: 0.2 },
      { name: 'country', kind: 'categorical' },
      { name: 'emb', kind: 'embedding', dimension: 64 },
      { name: 'output.score', kind: 'numerical' },
    ],
    csvColumns: ['age', 'country'],
  };

  it('accepts a valid schema', () => {
    expect(parseFeatureSchema(valid)).toEqual(valid);
    expect(safeParseFeatureSchema({ features: [{ name: 'a', kind: 'numerical' }] })).toEqual({
      ok: true,
      schema: { features: [{ name: 'a', kind: 'numerical' }] },
    });
  });

  it.each<[string, unknown, string[]]>([
    ['not an object', 42, ['(schema): got 42 (number); expected an object']],
    ['missing features', {}, ['features: is required (expected an array)']],
    ['empty features', { features: [] }, ['features: got [] (array); must list at least one feature']],
    [
      'unknown kind',
      { features: [{ name: 'a', kind: 'numeric' }] },
      ['features[0].kind: got "numeric" (string); allowed: "numerical", "categorical", "embedding"'],
    ],
    [
      'missing kind',
      { features: [{ name: 'a' }] },
      ['features[0].kind: got nothing; allowed: "numerical", "categorical", "embedding"'],
    ],
    [
      'empty name',
      { features: [{ name: '', kind: 'numerical' }] },
      ['features[0].name: got "" (string); must be a non-empty string'],
    ],
    [
      'name not a string',
      { features: [{ name: 5, kind: 'numerical' }] },
      ['features[0].name: got 5 (number); expected a string'],
    ],
    [
      'negative threshold',
      { features: [{ name: 'a', kind: 'numerical', threshold: -1 }] },
      ['features[0].threshold: got -1 (number); must be a positive number'],
    ],
    [
      'threshold as string',
      { features: [{ name: 'a', kind: 'numerical', threshold: '0.1' }] },
      ['features[0].threshold: got "0.1" (string); expected a finite number'],
    ],
    [
      'typo in a field name',
      { features: [{ name: 'a', kind: 'numerical', treshold: 0.1 }] },
      [
        'features[0]: unknown field(s) "treshold"; allowed fields: name, kind, threshold, dimension, direction, seasonality',
      ],
    ],
    [
      'unknown top-level field',
      { features: [{ name: 'a', kind: 'numerical' }], columns: ['a'] },
      ['(schema): unknown field(s) "columns"; allowed fields: features, csvColumns'],
    ],
    [
      'dimension on a numerical feature',
      { features: [{ name: 'a', kind: 'numerical', dimension: 3 }] },
      ['features[0].dimension: got 3 (number); only allowed for kind "embedding" (this feature has kind "numerical")'],
    ],
    [
      'non-integer dimension',
      { features: [{ name: 'e', kind: 'embedding', dimension: 1.5 }] },
      ['features[0].dimension: got 1.5 (number); expected an integer'],
    ],
    [
      'duplicate names',
      {
        features: [
          { name: 'a', kind: 'numerical' },
          { name: 'a', kind: 'categorical' },
        ],
      },
      ['features[1].name: got "a" (string); duplicate feature name (already used by features[0])'],
    ],
    [
      'duplicate CSV columns',
      { features: [{ name: 'a', kind: 'numerical' }], csvColumns: ['a', 'b', 'a'] },
      ['csvColumns[2]: got "a" (string); duplicate column name (already used by csvColumns[0])'],
    ],
    [
      '__proto__ name',
      { features: [{ name: '__proto__', kind: 'numerical' }] },
      ['features[0].name: got "__proto__" (string); the name "__proto__" is reserved'],
    ],
  ])('%s', (_name, input, issues) => {
    expect(safeParseFeatureSchema(input)).toEqual({ ok: false, issues });
    expect(() => parseFeatureSchema(input)).toThrow(FeatureSchemaError);
  });

  it('reports every problem at once in the thrown error message', () => {
    try {
      parseFeatureSchema({ features: [{ name: '', kind: 'x' }, { kind: 'numerical' }] });
      throw new Error('expected a FeatureSchemaError');
    } catch (error) {
      expect(error).toBeInstanceOf(FeatureSchemaError);
      const e = error as FeatureSchemaError;
      expect(e.issues).toHaveLength(3);
      expect(e.message).toContain('Invalid feature schema:');
      expect(e.message).toContain('features[1].name: is required');
    }
  });

  it('exposes the zod schema', () => {
    expect(featureSchemaSchema.safeParse(valid).success).toBe(true);
  });

  it('derives CSV columns', () => {
    expect(csvColumnsOf(valid as Parameters<typeof csvColumnsOf>[0])).toEqual(['age', 'country']);
    expect(
      csvColumnsOf({
        features: [
          { name: 'a', kind: 'numerical' },
          { name: 'output.score', kind: 'numerical' },
          { name: 'b', kind: 'categorical' },
        ],
      }),
    ).toEqual(['a', 'b']);
  });

  it('builds a schema from inference results', () => {
    const inferred = inferFeatureKinds([
      { a: 1, b: 'x', e: [1, 2], n: null },
      { a: 2, b: 'y', e: [3, 4] },
    ]);
    const schema = schemaFromInference(inferred, { a: 0.3 });
    expect(schema).toEqual({
      features: [
        { name: 'a', kind: 'numerical', threshold: 0.3 },
        { name: 'b', kind: 'categorical' },
        { name: 'e', kind: 'embedding', dimension: 2 },
      ],
    });
    expect(parseFeatureSchema(schema)).toEqual(schema);
  });
});
