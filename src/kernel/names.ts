// The names of what the kernel data plane creates (`palisade start --dataplane kernel`): network
// namespaces, veth devices, nftables tables. Every name carries the server's prefix (a few
// letters drawn at start), so two servers on one machine — parallel test files — never collide,
// and everything one server made can be found and removed by its prefix.
//
// Linux limits interface names to 15 characters (IFNAMSIZ - 1); namespace names have no such limit.

/** A fresh prefix for one server: `p` and 4 hex digits. */
export function newPrefix(random: () => number = Math.random): string {
  return `p${Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0')}`;
}

/** The last `n` hex digits of an AWS id (`i-0123456789abcdef0` → `456789abcdef0` for 13). */
const tail = (id: string, n: number) => id.slice(id.indexOf('-') + 1).slice(-n);

export const kernelNames = (prefix: string) => ({
  prefix,
  /** the namespace of one instance (its interfaces are eth0, eth1… inside, by device index) */
  instanceNs: (instanceId: string) => `${prefix}-${instanceId}`,
  /** the namespace of an interface not attached to an instance */
  interfaceNs: (eniId: string) => `${prefix}-${eniId}`,
  /** a VPC's router namespace: route tables, network ACLs, gateways */
  routerNs: (vpcId: string) => `${prefix}-${vpcId}`,
  /** "the internet": the addresses users send from with `palisade exec internet` */
  internetNs: `${prefix}-internet`,
  /** an interface's device inside its instance's namespace */
  deviceInInstance: (deviceIndex: number) => `eth${deviceIndex}`,
  /** the router end of an interface's veth pair (≤ 15 characters) */
  routerEnd: (eniId: string) => `${prefix}${tail(eniId, 10)}`,
  /** the VPC router's link to the internet namespace, router side and internet side (≤ 15) */
  uplink: (vpcId: string) => `${prefix}u${tail(vpcId, 9)}`,
  downlink: (vpcId: string) => `${prefix}d${tail(vpcId, 9)}`,
  /** the link between two peered VPCs' routers, on the side of `vpcId` */
  peerLink: (pcxId: string, side: 0 | 1) => `${prefix}${side ? 'b' : 'a'}${tail(pcxId, 9)}`,
  /** the nftables table Palisade owns in every namespace it made */
  table: 'palisade',
});

export type KernelNames = ReturnType<typeof kernelNames>;

/** Whether a namespace name is one of this prefix's (for cleanup). */
export const ownsNamespace = (prefix: string, name: string) => name.startsWith(`${prefix}-`);
