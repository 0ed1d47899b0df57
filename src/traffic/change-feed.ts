// The store's committed changes as server-sent events (`GET /_palisade/events`), so a page (the
// web console) refetches what it shows when the estate changes: one `change` event per changed
// document — its kind, id and scope, never its content (callers read that through the APIs, with
// their own permissions). Bounded: at most MAX_CLIENTS streams, each dropped when it goes away
// or when its socket cannot keep up.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChangeEvent, Store } from '../store/store.ts';

const MAX_CLIENTS = 64;
/** A stream whose unsent output grows past this is closed (a client that stopped reading). */
const MAX_BUFFERED = 1024 * 1024;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

interface Client {
  res: ServerResponse;
  /** only changes of this `account/region` (all when undefined) */
  scope?: string;
}

export class ChangeFeed {
  private readonly clients = new Set<Client>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(store: Store) {
    store.onChange((events) => this.publish(events));
  }

  /** Whether another stream may open. */
  get full(): boolean {
    return this.clients.size >= MAX_CLIENTS;
  }

  /** Serves one event stream until the client goes away. */
  open(req: IncomingMessage, res: ServerResponse, scope?: string): void {
    const client: Client = { res, ...(scope ? { scope } : {}) };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': palisade change feed\n\n');
    this.clients.add(client);
    const drop = () => this.clients.delete(client);
    req.on('close', drop);
    res.on('close', drop);
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => {
        for (const c of this.clients) this.write(c, ': keep-alive\n\n');
        if (this.clients.size === 0) {
          clearInterval(this.heartbeat);
          this.heartbeat = undefined;
        }
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  private publish(events: ChangeEvent[]): void {
    if (this.clients.size === 0) return;
    for (const c of this.clients) {
      let out = '';
      for (const e of events) {
        if (c.scope && e.scope !== c.scope) continue;
        const op = !e.before ? 'create' : !e.after ? 'delete' : 'update';
        out += `event: change\ndata: ${JSON.stringify({ kind: e.kind, id: e.id, scope: e.scope, op })}\n\n`;
      }
      if (out) this.write(c, out);
    }
  }

  private write(c: Client, text: string): void {
    if (c.res.writableLength > MAX_BUFFERED) {
      this.clients.delete(c);
      c.res.destroy();
      return;
    }
    c.res.write(text);
  }
}
