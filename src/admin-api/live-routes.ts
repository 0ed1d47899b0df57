// The routes behind the console's live views: the all-pairs reachability matrix and the stream
// of committed changes (server-sent events).
import type { NetworkApi } from '../traffic/traffic.ts';
import type { ChangeFeed } from '../traffic/change-feed.ts';
import { EndpointError } from '../traffic/endpoints.ts';
import { AdminError, route, type Route } from './router.ts';
import { matrixBody } from './schemas.ts';

export function liveRoutes(network: NetworkApi, feed: ChangeFeed): Route[] {
  return [
    route({
      method: 'POST',
      path: '/_palisade/network/matrix',
      body: matrixBody,
      handle: ({ body, query }) => {
        try {
          return { body: network.matrix(body, network.scopeOf(body, query)) };
        } catch (e) {
          if (e instanceof EndpointError) throw new AdminError(e.message, e.status);
          throw e;
        }
      },
    }),
    route({
      method: 'GET',
      path: '/_palisade/events',
      handle: ({ query }) => {
        if (feed.full) throw new AdminError('too many open event streams', 503);
        const account = query.get('account');
        const region = query.get('region');
        if (account !== null && !/^\d{12}$/.test(account)) throw new AdminError('account: an account id is 12 digits');
        if (region !== null && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new AdminError('region: not a region');
        const scope = account && region ? `${account}/${region}` : undefined;
        return { body: null, write: (req, res) => feed.open(req, res, scope) };
      },
    }),
  ];
}
