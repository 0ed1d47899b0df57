// AWS CloudTrail (JSON 1.1, `CloudTrail_20131101`): LookupEvents over the management events the
// gateway records for every call, and trails that deliver them as log files. The recording
// itself is src/cloudtrail (a CallObserver); this is the API.
import type { Handler, ServiceDef } from '../../core/context.ts';
import { loadModel } from '../../protocol/model.ts';
import type { CloudTrail } from '../../cloudtrail/engine.ts';
import { lookupEvents } from './lookup.ts';
import { trailHandlers } from './trails.ts';

export function cloudtrailService(engine: CloudTrail): ServiceDef {
  const handlers: Record<string, Handler> = {
    LookupEvents: lookupEvents(engine.events),
    ...trailHandlers(engine.events),
  };
  return {
    name: 'cloudtrail',
    get model() {
      return loadModel('cloudtrail');
    },
    handlers,
    validationErrorCode: 'InvalidParameterException',
  };
}
