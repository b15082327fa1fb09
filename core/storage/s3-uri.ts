/** S3 URIs as the loop and the functions pass them around. */

/** Splits `s3://bucket/key` into its bucket and key; throws on anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new Error(`expected an s3://bucket/key URI; received "${uri}"`);
  return { bucket: m[1], key: m[2] };
}
