// Managed prefix lists: customer-managed lists with versions, and the AWS-managed lists every
// region has. Security-group rules referencing a list weigh its MaxEntries in the rule quota.
import type {
  CreateManagedPrefixListRequest,
  CreateManagedPrefixListResult,
  DeleteManagedPrefixListRequest,
  DeleteManagedPrefixListResult,
  DescribeManagedPrefixListsRequest,
  DescribeManagedPrefixListsResult,
  DescribePrefixListsRequest,
  DescribePrefixListsResult,
  GetManagedPrefixListAssociationsRequest,
  GetManagedPrefixListAssociationsResult,
  GetManagedPrefixListEntriesRequest,
  GetManagedPrefixListEntriesResult,
  ManagedPrefixList,
  ModifyManagedPrefixListRequest,
  ModifyManagedPrefixListResult,
  RestoreManagedPrefixListVersionRequest,
  RestoreManagedPrefixListVersionResult,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import { formatCidr, parseCidr } from '../../core/cidr.ts';
import { arn, newId } from './ids.ts';
import { KIND, type PrefixListDoc, type PrefixListEntry, type SecurityGroupDoc } from '../../core/documents/ec2.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { quotaViolations } from './security-groups.ts';
import { awsLists, findPrefixList, prefixListNotFound } from './lookups.ts';

function getOwnList(ctx: Ctx, id: string | undefined): PrefixListDoc {
  if (!id) throw err.missing('PrefixListId');
  const own = ctx.tx.get<PrefixListDoc>(KIND.prefixList, ctx.scope, id);
  if (own) return own;
  if (awsLists(ctx).some((l) => l.id === id)) {
    throw new ApiError(
      'InvalidPrefixListModification',
      `The prefix list ${id} is an AWS-managed prefix list and cannot be modified or deleted.`,
    );
  }
  throw prefixListNotFound(id);
}

function toList(ctx: Ctx, p: PrefixListDoc): ManagedPrefixList {
  return {
    PrefixListId: p.id,
    AddressFamily: p.family,
    State: p.state as never,
    PrefixListName: p.name,
    PrefixListArn: arn(ctx.partition, 'ec2', ctx.region, p.ownerId === 'AWS' ? 'aws' : ctx.account, `prefix-list/${p.id}`),
    MaxEntries: p.maxEntries,
    Version: p.version,
    OwnerId: p.ownerId,
    Tags: tagList(p.tags),
    ...(p.state.endsWith('failed') ? { StateMessage: (p as PrefixListDoc & { stateMessage?: string }).stateMessage } : {}),
  };
}

function checkEntries(family: 'IPv4' | 'IPv6', entries: { Cidr?: string; Description?: string }[]): PrefixListEntry[] {
  const out: PrefixListEntry[] = [];
  for (const e of entries) {
    if (!e.Cidr) throw err.missing('Entry.Cidr');
    const c = parseCidr(e.Cidr, family === 'IPv4' ? 4 : 6);
    if (!c) throw err.invalidValue(`The CIDR ${e.Cidr} is not a valid ${family} CIDR.`);
    if (e.Description !== undefined && e.Description.length > 255)
      throw err.invalidValue('The prefix list entry description must be 255 characters or fewer.');
    const cidr = formatCidr(c);
    if (out.some((o) => o.cidr === cidr))
      throw new ApiError(
        'InvalidPrefixListModification',
        `An entry with the CIDR (${cidr}) and description (${e.Description ?? ''}) already exists.`,
      );
    out.push({ cidr, ...(e.Description !== undefined ? { description: e.Description } : {}) });
  }
  return out;
}

function referencingGroups(ctx: Ctx, id: string): SecurityGroupDoc[] {
  return ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope).filter((g) => g.rules.some((r) => r.prefixListId === id));
}

const PL_FILTERS = (ctx: Ctx) => ({
  'owner-id': (p: PrefixListDoc) => p.ownerId,
  'prefix-list-id': (p: PrefixListDoc) => p.id,
  'prefix-list-name': (p: PrefixListDoc) => p.name,
  'address-family': (p: PrefixListDoc) => p.family,
  'owner-alias': (p: PrefixListDoc) => (p.ownerId === 'AWS' ? 'amazon' : ctx.account),
});

export const prefixListHandlers = {
  CreateManagedPrefixList(ctx: Ctx, input: CreateManagedPrefixListRequest): CreateManagedPrefixListResult {
    const name = input.PrefixListName!;
    if (name.length > 255) throw err.invalidValue('The prefix list name must be 255 characters or fewer.');
    if (name.toLowerCase().startsWith('com.amazonaws')) throw err.invalidValue(`The prefix list name cannot start with com.amazonaws.`);
    if (input.AddressFamily !== 'IPv4' && input.AddressFamily !== 'IPv6') {
      throw err.invalidValue(`Value (${input.AddressFamily}) for parameter addressFamily is invalid. Valid values: IPv4, IPv6.`);
    }
    const max = input.MaxEntries!;
    if (!Number.isInteger(max) || max < 1 || max > 1000)
      throw err.invalidValue(`Value (${max}) for parameter maxEntries is invalid. The value must be between 1 and 1000.`);
    const entries = checkEntries(input.AddressFamily, input.Entries ?? []);
    if (entries.length > max)
      throw new ApiError(
        'PrefixListMaxEntriesExceeded',
        `The number of entries (${entries.length}) exceeds the maximum entries (${max}) for the prefix list.`,
      );
    if (ctx.tx.all(KIND.prefixList, ctx.scope).length >= 100)
      throw new ApiError('PrefixListLimitExceeded', 'You have reached the maximum number of prefix lists (100) for this Region.');
    const doc: PrefixListDoc = {
      id: newId('pl'),
      name,
      family: input.AddressFamily,
      maxEntries: max,
      version: 1,
      entries,
      history: [entries],
      ownerId: ctx.account,
      state: 'create-complete',
      tags: tagsFromSpecs(input.TagSpecifications, 'prefix-list'),
    };
    ctx.tx.put(KIND.prefixList, ctx.scope, doc);
    return { PrefixList: { ...toList(ctx, doc), State: 'create-in-progress' } };
  },

  DescribeManagedPrefixLists(ctx: Ctx, input: DescribeManagedPrefixListsRequest): DescribeManagedPrefixListsResult {
    let lists = [...awsLists(ctx), ...ctx.tx.all<PrefixListDoc>(KIND.prefixList, ctx.scope)];
    if (input.PrefixListIds?.length) {
      for (const id of input.PrefixListIds) if (!lists.some((l) => l.id === id)) throw prefixListNotFound(id);
      lists = lists.filter((l) => input.PrefixListIds!.includes(l.id));
    }
    const match = compileFilters<PrefixListDoc>(input.Filters, PL_FILTERS(ctx));
    const { page, nextToken } = paginate(lists.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 100 });
    return { PrefixLists: page.map((p) => toList(ctx, p)), NextToken: nextToken };
  },

  DescribePrefixLists(ctx: Ctx, input: DescribePrefixListsRequest): DescribePrefixListsResult {
    let lists = awsLists(ctx).filter((l) => !l.name.includes('.global.'));
    if (input.PrefixListIds?.length) {
      for (const id of input.PrefixListIds) if (!lists.some((l) => l.id === id)) throw prefixListNotFound(id);
      lists = lists.filter((l) => input.PrefixListIds!.includes(l.id));
    }
    const match = compileFilters<PrefixListDoc>(input.Filters, PL_FILTERS(ctx));
    const { page, nextToken } = paginate(lists.filter(match), input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      PrefixLists: page.map((p) => ({ PrefixListId: p.id, PrefixListName: p.name, Cidrs: p.entries.map((e) => e.cidr) })),
      NextToken: nextToken,
    };
  },

  GetManagedPrefixListEntries(ctx: Ctx, input: GetManagedPrefixListEntriesRequest): GetManagedPrefixListEntriesResult {
    const p = findPrefixList(ctx, input.PrefixListId!);
    if (!p) throw prefixListNotFound(input.PrefixListId!);
    let entries = p.entries;
    if (input.TargetVersion !== undefined) {
      const h = p.history[input.TargetVersion - 1];
      if (!h) throw err.invalidValue(`The specified version (${input.TargetVersion}) of prefix list ${p.id} does not exist.`);
      entries = h;
    }
    const rows = entries.map((e, i) => ({ ...e, id: e.cidr, seq: i + 1 }));
    const { page, nextToken } = paginate(rows, input.MaxResults, input.NextToken, { min: 1, max: 100 });
    return { Entries: page.map((e) => ({ Cidr: e.cidr, Description: e.description })), NextToken: nextToken };
  },

  GetManagedPrefixListAssociations(ctx: Ctx, input: GetManagedPrefixListAssociationsRequest): GetManagedPrefixListAssociationsResult {
    const p = findPrefixList(ctx, input.PrefixListId!);
    if (!p) throw prefixListNotFound(input.PrefixListId!);
    const rows = referencingGroups(ctx, p.id);
    const { page, nextToken } = paginate(rows, input.MaxResults, input.NextToken, { min: 5, max: 255 });
    return { PrefixListAssociations: page.map((g) => ({ ResourceId: g.id, ResourceOwner: g.ownerId })), NextToken: nextToken };
  },

  ModifyManagedPrefixList(ctx: Ctx, input: ModifyManagedPrefixListRequest): ModifyManagedPrefixListResult {
    const base = getOwnList(ctx, input.PrefixListId);
    const p = ctx.tx.edit<PrefixListDoc & { stateMessage?: string }>(KIND.prefixList, ctx.scope, base.id)!;
    const changesEntries = (input.AddEntries?.length ?? 0) + (input.RemoveEntries?.length ?? 0) > 0;
    if (input.MaxEntries !== undefined && changesEntries) {
      throw err.combination('You cannot modify the entries and the maximum entries for the prefix list in the same request.');
    }
    if (input.CurrentVersion !== undefined && input.CurrentVersion !== p.version) {
      throw new ApiError('PrefixListVersionMismatch', 'The prefix list has the incorrect version number.');
    }
    if (changesEntries && input.CurrentVersion === undefined) throw err.missing('CurrentVersion');
    if (input.PrefixListName !== undefined) {
      if (input.PrefixListName.toLowerCase().startsWith('com.amazonaws'))
        throw err.invalidValue('The prefix list name cannot start with com.amazonaws.');
      p.name = input.PrefixListName;
    }
    if (changesEntries) {
      const removals = (input.RemoveEntries ?? []).map((e) => {
        const c = e.Cidr && parseCidr(e.Cidr, p.family === 'IPv4' ? 4 : 6);
        if (!c) throw err.invalidValue(`The CIDR ${e.Cidr} is not a valid ${p.family} CIDR.`);
        const cidr = formatCidr(c);
        if (!p.entries.some((x) => x.cidr === cidr))
          throw new ApiError('InvalidPrefixListModification', `The prefix list entry (${cidr}) does not exist.`);
        return cidr;
      });
      const adds = checkEntries(p.family, input.AddEntries ?? []);
      let entries = p.entries.filter((e) => !removals.includes(e.cidr));
      for (const a of adds) {
        const i = entries.findIndex((e) => e.cidr === a.cidr);
        if (i >= 0) {
          if (entries[i]!.description === a.description)
            throw new ApiError(
              'InvalidPrefixListModification',
              `An entry with the CIDR (${a.cidr}) and description (${a.description ?? ''}) already exists.`,
            );
          entries = entries.map((e, j) => (j === i ? a : e));
        } else entries.push(a);
      }
      if (entries.length > p.maxEntries)
        throw new ApiError('PrefixListMaxEntriesExceeded', `The prefix list has reached its maximum number of entries (${p.maxEntries}).`);
      p.entries = entries;
      p.version += 1;
      p.history.push(entries);
      if (p.history.length > 1000) p.history.splice(0, p.history.length - 1000);
      p.state = 'modify-complete';
    }
    if (input.MaxEntries !== undefined) {
      if (!Number.isInteger(input.MaxEntries) || input.MaxEntries < 1 || input.MaxEntries > 1000) {
        throw err.invalidValue(`Value (${input.MaxEntries}) for parameter maxEntries is invalid. The value must be between 1 and 1000.`);
      }
      if (input.MaxEntries < p.entries.length)
        throw err.invalidValue(
          `The maximum entries (${input.MaxEntries}) cannot be less than the current number of entries (${p.entries.length}).`,
        );
      const old = p.maxEntries;
      p.maxEntries = input.MaxEntries;
      // Re-check the quota of every group that references the list at its new weight.
      const over = referencingGroups(ctx, p.id)
        .filter((g) => quotaViolations(ctx, g).length > 0)
        .map((g) => g.id);
      if (over.length) {
        p.maxEntries = old;
        p.state = 'modify-failed';
        p.stateMessage = `The following resources do not support the new maximum size: ${over.slice(0, 10).join(', ')}`;
      } else {
        p.state = 'modify-complete';
        delete p.stateMessage;
      }
    }
    return { PrefixList: toList(ctx, p) };
  },

  RestoreManagedPrefixListVersion(ctx: Ctx, input: RestoreManagedPrefixListVersionRequest): RestoreManagedPrefixListVersionResult {
    const p = ctx.tx.edit<PrefixListDoc>(KIND.prefixList, ctx.scope, getOwnList(ctx, input.PrefixListId).id)!;
    if (input.CurrentVersion !== p.version)
      throw new ApiError('PrefixListVersionMismatch', 'The prefix list has the incorrect version number.');
    const h = p.history[(input.PreviousVersion ?? 0) - 1];
    if (!h) throw err.invalidValue(`The specified version (${input.PreviousVersion}) of prefix list ${p.id} does not exist.`);
    if (h.length > p.maxEntries)
      throw new ApiError('PrefixListMaxEntriesExceeded', `The prefix list has reached its maximum number of entries (${p.maxEntries}).`);
    p.entries = h;
    p.version += 1;
    p.history.push(h);
    p.state = 'restore-complete';
    return { PrefixList: toList(ctx, p) };
  },

  DeleteManagedPrefixList(ctx: Ctx, input: DeleteManagedPrefixListRequest): DeleteManagedPrefixListResult {
    const p = getOwnList(ctx, input.PrefixListId);
    const refs = referencingGroups(ctx, p.id);
    if (refs.length) {
      // AWS accepts the call and the deletion then fails: the list stays, in `delete-failed`
      // (recorded AWS response). The user guide only says to remove the references first
      // (VPC:working-with-managed-prefix-lists), not how the API answers when they are there.
      const w = ctx.tx.edit<PrefixListDoc & { stateMessage?: string }>(KIND.prefixList, ctx.scope, p.id)!;
      w.state = 'delete-failed';
      w.stateMessage = `The prefix list is referenced by: ${refs.map((g) => g.id).join(', ')}`;
      return { PrefixList: { ...toList(ctx, p), State: 'delete-in-progress' } };
    }
    ctx.tx.delete(KIND.prefixList, ctx.scope, p.id);
    return { PrefixList: { ...toList(ctx, p), State: 'delete-in-progress' } };
  },
};
