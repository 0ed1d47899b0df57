// Palisade's own endpoints: health and reset (also at moto's /moto-api/reset).
import type { Store } from '../store/store.ts';
import type { Extension } from './server.ts';

export function adminExtension(store: Store): Extension {
  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/_palisade/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        const body = JSON.stringify({ status: 'ok', services: { ec2: 'running' } });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
        return true;
      }
      if ((path === '/_palisade/reset' || path === '/moto-api/reset') && req.method === 'POST') {
        store.reset();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'reset' }));
        return true;
      }
      return false;
    },
  };
}
