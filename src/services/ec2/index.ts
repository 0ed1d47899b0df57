// The EC2 service: every implemented operation, wired to the generic EC2 codec. Its parts that
// outlive a call (the rule index, the taggable types, the live network) are made here, from what
// startServer passes in.
import type { ServiceDef, Handler } from '../../core/context.ts';
import type { Store } from '../../store/store.ts';
import { loadModel } from '../../protocol/model.ts';
import { RESOURCE_TYPES } from '../../core/resource-types.ts';
import type { LiveNetwork } from '../../traffic/live-view.ts';
import { docTaggable, tagHandlers, type Taggable } from './tags.ts';
import { ensureRegion, vpcHandlers } from './vpcs.ts';
import { subnetHandlers } from './subnets.ts';
import { ruleTaggable, securityGroupHandlers } from './security-groups.ts';
import { prefixListHandlers } from './prefix-lists.ts';
import { networkInterfaceHandlers } from './network-interfaces.ts';
import { instanceHandlers } from './instances.ts';
import { networkInsightsHandlers } from './network-insights.ts';
import { flowLogHandlers } from './flow-logs.ts';
import { RuleIndex } from './rule-index.ts';
import { keyPairHandlers } from './key-pairs.ts';
import { imageHandlers } from './images.ts';
import { instanceTypeHandlers } from './instance-types.ts';
import { volumeHandlers } from './volumes.ts';
import { launchTemplateHandlers } from './launch-templates.ts';
import { dhcpOptionsHandlers } from './dhcp-options.ts';
import { internetGatewayHandlers } from './internet-gateways.ts';
import { natGatewayHandlers } from './nat-gateways.ts';
import { elasticIpHandlers } from './elastic-ips.ts';
import { routeTableHandlers } from './route-tables.ts';
import { networkAclHandlers } from './network-acls.ts';
import { peeringHandlers } from './peering.ts';
import { vpcEndpointHandlers } from './vpc-endpoints.ts';

interface Ec2Parts {
  store: Store;
  /** The data plane, current with the store (Network Insights analyses it). */
  network: LiveNetwork;
}

export function ec2Service({ store, network }: Ec2Parts): ServiceDef {
  const rules = new RuleIndex(store);
  // Every type the resource-type table marks taggable: documents with `tags`, or as its handler file says.
  const custom: Record<string, Taggable> = { sgr: ruleTaggable(rules) };
  const taggables = RESOURCE_TYPES.filter((t) => t.tags).map((t) => (t.tags === 'document' ? docTaggable(t) : custom[t.prefix]!));
  const handlers: Record<string, Handler> = {
    ...vpcHandlers,
    ...subnetHandlers,
    ...securityGroupHandlers(rules),
    ...prefixListHandlers,
    ...tagHandlers(taggables),
    ...networkInterfaceHandlers,
    ...instanceHandlers,
    ...networkInsightsHandlers(network),
    ...flowLogHandlers,
    ...keyPairHandlers,
    ...imageHandlers,
    ...instanceTypeHandlers,
    ...volumeHandlers,
    ...launchTemplateHandlers,
    ...dhcpOptionsHandlers,
    ...internetGatewayHandlers,
    ...natGatewayHandlers,
    ...elasticIpHandlers,
    ...routeTableHandlers,
    ...networkAclHandlers,
    ...peeringHandlers,
    ...vpcEndpointHandlers,
  };
  return {
    name: 'ec2',
    get model() {
      return loadModel('ec2');
    },
    handlers,
    prepare: ensureRegion,
  };
}
