// Every route of the admin API, declared in one table (see router.ts for how they are served and
// guard.ts for who may call them). Bodies are validated by the schemas in schemas.ts.
import type { Clock } from '../core/clock.ts';
import { VirtualClock } from '../core/clock.ts';
import type { Imds } from '../imds/imds.ts';
import type { NetworkApi } from '../traffic/traffic.ts';
import type { ChangeFeed } from '../traffic/change-feed.ts';
import { liveRoutes } from './live-routes.ts';
import { kernelRoutes } from './kernel-routes.ts';
import { kernelInternetRoutes } from './kernel-internet-routes.ts';
import type { KernelInfo } from '../kernel/kernel-plane.ts';
import { EndpointError } from '../traffic/endpoints.ts';
import { AdminError, route, type Route } from './router.ts';
import type { AuthMode, RootKey } from '../auth/authenticate.ts';
import { consoleFile } from './console.ts';
import { clockBody, evaluateBody, MAX_EPOCH_MS, openConnectionBody, reachBody, sendBody } from './schemas.ts';

interface AdminParts {
  clock: Clock;
  imds: Imds;
  network: NetworkApi;
  /** Wipes all state of every account and region (keeps the server's root key). */
  reset(): Promise<void>;
  /** What `health` reports as running. */
  services: string[];
  /** committed changes as server-sent events (the console's live pages) */
  feed: ChangeFeed;
  /** For `GET /_palisade/audit`: how the server calls itself (the key it signs with). */
  audit?: { auth: AuthMode; defaultAccount: string; rootKey(): RootKey };
  /** `GET /_palisade/kernel` (--dataplane kernel) */
  kernel?: () => KernelInfo;
  /** `POST /_palisade/kernel/internet-address` (--dataplane kernel) */
  kernelInternet?: (address: string) => Promise<void>;
}

/** Runs a data-plane call, turning its refusals (EndpointError) into the admin API's. */
function domain<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EndpointError) throw new AdminError(e.message, e.status);
    throw e;
  }
}

const clockView = (clock: Clock) => ({
  now: new Date(clock.now()).toISOString(),
  epochMillis: clock.now(),
  virtual: clock instanceof VirtualClock,
});

/** The audit of one account and region, as `palisade audit --endpoint … --format json` prints it. */
async function auditReport(p: AdminParts, local: string, query: URLSearchParams): Promise<unknown> {
  const account = query.get('account') ?? undefined;
  const region = query.get('region') ?? undefined;
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new AdminError(`account must be 12 digits, not '${account}'`);
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new AdminError(`'${region}' is not a region name`);
  const a = p.audit;
  if (!a) throw new AdminError('the audit is not available on this server', 404);
  // The server reads its own estate through its API, as the CLI does: open mode names the account
  // by the key; verify|enforce sign with the root key, whose account is the default one.
  let credentials: { accessKeyId: string; secretAccessKey: string };
  if (a.auth === 'open') credentials = { accessKeyId: account ?? 'PALISADEAUDIT', secretAccessKey: 'palisade-audit' };
  else {
    if (account !== undefined && account !== a.defaultAccount)
      throw new AdminError(`under --auth ${a.auth} the audit covers the root key's account (${a.defaultAccount}) only`);
    const { accessKeyId, secretAccessKey } = a.rootKey();
    credentials = { accessKeyId, secretAccessKey };
  }
  // The SDK's notice about future Node versions is not the server log's business (as in the CLI).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [{ fetchLiveSnapshot }, { audit, auditJson }] = await Promise.all([
    import('../analysis/fetch-live.ts'),
    import('../analysis/audit.ts'),
  ]);
  const result = audit(await fetchLiveSnapshot(local, { region, credentials }));
  return auditJson(result);
}

/** The web console (console.ts): its files, served without credentials. */
function consoleRoutes(): Route[] {
  const files = route({
    method: ['GET', 'HEAD'],
    path: '/_palisade/console/*',
    open: true,
    handle: async ({ params }) => {
      const f = await consoleFile(params['*'] ?? '');
      if ('error' in f) throw new AdminError(f.error, f.status);
      return {
        body: null,
        write: (req, res) => {
          const fresh = req.headers['if-none-match'] === f.etag;
          res.writeHead(fresh ? 304 : 200, fresh ? f.headers : { ...f.headers, 'content-length': f.bytes.length });
          res.end(fresh || req.method === 'HEAD' ? undefined : f.bytes);
        },
      };
    },
  });
  return [
    files,
    route({
      method: ['GET', 'HEAD'],
      path: '/_palisade/console',
      open: true,
      handle: () => ({
        body: null,
        write: (_req, res) => {
          res.writeHead(301, { location: '/_palisade/console/', 'content-length': 0 });
          res.end();
        },
      }),
    }),
  ];
}

export function adminRoutes(p: AdminParts): Route[] {
  const reset = route({
    method: 'POST',
    path: '/_palisade/reset',
    handle: async () => {
      await p.reset();
      return { body: { status: 'reset' } };
    },
  });
  return [
    // The web console and the audit it shows.
    ...consoleRoutes(),
    route({ method: 'GET', path: '/_palisade/audit', handle: async ({ query, local }) => ({ body: await auditReport(p, local, query) }) }),
    // Liveness only: no state is read, so it is served without credentials (for health checks).
    route({
      method: ['GET', 'HEAD'],
      path: '/_palisade/health',
      open: true,
      handle: () => ({ body: { status: 'ok', services: Object.fromEntries(p.services.map((s) => [s, 'running'])) } }),
    }),
    reset,
    { ...reset, path: '/moto-api/reset' },
    route({
      method: ['POST', 'GET'],
      path: '/_palisade/imds/:instanceId',
      handle: async ({ params }) => {
        const id = params.instanceId!;
        if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new AdminError(`'${id}' is not an instance id`, 400);
        const r = await p.imds.endpoint(id);
        if ('error' in r) throw new AdminError(r.error, r.status);
        return { body: { instanceId: id, endpoint: r.url, account: r.account, region: r.region } };
      },
    }),
    route({ method: 'GET', path: '/_palisade/clock', handle: () => ({ body: clockView(p.clock) }) }),
    route({
      method: 'POST',
      path: '/_palisade/clock',
      body: clockBody,
      handle: ({ body }) => {
        const clock = p.clock;
        if (!(clock instanceof VirtualClock))
          throw new AdminError('the clock is the system clock: start Palisade with --clock virtual to pin and advance it', 409);
        const target = 'advanceSeconds' in body ? clock.now() + body.advanceSeconds * 1000 : body.epochMillis;
        if (!Number.isFinite(target) || target > MAX_EPOCH_MS) throw new AdminError('the clock cannot go past the end of year 9999');
        clock.set(Math.round(target));
        return { body: clockView(clock) };
      },
    }),
    route({
      method: 'POST',
      path: '/_palisade/network/evaluate',
      body: evaluateBody,
      handle: ({ body, query }) => ({
        body: domain(() =>
          p.network.evaluateBatch(body.flows, p.network.scopeOf(body, query), body.record === true, body.explain !== false),
        ),
      }),
    }),
    route({
      method: 'POST',
      path: '/_palisade/network/reach',
      body: reachBody,
      handle: ({ body }) => ({ body: domain(() => p.network.reach(body)) }),
    }),
    route({
      method: 'POST',
      path: '/_palisade/network/connections',
      body: openConnectionBody,
      handle: ({ body, query }) => ({ status: 201, body: domain(() => p.network.open(body, p.network.scopeOf(body, query))) }),
    }),
    route({
      method: 'POST',
      path: '/_palisade/network/connections/:id/send',
      body: sendBody,
      handle: ({ body, params, query }) => ({ body: domain(() => p.network.send(params.id!, body, p.network.scopeOf(body, query))) }),
    }),
    route({
      method: 'GET',
      path: '/_palisade/network/connections/:id',
      handle: ({ params }) => ({ body: domain(() => p.network.describe(params.id!)) }),
    }),
    route({
      method: 'DELETE',
      path: '/_palisade/network/connections/:id',
      handle: ({ params, query }) => ({ body: domain(() => p.network.close(params.id!, p.network.scopeOf({}, query))) }),
    }),
    ...liveRoutes(p.network, p.feed),
    ...kernelRoutes(p.kernel),
    ...kernelInternetRoutes(p.kernelInternet),
  ];
}
