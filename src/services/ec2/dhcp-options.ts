// DHCP options sets and their association with VPCs. Every region has AWS's default set
// (the region's domain name and AmazonProvidedDNS), which VPCs start with; `default` as the
// options id means no options at all.
import type {
  AssociateDhcpOptionsRequest,
  CreateDhcpOptionsRequest,
  CreateDhcpOptionsResult,
  DeleteDhcpOptionsRequest,
  DescribeDhcpOptionsRequest,
  DescribeDhcpOptionsResult,
  DhcpOptions,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { addressToBigInt } from '../../core/cidr.ts';
import { KIND, type DhcpOptionsDoc, type VpcDoc } from '../../core/documents/ec2.ts';
import { newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { dhcpOptionsOf, getDhcpOptions, getVpc } from './lookups.ts';

/** The options AWS knows, in the order it lists them. */
const KEYS = [
  'domain-name',
  'domain-name-servers',
  'ntp-servers',
  'netbios-name-servers',
  'netbios-node-type',
  'ipv6-address-preferred-lease-time',
] as const;
type Key = (typeof KEYS)[number];

/** The region's default set: what DHCP gives instances of a VPC that never had other options. */
export function createDefaultDhcpOptions(ctx: Ctx): DhcpOptionsDoc {
  return ctx.tx.put<DhcpOptionsDoc>(KIND.dhcpOptions, ctx.scope, {
    id: newId('dopt'),
    configurations: [
      { key: 'domain-name', values: [ctx.region === 'us-east-1' ? 'ec2.internal' : `${ctx.region}.compute.internal`] },
      { key: 'domain-name-servers', values: ['AmazonProvidedDNS'] },
    ],
    ownerId: ctx.account,
    isDefault: true,
    tags: [],
  });
}

const invalid = (key: string, value: string) => err.invalidValue(`Value (${value}) for parameter ${key} is invalid.`);

function family(v: string): 4 | 6 | undefined {
  return addressToBigInt(v)?.family;
}

/** AWS's limits per option (EC2 API reference, CreateDhcpOptions). */
function checkValues(key: Key, values: string[]): void {
  const v4 = values.filter((v) => family(v) === 4).length;
  const v6 = values.filter((v) => family(v) === 6).length;
  switch (key) {
    case 'domain-name':
      if (values.length > 1) throw invalid(key, values.join(','));
      return;
    case 'domain-name-servers': {
      const amazon = values.filter((v) => v === 'AmazonProvidedDNS').length;
      for (const v of values) if (v !== 'AmazonProvidedDNS' && !family(v)) throw invalid(key, v);
      if (amazon > 1 || v4 + amazon > 4 || v6 > 4) throw invalid(key, values.join(','));
      return;
    }
    case 'ntp-servers':
      for (const v of values) if (!family(v)) throw invalid(key, v);
      if (v4 > 4 || v6 > 4) throw invalid(key, values.join(','));
      return;
    case 'netbios-name-servers':
      for (const v of values) if (family(v) !== 4) throw invalid(key, v);
      if (values.length > 4) throw invalid(key, values.join(','));
      return;
    case 'netbios-node-type':
      if (values.length > 1 || !['1', '2', '4', '8'].includes(values[0]!)) throw invalid(key, values.join(','));
      return;
    case 'ipv6-address-preferred-lease-time': {
      const n = Number(values[0]);
      if (values.length > 1 || !/^\d+$/.test(values[0]!) || n < 140 || n > 2147483647) throw invalid(key, values.join(','));
      return;
    }
  }
}

function toDhcpOptions(d: DhcpOptionsDoc): DhcpOptions {
  return {
    DhcpOptionsId: d.id,
    OwnerId: d.ownerId,
    DhcpConfigurations: d.configurations.map((c) => ({ Key: c.key, Values: c.values.map((v) => ({ Value: v })) })),
    Tags: tagList(d.tags),
  };
}

export const dhcpOptionsHandlers = {
  CreateDhcpOptions(ctx: Ctx, input: CreateDhcpOptionsRequest): CreateDhcpOptionsResult {
    if (!input.DhcpConfigurations?.length) throw err.missing('DhcpConfiguration');
    const byKey = new Map<Key, string[]>();
    for (const c of input.DhcpConfigurations) {
      if (!c.Key) throw err.missing('DhcpConfiguration.Key');
      if (!(KEYS as readonly string[]).includes(c.Key))
        throw err.invalidValue(`Value (${c.Key}) for parameter name is invalid. Unknown option.`);
      // Several addresses may share one value, separated by commas.
      const values = (c.Values ?? [])
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (!values.length) throw err.invalidValue(`Value () for parameter ${c.Key} is invalid.`);
      byKey.set(c.Key as Key, [...(byKey.get(c.Key as Key) ?? []), ...values]);
    }
    for (const [key, values] of byKey) checkValues(key, values);
    const tags = tagsFromSpecs(input.TagSpecifications, 'dhcp-options');
    const doc = ctx.tx.put<DhcpOptionsDoc>(KIND.dhcpOptions, ctx.scope, {
      id: newId('dopt'),
      configurations: KEYS.filter((k) => byKey.has(k)).map((k) => ({ key: k, values: byKey.get(k)! })),
      ownerId: ctx.account,
      tags,
    });
    return { DhcpOptions: toDhcpOptions(doc) };
  },

  DescribeDhcpOptions(ctx: Ctx, input: DescribeDhcpOptionsRequest): DescribeDhcpOptionsResult {
    let sets = dhcpOptionsOf(ctx);
    if (input.DhcpOptionsIds?.length) {
      for (const id of input.DhcpOptionsIds) getDhcpOptions(ctx, id);
      sets = sets.filter((d) => input.DhcpOptionsIds!.includes(d.id));
    }
    const match = compileFilters<DhcpOptionsDoc>(input.Filters, {
      'dhcp-options-id': (d) => d.id,
      key: (d) => d.configurations.map((c) => c.key),
      value: (d) => d.configurations.flatMap((c) => c.values),
      'owner-id': (d) => d.ownerId,
    });
    const { page, nextToken } = paginate(sets.filter(match), input.MaxResults, input.NextToken);
    return { DhcpOptions: page.map(toDhcpOptions), NextToken: nextToken };
  },

  DeleteDhcpOptions(ctx: Ctx, input: DeleteDhcpOptionsRequest): Record<string, never> {
    const d = getDhcpOptions(ctx, input.DhcpOptionsId);
    if (ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope).some((v) => v.dhcpOptionsId === d.id)) {
      throw new ApiError('DependencyViolation', `The dhcpOptions '${d.id}' has dependencies and cannot be deleted.`);
    }
    ctx.tx.delete(KIND.dhcpOptions, ctx.scope, d.id);
    return {};
  },

  /** `default` associates no options at all (the VPC then reports `default`). */
  AssociateDhcpOptions(ctx: Ctx, input: AssociateDhcpOptionsRequest): Record<string, never> {
    if (!input.DhcpOptionsId) throw err.missing('DhcpOptionsId');
    const vpc = getVpc(ctx, input.VpcId);
    const id = input.DhcpOptionsId === 'default' ? 'default' : getDhcpOptions(ctx, input.DhcpOptionsId).id;
    if (vpc.dhcpOptionsId !== id) ctx.tx.edit<VpcDoc>(KIND.vpc, ctx.scope, vpc.id)!.dhcpOptionsId = id;
    return {};
  },
};

/** The VPCs whose options set is gone (state written before Palisade kept the sets) get the default set. */
export function adoptDhcpOptions(ctx: Ctx, defaultSet: DhcpOptionsDoc): void {
  for (const v of ctx.tx.all<VpcDoc>(KIND.vpc, ctx.scope)) {
    if (v.dhcpOptionsId !== 'default' && !ctx.tx.get(KIND.dhcpOptions, ctx.scope, v.dhcpOptionsId)) {
      ctx.tx.edit<VpcDoc>(KIND.vpc, ctx.scope, v.id)!.dhcpOptionsId = defaultSet.id;
    }
  }
}
