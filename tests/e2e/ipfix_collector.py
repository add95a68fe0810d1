#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ipfix_collector.py: an independent IPFIX (RFC 7011) decoder and UDP/TCP collector for the tests (stdlib only).
"""Decodes IPFIX messages from their templates alone: it knows the IANA
element numbers the tests ask for, nothing of wiretally's templates. A
record is a dict {(pen, id): bytes}; `biflow()` turns one into named
values.

As a program:
  ipfix_collector.py udp|tcp HOST PORT OUT.jsonl [SECONDS]
listens (HOST may be an IPv6 address), writes one JSON object per data
record (the biflow() view, plus the message's sequence number and domain)
and stops after SECONDS without traffic (default 5) or on SIGTERM.
"""
import ipaddress
import json
import select
import signal
import socket
import struct
import sys
import time

REV = 29305    # RFC 5103 reverse PEN
WT_PEN = 32473  # docs/IPFIX.md (RFC 5612 documentation PEN)


class IpfixError(Exception):
    pass


class Decoder:
    """Templates per observation domain (one transport session)."""

    def __init__(self):
        self.templates = {}  # (domain, tid) -> [(pen, id, len)]
        self.expected_seq = {}  # domain -> next sequence number

    def message(self, b):
        """One whole message -> (header dict, [record dict])."""
        if len(b) < 16:
            raise IpfixError('message of %d bytes' % len(b))
        ver, length, etime, seq, dom = struct.unpack('!HHIII', b[:16])
        if ver != 10:
            raise IpfixError('version %d' % ver)
        if length != len(b):
            raise IpfixError('length field %d, message %d bytes' % (length, len(b)))
        hdr = {'export_time': etime, 'seq': seq, 'domain': dom, 'templates': 0,
               'seq_ok': self.expected_seq.get(dom, seq) == seq}
        recs = []
        off = 16
        while off < length:
            if off + 4 > length:
                raise IpfixError('set header past the end')
            sid, slen = struct.unpack('!HH', b[off:off + 4])
            if slen < 4 or off + slen > length:
                raise IpfixError('set %d of length %d at %d' % (sid, slen, off))
            body = b[off + 4:off + slen]
            if sid == 2:
                hdr['templates'] += self._templates(dom, body)
            elif sid >= 256:
                recs.extend(self._data(dom, sid, body))
            elif sid != 3:
                raise IpfixError('set id %d' % sid)
            off += slen
        self.expected_seq[dom] = seq + len(recs)
        for r in recs:
            r['_seq'] = seq
            r['_domain'] = dom
        return hdr, recs

    def _templates(self, dom, body):
        p, n = 0, 0
        while len(body) - p >= 4:
            tid, count = struct.unpack('!HH', body[p:p + 4])
            p += 4
            fields = []
            for _ in range(count):
                if p + 4 > len(body):
                    raise IpfixError('template %d cut' % tid)
                eid, flen = struct.unpack('!HH', body[p:p + 4])
                p += 4
                pen = 0
                if eid & 0x8000:
                    pen, = struct.unpack('!I', body[p:p + 4])
                    p += 4
                    eid &= 0x7fff
                if flen == 0xffff:
                    raise IpfixError('variable-length field in template %d' % tid)
                fields.append((pen, eid, flen))
            self.templates[(dom, tid)] = fields
            n += 1
        return n

    def _data(self, dom, tid, body):
        fields = self.templates.get((dom, tid))
        if fields is None:
            raise IpfixError('data set %d before its template' % tid)
        rlen = sum(f[2] for f in fields)
        out, p = [], 0
        while len(body) - p >= rlen:
            rec = {}
            for pen, eid, flen in fields:
                rec[(pen, eid)] = body[p:p + flen]
                p += flen
            out.append(rec)
        if p != len(body):
            raise IpfixError('%d bytes left over in data set %d' % (len(body) - p, tid))
        return out


def split_stream(data):
    """A byte stream of messages (TCP, file) -> (messages, bytes left)."""
    msgs, off = [], 0
    while len(data) - off >= 4:
        length, = struct.unpack('!H', data[off + 2:off + 4])
        if length < 16:
            raise IpfixError('message length %d at offset %d' % (length, off))
        if len(data) - off < length:
            break
        msgs.append(data[off:off + length])
        off += length
    return msgs, data[off:]


def _num(v):
    return int.from_bytes(v, 'big') if v is not None else None


FLAGS = 'FSRPAUEC'


def flags_text(bits):
    return ''.join(FLAGS[i] for i in range(8) if bits >> i & 1)


def biflow(rec):
    """Named values of one decoded record (None where absent)."""
    g = rec.get
    if (0, 8) in rec:
        src, dst = str(ipaddress.IPv4Address(g((0, 8)))), str(ipaddress.IPv4Address(g((0, 12))))
    else:
        src, dst = str(ipaddress.IPv6Address(g((0, 27)))), str(ipaddress.IPv6Address(g((0, 28))))

    def mac(v):
        return ':'.join('%02x' % x for x in v) if v is not None else None

    def flags(v):
        return flags_text(_num(v)) if v is not None else None
    call_id = g((WT_PEN, 106))
    return {
        'src': src, 'dst': dst, 'sport': _num(g((0, 7))), 'dport': _num(g((0, 11))),
        'proto': _num(g((0, 4))), 'vlan': _num(g((0, 58))),
        'start_ms': _num(g((0, 152))), 'end_ms': _num(g((0, 153))),
        'biflow_direction': _num(g((0, 239))), 'end_reason': _num(g((0, 136))),
        'pkts': _num(g((0, 2))), 'octets': _num(g((0, 1))),
        'rev_pkts': _num(g((REV, 2))), 'rev_octets': _num(g((REV, 1))),
        'flags': flags(g((0, 6))), 'rev_flags': flags(g((REV, 6))),
        'mac': mac(g((0, 56))), 'rev_mac': mac(g((REV, 56))),
        'payload': _num(g((WT_PEN, 101))), 'rev_payload': _num(g((WT_PEN, 0x4000 | 101))),
        'seq_first': _num(g((WT_PEN, 102))), 'rev_seq_first': _num(g((WT_PEN, 0x4000 | 102))),
        'seq_last': _num(g((WT_PEN, 103))), 'rev_seq_last': _num(g((WT_PEN, 0x4000 | 103))),
        'seq_valid': _num(g((WT_PEN, 104))),
        'record_seq': _num(g((WT_PEN, 105))),
        'call_id': call_id.hex() if call_id is not None else None,
        'wt_end_reason': _num(g((WT_PEN, 107))),
        # record version 2: the TCP stream figures per direction
        'tcp_seq': _num(g((WT_PEN, 108))), 'rev_tcp_seq': _num(g((WT_PEN, 0x4000 | 108))),
        'tcp_acked': _num(g((WT_PEN, 109))), 'rev_tcp_acked': _num(g((WT_PEN, 0x4000 | 109))),
        'tcp_retx': _num(g((WT_PEN, 110))), 'rev_tcp_retx': _num(g((WT_PEN, 0x4000 | 110))),
        'tcp_missed': _num(g((WT_PEN, 111))), 'rev_tcp_missed': _num(g((WT_PEN, 0x4000 | 111))),
        'tcp_valid': _num(g((WT_PEN, 112))),
        'msg_seq': rec.get('_seq'), 'domain': rec.get('_domain'),
        **tunnel_fields(g),
    }


def tunnel_fields(g):
    """Record version 2's tunnel elements (docs/IPFIX.md), None when absent."""
    chain, ids = g((WT_PEN, 113)), g((WT_PEN, 114))
    fam = _num(g((WT_PEN, 117)))

    def outer(v):
        if v is None or not fam:
            return None
        return str(ipaddress.IPv4Address(v[:4]) if fam == 4 else ipaddress.IPv6Address(v))
    return {
        'tun_chain': list(chain) if chain is not None else None,
        'tun_ids': [int.from_bytes(ids[i:i + 4], 'big') for i in range(0, 16, 4)]
        if ids is not None else None,
        'tun_ids_valid': _num(g((WT_PEN, 115))),
        'teid': _num(g((WT_PEN, 116))), 'rev_teid': _num(g((WT_PEN, 0x4000 | 116))),
        'outer_family': fam,
        'outer_src': outer(g((WT_PEN, 118))), 'rev_outer_src': outer(g((WT_PEN, 0x4000 | 118))),
    }


class Collector:
    """A listening UDP or TCP collector; call poll() until done."""

    def __init__(self, transport, host, port):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        self.transport = transport
        if transport == 'udp':
            self.sock = socket.socket(fam, socket.SOCK_DGRAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        else:
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        if transport == 'tcp':
            self.sock.listen(4)
        self.conns = []  # [sock, buffer, decoder]
        self.decoder = Decoder()  # UDP: one session
        self.records, self.messages, self.errors = [], [], []
        self.connections = 0

    def poll(self, timeout):
        """Wait up to timeout s; @return True when something arrived."""
        socks = [self.sock] + [c[0] for c in self.conns]
        r, _, _ = select.select(socks, [], [], timeout)
        for s in r:
            if s is self.sock and self.transport == 'tcp':
                c, _ = s.accept()
                self.conns.append([c, b'', Decoder()])
                self.connections += 1
            elif s is self.sock:
                data = s.recv(65535)
                self._messages([data], self.decoder, len(data))
            else:
                c = next(x for x in self.conns if x[0] is s)
                try:
                    data = s.recv(1 << 20)
                except ConnectionError:
                    data = b''
                if not data:
                    if c[1]:
                        self.errors.append('connection closed inside a message')
                    s.close()
                    self.conns.remove(c)
                    continue
                msgs, c[1] = split_stream(c[1] + data)
                self._messages(msgs, c[2], None)
        return bool(r)

    def _messages(self, msgs, dec, size):
        for m in msgs:
            try:
                hdr, recs = dec.message(m)
            except IpfixError as e:
                self.errors.append(str(e))
                continue
            hdr['size'] = size if size is not None else len(m)
            self.messages.append(hdr)
            self.records.extend(recs)

    def close(self):
        for c in self.conns:
            c[0].close()
        self.sock.close()


def main(argv):
    if len(argv) not in (5, 6) or argv[1] not in ('udp', 'tcp'):
        print(__doc__, file=sys.stderr)
        return 2
    col = Collector(argv[1], argv[2], int(argv[3]))
    quiet_s = float(argv[5]) if len(argv) > 5 else 5.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    last = time.monotonic()
    while not stop and time.monotonic() - last < quiet_s:
        if col.poll(0.2):
            last = time.monotonic()
    with open(argv[4], 'w') as f:
        for r in col.records:
            f.write(json.dumps(biflow(r)) + '\n')
    for e in col.errors:
        print('ipfix_collector: %s' % e, file=sys.stderr)
    col.close()
    return 1 if col.errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
