#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# ipfix.py: IPFIX export checked against an independent decoder and real collectors (nfdump, tshark, pmacct, PostgreSQL).
"""Usage: ipfix.py TEST WIRETALLY READER SAMPLE_PCAP [CORPUS_PCAPS_DIR]

TEST is one of:
  decode   wiretally-read --ipfix over UDP (IPv4 and IPv6 collector), TCP,
           and --format ipfix (file) into tests/e2e/ipfix_collector.py, an
           independent template-driven decoder: every element of every
           record equals the CSV; message sizes, sequence numbers, domain;
           --ipfix-rate; the reader's errors (bad URL, refused TCP, a
           terminal, --check)
  nfdump   nfcapd receives the monitor's UDP stream (IPv4 collector) and
           the reader's (IPv6 collector); per connection, nfdump -o csv
           shows the initiator's and the responder's packets and IP bytes
           of the CSV, the flags and the source MAC
  tshark   tcpdump records the UDP stream on lo; tshark decodes it with no
           expert warning or error (malformed, sequence), every flow equals
           the CSV; and the same for the --format ipfix file
  monitor  wiretally --ipfix: UDP to an IPv6 collector, TCP to a collector
           that starts late, TCP on a log that holds an earlier run (the
           sender follows the log through segment rolls, the spool, and
           segments compressed while a late collector kept it waiting: this
           run's records, every one once), to one that never comes
           (counted, summary, exit 0, log complete), a bad URL
  nfacctd  pmacct's nfacctd (print plugin, config/wiretally-primitives.lst)
           collects the monitor's stream (IPv4) and the reader's (IPv6):
           every record's fields, both directions, equal the CSV
  billing  PostgreSQL 15 started in a temporary directory, nfacctd with
           config/nfacctd-billing.conf and config/billing-schema.sql,
           wiretally --ipfix from captures; one SQL query per connection on
           the wt_billing view equals the CSV totals per direction
Records come from the monitor run on SAMPLE_PCAP, on a capture this script
writes (VLAN tags, a TCP connection without SYN, a reset, ICMP) and, for
decode and nfdump, on the corpus captures when the directory exists.
Exit 0 pass, 1 fail, 77 skipped (a tool is missing; the reason is printed).
"""
import collections
import csv
import io
import ipaddress
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ipfix_collector as ic  # noqa: E402
import pcapgen  # noqa: E402
from e2e import Failed, Skip, log  # noqa: E402

SKIP = 77
PROTO = {'tcp': 6, 'udp': 17, 'icmp': 1, 'icmp6': 58}
END = {'idle': 1, 'active': 2, 'evicted': 3, 'shutdown': 4}


def need(tool, package):
    path = shutil.which(tool)
    if path is None:
        raise Skip('%s is not installed (Debian package %s; scripts/setup.sh installs it)' %
                   (tool, package))
    return path


def run(cmd, timeout=300, ok=(0,), stdout=subprocess.PIPE):
    p = subprocess.run([str(c) for c in cmd], stdout=stdout, stderr=subprocess.PIPE,
                       timeout=timeout)
    if p.returncode not in ok:
        raise Failed('%s exited %d:\n%s' % (' '.join(map(str, cmd)), p.returncode,
                                            p.stderr.decode(errors='replace')))
    return p


def free_port(kind=socket.SOCK_DGRAM, family=socket.AF_INET):
    s = socket.socket(family, kind)
    s.bind(('::1' if family == socket.AF_INET6 else '127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def norm_addr(a):
    return str(ipaddress.ip_address(a))


# ---- the records: the monitor on captures -----------------------------------

def gen_pcap(path):
    """Connections the sample lacks: VLAN tags, TCP without SYN, a reset, ICMP."""
    m = [b'\x02\x00\x00\x00\x10' + bytes([i]) for i in range(8)]
    c1, s1 = [10, 1, 0, 1], [10, 1, 0, 2]
    t = 1800000000 * 1000000
    fr = []

    def add(dt, frame):
        nonlocal t
        t += dt
        fr.append((t, frame))
    # TCP on VLAN 100, a complete connection
    add(10, pcapgen.tcp4(c1, 40000, s1, 80, 0x02, 1000, 0, m[0], m[1], vlan=100))
    add(10, pcapgen.tcp4(s1, 80, c1, 40000, 0x12, 5000, 0, m[1], m[0], vlan=100))
    add(10, pcapgen.tcp4(c1, 40000, s1, 80, 0x18, 1001, 300, m[0], m[1], vlan=100))
    add(1500, pcapgen.tcp4(s1, 80, c1, 40000, 0x18, 5001, 1000, m[1], m[0], vlan=100))
    add(10, pcapgen.tcp4(c1, 40000, s1, 80, 0x11, 1301, 0, m[0], m[1], vlan=100))
    add(10, pcapgen.tcp4(s1, 80, c1, 40000, 0x11, 6001, 0, m[1], m[0], vlan=100))
    # TCP seen from the middle: no SYN, origin unknown
    a, b = [10, 2, 0, 1], [10, 2, 0, 2]
    add(2000, pcapgen.tcp4(a, 5555, b, 6666, 0x18, 77, 100, m[2], m[3]))
    add(10, pcapgen.tcp4(b, 6666, a, 5555, 0x10, 99, 0, m[3], m[2]))
    # TCP refused: SYN, RST+ACK
    add(3000, pcapgen.tcp4([10, 4, 0, 1], 41000, [10, 4, 0, 2], 22, 0x02, 9, 0, m[4], m[5]))
    add(10, pcapgen.tcp4([10, 4, 0, 2], 22, [10, 4, 0, 1], 41000, 0x14, 0, 0, m[5], m[4]))
    # UDP on VLAN 200, one direction only
    add(1000, pcapgen.udp4([10, 5, 0, 1], 5353, [10, 5, 0, 2], 53, 40, m[6], m[7], vlan=200))
    add(10, pcapgen.udp4([10, 5, 0, 1], 5353, [10, 5, 0, 2], 53, 44, m[6], m[7], vlan=200))
    # ICMP echo request and reply
    icmp = bytes([8, 0, 0, 0, 0, 1, 0, 1]) + bytes(56)
    add(1000, pcapgen.eth(pcapgen.ipv4([10, 6, 0, 1], [10, 6, 0, 2], 1, icmp), m[0], m[1]))
    icmp = bytes([0, 0, 0, 0, 0, 1, 0, 1]) + bytes(56)
    add(500, pcapgen.eth(pcapgen.ipv4([10, 6, 0, 2], [10, 6, 0, 1], 1, icmp), m[1], m[0]))
    pcapgen.write(path, pcapgen.pcap_bytes(fr))


def monitor(wiretally, pcap, logdir):
    """Run the monitor on one capture into logdir. @return False when the
    monitor refuses the capture (e.g. not Ethernet: some corpus files)."""
    p = subprocess.run([wiretally, '--pcap', pcap, '-o', logdir, '-q', '--spool', 'off'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode == 1 and b'capture' in p.stderr:
        return False
    if p.returncode != 0:
        raise Failed('wiretally --pcap %s exited %d:\n%s' %
                     (pcap, p.returncode, p.stderr.decode(errors='replace')))
    return True


# Corpus captures with connections inside tunnels (record version 2's tunnel
# elements): GTP-U, Geneve/VXLAN, 6in4, GRE.
TUNNEL_CAPTURES = ('zeek-gtp-outer-frag.pcap', 'zeek-geneve-vxlan-trunc.pcap',
                   'ndpi-6in4tunnel.pcap', 'zeek-gre.pcap')


def build_log(tmp, wiretally, sample, corpus=None, only=None):
    """A log of the sample, a generated capture and the corpus (@only: these
    corpus captures)."""
    logdir = os.path.join(tmp, 'log')
    os.mkdir(logdir)
    gen = os.path.join(tmp, 'gen.pcap')
    gen_pcap(gen)
    pcaps = [sample, gen]
    if corpus and os.path.isdir(corpus):
        pcaps += sorted(os.path.join(corpus, f) for f in os.listdir(corpus)
                        if f.endswith(('.pcap', '.pcapng')) and (only is None or f in only))
    used = [p for p in pcaps if monitor(wiretally, p, logdir)]
    log('log: %d captures (%d refused by the monitor)' % (len(used), len(pcaps) - len(used)))
    return logdir


def csv_records(reader, logdir):
    out = run([reader, '--format', 'csv', logdir]).stdout.decode()
    return list(csv.DictReader(io.StringIO(out)))


def flow_end_reason(c):
    """docs/IPFIX.md section 3."""
    if c['end_reason'] in ('active', 'evicted'):
        return {'active': 2, 'evicted': 5}[c['end_reason']]
    fl = c['a_flags'] + c['b_flags']
    if c['proto'] == 'tcp' and ('R' in fl or ('F' in c['a_flags'] and 'F' in c['b_flags'])):
        return 3
    return 1 if c['end_reason'] == 'idle' else 4


def expect(c):
    """The biflow a CSV record must become (docs/IPFIX.md sections 1-3)."""
    f, r = ('b', 'a') if c['origin'] == 'b' else ('a', 'b')
    proto = PROTO[c['proto']] if c['proto'] in PROTO else int(c['proto'])
    e = {
        'src': norm_addr(c[f + '_addr']), 'dst': norm_addr(c[r + '_addr']),
        'sport': int(c[f + '_port']), 'dport': int(c[r + '_port']), 'proto': proto,
        'vlan': int(c['vlan'] or 0),
        'start_ms': int(c['start_ns']) // 10**6, 'end_ms': int(c['end_ns']) // 10**6,
        'biflow_direction': 0 if c['origin'] == 'unknown' else 1,
        'end_reason': flow_end_reason(c),
        'pkts': int(c[f + '_pkts']), 'octets': int(c[f + '_ip_bytes']),
        'rev_pkts': int(c[r + '_pkts']), 'rev_octets': int(c[r + '_ip_bytes']),
        'mac': c[f + '_mac'] or '00:00:00:00:00:00',
        'rev_mac': c[r + '_mac'] or '00:00:00:00:00:00',
        'payload': int(c[f + '_bytes']), 'rev_payload': int(c[r + '_bytes']),
        'record_seq': int(c['seq']), 'call_id': c['call_id'],
        'wt_end_reason': END[c['end_reason']],
    }
    if proto == 6:
        e['flags'], e['rev_flags'] = c[f + '_flags'], c[r + '_flags']
        valid = 0
        for bit, d, name in ((1, f, ''), (2, r, 'rev_')):
            if c[d + '_first_seq'] != '':
                valid |= bit
                e[name + 'seq_first'] = int(c[d + '_first_seq'])
                e[name + 'seq_last'] = int(c[d + '_last_seq'])
        e['seq_valid'] = valid
        # record version 2 (docs/IPFIX.md): a TCP record of version 1 sends
        # zeros with wtTcpFiguresValid 0; an empty acked column sends 0
        tv = 1 if c['a_seq_bytes'] != '' else 0
        for d, name, bit in ((f, '', 2), (r, 'rev_', 4)):
            for col, key in (('_seq_bytes', 'tcp_seq'), ('_retx_bytes', 'tcp_retx'),
                             ('_missed_bytes', 'tcp_missed'), ('_acked_bytes', 'tcp_acked')):
                e[name + key] = int(c[d + col] or 0)
            if c[d + '_acked_bytes'] != '':
                tv |= bit
        e['tcp_valid'] = tv
    e.update(expect_tunnel(c, f, r))
    return e


TUNNELS = {'gre': 1, 'ipip': 2, 'vxlan': 3, 'geneve': 4, 'gtpu': 5, 'teredo': 6}


def expect_tunnel(c, f, r):
    """The tunnel elements of a CSV record (docs/IPFIX.md), from its columns:
    no tunnel elements at all (another template) without a tunnel."""
    if c['tunnel'] == '':
        return {k: None for k in ('tun_chain', 'tun_ids', 'teid', 'outer_src')}
    types = [TUNNELS[t] for t in c['tunnel'].split('/')]
    levels = c['tunnel_id'].split('/') if c['tunnel_id'] else [''] * len(types)
    ids, valid, teid = [0, 0, 0, 0], 0, {'a': None, 'b': None}
    for i, (t, v) in enumerate(zip(types, levels)):
        if t == TUNNELS['gtpu'] and teid['a'] is None and teid['b'] is None:
            ta, _, tb = v.partition(':')
            teid = {'a': int(ta) if ta else None, 'b': int(tb) if tb else None}
        elif t != TUNNELS['gtpu'] and v != '':
            ids[i] = int(v)
            valid |= 1 << i
    valid |= (0x10 if teid[f] is not None else 0) | (0x20 if teid[r] is not None else 0)
    fam = ipaddress.ip_address(c['outer_a_addr']).version if c['outer_a_addr'] else 0
    return {
        'tun_chain': [len(types)] + types + [0] * (4 - len(types)),
        'tun_ids': ids, 'tun_ids_valid': valid,
        'teid': teid[f] or 0, 'rev_teid': teid[r] or 0, 'outer_family': fam,
        'outer_src': norm_addr(c['outer_%s_addr' % f]) if fam else None,
        'rev_outer_src': norm_addr(c['outer_%s_addr' % r]) if fam else None,
    }


def compare(got, want, what):
    """Every expected key of one flow; @return error lines."""
    errs = []
    for k, v in want.items():
        if got.get(k) != v:
            errs.append('%s: %s is %r, the CSV says %r' % (what, k, got.get(k), v))
    return errs


def compare_decoded(records, biflows, what):
    """Decoded biflows (the collector's view) against the CSV, by record seq."""
    want = {int(c['seq']): expect(c) for c in records}
    got = collections.defaultdict(list)
    for b in biflows:
        got[b['record_seq']].append(b)
    errs = []
    for s, w in sorted(want.items()):
        g = got.get(s, [])
        if len(g) != 1:
            errs.append('%s: record seq %d arrived %d times' % (what, s, len(g)))
            continue
        errs += compare(g[0], w, '%s seq %d' % (what, s))
    extra = set(got) - set(want)
    if extra:
        errs.append('%s: records that are not in the log: %s' % (what, sorted(extra)[:5]))
    return errs


def fail_if(errs):
    if errs:
        raise Failed('\n'.join(errs[:40]) + ('\n... %d more' % (len(errs) - 40)
                                             if len(errs) > 40 else ''))


# ---- decode: our own collector ------------------------------------------------

def collect_while(col, proc, quiet=0.5, limit=120):
    """Poll the collector while proc runs and until quiet s after it ended."""
    t0 = time.monotonic()
    end = None
    while time.monotonic() - t0 < limit:
        got = col.poll(0.05)
        if proc.poll() is not None:
            if end is None or got:
                end = time.monotonic()
            elif time.monotonic() - end > quiet:
                break
    return proc.wait()


def send_to_collector(reader, logdir, transport, host, extra=()):
    fam = socket.AF_INET6 if ':' in host else socket.AF_INET
    port = free_port(socket.SOCK_DGRAM if transport == 'udp' else socket.SOCK_STREAM, fam)
    col = ic.Collector(transport, host, port)
    url = '%s://%s:%d' % (transport, '[%s]' % host if ':' in host else host, port)
    proc = subprocess.Popen([reader, '--ipfix', url] + list(extra) + [logdir],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    rc = collect_while(col, proc)
    err = proc.stderr.read().decode()
    out = proc.stdout.read().decode()
    col.close()
    if rc != 0:
        raise Failed('wiretally-read --ipfix %s exited %d: %s' % (url, rc, err))
    if out:
        raise Failed('wiretally-read --ipfix %s wrote on stdout: %r' % (url, out[:200]))
    return col, url, err


def check_stream(col, url, nrec, domain, udp, tunnels):
    """@tunnels: the log has tunnelled records (their 4 templates come in a
    template set of their own before the first of them; the decoder fails a
    data set that comes before its template)."""
    errs = ['%s: decoder: %s' % (url, e) for e in col.errors]
    if not col.messages:
        return errs + ['%s: no message arrived' % url]
    if not all(m['seq_ok'] for m in col.messages):
        errs.append('%s: a sequence number does not count the records before it' % url)
    if any(m['domain'] != domain for m in col.messages):
        errs.append('%s: observation domain is not %d' % (url, domain))
    if col.messages[0]['templates'] not in (4, 8):
        errs.append('%s: the first message has %d templates, not 4 or 8' %
                    (url, col.messages[0]['templates']))
    if udp and max(m['size'] for m in col.messages) > 1400:
        errs.append('%s: a datagram of %d bytes (> 1400)' %
                    (url, max(m['size'] for m in col.messages)))
    want = 8 if tunnels else 4
    if not udp and sum(m['templates'] for m in col.messages) != want:
        errs.append('%s: %d templates on one connection, not each of the %d once' %
                    (url, sum(m['templates'] for m in col.messages), want))
    log('%s: %d records in %d messages' % (url, len(col.records), len(col.messages)))
    return errs


def test_decode(tmp, wiretally, reader, sample, corpus):
    logdir = build_log(tmp, wiretally, sample, corpus)
    records = csv_records(reader, logdir)
    log('%d records in the log' % len(records))
    errs = []
    cases = [('udp', '127.0.0.1', 1), ('udp', '::1', 4242), ('tcp', '::1', 7),
             ('tcp', '127.0.0.1', 1)]
    for transport, host, domain in cases:
        extra = [] if domain == 1 else ['--ipfix-domain', str(domain)]
        col, url, err = send_to_collector(reader, logdir, transport, host, extra)
        m = re.search(r'IPFIX: (\d+) records in (\d+) messages', err)
        if not m or int(m.group(1)) != len(records) or int(m.group(2)) != len(col.messages):
            errs.append('%s: the summary line %r does not say %d records in %d messages' %
                        (url, err.strip(), len(records), len(col.messages)))
        errs += check_stream(col, url, len(records), domain, transport == 'udp',
                             any(c['tunnel'] for c in records))
        errs += compare_decoded(records, [ic.biflow(r) for r in col.records], url)
    # --ipfix-rate: the records go no faster than asked (a lower bound only)
    rate = 2000
    t0 = time.monotonic()
    col, url, err = send_to_collector(reader, logdir, 'udp', '127.0.0.1',
                                      ['--ipfix-rate', str(rate)])
    took = time.monotonic() - t0
    errs += compare_decoded(records, [ic.biflow(r) for r in col.records], url + ' (paced)')
    log('--ipfix-rate %d: %d records in %.2f s' % (rate, len(records), took))
    if took < (len(records) - 1) / rate * 0.9:
        errs.append('--ipfix-rate %d sent %d records in %.2f s' % (rate, len(records), took))
    # the file: RFC 5655, templates first then data
    path = os.path.join(tmp, 'out.ipfix')
    with open(path, 'wb') as f:
        run([reader, '--format', 'ipfix', logdir], stdout=f)
    data = open(path, 'rb').read()
    msgs, rest = ic.split_stream(data)
    dec = ic.Decoder()
    recs, tpl_msgs, tpls = [], 0, 0
    for i, m in enumerate(msgs):
        hdr, rr = dec.message(m)
        tpl_msgs += hdr['templates'] > 0
        tpls += hdr['templates']
        if i == 0 and hdr['templates'] not in (4, 8):
            errs.append('file: the first message does not start with the templates')
        if not hdr['seq_ok']:
            errs.append('file: message %d has sequence number %d' % (i, hdr['seq']))
        recs += rr
    if rest:
        errs.append('file: %d bytes after the last whole message' % len(rest))
    want = 8 if any(c['tunnel'] for c in records) else 4
    if tpls != want or tpl_msgs > 2:
        errs.append('file: %d templates in %d messages, not each of the %d once' %
                    (tpls, tpl_msgs, want))
    errs += compare_decoded(records, [ic.biflow(r) for r in recs], 'file')
    log('file: %d records in %d messages, %d bytes' % (len(recs), len(msgs), len(data)))
    errs += reader_errors(reader, logdir)
    fail_if(errs)


def reader_errors(reader, logdir):
    """One line naming the cause, exit 1."""
    errs = []

    def expect_error(args, pattern, stdout=subprocess.PIPE):
        p = subprocess.run([reader] + args, stdout=stdout, stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode()
        if p.returncode != 1 or not re.search(pattern, err):
            errs.append('wiretally-read %s: exit %d, stderr %r (want 1 and /%s/)' %
                        (' '.join(args), p.returncode, err, pattern))
    expect_error(['--ipfix', 'http://x:1', logdir], r"--ipfix: .*'http://x:1'.*udp://")
    expect_error(['--ipfix', 'udp://::1:4739', logdir], r'brackets')
    expect_error(['--ipfix', 'udp://h:99999', logdir], r"'99999' is not a port")
    expect_error(['--ipfix', 'udp://no-such-host.invalid:4739', logdir],
                 r'cannot resolve .no-such-host\.invalid')
    port = free_port(socket.SOCK_STREAM)
    expect_error(['--ipfix', 'tcp://127.0.0.1:%d' % port, logdir],
                 r'cannot connect: Connection refused')
    expect_error(['--ipfix', 'udp://127.0.0.1:4739', '--check', logdir], r'not with --stats')
    expect_error(['--ipfix-domain', '-1', '--format', 'ipfix', logdir], r'--ipfix-domain')
    expect_error(['--ipfix-template-refresh', '0', '--ipfix', 'udp://127.0.0.1:9', logdir],
                 r'--ipfix-template-refresh')
    expect_error(['--format', 'xml', logdir], r'csv, json or ipfix')
    expect_error(['--ipfix-rate', 'fast', '--format', 'ipfix', logdir], r'--ipfix-rate')
    master, slave = pty.openpty()
    try:
        expect_error(['--format', 'ipfix', logdir], r'terminal', stdout=slave)
    finally:
        os.close(master)
        os.close(slave)
    return errs


# ---- nfdump ---------------------------------------------------------------------

# nfdump's protocol names (its protocol table); numbers for the rest
NFPROTO = {'ICMP': 1, 'IGMP': 2, 'IPIP': 4, 'TCP': 6, 'UDP': 17, 'IPv6': 41, 'RSVP': 46,
           'GRE': 47, 'ESP': 50, 'AH': 51, 'ICMP6': 58, 'NOHE6': 59, 'EIGRP': 88, 'OSPF': 89,
           'PIM': 103, 'SCTP': 132}


def nfdump_flows(nfdump, nfdir):
    out = run([nfdump, '-R', nfdir, '-o', 'csv']).stdout.decode()
    rows = list(csv.reader(io.StringIO(out)))
    head = 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt'.split(',')
    flows = []
    cols = None
    for row in rows:
        if row[:len(head)] == head:
            cols = row
            continue
        if cols is None or len(row) != len(cols):
            continue
        d = dict(zip(cols, row))
        pr = d['pr'].strip()
        flows.append((NFPROTO.get(pr, int(pr) if pr.isdigit() else pr),
                      norm_addr(d['sa']), int(d['sp']), norm_addr(d['da']), int(d['dp']),
                      int(d['ipkt']), int(d['ibyt']), int(d['opkt']), int(d['obyt']),
                      d['flg'].strip(), d['ismc']))
    return flows


def nf_flags(letters):
    """CSV letters -> nfdump's 8-column flags text (CEUAPRSF positions)."""
    order = 'CEUAPRSF'
    return ''.join(ch if ch in letters else '.' for ch in order)


def nfdump_want(records):
    want = collections.Counter()
    for c in records:
        e = expect(c)
        flg = nf_flags(e.get('flags', ''))
        want[(e['proto'], e['src'], e['sport'], e['dst'], e['dport'], e['pkts'], e['octets'],
              e['rev_pkts'], e['rev_octets'], flg, e['mac'])] += 1
    return want


def capture_list(sample, gen, corpus, most):
    """The sample, the generated capture and corpus captures, at most @most."""
    pcaps = [sample, gen]
    if corpus and os.path.isdir(corpus):
        pcaps += sorted(os.path.join(corpus, f) for f in os.listdir(corpus)
                        if f.endswith(('.pcap', '.pcapng')))
    return pcaps[:most]


def test_nfdump(tmp, wiretally, reader, sample, corpus):
    """nfcapd on 127.0.0.1 gets the monitor's stream, on ::1 the reader's."""
    nfcapd = need('nfcapd', 'nfdump')
    nfdump = need('nfdump', 'nfdump')
    gen = os.path.join(tmp, 'gen.pcap')
    gen_pcap(gen)
    errs = []
    for host, source in (('127.0.0.1', 'monitor'), ('::1', 'reader')):
        v = 'v6' if ':' in host else 'v4'
        nfdir = os.path.join(tmp, 'nf-' + v)
        os.mkdir(nfdir)
        port = free_port(socket.SOCK_DGRAM, socket.AF_INET6 if ':' in host else socket.AF_INET)
        url = 'udp://%s:%d' % ('[%s]' % host if ':' in host else host, port)
        args = [nfcapd, '-w', nfdir, '-p', str(port), '-b', host, '-t', '3600', '-B', '8388608']
        if ':' in host:
            args.append('-6')
        nlog = open(os.path.join(tmp, 'nfcapd-%s.log' % v), 'w+')
        proc = subprocess.Popen(args, stdout=nlog, stderr=subprocess.STDOUT)
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 10:
                nlog.seek(0)
                if 'Startup' in nlog.read() or proc.poll() is not None:
                    break
                time.sleep(0.05)
            if proc.poll() is not None:
                nlog.seek(0)
                raise Failed('nfcapd did not start: %s' % nlog.read())
            if source == 'monitor':  # one run, up to 16 capture ports merged by time
                logdir = os.path.join(tmp, 'log-monitor')
                mon = monitor_ipfix(wiretally, capture_list(sample, gen, corpus, 16), logdir,
                                    url)
                _, err = mon.communicate(timeout=300)
                if mon.returncode != 0:
                    raise Failed('wiretally --ipfix %s: %s' % (url, err.decode()))
            else:  # every capture into one log, sent by the reader
                logdir = os.path.join(tmp, 'log-reader')
                os.mkdir(logdir)
                used = [p for p in capture_list(sample, gen, corpus, 1000)
                        if monitor(wiretally, p, logdir)]
                log('log: %d captures' % len(used))
                run([reader, '--ipfix', url, logdir])
            time.sleep(1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        records = csv_records(reader, logdir)
        want = nfdump_want(records)
        nlog.seek(0)
        text = nlog.read()
        m = re.search(r'Flows: (\d+), Packets: (\d+), Bytes: (\d+), Sequence Errors: (\d+), '
                      r'Bad Packets: (\d+)', text)
        if not m or int(m.group(4)) or int(m.group(5)):
            errs.append('nfcapd (%s) reports sequence errors or bad packets: %s' %
                        (host, m.group(0) if m else text[-500:]))
        got = collections.Counter(nfdump_flows(nfdump, nfdir))
        log('nfdump (the %s to %s): %d flows, the log %d records' %
            (source, url, sum(got.values()), len(records)))
        for k in sorted(set(want) | set(got), key=str):
            if want[k] != got[k]:
                errs.append('nfdump (%s): %s: %d in nfdump, %d in the CSV' %
                            (source, k, got[k], want[k]))
        tot_p = sum(int(c['a_pkts']) + int(c['b_pkts']) for c in records)
        if m and int(m.group(2)) != tot_p:
            errs.append('nfcapd (%s) counted %s packets, the CSV %d' % (source, m.group(2), tot_p))
    fail_if(errs)


# ---- tshark ---------------------------------------------------------------------

ENT = re.compile(r'Type (\d+): Value \(hex bytes\): ([0-9a-f ]+)')


def tshark_flows(tshark, args):
    """Flows of a tshark PDML decode: a dict per flow in biflow() names."""
    out = run([tshark, '-T', 'pdml'] + args).stdout.decode()
    root = ET.fromstring(out)
    flows = []
    for proto in root.iter('proto'):
        if proto.get('name') != 'cflow':
            continue
        for fs in proto.iter('field'):
            if not (fs.get('show') or '').startswith('Flow '):
                continue
            f = {}
            for el in fs.iter('field'):
                name, show, sn = el.get('name'), el.get('show'), el.get('showname') or ''
                rev = 'rev_' if '(Reverse Type' in sn else ''
                if name in ('cflow.srcaddr', 'cflow.srcaddrv6'):
                    f['src'] = norm_addr(show)
                elif name in ('cflow.dstaddr', 'cflow.dstaddrv6'):
                    f['dst'] = norm_addr(show)
                elif name == 'cflow.srcport':
                    f['sport'] = int(show)
                elif name == 'cflow.dstport':
                    f['dport'] = int(show)
                elif name == 'cflow.protocol':
                    f['proto'] = int(show)
                elif name == 'cflow.vlanid':
                    f['vlan'] = int(show)
                elif name == 'cflow.biflow_direction':
                    f['biflow_direction'] = int(show)
                elif name == 'cflow.flow_end_reason':
                    f['end_reason'] = int(show)
                elif name == 'cflow.packets':
                    f[rev + 'pkts'] = int(show)
                elif name == 'cflow.octets':
                    f[rev + 'octets'] = int(show)
                elif name == 'cflow.srcmac':
                    f[rev + 'mac'] = show
                elif name == 'cflow.tcpflags':
                    f[rev + 'flags'] = ic.flags_text(int(show, 16))
                elif name in ('cflow.abstimestart', 'cflow.abstimeend'):
                    f['start_ms' if name.endswith('start') else 'end_ms'] = \
                        int(el.get('value'), 16)
                elif name == 'cflow.enterprise_private_entry' or 'Enterprise Private' in sn:
                    m = ENT.search(sn)
                    if m:
                        v = bytes.fromhex(m.group(2).replace(' ', ''))
                        f['pen32473/%s' % m.group(1)] = v
            r = 0x4000
            ent = {101: 'payload', r | 101: 'rev_payload', 102: 'seq_first',
                   r | 102: 'rev_seq_first', 103: 'seq_last', r | 103: 'rev_seq_last',
                   104: 'seq_valid', 105: 'record_seq', 107: 'wt_end_reason',
                   108: 'tcp_seq', r | 108: 'rev_tcp_seq', 109: 'tcp_acked',
                   r | 109: 'rev_tcp_acked', 110: 'tcp_retx', r | 110: 'rev_tcp_retx',
                   111: 'tcp_missed', r | 111: 'rev_tcp_missed', 112: 'tcp_valid'}
            for t, k in ent.items():
                v = f.pop('pen32473/%d' % t, None)
                if v is not None:
                    f[k] = int.from_bytes(v, 'big')
            v = f.pop('pen32473/106', None)
            if v is not None:
                f['call_id'] = v.hex()
            # record version 2's tunnel elements: the collector's decoding of the bytes
            f.update(ic.tunnel_fields(lambda k: f.pop('pen32473/%d' % k[1], None)))
            flows.append(f)
    return flows


def tshark_expert(tshark, args):
    out = run([tshark, '-q', '-z', 'expert'] + args).stdout.decode()
    return [line for line in out.splitlines() if re.match(r'(Errors|Warns) \(\d+\)', line)], out


def test_tshark(tmp, wiretally, reader, sample, corpus):
    tshark = need('tshark', 'tshark')
    tcpdump = need('tcpdump', 'tcpdump')
    logdir = build_log(tmp, wiretally, sample, corpus, TUNNEL_CAPTURES)
    if not any(c['tunnel'] for c in csv_records(reader, logdir)):
        log('NOTE: no corpus: the tunnel elements are not shown to tshark')
    records = csv_records(reader, logdir)
    errs = []
    port = free_port()
    col = ic.Collector('udp', '127.0.0.1', port)  # so that no ICMP comes back
    cap = os.path.join(tmp, 'ipfix.pcap')
    td = subprocess.Popen([tcpdump, '-i', 'lo', '-U', '-w', cap, 'udp', 'port', str(port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        line = td.stderr.readline().decode()
        if 'listening' not in line:
            raise Failed('tcpdump did not start: %s' % line)
        proc = subprocess.Popen([reader, '--ipfix', 'udp://127.0.0.1:%d' % port,
                                 '--ipfix-template-refresh', '0.1', logdir],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if collect_while(col, proc) != 0:
            raise Failed('wiretally-read --ipfix: %s' % proc.stderr.read().decode())
        time.sleep(0.5)
    finally:
        td.send_signal(signal.SIGINT)
        td.wait(timeout=30)
        col.close()
    for what, args in (('UDP capture', ['-r', cap, '-d', 'udp.port==%d,cflow' % port]),
                       ('file', None)):
        if args is None:
            path = os.path.join(tmp, 'out.ipfix')
            with open(path, 'wb') as f:
                run([reader, '--format', 'ipfix', logdir], stdout=f)
            args = ['-r', path]
        bad, text = tshark_expert(tshark, args)
        if bad:
            errs.append('tshark (%s) has expert warnings or errors:\n%s' % (what, text))
        flows = tshark_flows(tshark, args)
        log('tshark (%s): %d flows' % (what, len(flows)))
        errs += compare_decoded(records, flows, 'tshark ' + what)
    fail_if(errs)


# ---- the monitor: --ipfix ----------------------------------------------------

def many_udp_pcap(path, n):
    """n one-packet UDP connections (a queue-overflow load)."""
    t = 1810000000 * 1000000
    fr = [(t + i * 10, pcapgen.udp4([10, 9, i >> 8, i & 255], 1024 + i, [10, 8, 0, 1], 53, 20))
          for i in range(n)]
    pcapgen.write(path, pcapgen.pcap_bytes(fr))


def monitor_ipfix(wiretally, pcaps, logdir, url, extra=(), spool=False):
    """The monitor with --ipfix URL: a Popen (stderr is a pipe). spool:
    its default spool (hugetlbfs when there is room), else none."""
    os.makedirs(logdir, exist_ok=True)
    args = [wiretally, '-o', logdir, '--ipfix', url] + ([] if spool else ['--spool', 'off']) + \
        list(extra)
    for p in pcaps:
        args += ['--pcap', p]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def monitor_stats(reader, logdir):
    out = run([reader, '--stats', logdir]).stdout.decode()
    return {k: int(v) for k, v in re.findall(r'^(ipfix\.\w+)=(\d+)$', out, re.M)}


def ipfix_telemetry(tmp, wiretally, sample):
    """/wiretally/ipfix through DPDK's dpdk-telemetry.py. @return errors."""
    tool = shutil.which('dpdk-telemetry.py')
    if tool is None:
        log('NOTE: dpdk-telemetry.py is not installed (Debian package dpdk-dev): '
            '/wiretally/ipfix not checked')
        return []
    port = free_port()
    url = 'udp://127.0.0.1:%d' % port
    col = ic.Collector('udp', '127.0.0.1', port)
    prefix = 'wt-ipfix-tel-%d' % os.getpid()
    logdir = os.path.join(tmp, 'log-telemetry')
    os.mkdir(logdir)
    errpath = os.path.join(tmp, 'telemetry.err')
    with open(errpath, 'w+') as errf:
        mon = subprocess.Popen([wiretally, '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % sample,
                                '--file-prefix', prefix, '--no-pci', '--lcores', '0@0,1@1',
                                '--log-level', 'lib.eal:warning', '--', '-o', logdir,
                                '--table-size', '4096', '--duration', '4', '--spool', 'off',
                                '--ipfix', url], stdout=subprocess.DEVNULL, stderr=errf)
        answer = None
        try:
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30 and mon.poll() is None:
                errf.seek(0)
                if 'IPFIX: every record written' in errf.read():
                    break
                time.sleep(0.05)
            time.sleep(1)
            p = subprocess.run([tool, '-f', prefix], input=b'/wiretally/ipfix\n',
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            for line in p.stdout.decode(errors='replace').splitlines():
                if line.strip().startswith('{') and '/wiretally/ipfix' in line:
                    import json
                    answer = json.loads(line.strip())['/wiretally/ipfix']
        finally:
            while mon.poll() is None:
                col.poll(0.1)
            col.close()
        errf.seek(0)
        err = errf.read()
    errs = []
    log('telemetry /wiretally/ipfix: %s' % answer)
    if not isinstance(answer, dict) or answer.get('collector') != url or \
            answer.get('connected') != 1 or \
            not all(k in answer for k in ('records_offered', 'records_sent', 'records_behind',
                                          'records_behind_max', 'records_lost', 'messages',
                                          'bytes')):
        errs.append('telemetry /wiretally/ipfix answered %r' % (answer,))
    if mon.returncode != 0 or 'ipfix: 13 records to %s: 13 sent' % url not in err:
        errs.append('the monitor (infinite_rx, --duration 4) exited %d:\n%s' %
                    (mon.returncode, err[-2000:]))
    return errs


def test_monitor(tmp, wiretally, reader, sample, corpus):
    """The monitor's --ipfix: UDP to nfcapd and to an IPv6 collector, TCP to
    a collector that comes late, one that never comes, a log that holds an
    earlier run."""
    errs = []
    gen = os.path.join(tmp, 'gen.pcap')
    gen_pcap(gen)
    pcaps = [sample, gen]
    # 1. UDP to an IPv6 collector (our decoder) and, 2., TCP over IPv4 to a
    # collector that starts 1.5 s after the monitor (records wait, then go)
    for n, (transport, host, late) in enumerate((('udp', '::1', 0), ('tcp', '127.0.0.1', 1.5))):
        fam = socket.AF_INET6 if ':' in host else socket.AF_INET
        port = free_port(socket.SOCK_DGRAM if transport == 'udp' else socket.SOCK_STREAM, fam)
        url = '%s://%s:%d' % (transport, '[%s]' % host if ':' in host else host, port)
        logdir = os.path.join(tmp, 'log%d' % n)
        col = None if late else ic.Collector(transport, host, port)
        proc = monitor_ipfix(wiretally, pcaps, logdir, url, ['--ipfix-domain', '99'])
        if late:
            time.sleep(late)
            col = ic.Collector(transport, host, port)
        rc = collect_while(col, proc, quiet=1.0)
        err = proc.stderr.read().decode()
        col.close()
        if rc != 0:
            errs.append('wiretally --ipfix %s exited %d: %s' % (url, rc, err))
            continue
        records = csv_records(reader, logdir)
        errs += check_stream(col, url, len(records), 99, transport == 'udp',
                             any(c['tunnel'] for c in records))
        errs += compare_decoded(records, [ic.biflow(r) for r in col.records], 'monitor ' + url)
        st = monitor_stats(reader, logdir)
        if st.get('ipfix.records_offered') != len(records) or \
                st.get('ipfix.records_sent') != len(records):
            errs.append('monitor %s: stats frame %s, %d records' % (url, st, len(records)))
        if late and not re.search(r'IPFIX collector %s unreachable: Connection refused' %
                                  re.escape(url), err):
            errs.append('monitor %s: no line says the collector is unreachable:\n%s' %
                        (url, err))
        if not re.search(r'ipfix: %d records to %s: %d sent' %
                         (len(records), re.escape(url), len(records)), err):
            errs.append('monitor %s: the summary does not say %d sent:\n%s' %
                        (url, len(records), err))
    # 3. the sender follows the log: a log that already holds an earlier
    # run's 500 records, then 15,000 records in 2 MiB segments with a TCP
    # collector; exactly this run's records arrive, once each:
    #   - through the default spool (hugetlbfs when there is room), the
    #     collector there from the start: rolls and archive moves under the
    #     sender's reader; --ipfix-queue (no longer used) is said;
    #   - straight into the directory, the collector 2 s late: the sender
    #     is behind by every record, and reads sealed segments that were
    #     compressed and renamed over while it waited
    many = os.path.join(tmp, 'many.pcap')
    many_udp_pcap(many, 500)
    big = os.path.join(tmp, 'big.pcap')
    nbig = 15000
    many_udp_pcap(big, nbig)
    for name, spool, late in (('spool', True, 0), ('direct, late collector', False, 2.0)):
        logdir = os.path.join(tmp, 'log-follow-%s' % ('spool' if spool else 'direct'))
        os.makedirs(logdir)
        run([wiretally, '-q', '--spool', 'off', '-o', logdir, '--pcap', many])
        before = max(int(c['seq']) for c in csv_records(reader, logdir))
        port = free_port(socket.SOCK_STREAM)
        url = 'tcp://127.0.0.1:%d' % port
        col = None if late else ic.Collector('tcp', '127.0.0.1', port)
        proc = monitor_ipfix(wiretally, [big], logdir, url,
                             ['--ipfix-queue', '64', '--segment-size', '2M'], spool=spool)
        if late:
            time.sleep(late)
            col = ic.Collector('tcp', '127.0.0.1', port)
        rc = collect_while(col, proc, quiet=1.0)
        err = proc.stderr.read().decode()
        col.close()
        records = csv_records(reader, logdir)
        st = monitor_stats(reader, logdir)
        log('monitor after an earlier run (%s), %s: exit %d, %d records in the log, stats %s'
            % (name, 'through a spool' if 'through the spool' in err else 'no spool', rc,
               len(records), st))
        segs = [f for f in os.listdir(logdir) if f.endswith('.wts')]
        ours = [c for c in records if int(c['seq']) > before]
        if rc != 0 or len(records) != 500 + nbig or len(ours) != nbig or len(segs) < 3:
            errs.append('monitor following its log (%s): exit %d, %d records (want 0, %d), %d '
                        'segments (want 3 or more):\n%s' % (name, rc, len(records), 500 + nbig,
                                                             len(segs), err))
        errs += compare_decoded(ours, [ic.biflow(r) for r in col.records],
                                'following the log (%s)' % name)
        # late: the sender saw all of them waiting but the batch (64) it holds
        want_behind = nbig - 64 if late else 1
        if st.get('ipfix.records_offered') != nbig or st.get('ipfix.records_sent') != nbig or \
                st.get('ipfix.records_behind') != 0 or \
                not want_behind <= st.get('ipfix.records_behind_max', 0) <= nbig or \
                st.get('ipfix.records_unsent_at_exit') != 0:
            errs.append('monitor following its log (%s): stats %s (want %d offered and sent, '
                        'none behind at exit)' % (name, st, nbig))
        if 'wiretally: --ipfix-queue is no longer used: the IPFIX sender reads every record ' \
                'from the log' not in err:
            errs.append('monitor: --ipfix-queue is not said to be unused:\n%s' % err)
    # 4. a TCP collector that never comes: the monitor still ends (5 s
    # without progress), exit 0, every record in the log, all of them
    # counted as not sent
    port = free_port(socket.SOCK_STREAM)
    url = 'tcp://127.0.0.1:%d' % port
    logdir = os.path.join(tmp, 'log-never')
    t0 = time.monotonic()
    proc = monitor_ipfix(wiretally, [many], logdir, url)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    took = time.monotonic() - t0
    records = csv_records(reader, logdir)
    st = monitor_stats(reader, logdir)
    log('monitor, collector never there: exit %d after %.1f s, %d records in the log, '
        'stats %s' % (proc.returncode, took, len(records), st))
    if proc.returncode != 0 or len(records) != 500:
        errs.append('monitor with an absent collector: exit %d, %d records in the log '
                    '(want 0, 500):\n%s' % (proc.returncode, len(records), err))
    left = st.get('ipfix.records_unsent_at_exit', 0)
    if st.get('ipfix.records_sent') != 0 or left != 500:
        errs.append('monitor with an absent collector: stats %s' % st)
    m = re.search(r'ipfix: (\d+) not sent \(0 refused by the kernel, (\d+) left at exit\)', err)
    if not m or int(m.group(1)) != 500 or int(m.group(2)) != 500:
        errs.append('monitor: the summary does not account for the 500 records:\n%s' % err)
    # 5. telemetry: /wiretally/ipfix while the monitor runs (the sample
    # replayed from memory for 4 s)
    errs += ipfix_telemetry(tmp, wiretally, sample)
    # 6. a bad URL: exit 1 before anything starts
    p = subprocess.run([wiretally, '--pcap', sample, '-o', logdir, '--ipfix', 'udp:/x'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 1 or b"--ipfix: IPFIX collector 'udp:/x'" not in p.stderr:
        errs.append('monitor --ipfix udp:/x: exit %d, %r' % (p.returncode, p.stderr))
    fail_if(errs)


# ---- pmacct's nfacctd ------------------------------------------------------

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'config')
PRIMITIVES = os.path.join(CONFIG, 'wiretally-primitives.lst')
NFACCTD_AGG = ('src_host, dst_host, src_port, dst_port, proto, vlan, src_mac, tcpflags, '
               'timestamp_start, timestamp_end, call_id, wt_seq, rev_packets, rev_bytes, '
               'payload, rev_payload, flow_end_reason, wt_end_reason, biflow_direction')


class Nfacctd:
    """nfacctd with a config file; waits until it listens."""

    def __init__(self, nfacctd, tmp, name, conf_text):
        self.conf = os.path.join(tmp, name + '.conf')
        self.logpath = os.path.join(tmp, name + '.log')
        with open(self.conf, 'w') as f:
            f.write(conf_text)
        self.logf = open(self.logpath, 'w+')
        self.proc = subprocess.Popen([nfacctd, '-f', self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            if 'waiting for NetFlow/IPFIX data' in self.log() or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if 'waiting for NetFlow/IPFIX data' not in self.log():
            self.stop()
            raise Failed('nfacctd did not start:\n%s' % self.log()[-3000:])

    def log(self):
        with open(self.logpath) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def ts_ms(text):
    """nfacctd's 'YYYY-MM-DD HH:MM:SS.uuuuuu' (UTC) -> ms since the epoch."""
    import calendar
    day, frac = (text.split('.') + ['0'])[:2]
    secs = calendar.timegm(time.strptime(day, '%Y-%m-%d %H:%M:%S'))
    return secs * 1000 + int(frac.ljust(6, '0')[:6]) // 1000


def nfacctd_view(row):
    """A print-plugin CSV row in biflow() names."""
    return {
        'src': norm_addr(row['SRC_IP']), 'dst': norm_addr(row['DST_IP']),
        'sport': int(row['SRC_PORT']), 'dport': int(row['DST_PORT']),
        'proto': PROTO.get(row['PROTOCOL'], None) if not row['PROTOCOL'].isdigit()
        else int(row['PROTOCOL']),
        'vlan': int(row['VLAN']), 'mac': row['SRC_MAC'].lower(),
        'start_ms': ts_ms(row['TIMESTAMP_START']), 'end_ms': ts_ms(row['TIMESTAMP_END']),
        'pkts': int(row['PACKETS']), 'octets': int(row['BYTES']),
        'rev_pkts': int(row['rev_packets']), 'rev_octets': int(row['rev_bytes']),
        'payload': int(row['payload']), 'rev_payload': int(row['rev_payload']),
        'record_seq': int(row['wt_seq']),
        'call_id': row['call_id'].replace('-', '').lower(),
        'end_reason': int(row['flow_end_reason']),
        'wt_end_reason': int(row['wt_end_reason']),
        'biflow_direction': int(row['biflow_direction']),
        'flags': ic.flags_text(int(row['TCP_FLAGS'])),
    }


def for_nfacctd(e):
    """What nfacctd can show of an expected biflow: no reverse flags or MAC,
    no sequence numbers; flags 0 outside TCP."""
    keep = ('src', 'dst', 'sport', 'dport', 'proto', 'vlan', 'mac', 'start_ms', 'end_ms',
            'pkts', 'octets', 'rev_pkts', 'rev_octets', 'payload', 'rev_payload', 'record_seq',
            'call_id', 'end_reason', 'wt_end_reason', 'biflow_direction')
    w = {k: e[k] for k in keep}
    w['flags'] = e.get('flags', '')
    return w


def nfacctd_rows(out):
    """The rows nfacctd's print plugin has written to @out so far."""
    if not os.path.exists(out):
        return []
    with open(out) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if l and not l.startswith('SRC_MAC')]
    head = next((l for l in text.splitlines() if l.startswith('SRC_MAC')), '')
    return list(csv.DictReader(io.StringIO('\n'.join([head] + lines))))


def test_nfacctd(tmp, wiretally, reader, sample, corpus):
    nfacctd = need('nfacctd', 'pmacct')
    gen = os.path.join(tmp, 'gen.pcap')
    gen_pcap(gen)
    errs = []
    # the monitor's stream to an IPv4 collector, the reader's to an IPv6 one
    for n, (host, source) in enumerate((('127.0.0.1', 'monitor'), ('::1', 'reader'))):
        port = free_port(socket.SOCK_DGRAM, socket.AF_INET6 if ':' in host else socket.AF_INET)
        url = 'udp://%s:%d' % ('[%s]' % host if ':' in host else host, port)
        out = os.path.join(tmp, 'nfacctd-%d.csv' % n)
        conf = ('daemonize: false\nnfacctd_ip: %s\nnfacctd_port: %d\ntimestamps_utc: true\n'
                'aggregate_primitives: %s\nplugins: print[p]\nprint_output[p]: csv\n'
                'print_output_file[p]: %s\nprint_output_file_append[p]: true\n'
                'print_refresh_time[p]: 1\naggregate[p]: %s\n' %
                (host, port, PRIMITIVES, out, NFACCTD_AGG))
        col = Nfacctd(nfacctd, tmp, 'nfacctd-%d' % n, conf)
        try:
            logdir = os.path.join(tmp, 'log-%d' % n)
            if source == 'monitor':
                proc = monitor_ipfix(wiretally, [sample, gen], logdir, url)
                _, err = proc.communicate(timeout=120)
                if proc.returncode != 0:
                    raise Failed('wiretally --ipfix %s: %s' % (url, err.decode()))
            else:
                os.mkdir(logdir)
                for p in (sample, gen):
                    monitor(wiretally, p, logdir)
                run([reader, '--ipfix', url, logdir])
            records = csv_records(reader, logdir)
            rows = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < 30:
                time.sleep(0.5)
                rows = nfacctd_rows(out)
                if len(rows) >= len(records):
                    break
        finally:
            col.stop()
        if len(rows) < len(records):
            # on a loaded machine the print plugin may write only when it stops
            rows = nfacctd_rows(out)
        got = [nfacctd_view(r) for r in rows]
        log('nfacctd (%s to %s): %d rows, %d records' % (source, url, len(got), len(records)))
        want = {int(c['seq']): for_nfacctd(expect(c)) for c in records}
        by_seq = collections.defaultdict(list)
        for g in got:
            by_seq[g['record_seq']].append(g)
        for sq, w in sorted(want.items()):
            g = by_seq.get(sq, [])
            if len(g) != 1:
                errs.append('nfacctd (%s): record seq %d in %d rows' % (source, sq, len(g)))
                continue
            errs += compare(g[0], w, 'nfacctd (%s) seq %d' % (source, sq))
    fail_if(errs)


# ---- the billing pipeline: wiretally -> nfacctd -> PostgreSQL -------------------

class Postgres:
    """A PostgreSQL 15 cluster in a temporary directory, unix socket only."""

    def __init__(self, tmp):
        bindir = '/usr/lib/postgresql/15/bin'
        if shutil.which('pg_config'):
            p = subprocess.run(['pg_config', '--bindir'], stdout=subprocess.PIPE, text=True)
            if p.returncode == 0 and os.path.exists(os.path.join(p.stdout.strip(), 'initdb')):
                bindir = p.stdout.strip()
        if not os.path.exists(os.path.join(bindir, 'initdb')):
            raise Skip('PostgreSQL 15 server (initdb, pg_ctl) is not installed (Debian package '
                       'postgresql; scripts/setup.sh installs it)')
        self.bindir = bindir
        self.psql = need('psql', 'postgresql-client')
        self.dir = os.path.join(tmp, 'pg')
        os.mkdir(self.dir)
        self.as_user = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as postgres
            import pwd
            try:
                pw = pwd.getpwnam('postgres')
            except KeyError:
                raise Skip('running as root and there is no postgres user to run the server')
            runuser = need('runuser', 'util-linux')
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(tmp, 0o755)
            self.as_user = [runuser, '-u', 'postgres', '--']
        self.port = free_port(socket.SOCK_STREAM)
        data = os.path.join(self.dir, 'data')
        run(self.as_user + [os.path.join(bindir, 'initdb'), '-D', data, '-A', 'trust',
                            '-U', 'postgres', '--no-sync'])
        run(self.as_user + [os.path.join(bindir, 'pg_ctl'), '-D', data, '-w', '-t', '60',
                            '-l', os.path.join(self.dir, 'server.log'), '-o',
                            "-k %s -p %d -c listen_addresses='' -c fsync=off" %
                            (self.dir, self.port), 'start'], timeout=90)
        self.data = data
        self.started = True

    def sql(self, db, user, script, args=()):
        p = run([self.psql, '-X', '-v', 'ON_ERROR_STOP=1', '-h', self.dir, '-p', str(self.port),
                 '-U', user, '-d', db, '-At', '-F', '|'] + list(args) + ['-c', script]
                if script is not None else
                [self.psql, '-X', '-v', 'ON_ERROR_STOP=1', '-h', self.dir, '-p', str(self.port),
                 '-U', user, '-d', db, '-At', '-F', '|'] + list(args))
        return p.stdout.decode()

    def stop(self):
        subprocess.run(self.as_user + [os.path.join(self.bindir, 'pg_ctl'), '-D', self.data,
                                       '-m', 'fast', '-w', 'stop'],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


def billing_conf(port, pg):
    """The shipped config/nfacctd-billing.conf, pointed at this test's
    collector port, primitives file and database; every key it must have."""
    with open(os.path.join(CONFIG, 'nfacctd-billing.conf')) as f:
        text = f.read()
    subst = {'nfacctd_ip': '127.0.0.1', 'nfacctd_port': str(port),
             'aggregate_primitives': PRIMITIVES, r'sql_host\[billing\]': pg.dir,
             r'sql_port\[billing\]': str(pg.port), r'sql_refresh_time\[billing\]': '1'}
    for key, value in subst.items():
        text, n = re.subn(r'^(%s): .*$' % key, lambda m: '%s: %s' % (m.group(1), value), text,
                          flags=re.M)
        if n != 1:
            raise Failed('config/nfacctd-billing.conf: key %s appears %d times (want 1)' %
                         (key.replace('\\', ''), n))
    return text


BILLING_COLS = ('initiator_packets', 'initiator_ip_bytes', 'initiator_payload_bytes',
                'responder_packets', 'responder_ip_bytes', 'responder_payload_bytes',
                'initiator_charged_bytes', 'responder_charged_bytes', 'initiator_retx_bytes',
                'responder_retx_bytes', 'records')


def test_billing(tmp, wiretally, reader, sample, corpus):
    nfacctd = need('nfacctd', 'pmacct')
    pg = Postgres(tmp)
    col = None
    errs = []
    try:
        pg.sql('postgres', 'postgres', "CREATE ROLE wiretally LOGIN PASSWORD 'wiretally'")
        pg.sql('postgres', 'postgres', 'CREATE DATABASE wiretally OWNER wiretally')
        pg.sql('wiretally', 'wiretally', None,
               ['-q', '-f', os.path.join(CONFIG, 'billing-schema.sql')])
        port = free_port()
        col = Nfacctd(nfacctd, tmp, 'billing', billing_conf(port, pg))
        gen = os.path.join(tmp, 'gen.pcap')
        gen_pcap(gen)
        pcaps = capture_list(sample, gen, corpus, 16)  # one port each, merged by time
        logdir = os.path.join(tmp, 'log')
        url = 'udp://127.0.0.1:%d' % port
        proc = monitor_ipfix(wiretally, pcaps, logdir, url)
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise Failed('wiretally --ipfix %s exited %d:\n%s' % (url, proc.returncode,
                                                                 err.decode()))
        records = csv_records(reader, logdir)
        n = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            n = int(pg.sql('wiretally', 'wiretally', 'SELECT count(*) FROM wt_calls'))
            if n >= len(records):
                break
            time.sleep(0.5)
        log('billing: %d records in the log, %d rows in wt_calls after %.1f s' %
            (len(records), n, time.monotonic() - t0))
        if n != len(records):
            errs.append('wt_calls has %d rows, the log %d records; nfacctd log:\n%s' %
                        (n, len(records), col.log()[-2000:]))
        # the CSV's totals per connection (call_id) and direction
        want = {}
        for c in records:
            e = expect(c)
            key = (c['call_id'], e['src'], e['sport'], e['dst'], e['dport'], e['proto'])
            t = want.setdefault(key, dict.fromkeys(BILLING_COLS, 0))
            tv = e.get('tcp_valid', 0)  # charge acknowledged bytes where the ACKs were seen
            for k, v in (('initiator_packets', e['pkts']), ('initiator_ip_bytes', e['octets']),
                         ('initiator_payload_bytes', e['payload']),
                         ('responder_packets', e['rev_pkts']),
                         ('responder_ip_bytes', e['rev_octets']),
                         ('responder_payload_bytes', e['rev_payload']),
                         ('initiator_charged_bytes', e['tcp_acked'] if tv & 2 else e['payload']),
                         ('responder_charged_bytes',
                          e['rev_tcp_acked'] if tv & 4 else e['rev_payload']),
                         ('initiator_retx_bytes', e.get('tcp_retx', 0)),
                         ('responder_retx_bytes', e.get('rev_tcp_retx', 0)), ('records', 1)):
                t[k] += v
            t.setdefault('basis', set()).add('acked' if tv & 6 == 6 else
                                             'payload' if tv & 6 == 0 else 'mixed')
        # one query per connection, all in one psql session
        keys = sorted(want)
        script = ''.join(
            "SELECT host(ip_src), port_src, host(ip_dst), port_dst, ip_proto, %s, charge_basis "
            "FROM wt_billing WHERE call_id = '%s';\n" % (', '.join(BILLING_COLS), k[0])
            for k in keys)
        path = os.path.join(tmp, 'per-connection.sql')
        with open(path, 'w') as f:
            f.write(script)
        out = pg.sql('wiretally', 'wiretally', None, ['-f', path]).splitlines()
        if len(out) != len(keys):
            errs.append('%d connections in the CSV, %d answers from wt_billing' %
                        (len(keys), len(out)))
        for k, line in zip(keys, out):
            v = line.split('|')
            got_key = (k[0], norm_addr(v[0]), int(v[1]), norm_addr(v[2]), int(v[3]), int(v[4]))
            got = dict(zip(BILLING_COLS, map(int, v[5:-1])))
            basis = want[k].pop('basis')
            want_basis = basis.pop() if len(basis) == 1 else 'mixed'
            if v[-1] != want_basis:
                errs.append('connection %s: charge_basis %s, the CSV says %s' %
                            (k, v[-1], want_basis))
            if got_key != k:
                errs.append('connection %s: wt_billing has endpoints %s' % (k, got_key[1:]))
            for col_name in BILLING_COLS:
                if got.get(col_name) != want[k][col_name]:
                    errs.append('connection %s: %s is %s in PostgreSQL, %d in the CSV' %
                                (k, col_name, got.get(col_name), want[k][col_name]))
        total = pg.sql('wiretally', 'wiretally',
                       'SELECT sum(initiator_packets + responder_packets), '
                       'sum(initiator_ip_bytes + responder_ip_bytes) FROM wt_billing').strip()
        csv_total = '%d|%d' % (sum(int(c['a_pkts']) + int(c['b_pkts']) for c in records),
                               sum(int(c['a_ip_bytes']) + int(c['b_ip_bytes']) for c in records))
        log('billing: %d connections, totals (packets|IP bytes) %s in PostgreSQL, %s in the CSV' %
            (len(keys), total, csv_total))
        if total != csv_total:
            errs.append('totals: %s in PostgreSQL, %s in the CSV' % (total, csv_total))
    finally:
        if col is not None:
            col.stop()
        pg.stop()
    fail_if(errs)


TESTS = {'decode': test_decode, 'nfdump': test_nfdump, 'tshark': test_tshark,
         'monitor': test_monitor, 'nfacctd': test_nfacctd, 'billing': test_billing}


def main(argv):
    if len(argv) < 5 or argv[1] not in TESTS:
        print(__doc__, file=sys.stderr)
        return 2
    name, wiretally, reader, sample = argv[1:5]
    corpus = argv[5] if len(argv) > 5 else None
    tmp = tempfile.mkdtemp(prefix='wt-ipfix-%s-' % name)
    try:
        TESTS[name](tmp, wiretally, reader, sample, corpus)
    except Skip as e:
        print('SKIP ipfix-%s: %s' % (name, e), file=sys.stderr)
        print('SKIP ipfix-%s: %s' % (name, e))
        return SKIP
    except Failed as e:
        print('FAIL ipfix-%s: %s' % (name, e))
        print('(files kept in %s)' % tmp)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print('PASS ipfix-%s' % name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
