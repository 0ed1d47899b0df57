// Which events a trail delivers, by its event selectors (CloudTrail User Guide, "Logging
// management events" and "Filtering data events by using advanced event selectors"): a trail
// logs an event when any of its selectors matches it. Every event Palisade records is a
// management event (eventCategory Management); classic selectors match it by ReadWriteType,
// IncludeManagementEvents and ExcludeManagementEventSources, advanced selectors by their field
// conditions (eventCategory, readOnly, eventSource, eventName; a field a management event does not
// carry has no value, which no Equals/StartsWith/EndsWith matches and every Not… condition does).
import type { AdvancedEventSelector, AdvancedFieldSelector, EventSelector } from '@aws-sdk/client-cloudtrail';

/** A trail without selectors of its own: all read and write management events, no data events. */
export const DEFAULT_EVENT_SELECTORS: EventSelector[] = [
  { ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [], ExcludeManagementEventSources: [] },
];

/** What a selector sees of a recorded event. */
export interface SelectedEvent {
  eventSource: string;
  eventName: string;
  readOnly: boolean;
}

export interface TrailSelectors {
  eventSelectors?: EventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
}

function fieldValue(field: string, e: SelectedEvent): string | undefined {
  switch (field) {
    case 'eventCategory':
      return 'Management';
    case 'readOnly':
      return e.readOnly ? 'true' : 'false';
    case 'eventSource':
      return e.eventSource;
    case 'eventName':
      return e.eventName;
    default:
      return undefined;
  }
}

/** One field's conditions: values within an operator ORed, operators ANDed. */
function fieldMatches(f: AdvancedFieldSelector, e: SelectedEvent): boolean {
  const v = fieldValue(f.Field ?? '', e);
  const some = (list: string[] | undefined, test: (x: string) => boolean) => list === undefined || (v !== undefined && list.some(test));
  const none = (list: string[] | undefined, test: (x: string) => boolean) => list === undefined || v === undefined || !list.some(test);
  return (
    some(f.Equals, (x) => v === x) &&
    some(f.StartsWith, (x) => v!.startsWith(x)) &&
    some(f.EndsWith, (x) => v!.endsWith(x)) &&
    none(f.NotEquals, (x) => v === x) &&
    none(f.NotStartsWith, (x) => v!.startsWith(x)) &&
    none(f.NotEndsWith, (x) => v!.endsWith(x))
  );
}

function classicMatches(s: EventSelector, e: SelectedEvent): boolean {
  if (s.IncludeManagementEvents === false) return false;
  const rw = s.ReadWriteType ?? 'All';
  if (rw === 'ReadOnly' && !e.readOnly) return false;
  if (rw === 'WriteOnly' && e.readOnly) return false;
  return !(s.ExcludeManagementEventSources ?? []).includes(e.eventSource);
}

/** Does the trail log this (management) event? */
export function selectsEvent(t: TrailSelectors, e: SelectedEvent): boolean {
  if (t.advancedEventSelectors) return t.advancedEventSelectors.some((s) => (s.FieldSelectors ?? []).every((f) => fieldMatches(f, e)));
  return (t.eventSelectors ?? DEFAULT_EVENT_SELECTORS).some((s) => classicMatches(s, e));
}
