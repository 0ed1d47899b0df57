// The live estate as the analysis sees it: the server's own data plane (kept current from the
// store) plus which instance each interface belongs to.
import type { Store } from '../store/store.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import type { EstateView } from '../analysis/reach.ts';
import { KIND, type EniDoc } from '../core/documents/ec2.ts';

const planes = new WeakMap<Store, DataPlane>();
const settlers = new WeakMap<DataPlane, () => void>();
/** `settle` brings the plane's policy up to date with the store (engine-sync's queue). */
export const registerPlane = (store: Store, plane: DataPlane, settle: () => void) => {
  planes.set(store, plane);
  settlers.set(plane, settle);
};
/** Every reader of a plane's policy or verdicts calls this first. */
export const settle = (plane: DataPlane): DataPlane => {
  settlers.get(plane)?.();
  return plane;
};
export const planeOf = (store: Store) => {
  const p = planes.get(store);
  return p && settle(p);
};

function eni(store: Store, id: string): EniDoc | undefined {
  for (const scope of store.scopes(KIND.eni)) {
    const e = store.table(KIND.eni, scope).get(id) as EniDoc | undefined;
    if (e) return e;
  }
  return undefined;
}

export function liveView(store: Store, plane: DataPlane): EstateView {
  settle(plane);
  return {
    policy: plane.policy,
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
