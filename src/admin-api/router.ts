// Palisade's own JSON API (`/_palisade/*`, and `/moto-api/*` for suites written for moto): one
// declared table of routes, each with its method, path, body schema and handler. The router
// answers every request under those prefixes itself, always in JSON:
//   guard (admin credentials, see guard.ts) → match (404/405) → parse and validate the body
//   (400 naming the field) → handler → JSON answer.
// A handler throws AdminError for a refusal; anything else is a bug, logged and answered as a
// JSON 500 (never the HTML or text of a crash).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { Extension } from '../gateway/server.ts';
import type { Logger } from '../core/log.ts';
import { CONSOLE_PATH, wantsConsole } from './console.ts';

export class AdminError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code = statusCode(status),
  ) {
    super(message);
  }
}

function statusCode(status: number): string {
  switch (status) {
    case 401:
      return 'MissingAuthenticationToken';
    case 403:
      return 'AccessDenied';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 409:
      return 'Conflict';
    case 413:
      return 'RequestEntityTooLarge';
    default:
      return status >= 500 ? 'InternalError' : 'BadRequest';
  }
}

export type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE';

interface AdminRequest<B> {
  /** The validated body ({} when the route takes none). */
  body: B;
  /** Path parameters (`:id` in the route's path). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** This server as the caller reached it (`http://127.0.0.1:4566`), for calls it makes to itself. */
  local: string;
}

interface AdminAnswer {
  status?: number;
  body: unknown;
  /**
   * Answers other than one JSON document (a stream of server-sent events, a file): the handler
   * writes the response itself, after the guard and the checks of the route ran.
   */
  write?: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Route<S extends z.ZodType = z.ZodType> {
  method: Method | Method[];
  /**
   * `/_palisade/network/connections/:id/send`: `:name` matches one path segment; a last segment
   * `*` matches the rest of the path (any number of segments, as sent: `params['*']`).
   */
  path: string;
  /** The body's schema; a route without one takes no body. */
  body?: S;
  /** Served without admin credentials (only what reads no state: health). */
  open?: boolean;
  handle(req: AdminRequest<z.output<S>>): AdminAnswer | Promise<AdminAnswer>;
}

/** A route whose handler is typed by its schema. */
export const route = <S extends z.ZodType>(r: Route<S>): Route => r as unknown as Route;

/** Decides whether a request may use the admin API (throws AdminError 401/403 when not). */
export type Guard = (req: IncomingMessage, url: URL, body: Buffer) => Promise<void>;

interface Compiled {
  route: Route;
  segments: string[];
  methods: Method[];
}

const PREFIXES = ['/_palisade/', '/moto-api/'];
/** Longest body the admin API parses (batches of flows are the big ones). */
const MAX_ADMIN_BODY = 4 * 1024 * 1024;

function isAdminPath(pathname: string): boolean {
  return PREFIXES.some((p) => pathname.startsWith(p));
}

/** `flows[0].from: Invalid input: expected string, received number` for the first problem. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
  return path ? `${path}: ${issue.message}` : issue.message;
}

export class AdminRouter implements Extension {
  private readonly routes: Compiled[];

  constructor(
    routes: Route[],
    private readonly guard: Guard,
    private readonly log: Logger,
  ) {
    this.routes = routes.map((r) => ({ route: r, segments: r.path.split('/'), methods: Array.isArray(r.method) ? r.method : [r.method] }));
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const pathname = qi >= 0 ? raw.slice(0, qi) : raw;
    if (!isAdminPath(pathname)) {
      // A browser opening the server's address goes to the web console (console.ts).
      if (!wantsConsole(req.method, raw, req.headers)) return false;
      res.writeHead(302, { location: CONSOLE_PATH, 'content-length': 0 });
      res.end();
      return true;
    }
    try {
      const answer = await this.serve(req, pathname, raw, body);
      if (answer.write) answer.write(req, res);
      else send(res, answer.status ?? 200, answer.body, req.method === 'HEAD');
    } catch (e) {
      if (e instanceof AdminError) send(res, e.status, { error: e.message, code: e.code });
      else {
        this.log.error(`admin API ${req.method} ${pathname} failed: ${(e as Error).stack ?? e}`);
        send(res, 500, { error: 'internal error', code: 'InternalError' });
      }
    }
    return true;
  }

  private async serve(req: IncomingMessage, pathname: string, raw: string, body: Buffer): Promise<AdminAnswer> {
    const method = (req.method ?? 'GET') as Method;
    const found = this.match(pathname, method);
    const url = new URL(raw, 'http://localhost');
    // Credentials first: an unauthenticated caller learns nothing, not even which paths exist.
    if (!(found?.route.route.open && found.route.methods.includes(method))) await this.guard(req, url, body);
    if (!found) throw new AdminError(`unknown endpoint ${method} ${pathname}`, 404);
    const { route: c, params } = found;
    if (!c.methods.includes(method)) throw new AdminError(`${pathname} answers ${c.methods.join(' or ')}, not ${method}`, 405);
    const local = `http://${hostPort(req.socket.localAddress ?? '127.0.0.1', req.socket.localPort ?? 80)}`;
    return c.route.handle({ body: parseBody(c.route, body), params, query: url.searchParams, local });
  }

  /**
   * The route for this path and method; if the path exists under other methods only, a stand-in
   * listing them (answered 405); undefined when no route has the path.
   */
  private match(pathname: string, method: Method): { route: Compiled; params: Record<string, string> } | undefined {
    const parts = pathname.split('/');
    const allowed: Method[] = [];
    let params: Record<string, string> | undefined;
    for (const c of this.routes) {
      const p = matchSegments(c.segments, parts);
      if (!p) continue;
      if (c.methods.includes(method)) return { route: c, params: p };
      allowed.push(...c.methods);
      params = p;
    }
    if (!params) return undefined;
    return { route: { route: { method: allowed, path: pathname, handle: () => ({ body: {} }) }, segments: [], methods: allowed }, params };
  }
}

function hostPort(address: string, port: number): string {
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  const rest = segments[segments.length - 1] === '*';
  if (rest ? parts.length < segments.length : segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = segments[i]!;
    if (rest && i === segments.length - 1) {
      params['*'] = parts.slice(i).join('/');
      break;
    }
    const part = parts[i]!;
    if (seg.startsWith(':')) {
      if (!/^[\w.-]{1,128}$/.test(part)) return undefined;
      params[seg.slice(1)] = part;
    } else if (seg !== part) return undefined;
  }
  return params;
}

function parseBody(r: Route, body: Buffer): unknown {
  if (!r.body) return {};
  if (body.length > MAX_ADMIN_BODY) throw new AdminError(`the body is larger than the ${MAX_ADMIN_BODY} bytes the admin API accepts`, 413);
  let value: unknown = {};
  if (body.length > 0) {
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      throw new AdminError('the request body must be JSON');
    }
  }
  const parsed = r.body.safeParse(value);
  if (!parsed.success) throw new AdminError(describeIssue(parsed.error.issues[0]!));
  return parsed.data;
}

function send(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}
