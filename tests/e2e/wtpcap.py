#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""wtpcap.py: an independent pcap reader that tallies call records, and checks lab manifests.

It shares no code with wiretally: it reads classic pcap files (microsecond or
nanosecond, either byte order, Ethernet link type) with the standard library,
parses Ethernet / 802.1Q / IPv4 / IPv6 (extension headers) / TCP / UDP /
ICMP, and adds every IP packet to a conversation keyed as DESIGN.md section 3
keys a call record: endpoint a is the greater by (address, port).

  wtpcap.py verify PCAP MANIFEST   the manifest's payload bytes per direction
                                   equal the capture's, exactly; nothing else
                                   is in the capture (see EXPLAINED_ICMP6)
  wtpcap.py records PCAP           the expected records, as wiretally-read CSV
                                   columns (no seq, end_reason, call_id)
  wtpcap.py count PCAP             frames, IP packets, non-IP frames
"""
import csv
import ipaddress
import struct
import sys

# CSV columns of wiretally-read (DESIGN.md section 3, record version 2).
RECORD_COLUMNS = (
    'seq,start_ns,end_ns,proto,a_addr,a_port,b_addr,b_port,origin,vlan,'
    'a_mac,a_pkts,a_bytes,a_ip_bytes,a_flags,a_first_seq,a_last_seq,'
    'b_mac,b_pkts,b_bytes,b_ip_bytes,b_flags,b_first_seq,b_last_seq,end_reason,'
    'call_id,'
    'a_seq_bytes,a_acked_bytes,a_retx_bytes,a_missed_bytes,'
    'b_seq_bytes,b_acked_bytes,b_retx_bytes,b_missed_bytes,'
    'tunnel,tunnel_id,outer_a_addr,outer_b_addr').split(',')

MANIFEST_COLUMNS = ['proto', 'client_ip', 'client_port', 'server_ip', 'server_port',
                    'c2s_bytes', 's2c_bytes']

PROTO_NAMES = {6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp6'}
FLAG_LETTERS = 'FSRPAUEC'
# ICMPv6 that a host sends by itself (MLD reports, neighbour discovery):
# the only packets a lab capture may hold beyond its manifest.
EXPLAINED_ICMP6 = {130: 'MLD query', 131: 'MLDv1 report', 132: 'MLD done',
                   133: 'router solicitation', 134: 'router advertisement',
                   135: 'neighbour solicitation', 136: 'neighbour advertisement',
                   143: 'MLDv2 report'}
IPV6_EXT = {0, 43, 60, 51, 44}
VLAN_TYPES = {0x8100, 0x88a8, 0x9100}


class PcapError(Exception):
    pass


def read_pcap(path):
    """Yield the timestamp unit in ns (1 or 1000), then (ts_ns, frame bytes)
    for every record of a classic pcap file."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        raise PcapError('%s: too short for a pcap header' % path)
    magic = data[:4]
    for endian in '<>':
        m = struct.unpack(endian + 'I', magic)[0]
        if m in (0xa1b2c3d4, 0xa1b23c4d):
            break
    else:
        if magic == b'\x0a\x0d\x0d\x0a':
            raise PcapError('%s: pcapng is not supported (convert with editcap -F pcap)' % path)
        raise PcapError('%s: not a pcap file (magic %s)' % (path, magic.hex()))
    frac_ns = 1 if m == 0xa1b23c4d else 1000
    yield frac_ns
    linktype = struct.unpack(endian + 'I', data[20:24])[0] & 0xffff
    if linktype != 1:
        raise PcapError('%s: link type %d, only Ethernet (1) is supported' % (path, linktype))
    off = 24
    hdr = struct.Struct(endian + 'IIII')
    while off < len(data):
        if off + 16 > len(data):
            raise PcapError('%s: truncated record header at offset %d' % (path, off))
        sec, frac, incl, _orig = hdr.unpack_from(data, off)
        off += 16
        if off + incl > len(data):
            raise PcapError('%s: truncated record at offset %d' % (path, off))
        yield sec * 1000000000 + frac * frac_ns, data[off:off + incl]
        off += incl


class Packet:
    """What one IP packet tells a call record."""
    __slots__ = ('ts', 'mac', 'vlan', 'family', 'src', 'dst', 'proto', 'sport', 'dport',
                 'ip_len', 'payload', 'flags', 'seq', 'ack', 'icmp_type')


def parse_frame(ts, frame):
    """Return a Packet for an IP frame, or None for anything else."""
    if len(frame) < 14:
        return None
    mac = frame[6:12]
    etype = struct.unpack_from('!H', frame, 12)[0]
    off = 14
    vlan = 0
    while etype in VLAN_TYPES and len(frame) >= off + 4:
        tci, etype = struct.unpack_from('!HH', frame, off)
        if not vlan:
            vlan = tci & 0xfff
        off += 4
    p = Packet()
    p.ts, p.mac, p.vlan = ts, mac, vlan
    p.sport = p.dport = 0
    p.flags = p.seq = p.ack = p.icmp_type = None
    if etype == 0x0800 and len(frame) >= off + 20:
        vihl, total, frag, proto = struct.unpack_from('!BxHxxHxB', frame, off)
        ihl = (vihl & 15) * 4
        p.family, p.proto, p.ip_len = 4, proto, total
        p.src = int.from_bytes(frame[off + 12:off + 16], 'big')
        p.dst = int.from_bytes(frame[off + 16:off + 20], 'big')
        l4 = off + ihl
        l4_len = total - ihl
        if frag & 0x1fff:           # not the first fragment: no transport header
            p.payload = l4_len
            return p
    elif etype == 0x86dd and len(frame) >= off + 40:
        plen, nxt = struct.unpack_from('!HB', frame, off + 4)
        p.family, p.ip_len = 6, 40 + plen
        p.src = int.from_bytes(frame[off + 8:off + 24], 'big')
        p.dst = int.from_bytes(frame[off + 24:off + 40], 'big')
        l4 = off + 40
        l4_len = plen
        for _ in range(8):
            if nxt not in IPV6_EXT or len(frame) < l4 + 8:
                break
            if nxt == 44:
                fragoff = struct.unpack_from('!H', frame, l4 + 2)[0] >> 3
                n = 8
            elif nxt == 51:
                n = (frame[l4 + 1] + 2) * 4
            else:
                n = (frame[l4 + 1] + 1) * 8
            ext = nxt
            nxt = frame[l4]
            l4 += n
            l4_len -= n
            if ext == 44 and fragoff:
                p.proto, p.payload = nxt, l4_len
                return p
        p.proto = nxt
    else:
        return None
    p.payload = l4_len
    if p.proto == 6 and len(frame) >= l4 + 20:
        p.sport, p.dport, p.seq, p.ack, doff, p.flags = struct.unpack_from('!HHIIBB', frame, l4)
        p.payload = l4_len - (doff >> 4) * 4
    elif p.proto == 17 and len(frame) >= l4 + 8:
        p.sport, p.dport = struct.unpack_from('!HH', frame, l4)
        p.payload = l4_len - 8
    elif p.proto in (1, 58) and len(frame) >= l4 + 1:
        p.icmp_type = frame[l4]
    return p


def record_endpoints(r):
    """The unordered endpoint key of a record (a dict of CSV columns)."""
    return (r['proto'], frozenset(((r['a_addr'], int(r['a_port'])),
                                   (r['b_addr'], int(r['b_port'])))))


def addr_text(family, value):
    if family == 4:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value))


def flags_text(bits):
    return ''.join(FLAG_LETTERS[i] for i in range(8) if bits & (1 << i))


class Direction:
    def __init__(self):
        self.pkts = self.bytes = self.ip_bytes = self.flags = 0
        self.mac = None
        self.first_seq = self.last_seq = None
        self.stream = Stream()


JUMP_MAX = 16 << 20  # wiretally holds positions further beyond the stream (not modelled)


def s32(x):
    """A 32-bit difference as a signed number."""
    x &= 0xffffffff
    return x - (1 << 32) if x & 0x80000000 else x


class Stream:
    """One side's TCP byte stream, the way DESIGN.md section 3 defines its four
    figures: every byte interval seen is kept (no limit), and the figures are
    computed from the intervals at the end. Positions are Python integers:
    a sequence number is placed within 2^31 of the highest position known."""

    def __init__(self):
        self.base = None        # first byte of the stream (a position)
        self.syn = False        # base is ISN + 1
        self.top = None         # one past the highest byte known
        self.fin = False        # the FIN was seen at top
        self.ack = None         # the peer's highest ACK (a position), from the SYN or 1st ACK
        self.ack_seen = False
        self.acked = 0
        self.seen = []          # sorted, disjoint [lo, hi) intervals of payload seen
        self.payload = 0        # every payload byte (placed or not)
        self.fills = 0          # segments that filled a hole (below top, not seen before)

    def pos(self, seq):
        return self.top + s32(seq - self.top)

    def set_base(self, seq):
        self.base = self.top = seq + (1 << 32)

    def add_seen(self, lo, hi):
        if lo >= hi:
            return
        out, placed = [], False
        for a, b in self.seen:
            if b < lo or a > hi:
                out.append((a, b))
            else:
                lo, hi = min(a, lo), max(b, hi)
        out.append((lo, hi))
        self.seen = sorted(out)

    def data(self, seq, length, flags):
        self.payload += length
        syn, fin = flags & 0x02, flags & 0x01
        if syn:
            seq = (seq + 1) & 0xffffffff
            if self.base is None:
                self.set_base(seq)
                self.syn = True
                if self.ack is None:
                    self.ack = self.base
        if self.base is None:
            if length == 0 and not fin:
                return
            self.set_base(seq)
        p = self.pos(seq)
        if p > self.top + JUMP_MAX:
            raise ValueError('sequence jump beyond %d bytes: not modelled' % JUMP_MAX)
        before = sum(b - a for a, b in self.seen)
        self.add_seen(p, p + length)
        if p < self.top and sum(b - a for a, b in self.seen) - before > max(0, p + length -
                                                                           self.top):
            self.fills += 1
        if length or (fin and p > self.top):
            self.top = max(self.top, p + length)
        if fin and p + length == self.top:
            self.fin = True

    def peer_ack(self, ack):
        if self.base is None:
            self.set_base(ack)
            self.ack, self.ack_seen = self.base, True
            return
        q = self.pos(ack)
        if self.ack is None:
            if q < self.base:
                if self.base - q <= JUMP_MAX:
                    self.base = q
                else:
                    q = self.base
            elif self.fin and q == self.top + 1:
                q = self.top
            self.top = max(self.top, q)
            self.ack, self.ack_seen = q, True
            return
        self.ack_seen = True
        if q <= self.ack:
            return
        if self.fin and q == self.top + 1:
            q = self.top
        self.top = max(self.top, q)
        self.acked += q - self.ack
        self.ack = q

    def totals(self):
        """(new bytes, sequence space, payload, acked) so far."""
        if self.base is None:
            return 0, 0, self.payload, self.acked
        new = sum(max(0, min(b, self.top) - max(a, self.base)) for a, b in self.seen)
        return new, self.top - self.base, self.payload, self.acked

    def figures(self):
        """(seq_bytes, acked_bytes or None, retx_bytes, missed_bytes)."""
        new, space, payload, acked = self.totals()
        return space, (acked if self.ack_seen else None), payload - new, space - new

    def part_figures(self, prev, final):
        """The figures of one record of a call cut into parts (FORMAT.md 5.4,
        5.5): @prev is this method's second result for the previous part (None
        for the first). An interim part's sequence space is its new bytes, its
        missed bytes 0; the final part carries the rest of the space."""
        new, space, payload, acked = self.totals()
        p_new, p_payload, p_acked, p_seq = prev or (0, 0, 0, 0)
        part_new = new - p_new
        seq = space - p_seq if final else part_new
        out = (seq, (acked - p_acked) if self.ack_seen else None,
               payload - p_payload - part_new, seq - part_new)
        return out, (new, payload, acked, p_seq + seq)


class Conversation:
    """The record wiretally should make for one connection of a capture."""

    def __init__(self, key, family, proto, vlan):
        self.key = key
        self.family, self.proto, self.vlan = family, proto, vlan
        (self.a_addr, self.a_port), (self.b_addr, self.b_port) = key[3], key[4]
        self.d = {'a': Direction(), 'b': Direction()}
        self.start_ns = self.end_ns = None
        self.origin = 'unknown'
        self.syn_seen = False
        self.icmp_types = set()

    def add(self, p, side):
        d = self.d[side]
        if self.start_ns is None:
            self.start_ns = p.ts
        self.end_ns = p.ts
        d.pkts += 1
        d.bytes += p.payload
        d.ip_bytes += p.ip_len
        if d.mac is None:
            d.mac = p.mac
        if p.icmp_type is not None:
            self.icmp_types.add(p.icmp_type)
        if p.flags is None and self.proto == 6:
            d.stream.payload += p.payload  # a later fragment: not placed
        if p.flags is not None:
            d.flags |= p.flags
            if d.first_seq is None:
                d.first_seq = p.seq
            d.last_seq = (p.seq + p.payload) & 0xffffffff
            other = self.d['b' if side == 'a' else 'a']
            d.stream.data(p.seq, p.payload, p.flags)
            if p.flags & 0x10 and not p.flags & 0x04:  # ACK, not in a RST
                other.stream.peer_ack(p.ack)
            if p.flags & 0x02 and not self.syn_seen:
                self.syn_seen = True
                other = 'b' if side == 'a' else 'a'
                self.origin = other if p.flags & 0x10 else side

    @property
    def proto_name(self):
        return PROTO_NAMES.get(self.proto, str(self.proto))

    def endpoint_side(self, addr, port):
        """'a' or 'b' for an (address text, port) endpoint, or None."""
        if (addr_text(self.family, self.a_addr), self.a_port) == (addr, port):
            return 'a'
        if (addr_text(self.family, self.b_addr), self.b_port) == (addr, port):
            return 'b'
        return None

    def endpoints(self):
        """(proto name, {(address text, port), ...}): a record's key, unordered."""
        return record_endpoints(self.as_record())

    def describe(self):
        s = '%s %s.%d <-> %s.%d' % (self.proto_name, addr_text(self.family, self.a_addr),
                                     self.a_port, addr_text(self.family, self.b_addr),
                                     self.b_port)
        if self.icmp_types:
            s += ' (icmp types %s)' % ','.join(str(t) for t in sorted(self.icmp_types))
        return s

    def explained(self):
        """Why an ICMPv6 conversation outside a manifest may exist, or None."""
        if self.proto == 58 and self.icmp_types and self.icmp_types <= set(EXPLAINED_ICMP6):
            return ', '.join(EXPLAINED_ICMP6[t] for t in sorted(self.icmp_types))
        return None

    def as_record(self):
        """Expected columns of wiretally-read, as text (seq, end_reason, call_id empty)."""
        r = dict.fromkeys(RECORD_COLUMNS, '')
        r.update(start_ns=str(self.start_ns), end_ns=str(self.end_ns), proto=self.proto_name,
                 a_addr=addr_text(self.family, self.a_addr), a_port=str(self.a_port),
                 b_addr=addr_text(self.family, self.b_addr), b_port=str(self.b_port),
                 origin=self.origin, vlan=str(self.vlan) if self.vlan else '')
        for side, d in self.d.items():
            tcp = self.proto == 6
            r[side + '_mac'] = ':'.join('%02x' % b for b in d.mac) if d.pkts else ''
            r[side + '_pkts'] = str(d.pkts)
            r[side + '_bytes'] = str(d.bytes)
            r[side + '_ip_bytes'] = str(d.ip_bytes)
            r[side + '_flags'] = flags_text(d.flags) if tcp else ''
            r[side + '_first_seq'] = str(d.first_seq) if tcp and d.pkts else ''
            r[side + '_last_seq'] = str(d.last_seq) if tcp and d.pkts else ''
            if tcp:
                sq, ak, rt, ms = d.stream.figures()
                r[side + '_seq_bytes'], r[side + '_retx_bytes'] = str(sq), str(rt)
                r[side + '_missed_bytes'] = str(ms)
                r[side + '_acked_bytes'] = '' if ak is None else str(ak)
        return r


class Capture:
    """Every conversation of a pcap file, in order of first packet."""

    def __init__(self, path):
        self.path = path
        self.frames = self.ip_packets = 0
        self.conversations = {}
        records = read_pcap(path)
        self.ts_unit_ns = next(records)
        for ts, frame in records:
            self.frames += 1
            p = parse_frame(ts, frame)
            if p is None:
                continue
            self.ip_packets += 1
            src, dst = (p.src, p.sport), (p.dst, p.dport)
            a, b = (src, dst) if src > dst else (dst, src)
            key = (p.vlan, p.family, p.proto, a, b)
            c = self.conversations.get(key)
            if c is None:
                c = self.conversations[key] = Conversation(key, p.family, p.proto, p.vlan)
            c.add(p, 'a' if src == a else 'b')

    @property
    def non_ip(self):
        return self.frames - self.ip_packets

    def find(self, proto, ip1, port1, ip2, port2):
        """The conversation between two endpoints (address text, port), or None."""
        for c in self.conversations.values():
            if c.proto_name == proto and c.endpoint_side(ip1, port1) and \
                    c.endpoint_side(ip2, port2) and (ip1, port1) != (ip2, port2):
                return c
        return None


def read_manifest(path):
    """Rows of a lab manifest (dicts with int ports and byte counts)."""
    rows = []
    with open(path, newline='') as f:
        reader = csv.DictReader(f, delimiter='\t')
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError('%s: missing columns %s' % (path, ', '.join(missing)))
        for row in reader:
            if any(row.get(c) in (None, '') for c in MANIFEST_COLUMNS):
                raise ValueError('%s line %d: a column is empty or missing' %
                                 (path, reader.line_num))
            for k in ('client_port', 'server_port', 'c2s_bytes', 's2c_bytes'):
                row[k] = int(row[k])
            row['client_ip'] = str(ipaddress.ip_address(row['client_ip']))
            row['server_ip'] = str(ipaddress.ip_address(row['server_ip']))
            rows.append(row)
    return rows


def row_name(row):
    """A manifest row as text: proto client -> server (what)."""
    return '%s %s.%d -> %s.%d %s' % (row['proto'], row['client_ip'], row['client_port'],
                                     row['server_ip'], row['server_port'], row.get('what', ''))


def match_manifest(cap, manifest):
    """Pair manifest rows with conversations. Returns (pairs, errors, notes).

    pairs: [(row, conversation, client side 'a'|'b')]; errors: text lines for
    rows the capture contradicts and for conversations no row names (unless
    explained, see EXPLAINED_ICMP6: those are in notes).
    """
    pairs, errors, notes, used = [], [], [], set()
    for row in manifest:
        c = cap.find(row['proto'], row['client_ip'], row['client_port'], row['server_ip'],
                     row['server_port'])
        if c is None:
            errors.append('%s: not in the capture' % row_name(row))
            continue
        if c.key in used:
            errors.append('%s: named twice in the manifest' % row_name(row))
            continue
        used.add(c.key)
        cs = c.endpoint_side(row['client_ip'], row['client_port'])
        ss = 'b' if cs == 'a' else 'a'
        got = (c.d[cs].bytes, c.d[ss].bytes)
        want = (row['c2s_bytes'], row['s2c_bytes'])
        if got != want:
            errors.append('%s: payload bytes client->server, server->client: capture %d, %d; '
                          'manifest %d, %d' % (row_name(row), got[0], got[1], want[0], want[1]))
        pairs.append((row, c, cs))
    for k, c in cap.conversations.items():
        if k in used:
            continue
        why = c.explained()
        if why:
            notes.append('%s is not in the manifest: %s' % (c.describe(), why))
        else:
            errors.append('%s: in the capture, not in the manifest' % c.describe())
    return pairs, errors, notes


def cmd_verify(pcap, manifest_path):
    cap = Capture(pcap)
    manifest = read_manifest(manifest_path)
    pairs, errors, notes = match_manifest(cap, manifest)
    for n in notes:
        print('wtpcap: note: ' + n)
    if cap.non_ip:
        errors.append('%d frames in the capture are not IP' % cap.non_ip)
    for e in errors:
        print('wtpcap: FAIL: ' + e)
    c2s = sum(r['c2s_bytes'] for r, _, _ in pairs)
    s2c = sum(r['s2c_bytes'] for r, _, _ in pairs)
    print('wtpcap: %s: %d frames, %d IP packets, %d conversations; manifest %s: %d rows, '
          '%d/%d payload bytes c2s/s2c: %s' %
          (pcap, cap.frames, cap.ip_packets, len(cap.conversations), manifest_path,
           len(manifest), c2s, s2c, 'MISMATCH' if errors else 'all equal'))
    return 1 if errors else 0


def cmd_records(pcap):
    cap = Capture(pcap)
    w = csv.DictWriter(sys.stdout, RECORD_COLUMNS, lineterminator='\n')
    w.writeheader()
    for c in cap.conversations.values():
        w.writerow(c.as_record())
    return 0


def cmd_count(pcap):
    cap = Capture(pcap)
    print('frames %d ip %d non_ip %d conversations %d' %
          (cap.frames, cap.ip_packets, cap.non_ip, len(cap.conversations)))
    return 0


def main(argv):
    usage = __doc__.split('\n\n')[2].rstrip()
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print('usage:\n' + usage)
        return 0 if len(argv) >= 2 else 2
    cmds = {'verify': (cmd_verify, 2), 'records': (cmd_records, 1), 'count': (cmd_count, 1)}
    if argv[1] not in cmds or len(argv) != 2 + cmds[argv[1]][1]:
        print('wtpcap.py: bad arguments; usage:\n' + usage, file=sys.stderr)
        return 2
    try:
        return cmds[argv[1]][0](*argv[2:])
    except (OSError, PcapError, ValueError) as e:
        print('wtpcap.py: %s' % e, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
