// Small pieces shared by the IAM output shapes.
import type { Page } from './paging.ts';

/** The result of an operation without an output shape (DeleteRole, PutRolePolicy…). */
export type Empty = Record<string, never>;

/** A list result's paging members: IsTruncated always, Marker only when there is more. */
export function truncation<T>(p: Page<T>): { IsTruncated: boolean; Marker?: string } {
  return { IsTruncated: p.IsTruncated, ...(p.Marker ? { Marker: p.Marker } : {}) };
}
