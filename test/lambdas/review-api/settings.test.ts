import { reviewSettingsFromEnv } from '../../../lambdas/review-api/settings';

const base = { REVIEW_TABLE: 't', IMAGES_PREFIX: 'images/' };

test('defaults: the default policy and 5-minute image URLs', () => {
  expect(reviewSettingsFromEnv(base)).toEqual({
    tableName: 't',
    imagesPrefix: 'images/',
    policy: { leaseSeconds: 300, agreement: { uncertain: 1, audit: 2, conflict: 2 }, maxVotes: 3 },
    imagesBucket: undefined,
    streamArn: undefined,
    imageUrlSeconds: 300,
    outcomes: undefined,
  });
});

test('audit outcomes: the bucket and the endpoint, under the checker’s default prefix or the one given', () => {
  const outcomes = { OUTCOMES_BUCKET: 'artifacts-bucket', OUTCOMES_ENDPOINT: 'mlbp-sandbox-vision' };
  expect(reviewSettingsFromEnv({ ...base, ...outcomes }).outcomes).toEqual({
    bucket: 'artifacts-bucket',
    prefix: 'drift/outcomes/',
    endpointName: 'mlbp-sandbox-vision',
  });
  expect(reviewSettingsFromEnv({ ...base, ...outcomes, OUTCOMES_PREFIX: 'quality/outcomes/' }).outcomes).toEqual({
    bucket: 'artifacts-bucket',
    prefix: 'quality/outcomes/',
    endpointName: 'mlbp-sandbox-vision',
  });
});

test('reads every setting', () => {
  const s = reviewSettingsFromEnv({
    ...base,
    IMAGES_BUCKET: 'raw',
    STREAM_ARN: 'arn:aws:kinesis:us-east-1:1:stream/s',
    LEASE_SECONDS: '120',
    AUDIT_AGREEMENT: '3',
    CONFLICT_AGREEMENT: '2',
    MAX_VOTES: '5',
    IMAGE_URL_SECONDS: '60',
  });
  expect(s.policy).toEqual({ leaseSeconds: 120, agreement: { uncertain: 1, audit: 3, conflict: 2 }, maxVotes: 5 });
  expect([s.imagesBucket, s.streamArn, s.imageUrlSeconds]).toEqual(['raw', 'arn:aws:kinesis:us-east-1:1:stream/s', 60]);
});

test.each([
  [{ IMAGES_PREFIX: 'images/' }, /REVIEW_TABLE is required/],
  [{ REVIEW_TABLE: 't' }, /IMAGES_PREFIX is required/],
  [{ ...base, IMAGES_PREFIX: 'images' }, /IMAGES_PREFIX must end with "\/"; received "images"/],
  [{ ...base, LEASE_SECONDS: 'soon' }, /LEASE_SECONDS must be a whole number; received "soon"/],
  [{ ...base, LEASE_SECONDS: '5' }, /leaseSeconds must be an integer between 30 and 3600; received 5/],
  [{ ...base, IMAGE_URL_SECONDS: '7200' }, /IMAGE_URL_SECONDS must be between 10 and 3600 seconds; received 7200/],
  [
    { ...base, OUTCOMES_BUCKET: 'artifacts-bucket' },
    /^environment variable OUTCOMES_ENDPOINT is required when OUTCOMES_BUCKET is set \(audit outcomes need a bucket and an endpoint\)$/,
  ],
  [
    { ...base, OUTCOMES_ENDPOINT: 'ep', OUTCOMES_PREFIX: 'p/' },
    /^environment variable OUTCOMES_BUCKET is required when OUTCOMES_ENDPOINT or OUTCOMES_PREFIX is set/,
  ],
  [
    { ...base, OUTCOMES_BUCKET: 'Not_A_Bucket', OUTCOMES_ENDPOINT: 'ep' },
    /^OUTCOMES_BUCKET must be an S3 bucket name; received "Not_A_Bucket"$/,
  ],
  [
    { ...base, OUTCOMES_BUCKET: 'artifacts-bucket', OUTCOMES_ENDPOINT: 'ep/../x' },
    /^OUTCOMES_ENDPOINT must be a SageMaker endpoint name; received "ep\/\.\.\/x"$/,
  ],
  [
    { ...base, OUTCOMES_BUCKET: 'artifacts-bucket', OUTCOMES_ENDPOINT: 'ep', OUTCOMES_PREFIX: 'drift/outcomes' },
    /^OUTCOMES_PREFIX must end with "\/" and not start with "\/"; received "drift\/outcomes"$/,
  ],
])('refuses %j', (env, message) => {
  expect(() => reviewSettingsFromEnv(env)).toThrow(message);
});
