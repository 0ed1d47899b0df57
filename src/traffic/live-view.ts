// The live network: the server's own data plane, brought up to date with the store's committed
// changes whenever something reads it (plane-sync.ts queues them), and the estate view the
// analysis reads (which instance each interface belongs to). Made once by startServer and handed
// to every reader: the traffic API, Network Insights.
import type { Store } from '../store/store.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { EstateView } from '../analysis/reach.ts';
import { KIND, type EniDoc } from '../core/documents/ec2.ts';
import { syncDataPlane } from './plane-sync.ts';
import { syncRouting } from './routing-sync.ts';

export class LiveNetwork {
  private readonly settleRules: () => void;
  private readonly settleRoutes: () => void;

  constructor(
    private readonly store: Store,
    private readonly dataPlane: DataPlane,
  ) {
    this.settleRules = syncDataPlane(store, dataPlane);
    this.settleRoutes = syncRouting(store, dataPlane.paths);
  }

  private settle(): void {
    this.settleRules();
    this.settleRoutes();
  }

  /** The data plane with every committed change compiled in. */
  plane(): DataPlane {
    this.settle();
    return this.dataPlane;
  }

  /** The estate as reach and Network Insights see it. */
  view(): EstateView {
    const store = this.store;
    const plane = this.plane();
    return {
      policy: plane.policy,
      paths: plane.paths,
      instanceOf: (id) => eni(store, id)?.attachment?.instanceId,
      primaryOf: (instanceId) => {
        for (const scope of store.scopes(KIND.eni)) {
          for (const e of store.table(KIND.eni, scope).values() as Iterable<EniDoc>) {
            if (e.attachment?.instanceId === instanceId && e.attachment.deviceIndex === 0) return e.id;
          }
        }
        return undefined;
      },
    };
  }
}

function eni(store: Store, id: string): EniDoc | undefined {
  for (const scope of store.scopes(KIND.eni)) {
    const e = store.table(KIND.eni, scope).get(id) as EniDoc | undefined;
    if (e) return e;
  }
  return undefined;
}
