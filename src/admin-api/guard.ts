// Who may use the admin API. `--auth open`: anyone (as before: a local tool on a loopback port).
// `--auth verify|enforce`: only a request SigV4-signed with the root key pair — the one that is
// not subject to IAM policies — since these endpoints wipe state, move the clock, drive traffic
// and hand out instances' metadata endpoints (and through them role credentials). IAM users and
// role sessions, however privileged, are refused: no IAM action describes these endpoints.
// The `palisade` subcommands sign with the credentials in their environment (cli/admin-client.ts).
import type { IncomingMessage } from 'node:http';
import type { AuthMode, RootKey } from '../auth/authenticate.ts';
import { authenticate } from '../auth/authenticate.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';
import { ApiError } from '../core/errors.ts';
import { AdminError, type Guard } from './router.ts';

export function adminGuard(mode: AuthMode, store: Store, clock: Clock, rootKey: () => RootKey): Guard {
  if (mode === 'open') return async () => {};
  return async (req: IncomingMessage, url: URL, body: Buffer) => {
    let accessKeyId: string;
    try {
      // The JSON protocol's codes name each failure (missing token, unknown key, mismatch, expiry).
      ({ accessKeyId } = await authenticate(req, url, body, 'json', store, clock, rootKey()));
    } catch (e) {
      if (e instanceof ApiError) {
        const code = e.code.replace(/Exception$/, '');
        throw new AdminError(`${e.message} (the admin API needs a request signed with the root key)`, 403, code);
      }
      throw e;
    }
    if (accessKeyId !== rootKey().accessKeyId) {
      throw new AdminError(
        'the admin API needs a request signed with the root key: IAM users and role sessions may not use it',
        403,
        'AccessDenied',
      );
    }
  };
}
