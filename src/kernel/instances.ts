// The namespaces of the kernel data plane and the wires between them: one namespace per running
// instance with a veth per attached interface (`eth<deviceIndex>` inside, its private IPv4 as /32
// with an on-link route to the subnet's router address and the default route via it, its IPv6
// addresses as /128 with the default route via fe80::1), and one router namespace per VPC holding
// the other end of every veth (the subnet's router address and fe80::1 on it, proxy ARP, a /32 or
// /128 route per address). So every packet between two interfaces — even in one subnet — crosses
// the VPC's router namespace, where router.ts applies route tables, network ACLs and gateways.
// Names come from names.ts only; commands go through exec.ts only.
import { ip, ipBatch, ipIn, run, sysctl, KernelCommandError } from './exec.ts';
import { addressToBigInt, bigIntToAddress, parseCidr } from '../core/cidr.ts';

/** What one interface looks like in the kernel. */
export interface InterfaceTopo {
  eniId: string;
  deviceIndex: number;
  /** eth<deviceIndex> in the instance's namespace */
  device: string;
  /** the router end of its veth, in the VPC's router namespace */
  routerEnd: string;
  ipv4: string[];
  ipv6: string[];
  /** the subnet's router address (its IPv4 block's first address + 1), when it has one */
  gateway4?: string;
}

/** The IPv6 next hop of every interface: the router end's own link-local address. */
export const GATEWAY6 = 'fe80::1';

/** The subnet's router address: the base of its IPv4 block + 1 (AWS: VPC router at .1). */
export function gatewayOf(subnetCidr: string | undefined): string | undefined {
  const c = subnetCidr ? parseCidr(subnetCidr, 4) : undefined;
  return c ? bigIntToAddress(4, c.base + 1n) : undefined;
}

const isV4 = (a: string) => addressToBigInt(a)?.family === 4;

/** Sysctls of a router namespace: forwarding, proxy ARP on every new device, no redirects, no DAD. */
const ROUTER_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv6.conf.all.forwarding=1',
  'net.ipv4.conf.default.proxy_arp=1',
  'net.ipv4.conf.all.send_redirects=0',
  'net.ipv4.conf.default.send_redirects=0',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
];

/** Sysctls of an instance namespace (before its devices exist, so they inherit them). */
const INSTANCE_SYSCTLS = [
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.default.accept_ra=0',
];

export async function createNamespace(ns: string): Promise<void> {
  await ip(['netns', 'add', ns]);
}

/** Removes a namespace (its devices first, so their veth peers go even if a process keeps it alive). */
export async function removeNamespace(ns: string): Promise<void> {
  try {
    const out = await ipIn(ns, ['-o', 'link', 'show']);
    const devs = out
      .split('\n')
      .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1])
      .filter((d): d is string => !!d && d !== 'lo');
    if (devs.length)
      await ipBatch(
        ns,
        devs.map((d) => `link del ${d}`),
      ).catch(() => undefined);
  } catch {
    /* already gone */
  }
  try {
    await ip(['netns', 'del', ns]);
  } catch (e) {
    if (!(e instanceof KernelCommandError && /No such file|not exist/i.test(e.stderr))) throw e;
  }
}

export async function setupRouterNamespace(ns: string): Promise<void> {
  await createNamespace(ns);
  await sysctl(ns, ROUTER_SYSCTLS);
  await ipIn(ns, ['link', 'set', 'lo', 'up']);
}

export async function setupInstanceNamespace(ns: string): Promise<void> {
  await createNamespace(ns);
  await sysctl(ns, INSTANCE_SYSCTLS);
  await ipIn(ns, ['link', 'set', 'lo', 'up']);
}

/** The routing-table number of a secondary interface (device index N ≥ 1: replies leave by it). */
const tableOf = (deviceIndex: number) => 100 + deviceIndex;

function instanceSideLines(i: InterfaceTopo, add: boolean, addrs4: string[], addrs6: string[]): string[] {
  const verb = add ? 'add' : 'del';
  const lines: string[] = [];
  for (const a of addrs4) lines.push(`addr ${verb} ${a}/32 dev ${i.device}`);
  for (const a of addrs6) lines.push(`addr ${verb} ${a}/128 dev ${i.device}${add ? ' nodad' : ''}`);
  if (i.deviceIndex > 0) for (const a of addrs4) lines.push(`rule ${verb} from ${a} table ${tableOf(i.deviceIndex)}`);
  return lines;
}

function routerSideLines(i: InterfaceTopo, add: boolean, addrs4: string[], addrs6: string[]): string[] {
  const verb = add ? 'add' : 'del';
  return [
    ...addrs4.map((a) => `route ${verb} ${a}/32 dev ${i.routerEnd}`),
    ...addrs6.map((a) => `route ${verb} ${a}/128 dev ${i.routerEnd}`),
  ];
}

/** Creates an interface's veth between the instance's and the router's namespaces, addressed and up. */
export async function addInterface(ns: string, routerNs: string, i: InterfaceTopo): Promise<void> {
  await ip(['link', 'add', i.device, 'netns', ns, 'type', 'veth', 'peer', 'name', i.routerEnd, 'netns', routerNs]);
  const v4 = i.ipv4.filter(isV4);
  const v6 = i.ipv6.filter((a) => !isV4(a));
  const router = [`link set ${i.routerEnd} up`, `addr add ${GATEWAY6}/64 dev ${i.routerEnd}`];
  if (i.gateway4) router.push(`addr add ${i.gateway4}/32 dev ${i.routerEnd}`);
  router.push(...routerSideLines(i, true, v4, v6));
  await ipBatch(routerNs, router);
  const inst = [...instanceSideLines(i, true, v4, v6), `link set ${i.device} up`];
  const table = i.deviceIndex > 0 ? ` table ${tableOf(i.deviceIndex)}` : '';
  if (i.gateway4) {
    inst.push(`route add ${i.gateway4}/32 dev ${i.device} scope link${table}`);
    inst.push(`route add default via ${i.gateway4} dev ${i.device} onlink${table}`);
  }
  if (v6.length) inst.push(`route add default via ${GATEWAY6} dev ${i.device}${table}`);
  await ipBatch(ns, inst);
}

/** Brings an interface's addresses from `old` to `next` (same veth). */
export async function updateAddresses(ns: string, routerNs: string, old: InterfaceTopo, next: InterfaceTopo): Promise<void> {
  const gone = (a: string[], b: string[]) => a.filter((x) => !b.includes(x));
  const [o4, n4, o6, n6] = [old.ipv4, next.ipv4, old.ipv6, next.ipv6];
  const del4 = gone(o4, n4);
  const add4 = gone(n4, o4);
  const del6 = gone(o6, n6);
  const add6 = gone(n6, o6);
  if (!del4.length && !add4.length && !del6.length && !add6.length) return;
  await ipBatch(routerNs, [...routerSideLines(old, false, del4, del6), ...routerSideLines(next, true, add4, add6)]);
  await ipBatch(ns, [...instanceSideLines(old, false, del4, del6), ...instanceSideLines(next, true, add4, add6)]);
  if (!o6.length && n6.length) await ipIn(ns, ['route', 'replace', 'default', 'via', GATEWAY6, 'dev', next.device]).catch(() => undefined);
}

/** Removes an interface's veth (deleting one end removes both). */
export async function removeInterface(ns: string, i: InterfaceTopo): Promise<void> {
  await ipIn(ns, ['link', 'del', i.device]).catch((e) => {
    if (!(e instanceof KernelCommandError && /Cannot find device|does not exist/i.test(e.stderr))) throw e;
  });
  if (i.deviceIndex > 0)
    await ipBatch(
      ns,
      i.ipv4.filter(isV4).map((a) => `rule del from ${a} table ${tableOf(i.deviceIndex)}`),
    ).catch(() => undefined);
}

/** The processes running in a namespace (`ip netns pids`). */
export async function pidsIn(ns: string): Promise<number[]> {
  const out = await run('ip', ['netns', 'pids', ns]).catch(() => '');
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}
