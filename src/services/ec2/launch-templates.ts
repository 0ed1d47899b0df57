// Launch templates: named, versioned sets of launch parameters. CreateLaunchTemplate,
// CreateLaunchTemplateVersion (from a source version, whose parameters the new data overrides),
// DescribeLaunchTemplates, DescribeLaunchTemplateVersions ($Latest, $Default, ranges),
// ModifyLaunchTemplate (the default version), DeleteLaunchTemplate, DeleteLaunchTemplateVersions.
// As in AWS, a template's data is checked for form when it is stored; what it names (image, type,
// key pair, groups) is checked at launch, and reported as warnings when the template is made.
import type {
  CreateLaunchTemplateRequest,
  CreateLaunchTemplateResult,
  CreateLaunchTemplateVersionRequest,
  CreateLaunchTemplateVersionResult,
  DeleteLaunchTemplateRequest,
  DeleteLaunchTemplateResult,
  DeleteLaunchTemplateVersionsRequest,
  DeleteLaunchTemplateVersionsResult,
  DescribeLaunchTemplatesRequest,
  DescribeLaunchTemplatesResult,
  DescribeLaunchTemplateVersionsRequest,
  DescribeLaunchTemplateVersionsResult,
  LaunchTemplate,
  LaunchTemplateSpecification,
  LaunchTemplateVersion,
  ModifyLaunchTemplateRequest,
  ModifyLaunchTemplateResult,
  RequestLaunchTemplateData,
  ValidationError,
  ValidationWarning,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { KIND, type LaunchTemplateDoc, type LaunchTemplateVersionDoc, type SecurityGroupDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { findKeyPair, getLaunchTemplate, imagesOf, instanceTypeOf, launchTemplatesOf } from './lookups.ts';

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;
const MAX_VERSIONS = 10000;

const malformedName = () =>
  new ApiError(
    'InvalidLaunchTemplateName.MalformedException',
    'The specified launch template name is invalid. A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
  );

const versionNotFound = (t: LaunchTemplateDoc, v: string) =>
  new ApiError(
    'InvalidLaunchTemplateId.VersionNotFound',
    `Could not find the specified version ${v} for the launch template with ID ${t.id}.`,
  );

/** The highest version not deleted (`latestVersion` counts every version ever made: numbers are not reused). */
const latestOf = (t: LaunchTemplateDoc) => Math.max(...t.versions.map((v) => v.number));

/** The version a spec names: a number, `$Latest`, `$Default`, or (none) the default. */
export function resolveVersion(t: LaunchTemplateDoc, v: string | undefined): LaunchTemplateVersionDoc {
  const n = v === undefined || v === '$Default' ? t.defaultVersion : v === '$Latest' ? latestOf(t) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (Number.isNaN(n))
    throw err.invalidValue(
      `The value '${v}' for the launch template version is not valid. Specify a version number, $Latest, or $Default.`,
    );
  const found = t.versions.find((x) => x.number === n);
  if (!found) throw versionNotFound(t, String(v ?? n));
  return found;
}

/** The template and version RunInstances launches from. */
export function launchTemplateFor(
  ctx: Ctx,
  spec: LaunchTemplateSpecification,
): { template: LaunchTemplateDoc; version: LaunchTemplateVersionDoc; data: RequestLaunchTemplateData } {
  const template = getLaunchTemplate(ctx, spec.LaunchTemplateId, spec.LaunchTemplateName);
  const version = resolveVersion(template, spec.Version);
  return { template, version, data: version.data as RequestLaunchTemplateData };
}

// ---------------------------------------------------------------------------------------------
// The data: form checked now, references reported as warnings

const enumOf = (v: string | undefined, allowed: string[], name: string) => {
  if (v !== undefined && !allowed.includes(v))
    throw err.invalidValue(`Invalid value '${v}' for ${name}. Valid values: ${allowed.join(', ')}.`);
};

function checkData(data: RequestLaunchTemplateData | undefined): RequestLaunchTemplateData {
  // An empty structure is not sent at all on the wire, so it is missing too.
  if (!data || !Object.keys(data).length)
    throw new ApiError(
      'MissingParameter',
      'No launch template data was provided. Launch template data is required to create a launch template.',
    );
  const m = data.MetadataOptions;
  if (m) {
    enumOf(m.HttpTokens, ['optional', 'required'], 'HttpTokens');
    enumOf(m.HttpEndpoint, ['enabled', 'disabled'], 'HttpEndpoint');
    enumOf(m.HttpProtocolIpv6, ['enabled', 'disabled'], 'HttpProtocolIpv6');
    enumOf(m.InstanceMetadataTags, ['enabled', 'disabled'], 'InstanceMetadataTags');
    if (m.HttpPutResponseHopLimit !== undefined && (m.HttpPutResponseHopLimit < 1 || m.HttpPutResponseHopLimit > 64))
      throw err.invalidValue(`Invalid value '${m.HttpPutResponseHopLimit}' for HttpPutResponseHopLimit. Valid values: 1 to 64.`);
  }
  enumOf(data.InstanceInitiatedShutdownBehavior, ['stop', 'terminate'], 'InstanceInitiatedShutdownBehavior');
  enumOf(data.CreditSpecification?.CpuCredits, ['standard', 'unlimited'], 'CpuCredits');
  for (const spec of data.TagSpecifications ?? []) {
    if (!spec.ResourceType) throw err.missing('TagSpecification.ResourceType');
    tagsFromSpecs([spec], spec.ResourceType, ['instance', 'volume', 'network-interface', 'spot-instances-request']);
  }
  for (const b of data.BlockDeviceMappings ?? []) if (!b.DeviceName) throw err.missing('BlockDeviceMapping.DeviceName');
  if (data.NetworkInterfaces?.length && (data.SecurityGroupIds?.length || data.SecurityGroups?.length))
    throw err.combination('Network interfaces and an instance-level security groups may not be specified on the same request');
  if (data.UserData !== undefined && !/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(data.UserData))
    throw err.invalidValue('Invalid BASE64 encoding of user data.');
  return JSON.parse(JSON.stringify(data)) as RequestLaunchTemplateData;
}

/** What the data names that does not exist (AWS creates the template and says so in `Warning`). */
function warnings(ctx: Ctx, data: RequestLaunchTemplateData): ValidationWarning | undefined {
  const errors: ValidationError[] = [];
  if (data.ImageId && !imagesOf(ctx).some((i) => i.id === data.ImageId))
    errors.push({ Code: 'InvalidAMIID.NotFound', Message: `The image id '[${data.ImageId}]' does not exist` });
  if (data.InstanceType && !instanceTypeOf(data.InstanceType))
    errors.push({ Code: 'InvalidInstanceType', Message: `The following supplied instance types do not exist: [${data.InstanceType}]` });
  if (data.KeyName !== undefined && !findKeyPair(ctx, data.KeyName))
    errors.push({ Code: 'InvalidKeyPair.NotFound', Message: `The key pair '${data.KeyName}' does not exist` });
  const groups = [...(data.SecurityGroupIds ?? []), ...(data.NetworkInterfaces ?? []).flatMap((n) => n.Groups ?? [])];
  for (const g of groups) {
    if (!ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, g))
      errors.push({ Code: 'InvalidGroup.NotFound', Message: `The security group '${g}' does not exist` });
  }
  return errors.length ? { Errors: errors } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Wire form

function toTemplate(t: LaunchTemplateDoc): LaunchTemplate {
  return {
    LaunchTemplateId: t.id,
    LaunchTemplateName: t.name,
    CreateTime: new Date(t.created),
    CreatedBy: t.createdBy,
    DefaultVersionNumber: t.defaultVersion,
    LatestVersionNumber: latestOf(t),
    Tags: tagList(t.tags),
  };
}

function toVersion(t: LaunchTemplateDoc, v: LaunchTemplateVersionDoc): LaunchTemplateVersion {
  return {
    LaunchTemplateId: t.id,
    LaunchTemplateName: t.name,
    VersionNumber: v.number,
    ...(v.description !== undefined ? { VersionDescription: v.description } : {}),
    CreateTime: new Date(v.created),
    CreatedBy: v.createdBy,
    DefaultVersion: v.number === t.defaultVersion,
    LaunchTemplateData: v.data,
  };
}

function checkDescription(d: string | undefined): string | undefined {
  if (d !== undefined && d.length > 255) throw err.invalidValue('The version description must be 255 characters or fewer.');
  return d;
}

// ---------------------------------------------------------------------------------------------
// Handlers

export const launchTemplateHandlers = {
  CreateLaunchTemplate(ctx: Ctx, input: CreateLaunchTemplateRequest): CreateLaunchTemplateResult {
    const name = input.LaunchTemplateName;
    if (!name) throw err.missing('LaunchTemplateName');
    if (!NAME.test(name)) throw malformedName();
    if (input.ClientToken) {
      const prior = launchTemplatesOf(ctx).find((t) => t.clientToken === input.ClientToken);
      if (prior) return { LaunchTemplate: toTemplate(prior) };
    }
    if (launchTemplatesOf(ctx).some((t) => t.name === name))
      throw new ApiError('InvalidLaunchTemplateName.AlreadyExistsException', 'Launch template name already in use.');
    const data = checkData(input.LaunchTemplateData);
    const now = new Date(ctx.clock.now()).toISOString();
    const doc: LaunchTemplateDoc = {
      id: newId('lt'),
      name,
      created: now,
      createdBy: ctx.principal.arn,
      defaultVersion: 1,
      latestVersion: 1,
      versions: [
        {
          number: 1,
          ...(checkDescription(input.VersionDescription) !== undefined ? { description: input.VersionDescription } : {}),
          created: now,
          createdBy: ctx.principal.arn,
          data: data as Record<string, unknown>,
        },
      ],
      ...(input.ClientToken ? { clientToken: input.ClientToken } : {}),
      tags: tagsFromSpecs(input.TagSpecifications, 'launch-template'),
    };
    ctx.tx.put(KIND.launchTemplate, ctx.scope, doc);
    const warning = warnings(ctx, data);
    return { LaunchTemplate: toTemplate(doc), ...(warning ? { Warning: warning } : {}) };
  },

  CreateLaunchTemplateVersion(ctx: Ctx, input: CreateLaunchTemplateVersionRequest): CreateLaunchTemplateVersionResult {
    const t = getLaunchTemplate(ctx, input.LaunchTemplateId, input.LaunchTemplateName);
    // With a source version, the new data may be empty (an exact copy).
    const given = input.LaunchTemplateData;
    let data = input.SourceVersion !== undefined && (!given || !Object.keys(given).length) ? {} : checkData(given);
    if (input.SourceVersion !== undefined) {
      // The new version inherits the source's parameters, except those given now.
      const source = resolveVersion(t, input.SourceVersion);
      data = { ...(JSON.parse(JSON.stringify(source.data)) as RequestLaunchTemplateData), ...data };
    }
    if (t.versions.length >= MAX_VERSIONS)
      throw new ApiError(
        'LaunchTemplateVersionLimitExceeded',
        `The launch template ${t.id} has reached its limit of ${MAX_VERSIONS} versions.`,
      );
    const w = ctx.tx.edit<LaunchTemplateDoc>(KIND.launchTemplate, ctx.scope, t.id)!;
    const v: LaunchTemplateVersionDoc = {
      number: w.latestVersion + 1,
      ...(checkDescription(input.VersionDescription) !== undefined ? { description: input.VersionDescription } : {}),
      created: new Date(ctx.clock.now()).toISOString(),
      createdBy: ctx.principal.arn,
      data: data as Record<string, unknown>,
    };
    w.versions.push(v);
    w.latestVersion = v.number;
    const warning = warnings(ctx, data);
    return { LaunchTemplateVersion: toVersion(w, v), ...(warning ? { Warning: warning } : {}) };
  },

  DescribeLaunchTemplates(ctx: Ctx, input: DescribeLaunchTemplatesRequest): DescribeLaunchTemplatesResult {
    let list = launchTemplatesOf(ctx);
    const missing = () =>
      new ApiError(
        'InvalidLaunchTemplateName.NotFoundException',
        'At least one of the launch templates specified in the request does not exist.',
      );
    if (input.LaunchTemplateIds?.length) {
      for (const id of input.LaunchTemplateIds) getLaunchTemplate(ctx, id, undefined);
      list = list.filter((t) => input.LaunchTemplateIds!.includes(t.id));
    }
    if (input.LaunchTemplateNames?.length) {
      if (input.LaunchTemplateNames.some((n) => !list.some((t) => t.name === n))) throw missing();
      list = list.filter((t) => input.LaunchTemplateNames!.includes(t.name));
    }
    const match = compileFilters<LaunchTemplateDoc>(input.Filters, {
      'create-time': (t) => t.created,
      'launch-template-name': (t) => t.name,
    });
    const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 200 });
    return { LaunchTemplates: page.map(toTemplate), NextToken: nextToken };
  },

  DescribeLaunchTemplateVersions(ctx: Ctx, input: DescribeLaunchTemplateVersionsRequest): DescribeLaunchTemplateVersionsResult {
    type Row = { id: string; seq: number; t: LaunchTemplateDoc; v: LaunchTemplateVersionDoc; tags?: never };
    const rows: Row[] = [];
    const named = input.LaunchTemplateId !== undefined || input.LaunchTemplateName !== undefined;
    const templates = named ? [getLaunchTemplate(ctx, input.LaunchTemplateId, input.LaunchTemplateName)] : launchTemplatesOf(ctx);
    if (!named && input.Versions?.some((v) => v !== '$Latest' && v !== '$Default'))
      throw err.missing('LaunchTemplateId or LaunchTemplateName');
    const min = input.MinVersion !== undefined ? Number(input.MinVersion) : undefined;
    const max = input.MaxVersion !== undefined ? Number(input.MaxVersion) : undefined;
    if ((min !== undefined && !Number.isInteger(min)) || (max !== undefined && !Number.isInteger(max)))
      throw err.invalidValue('MinVersion and MaxVersion must be version numbers.');
    let seq = 0;
    for (const t of templates) {
      let versions = t.versions;
      if (input.Versions?.length) {
        const wanted = new Set(input.Versions.map((v) => resolveVersion(t, v).number));
        versions = versions.filter((v) => wanted.has(v.number));
      }
      if (min !== undefined) versions = versions.filter((v) => v.number >= min);
      if (max !== undefined) versions = versions.filter((v) => v.number <= max);
      for (const v of versions) rows.push({ id: `${t.id}/${v.number}`, seq: ++seq, t, v });
    }
    const data = (r: Row) => r.v.data as RequestLaunchTemplateData;
    const match = compileFilters<Row>(input.Filters, {
      'create-time': (r) => r.v.created,
      'ebs-optimized': (r) => data(r).EbsOptimized,
      'iam-instance-profile': (r) => [data(r).IamInstanceProfile?.Arn, data(r).IamInstanceProfile?.Name],
      'image-id': (r) => data(r).ImageId,
      'instance-type': (r) => data(r).InstanceType,
      'is-default-version': (r) => r.v.number === r.t.defaultVersion,
      'kernel-id': (r) => data(r).KernelId,
      'ram-disk-id': (r) => data(r).RamDiskId,
    });
    const { page, nextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 200 });
    return { LaunchTemplateVersions: page.map((r) => toVersion(r.t, r.v)), NextToken: nextToken };
  },

  ModifyLaunchTemplate(ctx: Ctx, input: ModifyLaunchTemplateRequest): ModifyLaunchTemplateResult {
    const t = getLaunchTemplate(ctx, input.LaunchTemplateId, input.LaunchTemplateName);
    if (input.DefaultVersion === undefined) return { LaunchTemplate: toTemplate(t) };
    if (!/^\d+$/.test(input.DefaultVersion))
      throw err.invalidValue(`The value '${input.DefaultVersion}' for the default version is not valid. Specify a version number.`);
    const v = resolveVersion(t, input.DefaultVersion);
    const w = ctx.tx.edit<LaunchTemplateDoc>(KIND.launchTemplate, ctx.scope, t.id)!;
    w.defaultVersion = v.number;
    return { LaunchTemplate: toTemplate(w) };
  },

  DeleteLaunchTemplate(ctx: Ctx, input: DeleteLaunchTemplateRequest): DeleteLaunchTemplateResult {
    const t = getLaunchTemplate(ctx, input.LaunchTemplateId, input.LaunchTemplateName);
    ctx.tx.delete(KIND.launchTemplate, ctx.scope, t.id);
    return { LaunchTemplate: toTemplate(t) };
  },

  DeleteLaunchTemplateVersions(ctx: Ctx, input: DeleteLaunchTemplateVersionsRequest): DeleteLaunchTemplateVersionsResult {
    const t = getLaunchTemplate(ctx, input.LaunchTemplateId, input.LaunchTemplateName);
    if (!input.Versions?.length) throw err.missing('LaunchTemplateVersion');
    if (input.Versions.length > 200) throw err.invalidValue('You can delete at most 200 launch template versions in one request.');
    const w = ctx.tx.edit<LaunchTemplateDoc>(KIND.launchTemplate, ctx.scope, t.id)!;
    const ok: DeleteLaunchTemplateVersionsResult['SuccessfullyDeletedLaunchTemplateVersions'] = [];
    const failed: DeleteLaunchTemplateVersionsResult['UnsuccessfullyDeletedLaunchTemplateVersions'] = [];
    for (const raw of input.Versions) {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
      const fail = (code: string, message: string) =>
        failed.push({
          LaunchTemplateId: t.id,
          LaunchTemplateName: t.name,
          ...(Number.isNaN(n) ? {} : { VersionNumber: n }),
          ResponseError: { Code: code as never, Message: message },
        });
      if (Number.isNaN(n) || !w.versions.some((v) => v.number === n)) {
        fail('launchTemplateVersionDoesNotExist', `Could not find the specified version ${raw} for the launch template with ID ${t.id}.`);
        continue;
      }
      if (n === w.defaultVersion) {
        fail('unexpectedError', 'Cannot delete the default version of a launch template. Use DeleteLaunchTemplate to delete the template.');
        continue;
      }
      w.versions = w.versions.filter((v) => v.number !== n);
      ok.push({ LaunchTemplateId: t.id, LaunchTemplateName: t.name, VersionNumber: n });
    }
    return { SuccessfullyDeletedLaunchTemplateVersions: ok, UnsuccessfullyDeletedLaunchTemplateVersions: failed };
  },
};
