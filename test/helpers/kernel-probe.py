# Real traffic for the kernel differential test (test/kernel-differential.test.ts), one process per
# namespace:
#
#   kernel-probe.py serve TCP_PORTS UDP_PORTS   (comma-separated; either may be '-')
#     listens on 0.0.0.0 at every TCP port (accepts and closes) and answers every UDP datagram
#     with the same bytes; prints 'ready' once every socket is bound. ICMP echo is the kernel's.
#
#   kernel-probe.py client
#     reads one JSON array of flows per line, runs them all at once and prints one JSON object per
#     line: {"results": {id: {"ok": bool, "how": str}}}. A flow is
#       {"id", "proto": "tcp"|"udp"|"icmp", "dst", "port", "sport", "src"?, "icmpId"?, "timeout"}
#     tcp: a non-blocking connect from sport (ok: the SYN-ACK came back), udp: one datagram from
#     sport and its echo (ok: the echo came back), icmp: an echo request with identifier icmpId on
#     a raw socket (ok: its echo reply came back). Everything else — a timeout (AWS drops
#     silently), an error from the local stack (EPERM: the namespace's own egress gate) — is not ok.
import errno
import json
import os
import select
import socket
import struct
import sys
import time


IP_PKTINFO = getattr(socket, 'IP_PKTINFO', 8)


def serve(tcp_ports, udp_ports):
    socks = {}
    for p in tcp_ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', p))
        s.listen(512)
        s.setblocking(False)
        socks[s.fileno()] = ('tcp', s)
    for p in udp_ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # (the answer leaves from the address the request was sent to: the internet namespace
        # answers at every address of its ranges, and a reply from another would be another flow)
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(('0.0.0.0', p))
        s.setblocking(False)
        socks[s.fileno()] = ('udp', s)
    poller = select.epoll()
    for fd in socks:
        poller.register(fd, select.EPOLLIN)
    print('ready', flush=True)
    while True:
        for fd, _ in poller.poll():
            kind, s = socks[fd]
            try:
                if kind == 'tcp':
                    while True:
                        c, _ = s.accept()
                        c.close()
                else:
                    while True:
                        data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(12))
                        info = [d for (lvl, typ, d) in anc if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO]
                        if info:
                            # struct in_pktinfo { ifindex; spec_dst; addr }: answer from addr (the destination)
                            spec = struct.pack('=i4s4s', 0, info[0][8:12], b'\0\0\0\0')
                            s.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, spec)], 0, addr)
                        else:
                            s.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass


def checksum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def run_batch(flows):
    results = {}
    pending = {}  # fd -> (flow, sock, kind, deadline)
    pings = {}  # (dst, icmpId) -> (flow, deadline)
    poller = select.epoll()
    raws = {}  # source address -> raw ICMP socket
    now = time.monotonic()
    for f in flows:
        fid = f['id']
        deadline = now + f.get('timeout', 0.5)
        proto = f['proto']
        s = None
        try:
            if proto == 'tcp':
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setblocking(False)
                s.bind((f.get('src', '0.0.0.0'), f['sport']))
                rc = s.connect_ex((f['dst'], f['port']))
                if rc == 0:
                    results[fid] = {'ok': True, 'how': 'connected'}
                    s.close()
                    continue
                if rc != errno.EINPROGRESS:
                    results[fid] = {'ok': False, 'how': errno.errorcode.get(rc, str(rc))}
                    s.close()
                    continue
                pending[s.fileno()] = (f, s, 'tcp', deadline)
                poller.register(s.fileno(), select.EPOLLOUT)
            elif proto == 'udp':
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setblocking(False)
                s.bind((f.get('src', '0.0.0.0'), f['sport']))
                s.connect((f['dst'], f['port']))
                s.send(('probe %s' % fid).encode())
                pending[s.fileno()] = (f, s, 'udp', deadline)
                poller.register(s.fileno(), select.EPOLLIN)
            elif proto == 'icmp':
                src = f.get('src', '')
                raw = raws.get(src)
                if raw is None:
                    raw = raws[src] = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
                    raw.setblocking(False)
                    if src:
                        raw.bind((src, 0))
                    poller.register(raw.fileno(), select.EPOLLIN)
                ident = f['icmpId'] & 0xFFFF
                payload = ('probe %s' % fid).encode()
                head = struct.pack('!BBHHH', 8, 0, 0, ident, 1)
                packet = struct.pack('!BBHHH', 8, 0, checksum(head + payload), ident, 1) + payload
                raw.sendto(packet, (f['dst'], 0))
                pings[(f['dst'], ident)] = (f, deadline)
            else:
                results[fid] = {'ok': False, 'how': 'unknown protocol ' + proto}
        except OSError as e:
            results[fid] = {'ok': False, 'how': errno.errorcode.get(e.errno, str(e))}
            if s is not None:
                s.close()
    while pending or pings:
        now = time.monotonic()
        deadlines = [d for (_, _, _, d) in pending.values()] + [d for (_, d) in pings.values()]
        wait = max(0.0, min(deadlines) - now)
        events = poller.poll(wait)
        for fd, ev in events:
            raw = next((r for r in raws.values() if r.fileno() == fd), None)
            if raw is not None:
                while True:
                    try:
                        data, addr = raw.recvfrom(4096)
                    except (BlockingIOError, InterruptedError):
                        break
                    ihl = (data[0] & 0x0F) * 4
                    if len(data) < ihl + 8:
                        continue
                    t, _, _, ident, _ = struct.unpack('!BBHHH', data[ihl:ihl + 8])
                    if t != 0:
                        continue
                    key = (addr[0], ident)
                    if key in pings:
                        f, _ = pings.pop(key)
                        results[f['id']] = {'ok': True, 'how': 'echo reply'}
                continue
            if fd not in pending:
                continue
            f, s, kind, _ = pending.pop(fd)
            poller.unregister(fd)
            if kind == 'tcp':
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                results[f['id']] = {'ok': err == 0, 'how': 'connected' if err == 0 else errno.errorcode.get(err, str(err))}
            else:
                try:
                    s.recv(2048)
                    results[f['id']] = {'ok': True, 'how': 'echoed'}
                except OSError as e:
                    results[f['id']] = {'ok': False, 'how': errno.errorcode.get(e.errno, str(e))}
            s.close()
        now = time.monotonic()
        for fd in [fd for fd, (_, _, _, d) in pending.items() if d <= now]:
            f, s, _, _ = pending.pop(fd)
            poller.unregister(fd)
            s.close()
            results[f['id']] = {'ok': False, 'how': 'timeout'}
        for key in [k for k, (_, d) in pings.items() if d <= now]:
            f, _ = pings.pop(key)
            results[f['id']] = {'ok': False, 'how': 'timeout'}
    for raw in raws.values():
        raw.close()
    poller.close()
    return results


def client():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = {'results': run_batch(json.loads(line))}
        except Exception as e:  # a harness error: the test fails with it
            out = {'error': repr(e)}
        print(json.dumps(out), flush=True)


def ports(arg):
    return [] if arg == '-' else [int(p) for p in arg.split(',') if p]


if __name__ == '__main__':
    if sys.argv[1] == 'serve':
        serve(ports(sys.argv[2]), ports(sys.argv[3]))
    elif sys.argv[1] == 'client':
        client()
    else:
        sys.exit('usage: kernel-probe.py serve TCP UDP | client')
