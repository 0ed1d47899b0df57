// Connection tracking as AWS documents it (EC2 User Guide, "Security group connection
// tracking"): a tracked connection's replies pass both gates whatever the rules say, and it
// lives until it has been idle for its timeout; an untracked flow (TCP/UDP allowed by an
// all-open rule in each direction) is judged by the rules packet by packet, so removing the
// rule cuts it at once. ICMP is always tracked; other protocols are tracked as (address,
// protocol) for 600 s.
import { BoundedTable } from '../core/bounded-table.ts';

export interface Timeouts {
  tcpEstablished: number;
  udpStream: number;
  udp: number;
}
export const DEFAULT_TIMEOUTS: Timeouts = { tcpEstablished: 432000, udpStream: 180, udp: 30 };
/** Not documented by AWS; Linux conntrack's values for half-open and closing TCP. */
const TCP_TRANSITORY_TIMEOUT = 120;
const ICMP_TIMEOUT = 30;
const OTHER_PROTOCOL_TIMEOUT = 600;

export const TCP = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

type TcpState = 'syn-sent' | 'syn-received' | 'established' | 'closing';

export interface Entry {
  key: string;
  proto: number;
  /** true when this interface received the first packet (an inbound connection) */
  inbound: boolean;
  state: TcpState | 'udp' | 'udp-stream' | 'icmp' | 'other';
  lastSeen: number; // ms
  /** UDP: packets seen from the responder, then the initiator again (a stream) */
  replied: boolean;
  packets: number;
}

/** Identifies a flow from one interface's point of view, whichever way the packet goes. */
export function flowKey(proto: number, local: string, localPort: number, remote: string, remotePort: number): string {
  if (proto !== 6 && proto !== 17 && proto !== 1 && proto !== 58) return `${proto}|${local}|${remote}`;
  return `${proto}|${local}|${localPort}|${remote}|${remotePort}`;
}

/**
 * Most connections one interface tracks. AWS sizes the table by instance type and drops what
 * exceeds it (`conntrack_allowance_exceeded`); here the oldest entries are evicted first, so
 * memory stays bounded whatever a client opens (its replies are then judged by the rules again).
 */
export const MAX_TRACKED_PER_INTERFACE = 65_536;

export class ConnTrack {
  /** Expired entries are dropped when read and swept when the table is full. */
  private readonly entries = new BoundedTable<string, Entry>(MAX_TRACKED_PER_INTERFACE, (e) => e.lastSeen + this.timeoutOf(e) * 1000 + 1);

  constructor(private timeouts: Timeouts = DEFAULT_TIMEOUTS) {}

  setTimeouts(t: Timeouts): void {
    this.timeouts = t;
  }

  get size(): number {
    return this.entries.size;
  }

  private timeoutOf(e: Entry): number {
    switch (e.state) {
      case 'established':
        return this.timeouts.tcpEstablished;
      case 'syn-sent':
      case 'syn-received':
      case 'closing':
        return TCP_TRANSITORY_TIMEOUT;
      case 'udp':
        return this.timeouts.udp;
      case 'udp-stream':
        return this.timeouts.udpStream;
      case 'icmp':
        return ICMP_TIMEOUT;
      default:
        return OTHER_PROTOCOL_TIMEOUT;
    }
  }

  /** The live entry for a flow, dropping it if it has idled past its timeout. */
  get(key: string, now: number): Entry | undefined {
    return this.entries.get(key, now);
  }

  /** Starts tracking a new connection (first packet passed this interface's gate). */
  open(key: string, proto: number, inbound: boolean, now: number, flags = 0): Entry {
    const state: Entry['state'] =
      proto === 6
        ? flags & TCP.SYN
          ? inbound
            ? 'syn-received'
            : 'syn-sent'
          : 'established'
        : proto === 17
          ? 'udp'
          : proto === 1 || proto === 58
            ? 'icmp'
            : 'other';
    const e: Entry = { key, proto, inbound, state, lastSeen: now, replied: false, packets: 1 };
    this.entries.set(key, e, now);
    return e;
  }

  /** Updates an entry with a packet of the flow; `fromInitiator` says which way it went. */
  touch(e: Entry, now: number, fromInitiator: boolean, flags = 0): void {
    e.lastSeen = now;
    e.packets++;
    if (e.proto === 6) {
      if (flags & TCP.RST) {
        this.entries.delete(e.key);
        return;
      }
      if (flags & TCP.FIN) e.state = 'closing';
      else if (e.state === 'syn-sent' || e.state === 'syn-received') {
        if (!fromInitiator && flags & TCP.SYN && flags & TCP.ACK) e.state = 'established';
        else if (fromInitiator && flags & TCP.ACK && e.replied) e.state = 'established';
      }
      if (!fromInitiator) e.replied = true;
    } else if (e.proto === 17) {
      if (!fromInitiator) e.replied = true;
      else if (e.replied) e.state = 'udp-stream';
    } else if (!fromInitiator) e.replied = true;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every idle entry (housekeeping; lookups also drop them lazily). */
  sweep(now: number): number {
    return this.entries.sweep(now);
  }

  clear(): void {
    this.entries.clear();
  }
}
