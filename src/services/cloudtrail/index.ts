// AWS CloudTrail (JSON 1.1, `CloudTrail_20131101`): LookupEvents over the management events the
// gateway records for every call, and trails that deliver them as log files. The recording
// itself is src/audit (a CallObserver); this is the API.
import type { Handler, ServiceDef } from '../../gateway/context.ts';
import type { Extension } from '../../gateway/server.ts';
import { loadModel } from '../../protocol/model.ts';
import type { CloudTrail } from '../../audit/cloudtrail.ts';
import { lookupEvents } from './lookup.ts';
import { trailHandlers } from './trails.ts';

export function cloudtrailService(engine: CloudTrail): ServiceDef {
  const handlers: Record<string, Handler> = {
    LookupEvents: lookupEvents(engine.events),
    ...trailHandlers(engine.events),
  };
  return { name: 'cloudtrail', model: loadModel('cloudtrail'), handlers, validationErrorCode: 'InvalidParameterException' };
}

const SHORT = 'CloudTrail_20131101.';

/**
 * botocore (aws CLI) sends `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.Op`
 * (the model's target), the schema-based SDK v3 clients `CloudTrail_20131101.Op`; AWS accepts
 * both. This rewrites the short form to the long one before the gateway routes the request.
 */
export function cloudtrailTargetAlias(): Extension {
  const full = loadModel('cloudtrail').target!;
  return {
    handle(req) {
      const t = req.headers['x-amz-target'];
      if (typeof t === 'string' && t.startsWith(SHORT)) req.headers['x-amz-target'] = `${full}.${t.slice(SHORT.length)}`;
      return false;
    },
  };
}
