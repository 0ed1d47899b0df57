// The VPC router's policy inside its namespace (route tables, network ACLs, internet and NAT
// gateways, peering): what the kernel plane asks of it. KernelPlane (kernel-plane.ts) makes each
// VPC's router namespace with plain forwarding between its interfaces, then calls `sync(vpcId)`
// after every change to the VPC's interfaces, and `close()` before it removes its namespaces.
export interface RouterHooks {
  sync(vpcId: string): Promise<void>;
  close(): Promise<void>;
}
