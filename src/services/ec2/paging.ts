import { ApiError } from '../../core/errors.ts';
import type { Doc } from '../../store/store.ts';

/**
 * MaxResults/NextToken over creation-ordered documents. The token is the creation sequence of
 * the last item returned, so pages stay consistent while items are added or deleted.
 */
export function paginate<T extends Doc>(
  items: T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limits: { min: number; max: number } = { min: 5, max: 1000 },
): { page: T[]; nextToken?: string } {
  let start = 0;
  if (nextToken !== undefined) {
    const m = /^p([0-9a-z]+)$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!m) throw new ApiError('InvalidNextToken', `The token '${nextToken}' is invalid`);
    const after = parseInt(m[1]!, 36);
    start = items.findIndex((d) => (d.seq ?? 0) > after);
    if (start < 0) start = items.length;
  }
  if (maxResults === undefined) {
    if (nextToken === undefined) return { page: items };
    return { page: items.slice(start) };
  }
  if (maxResults < limits.min || maxResults > limits.max) {
    throw new ApiError(
      'InvalidParameterValue',
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Parameter must be between ${limits.min} and ${limits.max}.`,
    );
  }
  const page = items.slice(start, start + maxResults);
  const more = start + maxResults < items.length;
  return { page, nextToken: more ? Buffer.from(`p${(page[page.length - 1]!.seq ?? 0).toString(36)}`).toString('base64url') : undefined };
}
