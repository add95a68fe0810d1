#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# interim.py: interim records of long calls (--active-timeout), on a generated capture and live.
"""Usage: interim.py pcap WIRETALLY WIRETALLY_READ
       interim.py live WIRETALLY WIRETALLY_READ LAB_SH

pcap: a capture of long calls (pcapgen.long_calls(): a 100 s TCP call, a
60 s UDP call, a TCP call with a 20 s silence, 60 short ones) read with
--scan-interval 2 --active-timeout 10, with 1 and 2 RX lcores:
  - every record equals, column by column (all but seq and call_id), the
    part an independent model of the documented rule predicts from the
    capture's own packets (tests/e2e/wtpcap.py parses them): cut at the first
    scan boundary (first packet + k x 2 s) at which the part began >= 10 s
    before, from the part's first packet to its last, counters, flags, first
    and last seq and MACs of that part only, origin carried over, no empty
    interim record, the final record last;
  - the records of one call share one call_id, different calls differ;
  - the merge of a call's parts (sum, union, first of the first, last of the
    last; the TCP figures of record version 2 summed) equals the record of a run without --active-timeout, and the
    payload bytes per connection equal the sizes pcapgen wrote;
  - the summary and the stored counters count the interim records and add
    up; a restart into the same log gets other call_ids;
  - option errors (shorter than the scan interval, negative, garbage, too
    long, in the config file), off / 0, auto = off for capture files.
live: the namespace lab; wiretally --iface on the server's veth with
--scan-interval 0.5 --active-timeout 1 while a paced TCP sender in the
server's namespace sends 1,000,000 bytes in 100 writes 50 ms apart (about
5 s) to a client that asked with a 12-byte request, and tcpdump records the
same veth: at least 2 interim records then one final, one call_id; the
parts' packets and payload bytes add up exactly to what tcpdump saw of the
connection (retransmissions included: TCP's tail loss probe may resend the
last segment of a write), and their merged sequence range is exactly the
12 and 1,000,000 bytes the programs wrote and read. Needs root and ip netns
(else exit 77 with the reason).
Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import os
import signal
import subprocess
import sys
import tempfile
import time

import wtpcap
from pcapgen import long_calls, pcap_bytes, write
from wtcheck import FAILS, check

SCAN_NS, ACTIVE_NS = 2 * 10**9, 10 * 10**9
IGNORED = ('seq', 'call_id')


def monitor(wt, args, timeout=300):
    p = subprocess.run([wt] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stderr.decode(errors='replace')


def read_log(rd, out):
    """(records as CSV dicts, stored counters) of a log; it must read clean."""
    r = subprocess.run([rd, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError('wiretally-read %s exited %d: %s' % (out, r.returncode,
                                                                r.stderr.decode()))
    st = subprocess.run([rd, '--stats', out], stdout=subprocess.PIPE, timeout=60)
    stats = {}
    for line in st.stdout.decode().splitlines():
        if '=' in line:
            k, v = line.split('=', 1)
            stats[k] = v  # the last run's value wins
    return list(csv.DictReader(io.StringIO(r.stdout.decode()))), stats


def run_pcap(wt, rd, pcap, out, extra):
    os.mkdir(out)
    rc, err = monitor(wt, ['--pcap', pcap, '-o', out, '--table-size', '4096',
                           '--segment-size', '1M'] + extra)
    if rc != 0:
        raise RuntimeError('wiretally %s exited %d:\n%s' % (' '.join(extra), rc, err))
    rows, stats = read_log(rd, out)
    return rows, stats, err


# ---- the model: what the documented rule gives for a capture --------------

def packets_by_connection(pcap):
    """{endpoints: [packets in capture order]}, first and last packet time."""
    it = wtpcap.read_pcap(pcap)
    next(it)
    conns, first, last = {}, None, None
    for ts, fr in it:
        p = wtpcap.parse_frame(ts, fr)
        if p is None:
            continue
        first = ts if first is None else first
        last = ts
        src, dst = (p.src, p.sport), (p.dst, p.dport)
        a, b = (src, dst) if src > dst else (dst, src)
        key = (p.vlan, p.family, p.proto, a, b)
        conns.setdefault(key, []).append(p)
    return conns, first, last


def part_record(key, pkts, call, reason, prev_end):
    """The expected CSV columns of one part: a conversation of its packets
    alone, origin as the whole call so far says (it carries over)."""
    conv = wtpcap.Conversation(key, key[1], key[2], key[0])
    side = lambda p: 'a' if (p.src, p.sport) == key[3] else 'b'  # noqa: E731
    for p in pkts:
        conv.add(p, side(p))
        call.add(p, side(p))
    r = conv.as_record()
    if not pkts:  # an empty last part: start = end = the call's last packet
        r['start_ns'] = r['end_ns'] = str(prev_end)
    if key[2] == 6:  # TCP figures: from the whole call's streams (FORMAT.md 5.4, 5.5)
        prev = getattr(call, 'tcp_prev', {})
        for s in 'ab':
            (sq, ak, rt, ms), prev[s] = call.d[s].stream.part_figures(prev.get(s),
                                                                      reason != 'active')
            r[s + '_seq_bytes'], r[s + '_retx_bytes'] = str(sq), str(rt)
            r[s + '_missed_bytes'], r[s + '_acked_bytes'] = str(ms), '' if ak is None else str(ak)
        call.tcp_prev = prev
    r['origin'] = call.origin
    r['end_reason'] = reason
    return r


def model_parts(key, pkts, t0, last_ts, scan_ns, active_ns):
    """The records the rule makes of one connection: scan passes at
    t0 + k * scan_ns (k >= 1, up to the last packet of the input), each before
    the packets of its instant; a pass ends a call idle since the previous
    pass, and cuts (end_reason active) a call active since it whose part
    holds packets and began (first packet, or previous cut) at least
    active_ns before, in ms as the table counts them; at the end of input
    every call ends with end_reason shutdown. Returns [(call number, record)]."""
    out, i, calls = [], 0, 0
    call, cur, mark, active, last_pkt = None, [], 0, False, None

    def take(upto):
        nonlocal i, call, cur, mark, active, calls, last_pkt
        while i < len(pkts) and pkts[i].ts < upto:
            if call is None:
                calls += 1
                call = wtpcap.Conversation(key, key[1], key[2], key[0])
                cur, mark = [], pkts[i].ts // 10**6
            cur.append(pkts[i])
            last_pkt, active = pkts[i].ts, True
            i += 1

    bound = t0 + scan_ns
    while bound <= last_ts:
        take(bound)
        if call is not None and not active:
            out.append((calls, part_record(key, cur, call, 'idle', last_pkt)))
            call = None
        elif call is not None:
            active = False
            if active_ns and cur and bound // 10**6 - mark >= active_ns // 10**6:
                out.append((calls, part_record(key, cur, call, 'active', last_pkt)))
                cur, mark = [], bound // 10**6
        bound += scan_ns
    take(float('inf'))
    if call is not None:
        out.append((calls, part_record(key, cur, call, 'shutdown', last_pkt)))
    return out


def merge(parts):
    """The documented merge of one call's records (CSV dicts, in seq order)."""
    m = dict(parts[0])
    for r in parts[1:]:
        for s in 'ab':
            if int(m[s + '_pkts']) == 0 and int(r[s + '_pkts']) > 0:
                m[s + '_mac'] = r[s + '_mac']
            for c in ('_pkts', '_bytes', '_ip_bytes'):
                m[s + c] = str(int(m[s + c]) + int(r[s + c]))
            m[s + '_flags'] = ''.join(f for f in wtpcap.FLAG_LETTERS
                                      if f in m[s + '_flags'] + r[s + '_flags'])
            if r[s + '_first_seq'] != '':
                if m[s + '_first_seq'] == '':
                    m[s + '_first_seq'] = r[s + '_first_seq']
                m[s + '_last_seq'] = r[s + '_last_seq']
            for c in ('_seq_bytes', '_retx_bytes', '_missed_bytes', '_acked_bytes'):
                if r[s + c] != '':  # record version 2: sums (empty acked: none yet)
                    m[s + c] = str(int(m[s + c] or 0) + int(r[s + c]))
        for c in ('end_ns', 'origin', 'end_reason'):
            m[c] = r[c]
    return m


def strip(r):
    return {k: v for k, v in r.items() if k not in IGNORED}


def by_connection(rows):
    """{endpoints: [records in seq order]}."""
    out = {}
    for r in sorted(rows, key=lambda r: int(r['seq'])):
        out.setdefault(wtpcap.record_endpoints(r), []).append(r)
    return out


def calls_of(recs):
    """Split a connection's records (seq order) into calls: a call ends with
    its final record."""
    calls, cur = [], []
    for r in recs:
        cur.append(r)
        if r['end_reason'] != 'active':
            calls.append(cur)
            cur = []
    if cur:
        calls.append(cur)
    return calls


def endpoints_of(key):
    """The record_endpoints() form of a model key."""
    conv = wtpcap.Conversation(key, key[1], key[2], key[0])
    return conv.endpoints()


def check_against_model(name, rows, model):
    """Every connection's records equal the model's parts, in order."""
    got = by_connection(rows)
    bad = []
    for key, parts in model.items():
        recs = got.get(endpoints_of(key), [])
        want = [strip(r) for _, r in parts]
        have = [strip(r) for r in recs]
        if have != want:
            detail = ''
            for k, (h, w) in enumerate(zip(have, want)):
                diff = {c: (h[c], w[c]) for c in w if h.get(c) != w[c]}
                if diff:
                    detail = 'part %d: %s' % (k, diff)
                    break
            bad.append('%s: %d records, the model says %d; %s' %
                       (wtpcap.Conversation(key, key[1], key[2], key[0]).describe(),
                        len(have), len(want), detail))
    check(not bad and len(got) == len(model),
          '%s: every record is the part the documented rule predicts (%d connections, '
          '%d records)%s' % (name, len(model), len(rows), ('; ' + bad[0]) if bad else ''))
    # one call_id per call, different for different calls
    ids, shared = set(), True
    for recs in got.values():
        for call in calls_of(recs):
            cid = {r['call_id'] for r in call}
            shared &= len(cid) == 1
            ids |= cid
    ncalls = sum(len(calls_of(recs)) for recs in got.values())
    check(shared and len(ids) == ncalls, '%s: every record of a call has its call_id, %d calls, '
          '%d call_ids' % (name, ncalls, len(ids)))
    empty = [r for r in rows if r['end_reason'] == 'active' and
             int(r['a_pkts']) + int(r['b_pkts']) == 0]
    check(not empty, '%s: no interim record is empty (%d are)' % (name, len(empty)))


def check_ipfix(rd, out, rows):
    """The interim records as IPFIX (wiretally-read --format ipfix, decoded by
    the tests' independent decoder): flowEndReason activeTimeout (2) for
    every interim record, the same call_id and counters as the CSV."""
    from ipfix_collector import Decoder, biflow, split_stream
    r = subprocess.run([rd, '--format', 'ipfix', out], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    msgs, rest = split_stream(r.stdout)
    dec = Decoder()
    flows = {}
    for m in msgs:
        for rec in dec.message(m)[1]:
            f = biflow(rec)
            flows[f['record_seq']] = f
    bad = []
    for row in rows:
        f = flows.get(int(row['seq']))
        pkts = int(row['a_pkts']) + int(row['b_pkts'])
        want_reason = 2 if row['end_reason'] == 'active' else None
        if f is None or f['call_id'] != row['call_id'] or f['pkts'] + f['rev_pkts'] != pkts or \
                (want_reason is not None and f['end_reason'] != want_reason):
            bad.append((row['seq'], row['end_reason'], f and f['end_reason']))
    n_active = sum(1 for row in rows if row['end_reason'] == 'active')
    check(r.returncode == 0 and not rest and len(flows) == len(rows) and not bad and n_active,
          'IPFIX: %d records, %d interim ones with flowEndReason activeTimeout, call_id and '
          'packets as in the CSV%s' % (len(flows), n_active, (': ' + str(bad[:3])) if bad else ''))


def test_pcap(tmp, wt, rd):
    frames, known = long_calls()
    pcap = os.path.join(tmp, 'long.pcap')
    write(pcap, pcap_bytes(frames))
    conns, t0, last = packets_by_connection(pcap)
    model = {k: model_parts(k, p, t0, last, SCAN_NS, ACTIVE_NS) for k, p in conns.items()}
    interim_expected = sum(1 for parts in model.values() for _, r in parts
                           if r['end_reason'] == 'active')
    long_key = [k for k in model if k[3][1] == 443 or k[4][1] == 443][0]
    n_long = sum(1 for _, r in model[long_key] if r['end_reason'] == 'active')
    print('model: %d connections, %d interim records (%d of the 100 s call)' %
          (len(model), interim_expected, n_long))
    check(n_long >= 8, 'the model cuts the 100 s call at least 8 times (%d)' % n_long)

    args = ['--scan-interval', '2', '--active-timeout', '10']
    runs = {}
    for n in (1, 2):
        rows, stats, err = run_pcap(wt, rd, pcap, os.path.join(tmp, 'a%d' % n),
                                    args + ['--rx-cores', str(n)])
        runs[n] = rows
        check_against_model('--rx-cores %d' % n, rows, model)
        active = sum(1 for r in rows if r['end_reason'] == 'active')
        check(stats.get('records.interim') == str(active) and active == interim_expected,
              '--rx-cores %d: the stored counters say %s interim records, the log has %d, '
              'the model %d' % (n, stats.get('records.interim'), active, interim_expected))
        check('%d interim; %d written' % (active, len(rows)) in err and '= created' in err and
              '= written + unwritten' in err and '= in call records' in err and
              'interim records of calls running 10 s' in err,
              '--rx-cores %d: the summary counts the interim records and adds up' % n)
    check(sorted(map(lambda r: tuple(strip(r).items()), runs[1])) ==
          sorted(map(lambda r: tuple(strip(r).items()), runs[2])),
          'the same records with 1 and 2 RX lcores')

    check_ipfix(rd, os.path.join(tmp, 'a1'), runs[1])

    # without interim records: auto is off for capture files
    ref, stats, err = run_pcap(wt, rd, pcap, os.path.join(tmp, 'ref'), ['--scan-interval', '2'])
    check(not [r for r in ref if r['end_reason'] == 'active'] and
          'no interim records' in err and stats.get('active_timeout_ns') == '0',
          'auto: no interim records from a capture file')
    ref_model = {k: model_parts(k, p, t0, last, SCAN_NS, 0) for k, p in conns.items()}
    check_against_model('no active timeout', ref, ref_model)
    ref_calls = {(wtpcap.record_endpoints(r), r['start_ns']): strip(r) for r in ref}
    merged_ok, ncalls = True, 0
    for recs in by_connection(runs[1]).values():
        for call in calls_of(recs):
            m = strip(merge(call))
            ncalls += 1
            if ref_calls.get((wtpcap.record_endpoints(m), m['start_ns'])) != m:
                merged_ok = False
                print('  merged %s\n  alone  %s' % (m, ref_calls.get(
                    (wtpcap.record_endpoints(m), m['start_ns']))))
    check(merged_ok and ncalls == len(ref),
          'the merge of each call\'s parts is the record of the run without interim records '
          '(%d calls, %d records)' % (ncalls, len(ref)))
    sums = {}
    for r in runs[1]:
        s = sums.setdefault(wtpcap.record_endpoints(r), {})
        for side in 'ab':
            addr = (r[side + '_addr'], int(r[side + '_port']))
            s[addr] = s.get(addr, 0) + int(r[side + '_bytes'])
    wrong = []
    for name, (proto, cli, srv, c2s, s2c) in known.items():
        s = sums.get((proto, frozenset((cli, srv))), {})
        if (s.get(cli), s.get(srv)) != (c2s, s2c):
            wrong.append('%s: %s/%s, pcapgen wrote %d/%d' % (name, s.get(cli), s.get(srv),
                                                             c2s, s2c))
    check(not wrong and len(sums) == len(known),
          'payload bytes per connection and direction are the sizes pcapgen wrote (%d '
          'connections)%s' % (len(known), ('; ' + wrong[0]) if wrong else ''))

    # a restart into the same log: seq goes on, call_ids are new
    out1 = os.path.join(tmp, 'a1')
    rc, err = monitor(wt, ['--pcap', pcap, '-o', out1, '--table-size', '4096'] + args)
    both, _ = read_log(rd, out1)
    first, second = both[:len(runs[1])], both[len(runs[1]):]
    ids1, ids2 = {r['call_id'] for r in first}, {r['call_id'] for r in second}
    check(rc == 0 and len(second) == len(runs[1]) and not ids1 & ids2 and
          {i[:16] for i in ids1} != {i[:16] for i in ids2} and
          [int(r['seq']) for r in both] == list(range(len(both))),
          'a restart into the same log: seq continues, no call_id of the first run again '
          '(run ids %s, %s)' % (sorted({i[:16] for i in ids1}), sorted({i[:16] for i in ids2})))

    test_options(tmp, wt, pcap)


def test_options(tmp, wt, pcap):
    def expect_error(args, words, what, conf=None):
        out = os.path.join(tmp, 'o-%d' % len(os.listdir(tmp)))
        os.mkdir(out)
        extra = []
        if conf is not None:
            path = out + '.conf'
            write(path, ('[wiretally]\n' + conf).encode())
            extra = ['--config', path]
        rc, err = monitor(wt, ['--pcap', pcap, '-o', out] + extra + args, timeout=60)
        lines = [line for line in err.splitlines() if line.strip()]
        check(rc == 1 and len(lines) == 1 and all(w in err for w in words),
              '%s: exit 1 and one line naming it (%d, %r)' % (what, rc, err.strip()[:200]))

    expect_error(['--active-timeout', '60'], ['--active-timeout', '60 s is shorter than the '
                                              'scan interval (180 s)'],
                 '--active-timeout 60 with the default 180 s scans')
    expect_error(['--active-timeout', '-1'], ['--active-timeout', "'-1'", 'off or auto'],
                 'a negative --active-timeout')
    expect_error(['--active-timeout', 'soon'], ["'soon' is not a number of seconds"],
                 'a --active-timeout that is no number')
    expect_error(['--active-timeout', '604801'], ['between 0 and 604800'],
                 'a --active-timeout over 7 days')
    expect_error([], ['config', 'active-timeout', 'shorter than the scan interval (10 s)'],
                 'active-timeout = 5 under scan-interval = 10 in the config file',
                 conf='scan-interval = 10\nactive-timeout = 5\n')
    for val in ('0', 'off'):
        out = os.path.join(tmp, 'off-' + val)
        os.mkdir(out)
        rc, err = monitor(wt, ['--pcap', pcap, '-o', out, '--scan-interval', '2',
                               '--active-timeout', val])
        check(rc == 0 and 'no interim records' in err and ' interim;' not in err,
              '--active-timeout %s: no interim records' % val)
    conf = os.path.join(tmp, 'good.conf')
    write(conf, b'[wiretally]\nscan-interval = 2\nactive-timeout = 10\n')
    out = os.path.join(tmp, 'from-conf')
    os.mkdir(out)
    rc, err = monitor(wt, ['--pcap', pcap, '-o', out, '--config', conf])
    check(rc == 0 and 'interim records of calls running 10 s' in err,
          'active-timeout from the config file applies')
    p = subprocess.run([wt, '--help'], stdout=subprocess.PIPE, timeout=30)
    text = p.stdout.decode()
    check('--active-timeout SEC' in text and '[default: auto]' in
          text[text.find('--active-timeout'):].split('\n  -')[0],
          '--help documents --active-timeout and its default')


# ---- live -------------------------------------------------------------------

# A paced sender (server namespace): one connection, reads the 12-byte
# request, writes CHUNKS x SIZE bytes every PAUSE s, closes. The pacing is
# the sender's, so the receiver's window never fills.
SENDER = '''
import socket, sys, time
port, chunks, size, pause = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('0.0.0.0', port))
ls.listen(1)
print('listening', flush=True)
c, _ = ls.accept()
req = b''
while len(req) < 12:
    req += c.recv(12 - len(req))
for _ in range(chunks):
    c.sendall(b'd' * size)
    time.sleep(pause)
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
'''
# The receiver (client namespace): sends the request, reads to the end,
# prints its address, port, bytes sent and bytes received.
RECEIVER = '''
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.bind((src, 0))
c.connect((dst, port))
local = c.getsockname()[1]
c.sendall(b'send 1000000')
got = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    got += len(b)
c.close()
print(src, local, 12, got)
'''
SEND_PORT, CHUNKS, CHUNK, PAUSE = 5001, 100, 10000, 0.05


def new_payload(pcap, client, cs, ss):
    """Payload bytes each side of a one-connection TCP capture sent for the
    first time: a segment adds only what lies beyond the highest sequence
    number its side had sent (a retransmission adds nothing)."""
    fresh, top = {cs: 0, ss: 0}, {}
    it = wtpcap.read_pcap(pcap)
    next(it)
    for ts, fr in it:
        p = wtpcap.parse_frame(ts, fr)
        side = cs if (wtpcap.addr_text(4, p.src), p.sport) == client else ss
        if side not in top:  # its SYN: data starts after it
            top[side] = (p.seq + (1 if p.flags & 0x02 else 0)) % 2**32
        end = (p.seq + p.payload) % 2**32
        beyond = (end - top[side]) % 2**32
        if p.payload and 0 < beyond < 2**31:
            fresh[side] += min(beyond, p.payload)
            top[side] = end
    return fresh


def test_live(tmp, wt, rd, lab_sh):
    import e2e  # the lab helpers; raise e2e.Skip when it cannot run here
    e2e.lab_preflight(lab_sh)
    lab = e2e.Lab(lab_sh)
    out = os.path.join(tmp, 'log')
    os.mkdir(out)
    errf = open(os.path.join(tmp, 'wiretally.stderr'), 'w+')
    mon = None
    try:
        lab.cmd('up')
        info = lab.info()
        mon = e2e.start_iface_monitor(
            lab, wt, out, errf, ['--scan-interval', '0.5', '--active-timeout', '1'] +
            os.environ.get('WT_E2E_MONITOR_ARGS', '').split())
        pcap = os.path.join(tmp, 'transfer.pcap')
        dump_log = open(os.path.join(tmp, 'tcpdump.log'), 'w+')
        dump = subprocess.Popen(['ip', 'netns', 'exec', info['SRV_NS'], 'tcpdump', '-i',
                                 info['SRV_IF'], '-n', '-s', '0', '-U', '--immediate-mode',
                                 '-w', pcap,
                                 'tcp port %d' % SEND_PORT], stdout=dump_log, stderr=dump_log)
        deadline = time.monotonic() + 10
        while 'listening on' not in open(dump_log.name).read():
            if dump.poll() is not None or time.monotonic() > deadline:
                raise e2e.Failed('tcpdump did not start: ' + open(dump_log.name).read())
            time.sleep(0.05)
        sender = subprocess.Popen(['ip', 'netns', 'exec', info['SRV_NS'], sys.executable, '-c',
                                   SENDER, str(SEND_PORT), str(CHUNKS), str(CHUNK), str(PAUSE)],
                                  stdout=subprocess.PIPE, text=True)
        if sender.stdout.readline().strip() != 'listening':
            raise e2e.Failed('the paced sender did not start')
        src = info['CLI4'].split()[1]
        t0 = time.monotonic()
        out_rx = lab.cmd('exec', 'cli', sys.executable, '-c', RECEIVER, src, info['SRV4'],
                         str(SEND_PORT), quiet=True)
        took = time.monotonic() - t0
        sender.wait(30)
        time.sleep(1)  # the last ACK
        dump.send_signal(signal.SIGINT)
        dump.wait(30)
        if '0 packets dropped by kernel' not in open(dump_log.name).read():
            raise e2e.Failed('tcpdump dropped packets: ' + open(dump_log.name).read())
        ip, port, sent, got = out_rx.split()
        print('receiver: %s bytes in %.1f s at %s:%s, sent %s' % (got, took, ip, port, sent))
        if int(got) != CHUNKS * CHUNK:
            raise e2e.Failed('the receiver got %s bytes, the sender wrote %d' %
                             (got, CHUNKS * CHUNK))
        time.sleep(1.5)  # the last part completes idle (two passes)
        mon.send_signal(signal.SIGINT)
        rc = mon.wait(120)
        errf.seek(0)
        print('wiretally exit summary:\n' + errf.read().rstrip())
        mon = None
        check(rc == 0, 'the monitor exits 0 after SIGINT (%d)' % rc)
    finally:
        e2e.cleanup(lab, errf, mon)
    rows, stats = read_log(rd, out)
    recs = [r for r in rows if str(port) in (r['a_port'], r['b_port']) and
            ip in (r['a_addr'], r['b_addr'])]
    for r in recs:
        print('  %s %s..%s a %s pkts %s bytes, b %s pkts %s bytes, %s' % (
            r['seq'], r['start_ns'], r['end_ns'], r['a_pkts'], r['a_bytes'], r['b_pkts'],
            r['b_bytes'], r['call_id']))
    reasons = [r['end_reason'] for r in recs]
    n_active = reasons.count('active')
    check(n_active >= 2 and reasons[-1] in ('idle', 'shutdown') and
          reasons[:-1] == ['active'] * (len(recs) - 1),
          'the transfer (%.1f s): %d interim records, then one final (%s)' %
          (took, n_active, ','.join(reasons)))
    check(len({r['call_id'] for r in recs}) == 1, 'one call_id for all its records')
    cs = 'a' if recs and recs[0]['a_addr'] == ip else 'b'
    ss = 'b' if cs == 'a' else 'a'
    # tcpdump's view: the record the whole connection makes, and the bytes
    # each side sent for the first time (beyond the highest sequence number
    # it had sent before: what a retransmission does not add)
    conv = wtpcap.Capture(pcap).find('tcp', ip, int(port), info['SRV4'], SEND_PORT)
    fresh = new_payload(pcap, (ip, int(port)), cs, ss)
    check(fresh == {cs: int(sent), ss: int(got)},
          'tcpdump saw the programs\' bytes: new payload c2s %d (%s), s2c %d (%s)' %
          (fresh[cs], sent, fresh[ss], got))
    m = merge(recs) if recs else {}
    want = conv.as_record() if conv else {}
    cols = [c + s for s in ('_mac', '_pkts', '_bytes', '_ip_bytes', '_flags', '_first_seq',
                            '_last_seq') for c in 'ab'] + ['origin']
    diff = {c: (m.get(c), want.get(c)) for c in cols if m.get(c) != want.get(c)}
    check(conv is not None and not diff,
          'the merge of the parts is the record of the whole connection in tcpdump\'s capture '
          '(s2c %s payload bytes on the wire: %d retransmitted)%s' %
          (m.get(ss + '_bytes'), int(m.get(ss + '_bytes', 0)) - int(got),
           ('; differs: %s' % diff) if diff else ''))
    check(all(int(r['a_pkts']) + int(r['b_pkts']) > 0 for r in recs if
              r['end_reason'] == 'active'), 'no interim record is empty')


def main(argv):
    tests = {'pcap': (test_pcap, 2), 'live': (test_live, 3)}
    if len(argv) < 2 or argv[1] not in tests or len(argv) != 2 + tests[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    args = [os.path.abspath(a) for a in argv[2:]]
    tmp = tempfile.mkdtemp(prefix='wt-interim-')
    try:
        tests[argv[1]][0](tmp, *args)
    except Exception as e:  # noqa: BLE001 (a skip or a failure, said with its reason)
        import e2e
        if isinstance(e, e2e.Skip):
            msg = 'SKIP interim %s: %s' % (argv[1], e)
            print(msg)
            print(msg, file=sys.stderr)
            return 77
        check(False, '%s: %s (files kept in %s)' % (type(e).__name__, e, tmp))
        return 1
    print('%d failed' % len(FAILS))
    if FAILS:
        print('(files kept in %s)' % tmp)
        return 1
    subprocess.run(['rm', '-rf', tmp])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
