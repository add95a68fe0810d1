#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# pcapgen.py: write classic pcap files of synthetic Ethernet/IPv4 frames for the monitor's tests.
"""Frames whose every count is known: UDP and TCP over IPv4, optional VLAN
tag, IPv4 fragments, whole TCP and UDP calls (long_calls()). Used by
monitor_cli.py, sharding.py and interim.py."""
import struct

MAC_A = b'\x02\0\0\0\0\x01'
MAC_B = b'\x02\0\0\0\0\x02'


def pcap_bytes(frames, linktype=1):
    """frames: (ts_us, bytes) list -> classic microsecond pcap."""
    out = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)]
    for ts, fr in frames:
        out.append(struct.pack('<IIII', ts // 1000000, ts % 1000000, len(fr), len(fr)))
        out.append(fr)
    return b''.join(out)


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(payload, smac=MAC_A, dmac=MAC_B, vlan=None, ethertype=0x0800):
    tag = b'' if vlan is None else struct.pack("!HH", 0x8100, vlan)
    fr = dmac + smac + tag + struct.pack('!H', ethertype) + payload
    return fr + bytes(max(0, 60 - len(fr)))


def ipv4(src, dst, proto, l4, ident=1, frag=0):
    """frag: the 16-bit flags+offset field (0x2000 = MF)."""
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(l4), ident, frag, 64, proto, 0,
                     bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ip + l4


def udp4(src, sport, dst, dport, payload_len, smac=MAC_A, dmac=MAC_B, vlan=None):
    udp = struct.pack('!HHHH', sport, dport, 8 + payload_len, 0) + bytes(payload_len)
    return eth(ipv4(src, dst, 17, udp), smac, dmac, vlan)


def tcp4(src, sport, dst, dport, flags, seq, payload_len, smac=MAC_A, dmac=MAC_B, vlan=None):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0)
    return eth(ipv4(src, dst, 6, tcp + bytes(payload_len)), smac, dmac, vlan)


def udp4_fragments(src, sport, dst, dport, payload_len, ident, smac=MAC_A, dmac=MAC_B):
    """A UDP datagram cut into IPv4 fragments of at most 1480 data bytes."""
    udp = struct.pack('!HHHH', sport, dport, 8 + payload_len, 0) + bytes(payload_len)
    frames, off = [], 0
    while off < len(udp):
        chunk = udp[off:off + 1480]
        more = off + len(chunk) < len(udp)
        frames.append(eth(ipv4(src, dst, 17, chunk, ident, (0x2000 if more else 0) | (off // 8)),
                          smac, dmac))
        off += len(chunk)
    return frames


def tcp_call(frames, t_us, cli, cport, srv, sport, rounds, every_us, c2s_len, s2c_len,
             gap=None):
    """A whole TCP connection appended to frames: handshake, `rounds` request
    (c2s_len bytes) / answer (s2c_len bytes, every_us / 2 later) pairs
    every_us apart, FIN both ways. gap=(after_round, us): silence inside.
    Returns (c2s payload bytes, s2c payload bytes, time of the last frame)."""
    cs, ss = 1000 + cport, 500000 + sport * 7
    out = lambda ts, f: frames.append((ts, f))  # noqa: E731
    out(t_us, tcp4(cli, cport, srv, sport, 0x02, cs, 0))
    out(t_us + 50, tcp4(srv, sport, cli, cport, 0x12, ss, 0, MAC_B, MAC_A))
    out(t_us + 100, tcp4(cli, cport, srv, sport, 0x10, cs + 1, 0))
    cs, ss, t = cs + 1, ss + 1, t_us + every_us
    for k in range(rounds):
        if gap and k == gap[0]:
            t += gap[1]
        out(t, tcp4(cli, cport, srv, sport, 0x18, cs, c2s_len))
        out(t + every_us // 2, tcp4(srv, sport, cli, cport, 0x18, ss, s2c_len, MAC_B, MAC_A))
        cs, ss, t = cs + c2s_len, ss + s2c_len, t + every_us
    out(t, tcp4(cli, cport, srv, sport, 0x11, cs, 0))
    out(t + 50, tcp4(srv, sport, cli, cport, 0x11, ss, 0, MAC_B, MAC_A))
    out(t + 100, tcp4(cli, cport, srv, sport, 0x10, cs + 1, 0))
    return rounds * c2s_len, rounds * s2c_len, t + 100


def udp_call(frames, t_us, cli, cport, srv, sport, ticks, every_us, length):
    """Both directions send `length` bytes every every_us, `ticks` times."""
    for k in range(ticks):
        t = t_us + k * every_us
        frames.append((t, udp4(cli, cport, srv, sport, length)))
        frames.append((t + 20000, udp4(srv, sport, cli, cport, length, MAC_B, MAC_A)))
    return ticks * length, ticks * length, t_us + (ticks - 1) * every_us + 20000


def long_calls(t0_us=1700000000000000):
    """Long calls for interim records, with short ones around them.

    Returns (frames sorted by time, known) where known maps a name to
    (proto, (client ip, port), (server ip, port), c2s bytes, s2c bytes):
    - tcp-100s: 500 request/answer rounds every 0.2 s (50 and 1000 bytes),
      100 s from the first frame of the capture;
    - udp-60s: 160 bytes each way every 0.25 s for 60 s;
    - tcp-gap: 30 s of rounds, 20 s of silence (the completion scan ends the
      call), then 20 s more on the same ports;
    - 60 short TCP or UDP connections, one every 1.5 s."""
    frames, known = [], {}

    def ip(*b):
        return list(b)

    def add(name, proto, cli, cport, srv, sport, res):
        known[name] = (proto, ('.'.join(map(str, cli)), cport),
                       ('.'.join(map(str, srv)), sport), res[0], res[1])

    add('tcp-100s', 'tcp', ip(10, 7, 0, 1), 40001, ip(10, 7, 0, 200), 443,
        tcp_call(frames, t0_us, ip(10, 7, 0, 1), 40001, ip(10, 7, 0, 200), 443,
                 500, 200000, 50, 1000))
    add('udp-60s', 'udp', ip(10, 7, 0, 2), 5006, ip(10, 7, 0, 201), 5004,
        udp_call(frames, t0_us + 3300000, ip(10, 7, 0, 2), 5006, ip(10, 7, 0, 201), 5004,
                 240, 250000, 160))
    add('tcp-gap', 'tcp', ip(10, 7, 0, 3), 40003, ip(10, 7, 0, 200), 80,
        tcp_call(frames, t0_us + 5000000, ip(10, 7, 0, 3), 40003, ip(10, 7, 0, 200), 80,
                 250, 200000, 20, 300, gap=(150, 20000000)))
    for i in range(60):
        cli, t = ip(10, 7, 1, 1 + i), t0_us + 700000 + i * 1500000
        if i % 2:
            add('short-%d' % i, 'udp', cli, 2000 + i, ip(10, 7, 0, 202), 53,
                udp_call(frames, t, cli, 2000 + i, ip(10, 7, 0, 202), 53, 1, 1, 40 + i))
        else:
            add('short-%d' % i, 'tcp', cli, 3000 + i, ip(10, 7, 0, 200), 8080,
                tcp_call(frames, t, cli, 3000 + i, ip(10, 7, 0, 200), 8080, 2, 10000,
                         10 + i, 100 + i))
    frames.sort(key=lambda f: f[0])
    return frames, known
