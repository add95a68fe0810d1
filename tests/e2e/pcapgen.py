#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# pcapgen.py: write classic pcap files of synthetic Ethernet/IPv4 frames for the monitor's tests.
"""Frames whose every count is known: UDP and TCP over IPv4, optional VLAN
tag, IPv4 fragments. Used by monitor_cli.py and sharding.py."""
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
