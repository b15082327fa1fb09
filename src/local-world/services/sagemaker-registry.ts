/**
 * The SageMaker model registry: model packages in groups, with their approval status and metadata.
 * `ListModelPackages` honours the request as SageMaker does (group, approval status, creation time, sort order,
 * page size) and rejects parameters it does not know, so a state that drops or changes a filter sees a different
 * answer, as it would in AWS.
 */
import { FIXED } from '../intrinsics';
import { TaskError } from '../errors';
import type { Json, ServiceHandlers, WorldContext } from '../types';

/** A model package in the local registry. */
export interface LocalPackage {
  readonly arn: string;
  readonly group: string;
  status: string;
  readonly metadata: Record<string, string>;
  /** Why it has its status (`ApprovalDescription`). */
  description?: string;
  readonly createdAt: Date;
  /** Creation order (ties of `createdAt` in simulated time). */
  readonly seq: number;
  /** `InferenceSpecification` of the `CreateModelPackage` request (a model created from the package runs it). */
  inferenceSpecification?: Json;
}

const LIST_PARAMETERS = new Set([
  'CreationTimeAfter',
  'CreationTimeBefore',
  'MaxResults',
  'NameContains',
  'ModelApprovalStatus',
  'ModelPackageGroupName',
  'ModelPackageType',
  'NextToken',
  'SortBy',
  'SortOrder',
]);

const invalid = (message: string) => new TaskError('SageMaker.ValidationException', message);

/** The registry and its actions. */
export class ModelRegistry {
  readonly packages: LocalPackage[] = [];
  private seq = 0;

  constructor(private readonly world: WorldContext) {}

  /** Adds a package (e.g. the champion that served before the run). */
  add(group: string, status: string, metadata: Record<string, string>): LocalPackage {
    const seq = ++this.seq;
    const p: LocalPackage = {
      arn: `arn:aws:sagemaker:${FIXED.region}:${FIXED.account}:model-package/${group}/${seq}`,
      group,
      status,
      metadata: { ...metadata },
      createdAt: this.world.clock.now(),
      seq,
    };
    this.packages.push(p);
    return p;
  }

  private find(arn: unknown): LocalPackage {
    const p = this.packages.find((x) => x.arn === arn);
    if (!p) throw invalid(`Model package ${String(arn)} does not exist.`);
    return p;
  }

  private list(i: Json): Json {
    const unknown = Object.keys(i).filter((k) => !LIST_PARAMETERS.has(k));
    if (unknown.length > 0) throw invalid(`ListModelPackages does not accept ${unknown.join(', ')}`);
    const after = i.CreationTimeAfter === undefined ? -Infinity : Date.parse(String(i.CreationTimeAfter));
    const before = i.CreationTimeBefore === undefined ? Infinity : Date.parse(String(i.CreationTimeBefore));
    const sortBy = String(i.SortBy ?? 'CreationTime');
    if (sortBy !== 'CreationTime' && sortBy !== 'Name') throw invalid(`SortBy must be Name or CreationTime`);
    const direction = String(i.SortOrder ?? 'Ascending') === 'Descending' ? -1 : 1;
    const max = Number(i.MaxResults ?? 10);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid(`MaxResults must be 1…100; received ${max}`);
    const compare = (a: LocalPackage, b: LocalPackage) =>
      sortBy === 'Name' ? a.arn.localeCompare(b.arn) : a.createdAt.getTime() - b.createdAt.getTime() || a.seq - b.seq;
    const matches = this.packages
      .filter((p) => i.ModelPackageGroupName === undefined || p.group === i.ModelPackageGroupName)
      .filter((p) => i.ModelApprovalStatus === undefined || p.status === i.ModelApprovalStatus)
      .filter((p) => i.NameContains === undefined || p.group.includes(String(i.NameContains)))
      .filter((p) => p.createdAt.getTime() > after && p.createdAt.getTime() < before)
      .sort((a, b) => direction * compare(a, b));
    return {
      ModelPackageSummaryList: matches.slice(0, max).map((p) => ({
        ModelPackageArn: p.arn,
        ModelPackageGroupName: p.group,
        ModelPackageVersion: p.seq,
        ModelApprovalStatus: p.status,
        CreationTime: p.createdAt.toISOString(),
      })),
    };
  }

  /** The package of an ARN, if it exists. */
  package(arn: string): LocalPackage | undefined {
    return this.packages.find((p) => p.arn === arn);
  }

  /** The registry's SageMaker actions. */
  handlers(): ServiceHandlers {
    return {
      listModelPackages: (i) => this.list(i),
      describeModelPackage: (i) => {
        const p = this.find(i.ModelPackageName);
        return {
          ModelPackageArn: p.arn,
          ModelPackageGroupName: p.group,
          ModelApprovalStatus: p.status,
          CustomerMetadataProperties: p.metadata,
          CreationTime: p.createdAt.toISOString(),
        };
      },
      createModelPackage: (i) => {
        const p = this.add(
          String(i.ModelPackageGroupName),
          String(i.ModelApprovalStatus ?? 'PendingManualApproval'),
          (i.CustomerMetadataProperties ?? {}) as Record<string, string>,
        );
        if (i.InferenceSpecification) p.inferenceSpecification = i.InferenceSpecification as Json;
        this.world.log('registry', `model package ${p.arn.split('/').slice(-2).join('/')} registered ${p.status}`);
        return { ModelPackageArn: p.arn };
      },
      updateModelPackage: (i) => {
        const p = this.find(i.ModelPackageArn);
        p.status = String(i.ModelApprovalStatus ?? p.status);
        if (i.ApprovalDescription !== undefined) p.description = String(i.ApprovalDescription);
        Object.assign(p.metadata, (i.CustomerMetadataProperties ?? {}) as Record<string, string>);
        this.world.log('registry', `model package ${p.arn.split('/').slice(-2).join('/')} marked ${p.status}`);
        return { ModelPackageArn: p.arn };
      },
    };
  }
}
