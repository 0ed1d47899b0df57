// Tags on every EC2 resource: CreateTags, DeleteTags, DescribeTags and TagSpecifications.
import type { CreateTagsRequest, DeleteTagsRequest, DescribeTagsRequest, DescribeTagsResult, TagSpecification } from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import type { TagPair } from '../../core/documents/ec2.ts';
import { compileFilters } from './filters.ts';
import { paginate } from './paging.ts';
import type { Doc } from '../../store/store.ts';
import { notFoundError, type ResourceType } from '../../core/resource-types.ts';

/** A taggable resource kind: how to find a resource by id and read or replace its tags. */
export interface Taggable {
  prefix: string;
  resourceType: string;
  notFound(id: string): ApiError;
  getTags(ctx: Ctx, id: string): TagPair[] | undefined;
  setTags(ctx: Ctx, id: string, tags: TagPair[]): void;
  list(ctx: Ctx): { id: string; seq?: number; tags: TagPair[] }[];
}

/** Taggable for a resource type whose documents carry `tags` (the resource-type table says which). */
export function docTaggable(type: ResourceType): Taggable {
  const kind = type.kind!;
  return {
    prefix: type.prefix,
    resourceType: type.name,
    notFound: (id) => notFoundError(type.prefix, id),
    getTags: (ctx, id) => ctx.tx.get<Doc & { tags: TagPair[] }>(kind, ctx.scope, id)?.tags,
    setTags: (ctx, id, tags) => {
      const d = ctx.tx.edit<Doc & { tags: TagPair[] }>(kind, ctx.scope, id)!;
      d.tags = tags;
    },
    list: (ctx) => ctx.tx.all<Doc & { tags: TagPair[] }>(kind, ctx.scope),
  };
}

const MAX_TAGS = 50;

function validateTag(key: unknown, value: unknown): TagPair {
  if (typeof key !== 'string' || key.length === 0) throw err.invalidValue('Tag key must not be empty');
  if (key.length > 128) throw err.invalidValue(`Tag key exceeds the maximum length of 128 characters`);
  if (key.toLowerCase().startsWith('aws:')) throw err.invalidValue(`Tag keys starting with 'aws:' are reserved for internal use`);
  const v = value === undefined || value === null ? '' : String(value);
  if (v.length > 256) throw err.invalidValue(`Tag value exceeds the maximum length of 256 characters`);
  return { Key: key, Value: v };
}

export function mergeTags(existing: TagPair[], add: TagPair[]): TagPair[] {
  const out = existing.map((t) => ({ ...t }));
  for (const t of add) {
    const i = out.findIndex((e) => e.Key === t.Key);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  if (out.length > MAX_TAGS)
    throw new ApiError('TagLimitExceeded', `The maximum number of tags for a resource has been reached (${MAX_TAGS}).`);
  return out;
}

/** Tags from TagSpecifications for one resource type; other types are refused as AWS does. */
export function tagsFromSpecs(specs: TagSpecification[] | undefined, resourceType: string, allowed: string[] = [resourceType]): TagPair[] {
  let tags: TagPair[] = [];
  for (const spec of specs ?? []) {
    if (!spec.ResourceType) throw err.missing('TagSpecification.ResourceType');
    if (!allowed.includes(spec.ResourceType)) {
      throw err.invalidValue(`'${spec.ResourceType}' is not a valid taggable resource type for this operation.`);
    }
    if (spec.ResourceType !== resourceType) continue;
    tags = mergeTags(
      tags,
      (spec.Tags ?? []).map((t) => validateTag(t.Key, t.Value)),
    );
  }
  return tags;
}

/** CreateTags, DeleteTags and DescribeTags over the given taggable types (ec2/index.ts lists them). */
export function tagHandlers(taggables: readonly Taggable[]) {
  const registry = new Map(taggables.map((t) => [t.prefix, t]));
  const lookup = (id: string): Taggable => {
    const prefix = id.includes('-') ? id.slice(0, id.indexOf('-')) : '';
    const t = registry.get(prefix);
    if (!t) throw new ApiError('InvalidID', `The ID '${id}' is not valid`);
    return t;
  };
  return {
    CreateTags(ctx: Ctx, input: CreateTagsRequest): Record<string, never> {
      const ids = input.Resources ?? [];
      if (ids.length === 0) throw err.missing('ResourceId');
      if (ids.length > 1000) throw err.invalidValue('The maximum number of resources (1000) has been exceeded');
      if (!input.Tags || input.Tags.length === 0) throw err.missing('Tag');
      const add = input.Tags.map((t) => validateTag(t.Key, t.Value));
      for (const id of ids) {
        const t = lookup(id);
        const existing = t.getTags(ctx, id);
        if (!existing) throw t.notFound(id);
        t.setTags(ctx, id, mergeTags(existing, add));
      }
      return {};
    },

    DeleteTags(ctx: Ctx, input: DeleteTagsRequest): Record<string, never> {
      const ids = input.Resources ?? [];
      if (ids.length === 0) throw err.missing('ResourceId');
      for (const t of input.Tags ?? []) {
        if (t.Key?.toLowerCase().startsWith('aws:')) throw err.invalidValue(`Tag keys starting with 'aws:' are reserved for internal use`);
      }
      for (const id of ids) {
        const t = lookup(id);
        const existing = t.getTags(ctx, id);
        if (!existing) throw t.notFound(id);
        let next: TagPair[];
        // No tags named: every tag of the caller's goes; AWS's own (`aws:…`, e.g. a launch template's) stay.
        if (!input.Tags || input.Tags.length === 0) next = existing.filter((t) => t.Key.toLowerCase().startsWith('aws:'));
        else {
          next = existing.filter((e) => !input.Tags!.some((d) => d.Key === e.Key && (d.Value === undefined || d.Value === e.Value)));
        }
        if (next.length !== existing.length) t.setTags(ctx, id, next);
      }
      return {};
    },

    DescribeTags(ctx: Ctx, input: DescribeTagsRequest): DescribeTagsResult {
      type Row = { id: string; seq: number; key: string; value: string; type: string; tags: TagPair[] };
      const rows: Row[] = [];
      let n = 0;
      for (const t of registry.values()) {
        for (const r of t.list(ctx)) {
          for (const tag of r.tags) rows.push({ id: r.id, seq: ++n, key: tag.Key, value: tag.Value, type: t.resourceType, tags: [] });
        }
      }
      const match = compileFilters<Row>(input.Filters, {
        key: (r) => r.key,
        value: (r) => r.value,
        'resource-id': (r) => r.id,
        'resource-type': (r) => r.type,
      });
      const { page, nextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
      return {
        Tags: page.map((r) => ({ Key: r.key, Value: r.value, ResourceId: r.id, ResourceType: r.type as never })),
        NextToken: nextToken,
      };
    },
  };
}
