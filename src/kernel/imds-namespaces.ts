// The instance metadata service and Palisade's own API inside the kernel data plane's namespaces.
//
// On EC2 the metadata service is not on the instance: it sits one link away (the hypervisor), at
// 169.254.169.254 and [fd00:ec2::254], and knows the instance by the interface a request arrives
// on. Palisade builds the same shape. Next to every instance namespace it makes a small
// "metadata" namespace (`metadataNs`, carrying the server's prefix) linked to it by a veth:
//
//   instance namespace                          metadata namespace (one per instance)
//   imds0 169.254.255.1/30, fe80::254:1  ─veth─  host0 169.254.255.2/30, fe80::254:2
//   route 169.254.169.254/32, 169.254.169.253/32   lo: 169.254.169.254, 169.254.169.253, fd00:ec2::254
//     and fd00:ec2::254/128 via the veth            default routes back via the veth
//
// The listening sockets in the metadata namespace are this process's own (imds-listen.ts: a
// short-lived helper binds them there and passes the descriptors over IPC), so there is no relay
// and no forwarder process to supervise: a connection accepted on instance X's sockets is
// answered by `Imds.answer(X, …)` — the instance is known by where the request came from, never by
// anything the request says. Port 80 on 169.254.169.254 and on [fd00:ec2::254] (this one only when
// the instance's HttpProtocolIpv6 is enabled, as on EC2; otherwise the connection is reset) serves
// the metadata; 169.254.169.253:4566 is Palisade's API (the server's HTTP handler, as on its
// own port), so programs run with `palisade exec` reach Palisade although the namespace has no
// route to the host. Security groups do not filter these addresses (nft-groups.ts: link-local
// services), as on EC2.
//
// HttpPutResponseHopLimit is real: the response to a PUT leaves the metadata namespace with IP TTL
// (IPv6 hop limit) = the instance's hop limit (nft `ip ttl set` in the metadata namespace's table
// `inet palisade`, on the connection that carried the PUT: its address and port are added to a
// set, with a timeout, before the response is written; the connection is then closed). The
// instance namespace is one hop: its own programs get the answer with any hop limit, while a
// namespace behind it (a container: the instance forwards its packets) gets it only when the hop
// limit is at least 2 — with 1 the instance's forwarding drops it (TTL exceeded), as on EC2.
// IMDSv1 GETs are not limited, as on EC2.
//
// The internet namespace gets Palisade's API too (169.254.169.253:4566 on its lo), for
// `palisade exec internet`.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { Imds } from '../imds/imds.ts';
import type { Logger } from '../core/log.ts';
import type { KernelNames } from './names.ts';
import { ip, ipBatch, ipIn, nft, KernelCommandError } from './exec.ts';
import { listenInNamespace } from './imds-listen.ts';

/** The metadata service's addresses (EC2's). */
export const IMDS_V4 = '169.254.169.254';
export const IMDS_V6 = 'fd00:ec2::254';
/** Palisade's API inside every namespace (the Amazon DNS address, on another port). */
export const API_V4 = '169.254.169.253';
export const API_PORT = 4566;
/** The API's URL for programs inside the namespaces (`palisade exec` sets AWS_ENDPOINT_URL to it). */
export const API_URL = `http://${API_V4}:${API_PORT}`;

/** The link between an instance namespace and its metadata namespace. */
const LINK = {
  instanceDevice: 'imds0',
  metadataDevice: 'host0',
  instance4: '169.254.255.1',
  metadata4: '169.254.255.2',
  instance6: 'fe80::254:1',
  metadata6: 'fe80::254:2',
};
/** How long a PUT's connection stays in the hop-limit set (it is closed after the answer). */
const PUT_SET_TIMEOUT_S = 60;
/** Open metadata/API connections per instance at most (a newer one past it is refused). */
const MAX_CONNECTIONS = 256;

/** The metadata namespace of an instance (it carries the server's prefix: removed with the rest). */
export const metadataNs = (names: KernelNames, instanceId: string) => `${names.prefix}-imds-${instanceId}`;

interface Attached {
  instanceId: string;
  namespace: string;
  metadataNs: string;
  servers: Server[];
  sockets: Set<Socket>;
  /** the hop limit in the namespace's nft rule */
  hopLimit?: number;
}

export class KernelMetadata {
  private readonly imds: Imds;
  private readonly api: HttpServer;
  private readonly names: KernelNames;
  private readonly log: Logger;
  private readonly attached = new Map<string, Attached>();
  /** per instance: the attach/detach in progress (they run one after the other) */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly ofSocket = new WeakMap<Socket, Attached>();
  private readonly http: HttpServer;
  private internet: { ns: string; servers: Server[]; sockets: Set<Socket> } | undefined;
  private internetMade: Promise<void> | undefined;
  private closed = false;

  constructor(parts: { imds: Imds; api: HttpServer; names: KernelNames; log: Logger }) {
    ({ imds: this.imds, api: this.api, names: this.names, log: this.log } = parts);
    this.http = createServer({ keepAliveTimeout: 5000, requestTimeout: 30_000 }, (req, res) => {
      this.serve(req, res).catch((e: Error) => {
        this.log.error(`imds (kernel): ${e.stack ?? e.message}`);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    });
    this.http.on('clientError', (_e, socket) => socket.destroy());
  }

  /** An instance's namespace is up (idempotent): its metadata namespace, link and listeners follow. */
  instanceUp(instanceId: string, namespace: string): Promise<void> {
    return this.queue(instanceId, async () => {
      const have = this.attached.get(instanceId);
      if (have?.namespace === namespace && (await linkPresent(namespace))) return;
      if (have) await this.teardown(have);
      if (this.closed) return;
      await this.setup(instanceId, namespace);
    });
  }

  /** An instance stopped or terminated: its listeners close, its metadata namespace goes. */
  instanceDown(instanceId: string): Promise<void> {
    return this.queue(instanceId, async () => {
      const have = this.attached.get(instanceId);
      if (have) await this.teardown(have);
    });
  }

  /** Resolves once the instance's metadata is served (or failed to be). */
  async ready(instanceId: string): Promise<boolean> {
    await this.chains.get(instanceId);
    return this.attached.has(instanceId);
  }

  /** Palisade's API inside the internet namespace (made once). */
  internetUp(ns: string): Promise<void> {
    this.internetMade ??= (async () => {
      await ipIn(ns, ['link', 'set', 'lo', 'up']);
      await ipIn(ns, ['addr', 'replace', `${API_V4}/32`, 'dev', 'lo']);
      const servers = await listenInNamespace(ns, [{ host: API_V4, port: API_PORT }]);
      const sockets = new Set<Socket>();
      this.internet = { ns, servers, sockets };
      for (const s of servers) s.on('connection', (c: Socket) => this.toApi(c, sockets));
      if (this.closed) this.closeInternet();
    })().catch((e: Error) => {
      this.internetMade = undefined;
      this.log.error(`imds (kernel): Palisade's API in ${ns}: ${e.message}`);
    });
    return this.internetMade;
  }

  /** Closes every listener and removes every metadata namespace. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.chains.values()].map((p) => p.catch(() => undefined)));
    await this.internetMade;
    for (const a of [...this.attached.values()]) await this.teardown(a).catch(() => undefined);
    this.closeInternet();
    this.http.closeAllConnections?.();
    this.http.close();
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  private queue(instanceId: string, step: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(instanceId) ?? Promise.resolve();
    const next = prev
      .then(step)
      .catch((e: Error) => this.log.error(`imds (kernel): instance ${instanceId}: ${e.message}`))
      .finally(() => {
        if (this.chains.get(instanceId) === next) this.chains.delete(instanceId);
      });
    this.chains.set(instanceId, next);
    return next;
  }

  private async setup(instanceId: string, namespace: string): Promise<void> {
    const mns = metadataNs(this.names, instanceId);
    await removeNs(mns); // (leftovers of a failed attempt)
    await ip(['netns', 'add', mns]);
    const a: Attached = { instanceId, namespace, metadataNs: mns, servers: [], sockets: new Set() };
    this.attached.set(instanceId, a);
    try {
      // the instance namespace may have lost its old link (its namespace was made again)
      await ipIn(namespace, ['link', 'del', LINK.instanceDevice]).catch(() => undefined);
      await ip(['link', 'add', LINK.instanceDevice, 'netns', namespace, 'type', 'veth', 'peer', 'name', LINK.metadataDevice, 'netns', mns]);
      await ipBatch(mns, [
        'link set lo up',
        `addr add ${IMDS_V4}/32 dev lo`,
        `addr add ${API_V4}/32 dev lo`,
        `addr add ${IMDS_V6}/128 dev lo nodad`,
        `addr add ${LINK.metadata4}/30 dev ${LINK.metadataDevice}`,
        `addr add ${LINK.metadata6}/64 dev ${LINK.metadataDevice} nodad`,
        `link set ${LINK.metadataDevice} up`,
        `route add default via ${LINK.instance4} dev ${LINK.metadataDevice}`,
        `route add default via ${LINK.instance6} dev ${LINK.metadataDevice}`,
      ]);
      await ipBatch(namespace, [
        `addr add ${LINK.instance4}/30 dev ${LINK.instanceDevice}`,
        `addr add ${LINK.instance6}/64 dev ${LINK.instanceDevice} nodad`,
        `link set ${LINK.instanceDevice} up`,
        `route add ${IMDS_V4}/32 via ${LINK.metadata4} dev ${LINK.instanceDevice}`,
        `route add ${API_V4}/32 via ${LINK.metadata4} dev ${LINK.instanceDevice}`,
        `route add ${IMDS_V6}/128 via ${LINK.metadata6} dev ${LINK.instanceDevice}`,
      ]);
      await this.hopLimitRule(a);
      a.servers = await listenInNamespace(mns, [
        { host: IMDS_V4, port: 80 },
        { host: IMDS_V6, port: 80 },
        { host: API_V4, port: API_PORT },
      ]);
      const [v4, v6, api] = a.servers as [Server, Server, Server];
      v4.on('connection', (c: Socket) => this.toImds(a, c, false));
      v6.on('connection', (c: Socket) => this.toImds(a, c, true));
      api.on('connection', (c: Socket) => this.toApi(c, a.sockets));
      if (this.closed) await this.teardown(a);
    } catch (e) {
      await this.teardown(a).catch(() => undefined);
      throw e;
    }
  }

  private async teardown(a: Attached): Promise<void> {
    if (this.attached.get(a.instanceId) === a) this.attached.delete(a.instanceId);
    for (const s of a.servers) s.close();
    for (const c of a.sockets) c.destroy();
    a.servers = [];
    a.sockets.clear();
    // (deleting the namespace deletes host0, and with it imds0 in the instance's namespace)
    await removeNs(a.metadataNs);
  }

  private closeInternet(): void {
    if (!this.internet) return;
    for (const s of this.internet.servers) s.close();
    for (const c of this.internet.sockets) c.destroy();
    this.internet = undefined;
  }

  // ---- connections ----------------------------------------------------------------------------

  private admit(c: Socket, sockets: Set<Socket>): boolean {
    if (this.closed || sockets.size >= MAX_CONNECTIONS) {
      c.destroy();
      return false;
    }
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
    c.on('error', () => undefined);
    return true;
  }

  private toImds(a: Attached, c: Socket, v6: boolean): void {
    if (!this.admit(c, a.sockets)) return;
    // [fd00:ec2::254] answers only when the instance's HttpProtocolIpv6 is enabled (EC2).
    if (v6 && this.imds.optionsOf(a.instanceId)?.metadata.httpProtocolIpv6 !== 'enabled') return void c.resetAndDestroy();
    this.ofSocket.set(c, a);
    this.http.emit('connection', c);
  }

  private toApi(c: Socket, sockets: Set<Socket>): void {
    if (!this.admit(c, sockets)) return;
    this.api.emit('connection', c);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = this.ofSocket.get(req.socket);
    if (!a || this.attached.get(a.instanceId) !== a) return void res.destroy();
    if (req.method === 'PUT') {
      // The PUT's answer leaves with TTL = the hop limit: its connection joins the set first.
      const opts = this.imds.optionsOf(a.instanceId);
      const peer = req.socket.remoteAddress;
      const port = req.socket.remotePort;
      if (opts && peer && port) {
        await this.hopLimitRule(a, opts.metadata.hopLimit, { address: peer.replace(/^::ffff:/, ''), port });
        // (one answer per connection: a later GET on it would otherwise share its TTL)
        res.shouldKeepAlive = false;
      }
      if (req.socket.destroyed) return;
    }
    this.imds.answer(a.instanceId, req, res);
  }

  /**
   * The metadata namespace's table: a set of the connections that carried a PUT and, for them, the
   * TTL of the instance's hop limit — rewritten as one transaction with the new member.
   */
  private async hopLimitRule(a: Attached, hopLimit?: number, put?: { address: string; port: number }): Promise<void> {
    const n = Math.min(255, Math.max(1, Math.trunc(hopLimit ?? this.imds.optionsOf(a.instanceId)?.metadata.hopLimit ?? 1)));
    const T = `inet ${this.names.table}`;
    const lines: string[] = [];
    if (a.hopLimit !== n) {
      lines.push(
        `table ${T} {`,
        `  set put4 { type ipv4_addr . inet_service; flags timeout; }`,
        `  set put6 { type ipv6_addr . inet_service; flags timeout; }`,
        `  chain output { type filter hook output priority filter; policy accept; }`,
        `}`,
        `flush chain ${T} output`,
        `add rule ${T} output ip saddr ${IMDS_V4} tcp sport 80 ip daddr . tcp dport @put4 ip ttl set ${n}`,
        `add rule ${T} output ip6 saddr ${IMDS_V6} tcp sport 80 ip6 daddr . tcp dport @put6 ip6 hoplimit set ${n}`,
      );
    }
    if (put) {
      const set = put.address.includes(':') ? 'put6' : 'put4';
      lines.push(`add element ${T} ${set} { ${put.address} . ${put.port} timeout ${PUT_SET_TIMEOUT_S}s }`);
    }
    if (!lines.length) return;
    await nft(a.metadataNs, lines.join('\n') + '\n');
    a.hopLimit = n;
  }
}

/** Whether the instance namespace still has its link to the metadata namespace. */
async function linkPresent(ns: string): Promise<boolean> {
  try {
    await ipIn(ns, ['link', 'show', LINK.instanceDevice]);
    return true;
  } catch {
    return false;
  }
}

async function removeNs(ns: string): Promise<void> {
  try {
    await ip(['netns', 'del', ns]);
  } catch (e) {
    if (!(e instanceof KernelCommandError && /No such file|not exist/i.test(e.stderr))) throw e;
  }
}
