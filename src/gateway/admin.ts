// Palisade's own endpoints under /_palisade/: health, reset (also at moto's /moto-api/reset)
// and the metadata endpoint of an instance.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../store/store.ts';
import type { Extension } from './server.ts';
import type { Imds } from '../imds/imds.ts';

function json(res: ServerResponse, status: number, body: unknown): true {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

export function adminExtension(store: Store, imds: Imds): Extension {
  return {
    async handle(req: IncomingMessage, res: ServerResponse) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (!path.startsWith('/_palisade/') && !path.startsWith('/moto-api/')) return false;
      if (path === '/_palisade/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        return json(res, 200, { status: 'ok', services: { ec2: 'running', iam: 'running', sts: 'running', s3: 'running', logs: 'running', cloudtrail: 'running' } });
      }
      if ((path === '/_palisade/reset' || path === '/moto-api/reset') && req.method === 'POST') {
        await imds.close();
        store.reset();
        return json(res, 200, { status: 'reset' });
      }
      const m = /^\/_palisade\/imds\/(i-[0-9a-f]+)$/.exec(path);
      if (m && (req.method === 'POST' || req.method === 'GET')) {
        const r = await imds.endpoint(m[1]!);
        if ('error' in r) return json(res, r.status, { error: r.error });
        return json(res, 200, { instanceId: m[1], endpoint: r.url, account: r.account, region: r.region });
      }
      if (path.startsWith('/moto-api/')) return json(res, 404, { error: `unknown endpoint ${req.method} ${path}` });
      return false;
    },
  };
}
