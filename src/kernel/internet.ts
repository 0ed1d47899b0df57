// "The internet" of the kernel data plane: one namespace (`names.internetNs`) holding the
// addresses users send from and probe (`palisade exec internet -- CMD`). Every address of
// 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32 (the documentation ranges) is local to it (a
// `local` route on lo, and non-local binds allowed), 198.51.100.1 / 2001:db8::1 are its default
// sources, and more addresses can be added (`POST /_palisade/kernel/internet-address`). Each VPC
// with an internet or egress-only gateway attached has a veth pair to it (router-plane.ts: the
// uplink in the VPC's router namespace, the downlink here), and routes toward the VPC's public
// addresses and IPv6 blocks go down that link. The namespace forwards, so one VPC reaches another's
// public addresses through it, as through the internet.
import { existsSync } from 'node:fs';
import { ip, ipIn, sysctl } from './exec.ts';
import { addressToBigInt } from '../core/cidr.ts';
import { INTERNET_RANGES, INTERNET_SOURCE } from './router-nft.ts';

/** Most addresses added besides the ranges (each is an address on `lo` and a route per router). */
export const MAX_EXTRA_ADDRESSES = 1024;

export class InternetNamespace {
  private made: Promise<void> | undefined;
  private readonly extra = new Set<string>();

  constructor(readonly name: string) {}

  /** Makes the namespace (once); resolves with its name. */
  async ensure(): Promise<string> {
    this.made ??= this.make().catch((e: unknown) => {
      this.made = undefined;
      throw e;
    });
    await this.made;
    return this.name;
  }

  get exists(): boolean {
    return existsSync(`/run/netns/${this.name}`);
  }

  private async make(): Promise<void> {
    if (!this.exists) await ip(['netns', 'add', this.name]);
    await ipIn(this.name, ['link', 'set', 'lo', 'up']);
    await sysctl(this.name, [
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      'net.ipv4.ip_nonlocal_bind=1',
      'net.ipv6.ip_nonlocal_bind=1',
    ]);
    await ipIn(this.name, ['addr', 'replace', `${INTERNET_SOURCE.v4}/32`, 'dev', 'lo']);
    await ipIn(this.name, ['addr', 'replace', '203.0.113.1/32', 'dev', 'lo']);
    await ipIn(this.name, ['-6', 'addr', 'replace', `${INTERNET_SOURCE.v6}/128`, 'dev', 'lo', 'nodad']);
    for (const r of INTERNET_RANGES) await ipIn(this.name, ['route', 'replace', 'local', r, 'dev', 'lo', 'table', 'local']);
  }

  /** Makes one more address local to the internet (a /32 or /128 on lo). */
  async addAddress(address: string): Promise<void> {
    const a = addressToBigInt(address);
    if (!a) throw new Error(`not an IP address: ${address}`);
    if (!this.extra.has(address) && this.extra.size >= MAX_EXTRA_ADDRESSES)
      throw new RangeError(`the internet holds ${MAX_EXTRA_ADDRESSES} added addresses at most`);
    await this.ensure();
    await ipIn(this.name, [
      ...(a.family === 6 ? ['-6'] : []),
      'addr',
      'replace',
      `${address}/${a.family === 4 ? 32 : 128}`,
      'dev',
      'lo',
      ...(a.family === 6 ? ['nodad'] : []),
    ]);
    this.extra.add(address);
  }

  /** The addresses added besides the ranges. */
  get addresses(): string[] {
    return [...this.extra];
  }

  /** Removes the namespace (its downlinks go with it, and their uplinks). */
  async remove(): Promise<void> {
    this.made = undefined;
    this.extra.clear();
    if (this.exists) await ip(['netns', 'del', this.name]).catch(() => undefined);
  }
}
