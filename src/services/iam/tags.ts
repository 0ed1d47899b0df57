// IAM tags (roles, users, managed policies, instance profiles): at most 50 per resource, keys
// 1–128 and values 0–256 characters of letters, digits, white space and `_.:/=+-@`. Keys are
// case-insensitive in IAM: tagging with an existing key in another case replaces that tag.
import type { Tag } from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import type { Doc } from '../../store/store.ts';
import type { IamTag } from '../../core/documents/iam.ts';
import { invalidInput, limitExceeded } from './errors.ts';
import { page, type Page } from './paging.ts';
import { Checks } from './validate.ts';

export const MAX_TAGS = 50;
const KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const KEY_SOURCE = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+';
const VALUE_SOURCE = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*';

/**
 * Validates the Tags member of a request and returns it as stored. The messages do not echo the
 * tags ("Value at 'tags' failed to satisfy constraint: Member must have length less than or equal
 * to 50", recorded from IAM: localstack tests/aws/services/iam/test_iam_roles.snapshot.json).
 */
export function checkTags(tags: Tag[] | undefined, field = 'tags'): IamTag[] {
  if (!tags) return [];
  const c = new Checks({ hideValues: true });
  if (tags.length > MAX_TAGS) c.fail(undefined, field, `have length less than or equal to ${MAX_TAGS}`);
  else {
    tags.forEach((t, i) => {
      const k = `${field}.${i + 1}.member.key`;
      const v = `${field}.${i + 1}.member.value`;
      if (c.required(t.Key, k)) c.length(t.Key, k, 1, 128).pattern(t.Key, k, KEY, KEY_SOURCE);
      if (c.required(t.Value, v)) c.length(t.Value, v, 0, 256).pattern(t.Value, v, VALUE, VALUE_SOURCE);
    });
  }
  c.done();
  const seen = new Set<string>();
  for (const t of tags) {
    const lower = t.Key!.toLowerCase();
    if (seen.has(lower)) throw invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(lower);
  }
  return tags.map((t) => ({ Key: t.Key!, Value: t.Value! }));
}

/** The TagKeys member of an UntagX request (one message for the whole list, no values echoed). */
function checkTagKeys(keys: string[] | undefined, field = 'tagKeys'): string[] {
  const c = new Checks({ hideValues: true });
  if (c.required(keys, field)) {
    if (keys!.length > MAX_TAGS) c.fail(undefined, field, `have length less than or equal to ${MAX_TAGS}`);
    else c.members(keys!, field, 1, 128, KEY, KEY_SOURCE);
  }
  c.done();
  return keys!;
}

/** `existing` with `added` merged in (same key in any case ⇒ replaced). */
export function mergeTags(existing: readonly IamTag[], added: readonly IamTag[]): IamTag[] {
  const out = existing.map((t) => ({ ...t }));
  for (const t of added) {
    const i = out.findIndex((x) => x.Key.toLowerCase() === t.Key.toLowerCase());
    if (i >= 0) out[i] = { ...t };
    else out.push({ ...t });
  }
  if (out.length > MAX_TAGS) throw limitExceeded(`The number of tags has reached the maximum limit of ${MAX_TAGS}.`);
  return out;
}

function removeTags(existing: readonly IamTag[], keys: readonly string[]): IamTag[] {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return existing.filter((t) => !drop.has(t.Key.toLowerCase()));
}

/** Tags for an output shape: omitted when there are none, as IAM does. */
export const tagsOut = (tags: readonly IamTag[]): Tag[] | undefined => (tags.length ? tags.map((t) => ({ ...t })) : undefined);

/**
 * TagX: validates the request's tags, then finds the resource (`lookup` gives its document id: a
 * missing resource is reported after bad tags, as IAM does — TagRole of an unknown role with 51
 * tags is a ValidationError), then merges the tags into it.
 */
export function tagDoc(ctx: Ctx, kind: string, lookup: () => string, tags: Tag[] | undefined): void {
  const c = new Checks();
  c.required(tags, 'tags');
  c.done();
  const added = checkTags(tags);
  const d = ctx.tx.edit<Doc & { tags: IamTag[] }>(kind, ctx.scope, lookup())!;
  d.tags = mergeTags(d.tags, added);
}

/** UntagX: validates the keys, then finds the resource, then removes the tags. */
export function untagDoc(ctx: Ctx, kind: string, lookup: () => string, keys: string[] | undefined): void {
  const checked = checkTagKeys(keys);
  const d = ctx.tx.edit<Doc & { tags: IamTag[] }>(kind, ctx.scope, lookup())!;
  d.tags = removeTags(d.tags, checked);
}

export function listTags(tags: readonly IamTag[], marker: string | undefined, maxItems: number | undefined): Page<Tag> {
  return page(
    tags.map((t) => ({ ...t })),
    (t) => t.Key.toLowerCase(),
    marker,
    maxItems,
  );
}
