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

/** Validates the Tags member of a request and returns it as stored. */
export function checkTags(tags: Tag[] | undefined, field = 'tags'): IamTag[] {
  if (!tags) return [];
  const c = new Checks();
  if (tags.length > MAX_TAGS)
    c.fail(`[${tags.map((t) => `${t.Key}=${t.Value}`).join(', ')}]`, field, `have length less than or equal to ${MAX_TAGS}`);
  tags.forEach((t, i) => {
    const k = `${field}.${i + 1}.member.key`;
    const v = `${field}.${i + 1}.member.value`;
    if (c.required(t.Key, k)) c.length(t.Key, k, 1, 128).pattern(t.Key, k, KEY, '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+');
    if (c.required(t.Value, v)) c.length(t.Value, v, 0, 256).pattern(t.Value, v, VALUE, '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*');
  });
  c.done();
  const seen = new Set<string>();
  for (const t of tags) {
    const lower = t.Key!.toLowerCase();
    if (seen.has(lower)) throw invalidInput('Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(lower);
  }
  return tags.map((t) => ({ Key: t.Key!, Value: t.Value! }));
}

function checkTagKeys(keys: string[] | undefined, field = 'tagKeys'): string[] {
  const c = new Checks();
  if (c.required(keys, field)) {
    if (keys!.length > MAX_TAGS) c.fail(`[${keys!.join(', ')}]`, field, `have length less than or equal to ${MAX_TAGS}`);
    keys!.forEach((key, i) =>
      c.length(key, `${field}.${i + 1}.member`, 1, 128).pattern(key, `${field}.${i + 1}.member`, KEY, '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+'),
    );
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

/** TagX: merges the request's tags into the document (id found by the caller). */
export function tagDoc(ctx: Ctx, kind: string, id: string, tags: Tag[] | undefined): void {
  const c = new Checks();
  c.required(tags, 'tags');
  c.done();
  const added = checkTags(tags);
  const d = ctx.tx.edit<Doc & { tags: IamTag[] }>(kind, ctx.scope, id)!;
  d.tags = mergeTags(d.tags, added);
}

export function untagDoc(ctx: Ctx, kind: string, id: string, keys: string[] | undefined): void {
  const checked = checkTagKeys(keys);
  const d = ctx.tx.edit<Doc & { tags: IamTag[] }>(kind, ctx.scope, id)!;
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
