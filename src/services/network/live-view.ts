// The live estate as the analysis sees it: the server's own data plane (kept current from the
// store) plus which instance each interface belongs to.
import type { Store } from '../../store/store.ts';
import type { DataPlane } from '../../network/dataplane.ts';
import type { EstateView } from '../../analysis/reach.ts';
import { KIND, type EniDoc } from '../ec2/model.ts';

const planes = new WeakMap<Store, DataPlane>();
export const registerPlane = (store: Store, plane: DataPlane) => planes.set(store, plane);
export const planeOf = (store: Store) => planes.get(store);

function eni(store: Store, id: string): EniDoc | undefined {
  for (const scope of store.scopes(KIND.eni)) {
    const e = store.table(KIND.eni, scope).get(id) as EniDoc | undefined;
    if (e) return e;
  }
  return undefined;
}

export function liveView(store: Store, plane: DataPlane): EstateView {
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
