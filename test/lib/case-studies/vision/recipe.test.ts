/**
 * The vision model's script-mode recipe: the AWS PyTorch framework images per region and processor, DDP only when
 * the job has more than one GPU, and the model's source archive (a deterministic gzip tar that Python's `tarfile`
 * reads, the container's way) delivered as the `code` channel.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { pytorchImageUri, visionRecipe } from '../../../../lib/case-studies/vision/recipe';
import { PROJECT_ROOT } from '../../../../lib/constructs/blueprint-function';
import { packSource, ScriptModeSource, sourceFiles } from '../../../../lib/constructs/script-mode-source';
import { TEST_ACCOUNT } from '../../../support/synth';

const VISION = path.join(PROJECT_ROOT, 'models', 'vision');

describe('PyTorch framework images', () => {
  test('training and inference images per region, GPU or CPU build by instance type', () => {
    expect(pytorchImageUri('training', 'us-east-1', 'ml.g5.2xlarge')).toBe(
      '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6.0-gpu-py312',
    );
    expect(pytorchImageUri('inference', 'eu-west-1', 'ml.m5.xlarge')).toBe(
      '763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312',
    );
    expect(pytorchImageUri('inference', 'eu-south-1', 'ml.g4dn.xlarge')).toBe(
      '692866216735.dkr.ecr.eu-south-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312',
    );
    expect(pytorchImageUri('training', 'cn-north-1', 'ml.c5.xlarge')).toBe(
      '727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/pytorch-training:2.6.0-cpu-py312',
    );
  });

  test('an unknown region fails naming it and the way out', () => {
    expect(() => pytorchImageUri('training', 'xx-nowhere-1', 'ml.g5.xlarge')).toThrow(
      /no PyTorch training image is known for region "xx-nowhere-1"; supported regions: af-south-1, .*set training.image and training.inferenceImage/,
    );
  });
});

describe('the recipe', () => {
  const recipe = (
    instanceType: string,
    instanceCount: number,
    extra: Partial<Parameters<typeof visionRecipe>[1]> = {},
  ) => {
    const stack = new Stack(new App(), 'Recipe', { env: { account: TEST_ACCOUNT, region: 'us-east-1' } });
    const r = visionRecipe(stack, {
      region: 'us-east-1',
      instanceType,
      instanceCount,
      servingInstanceType: 'ml.g4dn.xlarge',
      ...extra,
    });
    return { stack, r };
  };

  test('script mode: train.py from the code channel, inference.py in the model, the model metrics', () => {
    const { r } = recipe('ml.g4dn.xlarge', 1, { hyperparameters: { epochs: '3' } });
    expect(r).toMatchObject({
      algorithm: 'pytorch',
      image: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6.0-gpu-py312',
      inferenceImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6.0-gpu-py312',
      imageOverridden: false,
      inputDataConfigPath: '$.dataset.channels',
      modelEnvironment: { SAGEMAKER_PROGRAM: 'inference.py' },
      sourceChannel: { name: 'code' },
    });
    expect(r.hyperparameters).toMatchObject({
      sagemaker_program: 'train.py',
      sagemaker_region: 'us-east-1',
      backbone: 'resnet50',
      epochs: '3',
    });
    expect(r.hyperparameters.sagemaker_submit_directory).toMatch(/^\/opt\/ml\/input\/data\/code\/[0-9a-f]{64}\.gz$/);
    expect(r.hyperparameters.sagemaker_torch_distributed_enabled).toBeUndefined();
    // train.py's log lines: the last `val_accuracy=` is the best epoch's.
    const accuracy = new RegExp(r.metricDefinitions.find((m) => m.name === 'validation:accuracy')!.regex);
    expect(accuracy.exec('best_epoch=3 val_accuracy=0.9375')?.[1]).toBe('0.9375');
  });

  test('DDP through torchrun only when the job has more than one GPU (several per instance or several instances)', () => {
    const ddp = (type: string, count: number) => recipe(type, count).r.hyperparameters;
    expect(ddp('ml.g5.12xlarge', 1)).toMatchObject({
      sagemaker_torch_distributed_enabled: 'true',
      sagemaker_instance_type: 'ml.g5.12xlarge',
    });
    expect(ddp('ml.g5.2xlarge', 2).sagemaker_torch_distributed_enabled).toBe('true');
    expect(ddp('ml.g5.2xlarge', 1).sagemaker_torch_distributed_enabled).toBeUndefined();
    expect(ddp('ml.m5.xlarge', 1).sagemaker_torch_distributed_enabled).toBeUndefined();
    expect(() => recipe('ml.t3.medium', 1)).toThrow(
      /training.instanceType "ml.t3.medium" is not a known SageMaker training instance type/,
    );
  });

  test('image overrides win; the SageMaker role reads the archive object only', () => {
    const { stack, r } = recipe('ml.g4dn.xlarge', 1, {
      image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/my-pytorch:1',
      inferenceImage: '111122223333.dkr.ecr.us-east-1.amazonaws.com/my-serving:1',
    });
    expect(r).toMatchObject({ imageOverridden: true, image: expect.stringContaining('my-pytorch:1') });
    expect(r.inferenceImage).toContain('my-serving:1');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    r.grantRead?.(role);
    const policy = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policy).toContain('"s3:GetObject"');
    expect(policy).toMatch(/[0-9a-f]{64}\.gz"/);
    expect(policy).not.toMatch(/\/\*"/);
  });
});

describe('the source archive', () => {
  test('deterministic, without tests and caches, and what Python tarfile extracts is the folder', () => {
    const a = packSource(VISION);
    expect(packSource(VISION).equals(a)).toBe(true);
    const files = sourceFiles(VISION);
    expect(files).toEqual(expect.arrayContaining(['train.py', 'inference.py']));
    expect(files.some((f) => f.startsWith('tests/') || f.includes('__pycache__') || f.endsWith('.pyc'))).toBe(false);
    const dir = mkdtempSync(path.join(tmpdir(), 'mlbp-source-'));
    try {
      writeFileSync(path.join(dir, 'sourcedir.tar.gz'), a);
      const script = [
        'import hashlib, json, sys, tarfile',
        // The training toolkit's way: tarfile.open(mode="r:gz"), extract all.
        'with tarfile.open(sys.argv[1], mode="r:gz") as t:',
        '    members = t.getmembers()',
        '    out = {m.name: hashlib.sha256(t.extractfile(m).read()).hexdigest() for m in members}',
        '    assert all(m.isfile() and m.mode == 0o644 and m.mtime == 0 for m in members)',
        'print(json.dumps(out))',
      ].join('\n');
      const listed = JSON.parse(
        execFileSync('/usr/bin/python3', ['-c', script, path.join(dir, 'sourcedir.tar.gz')], { encoding: 'utf8' }),
      ) as Record<string, string>;
      expect(Object.keys(listed)).toEqual(files);
      for (const f of files) {
        expect(listed[f]).toBe(
          createHash('sha256')
            .update(readFileSync(path.join(VISION, f)))
            .digest('hex'),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an empty folder fails naming it; the channel and submit directory follow the asset key', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'mlbp-empty-'));
    try {
      expect(() => packSource(empty)).toThrow(`script-mode source ${empty} holds no files`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const stack = new Stack(new App(), 'Source');
    const source = new ScriptModeSource(stack, 'Source', { directory: VISION, channelName: 'src' });
    expect(source.channelName).toBe('src');
    expect(source.submitDirectory).toBe(`/opt/ml/input/data/src/${path.posix.basename(source.asset.s3ObjectKey)}`);
  });
});
