// The IAM service (query protocol, global).
import type { ServiceDef, Handler } from '../../core/context.ts';
import { loadModel } from '../../protocol/model.ts';

import { iamCoreHandlers } from './core.ts';

const iamHandlers: Record<string, Handler> = { ...iamCoreHandlers };

export function iamService(): ServiceDef {
  return {
    name: 'iam',
    get model() {
      return loadModel('iam');
    },
    handlers: iamHandlers,
    global: true,
  };
}
