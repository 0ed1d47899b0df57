// Long-term access keys of IAM users (at most 2 per user). Keys live in the GLOBAL scope keyed by
// access key id, so the gateway resolves the caller from any request's credential scope.
import type {
  AccessKeyMetadata,
  CreateAccessKeyRequest,
  CreateAccessKeyResponse,
  DeleteAccessKeyRequest,
  GetAccessKeyLastUsedRequest,
  GetAccessKeyLastUsedResponse,
  ListAccessKeysRequest,
  ListAccessKeysResponse,
  UpdateAccessKeyRequest,
} from '@aws-sdk/client-iam';
import type { Ctx } from '../../core/context.ts';
import { limitExceeded, noSuchEntity } from './errors.ts';
import { newAccessKeyId, newSecretAccessKey } from './ids.ts';
import { getUser, idOf } from './lookups.ts';
import { GLOBAL, IAM_KIND, type AccessKeyDoc, type UserDoc } from '../../core/documents/iam.ts';
import { truncation, type Empty } from './output.ts';
import { page } from './paging.ts';
import { keysOf, nonUserCaller } from './users.ts';
import { Checks } from './validate.ts';

const KEYS_PER_USER = 2;

/** The user a key call is about: the named one, else the calling IAM user. */
function subject(ctx: Ctx, userName: string | undefined): UserDoc {
  if (userName !== undefined) return getUser(ctx, userName);
  if (ctx.principal.type === 'IAMUser' && ctx.principal.userName) return getUser(ctx, ctx.principal.userName);
  throw nonUserCaller();
}

const noSuchKey = (id: string) => noSuchEntity(`The Access Key with id ${id} cannot be found.`);

function checkKeyId(id: string | undefined): string {
  const c = new Checks();
  if (c.required(id, 'accessKeyId')) c.length(id, 'accessKeyId', 16, 128).pattern(id, 'accessKeyId', /^\w+$/, '[\\w]+');
  c.done();
  return id!;
}

/**
 * The key, if it belongs to the named user (or, with no name, to the calling user: the root's
 * own keys are not IAM users' keys, so a root caller must name the user).
 */
function ownKey(ctx: Ctx, id: string, userName: string | undefined): AccessKeyDoc {
  if (userName === undefined && ctx.principal.type === 'Root') throw noSuchKey(id);
  const user = subject(ctx, userName);
  const k = ctx.tx.get<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, id);
  if (!k || k.account !== ctx.account || idOf(k.userName) !== user.id) throw noSuchKey(id);
  return k;
}

const metadata = (k: AccessKeyDoc): AccessKeyMetadata => ({
  UserName: k.userName,
  AccessKeyId: k.id,
  Status: k.status,
  CreateDate: new Date(k.createDate),
});

export const accessKeyHandlers = {
  CreateAccessKey(ctx: Ctx, i: CreateAccessKeyRequest): CreateAccessKeyResponse {
    const u = subject(ctx, i.UserName);
    if (keysOf(ctx, u).length >= KEYS_PER_USER) throw limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${KEYS_PER_USER}`);
    let id = newAccessKeyId();
    while (ctx.tx.get(IAM_KIND.accessKey, GLOBAL, id)) id = newAccessKeyId();
    const k: AccessKeyDoc = {
      id,
      account: ctx.account,
      userName: u.name,
      secret: newSecretAccessKey(),
      status: 'Active',
      createDate: new Date(ctx.clock.now()).toISOString(),
    };
    ctx.tx.put(IAM_KIND.accessKey, GLOBAL, k);
    return {
      AccessKey: { UserName: u.name, AccessKeyId: k.id, Status: k.status, SecretAccessKey: k.secret, CreateDate: new Date(k.createDate) },
    };
  },

  ListAccessKeys(ctx: Ctx, i: ListAccessKeysRequest): ListAccessKeysResponse {
    // the account root has no IAM-managed keys
    if (i.UserName === undefined && ctx.principal.type === 'Root') return { AccessKeyMetadata: [], IsTruncated: false };
    const u = subject(ctx, i.UserName);
    const p = page(keysOf(ctx, u), (k) => k.createDate + k.id, i.Marker, i.MaxItems);
    return { AccessKeyMetadata: p.items.map(metadata), ...truncation(p) };
  },

  DeleteAccessKey(ctx: Ctx, i: DeleteAccessKeyRequest): Empty {
    const k = ownKey(ctx, checkKeyId(i.AccessKeyId), i.UserName);
    ctx.tx.delete(IAM_KIND.accessKey, GLOBAL, k.id);
    return {};
  },

  UpdateAccessKey(ctx: Ctx, i: UpdateAccessKeyRequest): Empty {
    const c = new Checks();
    if (c.required(i.Status, 'status') && i.Status !== 'Active' && i.Status !== 'Inactive')
      c.fail(i.Status, 'status', 'satisfy enum value set: [Active, Inactive]');
    c.done();
    const k = ownKey(ctx, checkKeyId(i.AccessKeyId), i.UserName);
    ctx.tx.edit<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, k.id)!.status = i.Status as 'Active' | 'Inactive';
    return {};
  },

  GetAccessKeyLastUsed(ctx: Ctx, i: GetAccessKeyLastUsedRequest): GetAccessKeyLastUsedResponse {
    const id = checkKeyId(i.AccessKeyId);
    const k = ctx.tx.get<AccessKeyDoc>(IAM_KIND.accessKey, GLOBAL, id);
    if (!k || k.account !== ctx.account) throw noSuchKey(id);
    return { UserName: k.userName, AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } };
  },
};
