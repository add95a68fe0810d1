#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# gen_pcap.py: benchmark captures: N concurrent IPv4 TCP/UDP connections (64-byte or IMIX frames, optionally one file per owner queue), or a SYN flood.
"""Write classic (microsecond) pcap files of synthetic traffic for the
whole-pipeline benchmark (benchmarks/run_pipeline.sh).

Traffic model:
  * --conns C distinct connections with random IPv4 addresses and ports
    (80 % TCP, 20 % UDP, no UDP tunnel port), every one active throughout: the packet sequence
    holds each connection floor(P/C) or ceil(P/C) times, in random order
    (a shuffle), and a connection's packets alternate direction (the first
    one random), so every connection with two packets or more is seen both
    ways. TCP packets carry ACK only (no SYN/FIN/RST: no peer ends a flow
    early), with sequence numbers advancing by the payload.
  * --profile 64: every frame 60 bytes captured (64 on the wire with the
    FCS): Ethernet + IPv4 + TCP + 6 bytes of payload, or UDP + 18.
    --profile imix: the "simple IMIX" 7:4:1 of 64/594/1518-byte wire frames
    (60/590/1514 captured), drawn at random per packet; mean 361.8 bytes on
    the wire.
  * --profile syn: a SYN flood: --conns one-packet connections, each a
    60-byte frame, a TCP SYN without payload (random ISN, window 64240) from a random unicast IPv4
    source (1.0.0.0 to 223.255.255.255) and port (1024-65535) to
    172.16.0.1:80; --pkts is --conns.
  * Classic pcap written big-endian (libpcap swaps), timestamps 1 us apart (--gap-us), from 2026-01-01 00:00:00 UTC; correct
    IPv4 and TCP/UDP checksums.
  * --queues N: also split the capture into N files, one per RX queue of a
    NIC with wiretally's symmetric RSS: a connection's packets all go to the
    file of queue (Toeplitz(src, dst, sport<<16|dport) with the 0x6D5A key
    & 511) % N, the owner wiretally's sharding gives it (app/wiretally
    ports.c init_shard_table, lib/key wt_pkt_rss_hash), so replaying file q
    on queue q forwards nothing.

Output: OUTDIR/<profile>-c<conns>-p<pkts>.pcap and, with --queues N,
OUTDIR/<profile>-c<conns>-p<pkts>-q<i>of<N>.pcap; the paths written are
printed one per line. Existing files are kept unless --force.
"""
import argparse
import os
import random
import struct
import sys

MAC_CLI = b'\x02\x00\x00\x00\x00\x01'
MAC_SRV = b'\x02\x00\x00\x00\x00\x02'
T0_US = 1767225600 * 1000000  # 2026-01-01T00:00:00Z
PROFILES = ('64', 'imix', 'syn')
# UDP ports the parser reads as tunnels (VXLAN, Geneve, GTP-U, Teredo): not plain traffic
TUNNEL_PORTS = (4789, 6081, 2152, 3544)
WIRE = {'64': (64,), 'imix': (64, 594, 1518), 'syn': (64,)}
WEIGHTS = {'64': (1,), 'imix': (7, 4, 1), 'syn': (1,)}


def toeplitz_symmetric(src, dst, sport, dport):
    """rte_softrss() over (src, dst, sport<<16|dport) with the key 0x6D5A
    repeated: with a 16-bit periodic key it is a function of the XOR of the
    16-bit big-endian input words (see lib/key/wt_key.c)."""
    x = (src >> 16) ^ (src & 0xffff) ^ (dst >> 16) ^ (dst & 0xffff) ^ sport ^ dport
    h = 0
    for j in range(16):
        if x & (0x8000 >> j):
            h ^= (0x6d5a6d5a6d5a >> (16 - j)) & 0xffffffff
    return h


def owner(c, nq):
    return (toeplitz_symmetric(c[0], c[1], c[2], c[3]) & 511) % nq


def fold(s):
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def connections(n, rng):
    seen = set()
    out = []
    while len(out) < n:
        cli = 0x0a000000 | rng.getrandbits(24)             # 10.0.0.0/8
        srv = 0xac100000 | rng.getrandbits(20)             # 172.16.0.0/12
        cp = rng.randrange(1024, 65536)
        sp = rng.randrange(1, 65536)
        proto = 6 if rng.random() < 0.8 else 17
        if proto == 17 and (cp in TUNNEL_PORTS or sp in TUNNEL_PORTS):
            continue
        k = (cli, srv, cp, sp, proto)
        if k in seen:
            continue
        seen.add(k)
        out.append(k)
    return out


def syn_flood(args, path):
    """--conns SYNs from distinct random sources to 172.16.0.1:80."""
    rng = random.Random(args.seed)
    seen = set()
    dst = 0xac100001
    pack = struct.Struct('!IIII6s6sHBBHHHBBH4s4sHHIIBBHHH').pack
    with open(path, 'wb') as f:
        buf = bytearray(struct.pack('!IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(args.conns):
            while True:
                src = rng.randrange(0x01000000, 0xe0000000)
                cp = rng.randrange(1024, 65536)
                if (src, cp) not in seen and (src >> 24) != 127:
                    seen.add((src, cp))
                    break
            isn = rng.getrandbits(32)
            addr = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff)
            ident = i & 0xffff
            ipsum = ~fold(0x4500 + 40 + ident + 0x4000 + (64 << 8 | 6) + addr) & 0xffff
            l4 = fold(addr + 6 + 20 + cp + 80 + (isn >> 16) + (isn & 0xffff) + 0x5002 + 64240)
            ts = T0_US + i * args.gap_us
            buf += pack(ts // 1000000, ts % 1000000, 60, 60, MAC_SRV, MAC_CLI, 0x0800,
                        0x45, 0, 40, ident, 0x4000, 64, 6, ipsum,
                        src.to_bytes(4, 'big'), dst.to_bytes(4, 'big'),
                        cp, 80, isn, 0, 0x50, 0x02, 64240, (~l4 & 0xffff) or 0xffff, 0)
            buf += bytes(6)  # Ethernet padding to 60 bytes
            if len(buf) > (1 << 22):
                f.write(buf)
                del buf[:]
        f.write(buf)


def generate(args, paths_out):
    if args.profile == 'syn':
        syn_flood(args, paths_out[0])
        return
    rng = random.Random(args.seed)
    conns = connections(args.conns, rng)
    pkts = args.pkts
    reps, rem = divmod(pkts, args.conns)
    seq = list(range(args.conns)) * reps + rng.sample(range(args.conns), rem)
    rng.shuffle(seq)
    wire = WIRE[args.profile]
    sizes = rng.choices(range(len(wire)), weights=WEIGHTS[args.profile], k=pkts) \
        if len(wire) > 1 else None
    nq = args.queues
    owners = [owner(c, nq) for c in conns] if nq > 1 else None
    dirs = bytearray(rng.getrandbits(1) for _ in range(args.conns))
    tcp_seq = [[rng.getrandbits(32), rng.getrandbits(32)] for _ in range(args.conns)]
    zeros = bytes(1514)

    files = [open(paths_out[0], 'wb')]
    if nq > 1:
        files += [open(p, 'wb') for p in paths_out[1:]]
    # big-endian pcap (libpcap reads either byte order): one pack per frame
    ghdr = struct.pack('!IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    bufs = [bytearray(ghdr) for _ in files]
    pack_tcp = struct.Struct('!IIII6s6sHBBHHHBBH4s4sHHIIBBHHH').pack
    pack_udp = struct.Struct('!IIII6s6sHBBHHHBBH4s4sHHHH').pack
    gap = args.gap_us
    for i in range(pkts):
        c = seq[i]
        cli, srv, cp, sp, proto = conns[c]
        d = dirs[c]
        dirs[c] = d ^ 1
        if d == 0:
            src, dst, s_port, d_port, smac, dmac = cli, srv, cp, sp, MAC_CLI, MAC_SRV
        else:
            src, dst, s_port, d_port, smac, dmac = srv, cli, sp, cp, MAC_SRV, MAC_CLI
        cap = (wire[sizes[i]] if sizes is not None else wire[0]) - 4
        iplen = cap - 14
        addr = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff)
        ident = i & 0xffff
        ipsum = ~fold(0x4500 + iplen + ident + 0x4000 + (64 << 8 | proto) + addr) & 0xffff
        ts = T0_US + i * gap
        if proto == 6:
            pay = iplen - 40
            sq = tcp_seq[c][d]
            tcp_seq[c][d] = (sq + pay) & 0xffffffff
            ack = tcp_seq[c][d ^ 1]
            l4 = fold(addr + 6 + 20 + pay + s_port + d_port + (sq >> 16) + (sq & 0xffff) +
                      (ack >> 16) + (ack & 0xffff) + 0x5010 + 65535)
            hdr = pack_tcp(ts // 1000000, ts % 1000000, cap, cap, dmac, smac, 0x0800,
                           0x45, 0, iplen, ident, 0x4000, 64, 6, ipsum,
                           src.to_bytes(4, 'big'), dst.to_bytes(4, 'big'),
                           s_port, d_port, sq, ack, 0x50, 0x10, 65535,
                           (~l4 & 0xffff) or 0xffff, 0)
        else:
            pay = iplen - 28
            l4 = fold(addr + 17 + 2 * (8 + pay) + s_port + d_port)
            hdr = pack_udp(ts // 1000000, ts % 1000000, cap, cap, dmac, smac, 0x0800,
                           0x45, 0, iplen, ident, 0x4000, 64, 17, ipsum,
                           src.to_bytes(4, 'big'), dst.to_bytes(4, 'big'),
                           s_port, d_port, 8 + pay, (~l4 & 0xffff) or 0xffff)
        b = bufs[0]
        b += hdr
        b += zeros[:pay]
        if nq > 1:
            q = bufs[1 + owners[c]]
            q += hdr
            q += zeros[:pay]
        if len(b) > (1 << 22):
            for f, bb in zip(files, bufs):
                f.write(bb)
                del bb[:]
    for f, bb in zip(files, bufs):
        f.write(bb)
        f.close()


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog=__doc__.split('\n\n', 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--conns', type=int, required=True, help='concurrent connections')
    ap.add_argument('--pkts', type=int, default=0,
                    help='packets (default: 2 per connection, at least 65536)')
    ap.add_argument('--profile', choices=PROFILES, default='64', help='frame sizes')
    ap.add_argument('--queues', type=int, default=1,
                    help='also write one file per owner queue for N RX lcores')
    ap.add_argument('--gap-us', type=int, default=1, help='microseconds between packets')
    ap.add_argument('--seed', type=int, default=1, help='random seed (same seed, same files)')
    ap.add_argument('--force', action='store_true', help='rewrite existing files')
    ap.add_argument('-o', '--outdir', default='/tmp/wt-bench-pcaps',
                    help='output directory (default %(default)s; never a git tree)')
    args = ap.parse_args()
    if args.conns < 1:
        ap.error('--conns must be at least 1')
    if args.profile == 'syn':
        if args.queues != 1 or args.pkts not in (0, args.conns):
            ap.error('--profile syn: one packet per connection, one file')
        args.pkts = args.conns
    if args.pkts == 0:
        args.pkts = max(2 * args.conns, 65536)
    if args.pkts < args.conns:
        ap.error('--pkts %d < --conns %d: every connection needs a packet' %
                 (args.pkts, args.conns))
    if not 1 <= args.queues <= 512:
        ap.error('--queues must be 1..512')
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        sys.exit('gen_pcap.py: output directory %s: %s' % (args.outdir, e.strerror))
    base = os.path.join(args.outdir, '%s-c%d-p%d' % (args.profile, args.conns, args.pkts))
    paths = [base + '.pcap']
    if args.queues > 1:
        paths += ['%s-q%dof%d.pcap' % (base, q, args.queues) for q in range(args.queues)]
    if args.force or not all(os.path.exists(p) for p in paths):
        tmp = [p + '.tmp' for p in paths]
        try:
            generate(args, tmp)
        except OSError as e:
            sys.exit('gen_pcap.py: writing %s: %s' % (e.filename or args.outdir, e.strerror))
        for t, p in zip(tmp, paths):
            os.replace(t, p)
    for p in paths:
        print(p)


if __name__ == '__main__':
    main()
