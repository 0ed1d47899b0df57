// AWS Describe* filters: every filter must match (AND); within a filter any value may match
// (OR), against any of the resource's values for that name; `*` and `?` are wildcards, matched
// case-sensitively in linear time (core/wildcard.ts), each value compiled once per request.
import { ApiError } from '../../core/errors.ts';
import type { Filter } from '@aws-sdk/client-ec2';
import type { TagPair } from '../../core/documents/ec2.ts';
import { compileWildcard } from '../../core/wildcard.ts';

type FilterValues = string | number | boolean | undefined | null | (string | number | boolean | undefined | null)[];
type FilterSpec<T> = Record<string, (doc: T) => FilterValues>;

/** Returns a predicate for the filters, or throws AWS's error for an unknown filter name. */
export function compileFilters<T extends { tags?: TagPair[] }>(filters: Filter[] | undefined, spec: FilterSpec<T>): (doc: T) => boolean {
  if (!filters || filters.length === 0) return () => true;
  const tests: ((doc: T) => boolean)[] = [];
  for (const f of filters) {
    const name = f.Name;
    if (!name) throw new ApiError('InvalidParameterValue', 'The filter name must be specified');
    const values = (f.Values ?? []).map((v) => compileWildcard(String(v), { question: true }));
    // Own names only: a filter named `valueOf` or `__proto__` is an unknown filter, not Object's.
    let get: ((doc: T) => FilterValues) | undefined = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!get && name.startsWith('tag:')) {
      const key = name.slice(4);
      get = (doc) => (doc.tags ?? []).filter((t) => t.Key === key).map((t) => t.Value);
    } else if (!get && name === 'tag-key') get = (doc) => (doc.tags ?? []).map((t) => t.Key);
    else if (!get && name === 'tag-value') get = (doc) => (doc.tags ?? []).map((t) => t.Value);
    if (!get) throw new ApiError('InvalidParameterValue', `The filter '${name}' is invalid`);
    const getter = get;
    tests.push((doc) => {
      const raw = getter(doc);
      const have = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== undefined && v !== null).map(String);
      return values.some((matches) => have.some((h) => matches(h)));
    });
  }
  return (doc) => tests.every((t) => t(doc));
}

/** The resource's tags in the wire shape. */
export const tagList = (tags: TagPair[] | undefined) => (tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));
