// IAM's Marker/MaxItems paging. Lists are ordered by a stable key (the lower-cased name, or
// the ARN); the Marker names the last key returned, so a page stays correct while entities are
// added or deleted between calls. MaxItems is 1–1000, 100 when omitted (as IAM does).
import { invalidInput } from './errors.ts';
import { Checks } from './validate.ts';

export interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

const DEFAULT_MAX_ITEMS = 100;

function decodeMarker(marker: string): string {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (!text.startsWith('m1:') || Buffer.from(text, 'utf8').toString('base64url') !== marker)
    throw invalidInput(`Invalid Marker: ${marker}`);
  return text.slice(3);
}

const encodeMarker = (key: string) => Buffer.from(`m1:${key}`, 'utf8').toString('base64url');

/** Sorts `items` by `keyOf` and returns the page after `marker`. */
export function page<T>(items: readonly T[], keyOf: (t: T) => string, marker: string | undefined, maxItems: number | undefined): Page<T> {
  new Checks().range(maxItems, 'maxItems', 1, 1000).length(marker, 'marker', 1, 4096).done();
  const max = maxItems ?? DEFAULT_MAX_ITEMS;
  const sorted = items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let start = 0;
  if (marker !== undefined) {
    const after = decodeMarker(marker);
    start = sorted.findIndex((e) => e.key > after);
    if (start < 0) start = sorted.length;
  }
  const slice = sorted.slice(start, start + max);
  const truncated = start + max < sorted.length;
  return {
    items: slice.map((e) => e.item),
    IsTruncated: truncated,
    ...(truncated ? { Marker: encodeMarker(slice[slice.length - 1]!.key) } : {}),
  };
}
