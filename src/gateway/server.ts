// The one HTTP port: reads each request, hands Palisade's own paths and S3 to their extensions,
// routes every other request to its service through the wire protocols (protocols.ts) and runs
// the call through the pipeline (pipeline.ts). Also what no pipeline sees: bodies past the limit,
// requests node:http cannot parse, crashes — each answered in the caller's protocol.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { uuid } from '../core/unique.ts';
import type { Clock } from '../core/clock.ts';
import type { Store } from '../store/store.ts';
import type { ServerConfig, ServiceDef } from '../core/context.ts';
import { credentialScope } from './sigv4-scope.ts';
import { escapeXml, escapeXmlMessage } from '../protocol/xml.ts';
import { Pipeline, type Authorizer, type CallObserver } from './pipeline.ts';
import { JsonProtocol, QueryProtocol, type WireProtocol } from './protocols.ts';
import { RestXmlProtocol } from './s3-protocol.ts';
import type { Logger } from '../core/log.ts';
import { rootKey, type RootKey } from '../auth/authenticate.ts';

const MAX_BODY = 10 * 1024 * 1024;

/** What an error answer's shape depends on: the path (admin API), X-Amz-Target (JSON) and the signing service. */
interface RequestShape {
  path: string;
  target?: string;
  service?: string;
}

export interface Extension {
  /** Answers a request itself (returns true) or leaves it to the AWS routing. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): boolean | Promise<boolean>;
}

export type { Authorizer, CallObserver } from './pipeline.ts';

export class Gateway {
  private readonly services = new Map<string, ServiceDef>();
  private readonly protocols: WireProtocol[];
  private readonly pipeline: Pipeline;
  private readonly extensions: Extension[] = [];
  private readonly observers: CallObserver[] = [];
  readonly server: Server;

  readonly config: ServerConfig;
  readonly store: Store;
  readonly clock: Clock;
  private readonly log: Logger;
  /** `--auth enforce`: decides whether the caller may make the call (throws the denial). */
  readonly authorizer: Authorizer;

  constructor(parts: { config: ServerConfig; store: Store; clock: Clock; log: Logger; authorize: Authorizer }) {
    ({ config: this.config, store: this.store, clock: this.clock, log: this.log, authorize: this.authorizer } = parts);
    this.pipeline = new Pipeline({ ...parts, rootKey: () => this.rootKey(), observers: this.observers });
    // Tried in order: S3 (signed for s3, or SigV2), JSON calls (X-Amz-Target), then query calls.
    this.protocols = [new RestXmlProtocol(this.services, this.config), new JsonProtocol(this.services), new QueryProtocol(this.services)];
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      this.onRequest(req, res).catch((e) => {
        // A bug, not the caller's fault: logged, and still answered in the caller's protocol.
        this.log.error(`unhandled: ${(e as Error).stack ?? e}`);
        if (res.headersSent) res.end();
        else
          this.protocolError(
            req,
            res,
            String(res.getHeader('x-amzn-RequestId') ?? ''),
            500,
            'InternalError',
            'An internal error has occurred',
          );
      });
    });
    this.server.on('clientError', (e, socket) => this.onClientError(e, socket));
  }

  /** A service's model is read, and its codec made, when a call first needs them (not at start). */
  register(service: ServiceDef): void {
    this.services.set(service.name, service);
  }

  extend(ext: Extension): void {
    this.extensions.push(ext);
  }

  observe(o: CallObserver): void {
    this.observers.push(o);
  }

  private root?: RootKey;
  rootKey(): RootKey {
    this.root ??= rootKey(this.store);
    return this.root;
  }

  /**
   * The request body, or null past MAX_BODY. Events, not an async iterator: cheaper per request.
   * An oversized body is read to its end and dropped (not destroyed): a client still sending
   * would otherwise see its connection reset instead of the error answer.
   */
  private readBody(req: IncomingMessage): Promise<Buffer | null> {
    return new Promise((resolveBody, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => resolveBody(size > MAX_BODY ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', reject);
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const requestId = uuid();
    res.setHeader('x-amzn-RequestId', requestId);
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('date', new Date().toUTCString());
    const body = await this.readBody(req);
    if (body === null) {
      this.protocolError(
        req,
        res,
        requestId,
        413,
        'RequestEntityTooLarge',
        `The request body is larger than the ${MAX_BODY} bytes Palisade accepts.`,
      );
      return;
    }
    for (const ext of this.extensions) {
      if (await ext.handle(req, res, body)) return;
    }
    for (const protocol of this.protocols) {
      const call = protocol.route(req, body);
      if (!call) continue;
      if ('refuse' in call) {
        this.protocolError(req, res, requestId, call.refuse.status, call.refuse.code, call.refuse.message);
        // A request no service could be found for: named by method and path.
        if (this.log.enabled('info'))
          this.log.info(`${req.method} ${(req.url ?? '/').split('?')[0]} ${call.refuse.status} ${call.refuse.code}`, {
            method: req.method,
            path: (req.url ?? '/').split('?')[0],
            status: call.refuse.status,
            code: call.refuse.code,
            durationMs: Math.round((performance.now() - t0) * 10) / 10,
            requestId,
          });
        return;
      }
      return this.pipeline.run(req, res, body, call, requestId, t0);
    }
  }

  /**
   * An error the gateway answers before a service's codec is at hand (body too large, unknown
   * service, a crash), in the shape the caller's protocol expects: JSON for an X-Amz-Target
   * call, S3's <Error> for a request signed for s3, the query protocols' shapes otherwise.
   */
  private protocolError(req: IncomingMessage, res: ServerResponse, requestId: string, status: number, code: string, message: string): void {
    const raw = req.url ?? '/';
    const qi = raw.indexOf('?');
    const target = req.headers['x-amz-target'];
    const shape: RequestShape = {
      path: qi >= 0 ? raw.slice(0, qi) : raw,
      target: typeof target === 'string' ? target : undefined,
      service: credentialScope(req.headers.authorization, new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : ''))?.service,
    };
    const e = this.renderError(shape, requestId, status, code, message);
    res.writeHead(status, e.headers);
    res.end(e.text);
  }

  /** The error body (and its headers) a request of this shape expects. */
  private renderError(
    shape: RequestShape,
    requestId: string,
    status: number,
    code: string,
    message: string,
  ): { text: string; headers: Record<string, string | number> } {
    let type = 'text/xml;charset=UTF-8';
    let text: string;
    const headers: Record<string, string | number> = {};
    if (/^\/(_palisade|moto-api)\//.test(shape.path)) {
      type = 'application/json';
      text = JSON.stringify({ error: message, code });
    } else if (shape.target?.includes('.')) {
      type = 'application/x-amz-json-1.1';
      text = JSON.stringify({ __type: code, message });
      headers['x-amzn-ErrorType'] = code;
    } else if (shape.service === 's3') {
      text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message><RequestId>${escapeXml(requestId)}</RequestId></Error>`;
    } else {
      const model = shape.service ? this.services.get(shape.service)?.model : undefined;
      text =
        model && model.protocol === 'query'
          ? `<ErrorResponse xmlns="${model.xmlns ?? ''}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error><RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
          : `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXmlMessage(message)}</Message></Error></Errors><RequestID>${escapeXml(requestId)}</RequestID></Response>`;
    }
    return { text, headers: { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(text) } };
  }

  /**
   * A request node:http could not parse (headers past its 16 KB limit, a malformed request
   * line): answered here, since no handler sees it, in the protocol its first bytes suggest.
   */
  private onClientError(e: Error & { code?: string; rawPacket?: Buffer }, socket: Duplex): void {
    if (!socket.writable) return;
    const head = e.rawPacket ? e.rawPacket.toString('latin1', 0, Math.min(e.rawPacket.length, 64 * 1024)) : '';
    const line = /^[A-Z]+ (\S+)/.exec(head);
    const target = /\r\nx-amz-target:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
    const service = /Credential=[^/\s]+\/\d{8}\/[^/\s]+\/([^/\s]+)\/aws4_request/.exec(head)?.[1];
    const tooLarge = e.code === 'HPE_HEADER_OVERFLOW';
    const status = tooLarge ? 431 : 400;
    const shape: RequestShape = { path: (line?.[1] ?? '/').split('?')[0]!, target, service };
    const r = this.renderError(
      shape,
      uuid(),
      status,
      tooLarge ? 'RequestHeaderSectionTooLarge' : 'BadRequest',
      tooLarge ? 'The request line and headers are larger than the 16 KB Palisade accepts.' : 'The request could not be parsed as HTTP.',
    );
    const headers = Object.entries({ ...r.headers, connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n${headers}\r\n${r.text}`);
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolveListen, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        const addr = this.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : this.config.port;
        resolveListen({ host: this.config.host, port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }
}
