/**
 * The source folder of a script-mode model as SageMaker's framework containers take it: a gzip tar (the training
 * toolkit opens `sagemaker_submit_directory` with `tarfile.open(mode="r:gz")`; a CDK directory asset would be a
 * zip), uploaded as a file asset. The tar is built at synth time, offline and deterministically (sorted entries,
 * fixed times and owners), so its asset hash changes only when the code does.
 *
 * Jobs receive it as an input channel (`code`) and `sagemaker_submit_directory` points at the file in that channel
 * (`/opt/ml/input/data/code/<file>`), as the SageMaker Python SDK does for network-isolated jobs: the container
 * never downloads anything itself, so the same job runs with or without network isolation.
 * @see https://github.com/aws/sagemaker-training-toolkit/blob/master/src/sagemaker_training/files.py (download_and_extract)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

/** Where a training job's input channel lands in the container. */
export const CHANNEL_ROOT = '/opt/ml/input/data/';

/** Names left out of the archive (tests, caches, compiled files) by default. */
export const DEFAULT_SOURCE_EXCLUDES: readonly string[] = ['tests', '__pycache__', '.pytest_cache', '.mypy_cache'];

/** The files of `directory` (relative POSIX paths, sorted), without excluded names and `*.pyc`. */
export function sourceFiles(directory: string, exclude: readonly string[] = DEFAULT_SOURCE_EXCLUDES): string[] {
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(path.join(directory, relative)).sort()) {
      if (exclude.includes(name) || name.endsWith('.pyc')) continue;
      const child = relative ? `${relative}/${name}` : name;
      const stat = statSync(path.join(directory, child));
      if (stat.isDirectory()) walk(child);
      else if (stat.isFile()) out.push(child);
    }
  };
  walk('');
  if (out.length === 0) throw new Error(`script-mode source ${directory} holds no files`);
  return out;
}

/** One 512-byte ustar header of a regular file (mode 0644, owner 0, time 0). */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`path too long for a tar header: ${name}`);
    }
  }
  const put = (value: string, offset: number, length: number) => header.write(value, offset, length, 'utf8');
  const octal = (value: number, length: number) => `${value.toString(8).padStart(length - 1, '0')}\0`;
  put(base, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8); // checksum field counts as spaces
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** The gzip tar of a source folder, entries at the archive root. Deterministic. */
export function packSource(directory: string, exclude?: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of sourceFiles(directory, exclude)) {
    const body = readFileSync(path.join(directory, file));
    parts.push(tarHeader(file, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

/** Properties of a {@link ScriptModeSource}. */
export interface ScriptModeSourceProps {
  /** The folder holding the entry points (e.g. `models/<case study>`). */
  readonly directory: string;
  /** Names left out. @default DEFAULT_SOURCE_EXCLUDES */
  readonly exclude?: readonly string[];
  /** Name of the training job's input channel that carries the archive. @default 'code' */
  readonly channelName?: string;
}

/** A script-mode source folder, packed and uploaded; see the module comment. */
export class ScriptModeSource extends Construct {
  /** The uploaded archive. */
  public readonly asset: s3assets.Asset;
  /** `s3://…` of the archive (the `code` channel's `S3Uri`). */
  public readonly s3Url: string;
  /** The input channel that carries it. */
  public readonly channelName: string;
  /** `sagemaker_submit_directory`: the archive inside the container. */
  public readonly submitDirectory: string;

  constructor(scope: Construct, id: string, props: ScriptModeSourceProps) {
    super(scope, id);
    const archive = packSource(props.directory, props.exclude);
    const digest = createHash('sha256').update(archive).digest('hex');
    const dir = path.join(os.tmpdir(), 'ml-blueprint-sources');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `sourcedir-${digest.slice(0, 16)}.tar.gz`);
    writeFileSync(file, archive);
    this.asset = new s3assets.Asset(this, 'Archive', { path: file });
    this.s3Url = this.asset.s3ObjectUrl;
    this.channelName = props.channelName ?? 'code';
    // The asset's object key is the hash and extension: the file name the channel delivers.
    this.submitDirectory = `${CHANNEL_ROOT}${this.channelName}/${path.posix.basename(this.asset.s3ObjectKey)}`;
  }

  /** Lets a principal (the SageMaker role) read the archive: this one object, not the whole asset bucket. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
    });
  }
}
