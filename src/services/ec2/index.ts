// The EC2 service: every implemented operation, wired to the generic EC2 codec.
import type { ServiceDef, Handler } from '../../core/context.ts';
import { ApiError } from '../../core/errors.ts';
import { loadModel } from '../../protocol/model.ts';
import { KIND } from '../../core/documents/ec2.ts';
import { docTaggable, registerTaggable, tagHandlers } from './tags.ts';
import { ensureRegion, vpcHandlers } from './vpcs.ts';
import { subnetHandlers } from './subnets.ts';
import { securityGroupHandlers } from './security-groups.ts';
import { prefixListHandlers } from './prefix-lists.ts';
import { networkInterfaceHandlers } from './network-interfaces.ts';
import { instanceHandlers } from './instances.ts';
import { networkInsightsHandlers } from './network-insights.ts';
import { flowLogHandlers, flowLogNotFound } from './flow-logs.ts';
import { eniNotFound, groupNotFound, instanceNotFound, prefixListNotFound, subnetNotFound, vpcNotFound } from './lookups.ts';

registerTaggable(docTaggable('vpc', 'vpc', KIND.vpc, vpcNotFound));
registerTaggable(docTaggable('subnet', 'subnet', KIND.subnet, subnetNotFound));
registerTaggable(docTaggable('sg', 'security-group', KIND.sg, groupNotFound));
registerTaggable(docTaggable('pl', 'prefix-list', KIND.prefixList, prefixListNotFound));
registerTaggable(docTaggable('eni', 'network-interface', KIND.eni, eniNotFound));
registerTaggable(docTaggable('i', 'instance', KIND.instance, (id) => instanceNotFound([id])));
registerTaggable(docTaggable('fl', 'vpc-flow-log', KIND.flowLog, flowLogNotFound));

export function ec2Service(): ServiceDef {
  const handlers: Record<string, Handler> = {
    ...vpcHandlers, ...subnetHandlers, ...securityGroupHandlers, ...prefixListHandlers, ...tagHandlers,
    ...networkInterfaceHandlers, ...instanceHandlers, ...networkInsightsHandlers, ...flowLogHandlers,
  };
  return { name: 'ec2', get model() { return loadModel('ec2'); }, handlers, prepare: ensureRegion };
}

export { ApiError };
