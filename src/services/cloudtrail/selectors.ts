// PutEventSelectors' and PutInsightSelectors' validation, as the CloudTrail API Reference states
// it (InvalidEventSelectorsException: "A trail can have up to 5 event selectors. If a trail uses
// advanced event selectors, a maximum of 500 total values for all conditions in all advanced event
// selectors is allowed. A trail is limited to 250 data resources… Specify a valid value for a
// parameter. For example, specifying the ReadWriteType parameter with a value of read-only is not
// valid"; AdvancedFieldSelector's fields; DataResource's types and values). What a trail then
// delivers is src/cloudtrail/selectors.ts.
import type {
  AdvancedEventSelector,
  AdvancedFieldSelector,
  DataResource,
  EventSelector,
  InsightSelector,
} from '@aws-sdk/client-cloudtrail';
import { ApiError } from '../../core/errors.ts';

const invalid = (message: string) => new ApiError('InvalidEventSelectorsException', message);

const READ_WRITE_TYPES = new Set(['ReadOnly', 'WriteOnly', 'All']);
/** "Currently the only valid values are kms.amazonaws.com and rdsdata.amazonaws.com" (EventSelector). */
const EXCLUDABLE_SOURCES = new Set(['kms.amazonaws.com', 'rdsdata.amazonaws.com']);
/** The data resource types a basic event selector takes (DataResource). */
const CLASSIC_DATA_TYPES = new Set(['AWS::S3::Object', 'AWS::Lambda::Function', 'AWS::DynamoDB::Table']);
const MAX_SELECTORS = 5;
const MAX_DATA_RESOURCES = 250;
const MAX_ADVANCED_VALUES = 500;
/** AdvancedFieldSelector.Field for trails. */
const FIELDS = new Set([
  'eventCategory',
  'eventSource',
  'eventName',
  'eventType',
  'readOnly',
  'resources.type',
  'resources.ARN',
  'errorCode',
  'sessionCredentialFromConsole',
  'userIdentity.arn',
  'vpcEndpointId',
]);
/** What an advanced selector of management events may name ("For management events … eventCategory, readOnly, eventSource"). */
const MANAGEMENT_FIELDS = new Set(['eventCategory', 'readOnly', 'eventSource']);
const OPERATORS = ['Equals', 'StartsWith', 'EndsWith', 'NotEquals', 'NotStartsWith', 'NotEndsWith'] as const;
const INSIGHT_TYPES = new Set(['ApiCallRateInsight', 'ApiErrorRateInsight']);

/** A data resource's values: the whole service (`arn:aws:s3`, `arn:aws:s3:::`), a bucket with an optional prefix, or a resource's ARN. */
function checkDataValue(type: string, v: string): void {
  const ok =
    type === 'AWS::S3::Object'
      ? /^arn:aws[a-z-]*:s3(:::)?$/.test(v) || /^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^*]*$/.test(v)
      : type === 'AWS::Lambda::Function'
        ? /^arn:aws[a-z-]*:lambda$/.test(v) ||
          /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/.test(v)
        : /^arn:aws[a-z-]*:dynamodb$/.test(v) || /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/.test(v);
  if (!ok) throw invalid(`Value ${v} for DataResources.Values is invalid.`);
}

function checkClassic(selectors: EventSelector[]): EventSelector[] {
  if (selectors.length < 1 || selectors.length > MAX_SELECTORS) throw invalid('Specify a valid number of selectors for your trail.');
  let resources = 0;
  return selectors.map((s) => {
    const rw = s.ReadWriteType ?? 'All';
    if (!READ_WRITE_TYPES.has(rw)) throw invalid(`Value ${rw} for ReadWriteType is invalid.`);
    for (const src of s.ExcludeManagementEventSources ?? [])
      if (!EXCLUDABLE_SOURCES.has(src)) throw invalid(`Value ${src} for ExcludeManagementEventSources is invalid.`);
    const data: DataResource[] = [];
    for (const d of s.DataResources ?? []) {
      const type = d.Type ?? '';
      if (!CLASSIC_DATA_TYPES.has(type)) throw invalid(`Value ${type} for DataResources.Type is invalid.`);
      const values = d.Values ?? [];
      if (values.length < 1) throw invalid('Specify a valid number of data resources for your event selector.');
      for (const v of values) checkDataValue(type, v);
      resources += values.length;
      data.push({ Type: type, Values: [...values] });
    }
    if (resources > MAX_DATA_RESOURCES) throw invalid(`A trail is limited to ${MAX_DATA_RESOURCES} data resources.`);
    return {
      ReadWriteType: rw as EventSelector['ReadWriteType'],
      IncludeManagementEvents: s.IncludeManagementEvents ?? true,
      DataResources: data,
      ExcludeManagementEventSources: [...(s.ExcludeManagementEventSources ?? [])],
    };
  });
}

function checkField(f: AdvancedFieldSelector, seen: Set<string>): AdvancedFieldSelector {
  const field = f.Field ?? '';
  if (!FIELDS.has(field)) throw invalid(`Value ${field} for Field is invalid.`);
  if (seen.has(field)) throw invalid(`Field ${field} is specified more than once in an advanced event selector.`);
  seen.add(field);
  const out: AdvancedFieldSelector = { Field: field };
  let any = false;
  for (const op of OPERATORS) {
    const values = f[op];
    if (values === undefined || values.length === 0) continue;
    for (const v of values) if (v.length < 1 || v.length > 2048) throw invalid(`Value ${v} for ${field} is invalid.`);
    out[op] = [...values];
    any = true;
  }
  if (!any) throw invalid(`Specify at least one condition for the field ${field}.`);
  if (field === 'readOnly' && (out.Equals?.length !== 1 || !['true', 'false'].includes(out.Equals[0]!) || Object.keys(out).length !== 2))
    throw invalid('readOnly can only be Equals to true or false.');
  return out;
}

function checkAdvanced(selectors: AdvancedEventSelector[]): AdvancedEventSelector[] {
  if (selectors.length < 1) throw invalid('Specify a valid number of selectors for your trail.');
  let values = 0;
  const out = selectors.map((s) => {
    if (s.Name !== undefined && s.Name.length > 1000)
      throw invalid('The name of an advanced event selector is limited to 1000 characters.');
    const seen = new Set<string>();
    const fields = (s.FieldSelectors ?? []).map((f) => checkField(f, seen));
    const category = fields.find((f) => f.Field === 'eventCategory');
    if (!category || category.Equals?.length !== 1 || Object.keys(category).length !== 2)
      throw invalid('Each advanced event selector must have the field eventCategory with Equals to one value.');
    const kind = category.Equals[0]!;
    if (kind === 'Management') {
      for (const f of fields)
        if (!MANAGEMENT_FIELDS.has(f.Field!)) throw invalid(`Field ${f.Field} is not supported for management events.`);
      const source = fields.find((f) => f.Field === 'eventSource');
      if (
        source &&
        (Object.keys(source).some((k) => k !== 'Field' && k !== 'NotEquals') || source.NotEquals!.some((v) => !EXCLUDABLE_SOURCES.has(v)))
      )
        throw invalid('For management events, eventSource can only be NotEquals kms.amazonaws.com or rdsdata.amazonaws.com.');
    } else if (kind === 'Data' || kind === 'NetworkActivity') {
      const type = fields.find((f) => f.Field === (kind === 'Data' ? 'resources.type' : 'eventSource'));
      if (!type?.Equals?.length)
        throw invalid(
          kind === 'Data'
            ? 'A data event selector must have the field resources.type with Equals.'
            : 'A network activity event selector must have the field eventSource with Equals.',
        );
    } else throw invalid(`Value ${kind} for eventCategory is invalid.`);
    for (const f of fields) for (const op of OPERATORS) values += f[op]?.length ?? 0;
    return { ...(s.Name !== undefined ? { Name: s.Name } : {}), FieldSelectors: fields };
  });
  if (values > MAX_ADVANCED_VALUES)
    throw invalid(`A trail is limited to ${MAX_ADVANCED_VALUES} values for all conditions in all advanced event selectors.`);
  return out;
}

/**
 * The selectors PutEventSelectors sets: basic or advanced, never both
 * (InvalidParameterCombinationException), and one kind or the other is required.
 */
export function checkEventSelectors(input: { EventSelectors?: EventSelector[]; AdvancedEventSelectors?: AdvancedEventSelector[] }): {
  eventSelectors?: EventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
} {
  if (input.EventSelectors !== undefined && input.AdvancedEventSelectors !== undefined)
    throw new ApiError(
      'InvalidParameterCombinationException',
      'You cannot apply both EventSelectors and AdvancedEventSelectors to a trail.',
    );
  if (input.AdvancedEventSelectors !== undefined) return { advancedEventSelectors: checkAdvanced(input.AdvancedEventSelectors) };
  if (input.EventSelectors !== undefined) return { eventSelectors: checkClassic(input.EventSelectors) };
  throw new ApiError('InvalidParameterCombinationException', 'Either EventSelectors or AdvancedEventSelectors must be provided.');
}

/** PutInsightSelectors' list: ApiCallRateInsight and ApiErrorRateInsight, each once; an empty list turns Insights off. */
export function checkInsightSelectors(selectors: InsightSelector[] | undefined): InsightSelector[] {
  const list = selectors ?? [];
  const seen = new Set<string>();
  for (const s of list) {
    const type = s.InsightType ?? '';
    if (!INSIGHT_TYPES.has(type) || seen.has(type))
      throw new ApiError('InvalidInsightSelectorsException', `Value ${type} for InsightType is invalid.`);
    seen.add(type);
    if (s.EventCategories !== undefined && s.EventCategories.some((c) => c !== 'Management'))
      throw new ApiError('InvalidInsightSelectorsException', 'Trails support Insights only on management events.');
  }
  return list.map((s) => ({ InsightType: s.InsightType }));
}
