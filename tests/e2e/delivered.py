#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# delivered.py: delivered bytes (record version 2): missed bytes from a capture with segments removed, and real lossy traffic through a router.
"""Usage: delivered.py missed WIRETALLY WIRETALLY_READ PCAP
       delivered.py lossy WIRETALLY WIRETALLY_READ

missed: PCAP (the shipped nginx/curl capture) is read once as it is and
once with data segments removed: first transmissions in the middle of the
server's responses, whose bytes the client's later ACKs still cover. Per
connection, the copy's missed bytes equal the original's plus exactly the
payload removed from that direction, its acknowledged and sequence-space
bytes equal the original's, its payload is smaller by the removed bytes;
both runs also equal, column by column, what tests/e2e/wtpcap.py computes
from the files.

lossy: three network namespaces, a client, a router and a server, with
every offload off. The router forwards between them and drops one TCP
segment in 25 (nftables, numgen random, in its forward chain), in both
directions; the monitor listens on the router's server-side interface and
tcpdump records the same interface. So the tap sees retransmissions of
segments lost after it (server to client) and holes that fill later
(client to server, lost before it). nginx serves downloads and takes
uploads of known sizes; curl fetches them, one connection each, and one
keep-alive connection carries three requests. For every connection:
acknowledged bytes per direction equal the applications' own byte counts
(curl's), while the payload bytes on the wire exceed them; sequence-space,
retransmitted and missed bytes equal what wtpcap.py computes from
tcpdump's capture of the same interface (its own byte-interval model);
every column of every record equals wtpcap.py's. Live with 1 and with 2
RX lcores (a new run each), then the monitor on the capture file.
Needs root, ip netns, nft, nginx, curl, tcpdump (else exit 77 with why).
Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import wtpcap
from wtcheck import FAILS, SKIPS, check

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from netns_util import netns_delete  # noqa: E402

SKIP = 77
COMPARED = [c for c in wtpcap.RECORD_COLUMNS
            if c not in ('seq', 'start_ns', 'end_ns', 'end_reason', 'call_id')]


def run(cmd, timeout=300, **kw):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True, **kw)


def records(rd, out):
    p = run([rd, out])
    check(p.returncode == 0, 'wiretally-read %s exits 0 (%d: %s)' %
          (os.path.basename(out), p.returncode, p.stderr.strip()[-300:]))
    return list(csv.DictReader(io.StringIO(p.stdout)))


def monitor_pcap(wt, pcap, out):
    os.makedirs(out)
    p = run([wt, '--pcap', pcap, '-o', out])
    check(p.returncode == 0, 'wiretally --pcap %s exits 0 (%d: %s)' %
          (os.path.basename(pcap), p.returncode, p.stderr.strip()[-300:]))
    return p.stderr


def by_endpoints(recs):
    return {wtpcap.record_endpoints(r): r for r in recs}


# Live, tcpdump and the monitor each open their own socket a moment apart:
# a packet at the edges of the run (an ICMPv6 report at link-up, the last
# ACK of a close) may be in one and not the other. The TCP figures and the
# payload are compared; packets and IP bytes only on the capture file.
LIVE_COLUMNS = [c for c in COMPARED if c[2:] in ('bytes', 'seq_bytes', 'acked_bytes', 'retx_bytes',
                                                   'missed_bytes')]


def compare_with_capture(what, recs, cap, times=True, tcp_only=False):
    """Every record equals wtpcap.py's, column by column; one per connection.
    tcp_only: the TCP connections and LIVE_COLUMNS only (a live run)."""
    got = by_endpoints(recs)
    if tcp_only:
        recs = [r for r in recs if r['proto'] == 'tcp']
    bad = []
    convs = [c for c in cap.conversations.values() if not tcp_only or c.proto == 6]
    for c in convs:
        want = c.as_record()
        r = got.get(c.endpoints())
        if r is None:
            bad.append('%s: no record' % c.describe())
            continue
        cols = (LIVE_COLUMNS if tcp_only else COMPARED) + (['start_ns', 'end_ns'] if times else [])
        for col in cols:
            w = want[col]
            if col in ('start_ns', 'end_ns'):
                w = str(int(w) // 1000 * 1000)  # net_pcap reads microseconds
            if r[col] != w:
                bad.append('%s: %s = %r, wtpcap.py says %r' % (c.describe(), col, r[col], w))
    check(not bad and len(recs) == len(convs),
          '%s: %d %srecords, each equal to wtpcap.py\'s (%d connections)%s' %
          (what, len(recs), 'TCP ' if tcp_only else '', len(convs),
           ('; ' + '; '.join(bad[:4])) if bad else ''))


# ---- missed: a capture with data segments removed ---------------------------

def read_frames(path):
    """(global header, [(record header, frame)]) of a classic pcap file."""
    with open(path, 'rb') as f:
        data = f.read()
    endian = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + 'I', data, off + 8)[0]
        out.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], out


def part_missed(wt, rd, pcap, tmp):
    hdr, frames = read_frames(pcap)
    # Which frames to remove: server data segments of responses over 5
    # segments, the 2nd and 4th of each, when no other frame carries the
    # same sequence number (a first and only transmission).
    pkts = [wtpcap.parse_frame(0, fr) for _, fr in frames]
    count = {}
    for p in pkts:
        if p is not None and p.proto == 6 and p.payload:
            k = (p.family, p.src, p.sport, p.seq)
            count[k] = count.get(k, 0) + 1
    per_stream, drop = {}, set()
    for i, p in enumerate(pkts):
        if p is None or p.proto != 6 or p.payload == 0 or p.sport not in (80,):
            continue
        k = (p.family, p.src, p.sport, p.dst, p.dport)
        n = per_stream[k] = per_stream.get(k, 0) + 1
        if n in (2, 4) and count[(p.family, p.src, p.sport, p.seq)] == 1:
            drop.add(i)
    removed = {}
    for i in drop:
        p = pkts[i]
        src, dst = (p.src, p.sport), (p.dst, p.dport)
        removed[(p.family, src, dst)] = removed.get((p.family, src, dst), 0) + p.payload
    cut = os.path.join(tmp, 'cut.pcap')
    with open(cut, 'wb') as f:
        f.write(hdr)
        for i, (rh, fr) in enumerate(frames):
            if i not in drop:
                f.write(rh + fr)
    check(len(removed) >= 3 and len(drop) >= 5,
          'missed: %d data segments (%d bytes) removed from %d streams' %
          (len(drop), sum(removed.values()), len(removed)))
    monitor_pcap(wt, pcap, os.path.join(tmp, 'orig'))
    monitor_pcap(wt, cut, os.path.join(tmp, 'cut'))
    orig = by_endpoints(records(rd, os.path.join(tmp, 'orig')))
    cutr = by_endpoints(records(rd, os.path.join(tmp, 'cut')))
    compare_with_capture('missed: the original', list(orig.values()), wtpcap.Capture(pcap))
    compare_with_capture('missed: the copy', list(cutr.values()), wtpcap.Capture(cut))
    bad = []
    checked = 0
    for (fam, src, dst), n in removed.items():
        a, b = (src, dst) if src > dst else (dst, src)
        side = 'a' if src == a else 'b'
        key = ('tcp', frozenset(((wtpcap.addr_text(fam, a[0]), a[1]),
                                 (wtpcap.addr_text(fam, b[0]), b[1]))))
        o, c = orig.get(key), cutr.get(key)
        if o is None or c is None:
            bad.append('%s: no record' % (key,))
            continue
        checked += 1
        s = side + '_'
        want = {s + 'missed_bytes': int(o[s + 'missed_bytes']) + n,
                s + 'acked_bytes': int(o[s + 'acked_bytes']),
                s + 'seq_bytes': int(o[s + 'seq_bytes']),
                s + 'bytes': int(o[s + 'bytes']) - n}
        for k, v in want.items():
            if int(c[k]) != v:
                bad.append('%s %s: %s in the copy, %d expected' % (key, k, c[k], v))
    check(not bad and checked == len(removed),
          'missed: per stream, missed bytes = the removed payload, acknowledged and sequence '
          'bytes unchanged (%d streams)%s' % (checked, ('; ' + '; '.join(bad[:3])) if bad else ''))


# ---- lossy: three namespaces and a router that drops --------------------------

CLI4, RTR_C4, RTR_S4, SRV4 = '198.51.100.10', '198.51.100.1', '203.0.113.1', '203.0.113.20'
CLI6, RTR_C6, RTR_S6, SRV6 = 'fd00:77:c::10', 'fd00:77:c::1', 'fd00:77:5::1', 'fd00:77:5::20'
DROP_ONE_IN = 25
SIZES = {'get': [300000, 1000000, 3000000], 'post': [200000, 1000000]}
KEEPALIVE = ['20000', '1000000', '12345']
# nginx's echo module (Debian: libnginx-mod-http-echo, a dependency of nginx-light)
ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so'


class Router:
    """cli <-> rtr <-> srv; the router drops 1 TCP segment in DROP_ONE_IN."""

    def __init__(self, tmp):
        self.p = 'wtd%d' % os.getpid()
        self.cli, self.rtr, self.srv = self.p + '-cli', self.p + '-rtr', self.p + '-srv'
        self.tap = 'wtd-s'  # the router's server-side interface
        self.state = os.path.join(tmp, 'lab')
        os.makedirs(self.state)
        self.nginx = None

    def sh(self, *cmd, ns=None, check_rc=True):
        full = (['ip', 'netns', 'exec', ns] if ns else []) + list(cmd)
        p = run(full, timeout=60)
        if check_rc and p.returncode != 0:
            raise RuntimeError('%s: %s' % (' '.join(full), p.stderr.strip()))
        return p.stdout

    def offloads_off(self, ns, dev):
        out = self.sh('ethtool', '-k', dev, ns=ns)
        for line in out.splitlines():
            if ': on' in line and not line.startswith(' ') and '[fixed]' not in line:
                self.sh('ethtool', '-K', dev, line.split(':')[0], 'off', ns=ns,
                        check_rc=False)

    def up(self):
        for ns in (self.cli, self.rtr, self.srv):
            self.sh('ip', 'netns', 'add', ns)
            self.sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
            for k in ('accept_dad=0', 'accept_ra=0', 'router_solicitations=0', 'autoconf=0'):
                for scope in ('default', 'all'):
                    self.sh('sysctl', '-q', '-w', 'net.ipv6.conf.%s.%s' % (scope, k), ns=ns,
                            check_rc=False)
        self.sh('ip', 'link', 'add', 'wtd-c0', 'netns', self.cli, 'address', '02:77:64:00:00:01',
                'type', 'veth', 'peer', 'name', 'wtd-c', 'netns', self.rtr, 'address',
                '02:77:64:00:00:02')
        self.sh('ip', 'link', 'add', self.tap, 'netns', self.rtr, 'address', '02:77:64:00:00:03',
                'type', 'veth', 'peer', 'name', 'wtd-s0', 'netns', self.srv, 'address',
                '02:77:64:00:00:04')
        for ns, dev, addrs in ((self.cli, 'wtd-c0', [(CLI4, 24), (CLI6, 64)]),
                               (self.rtr, 'wtd-c', [(RTR_C4, 24), (RTR_C6, 64)]),
                               (self.rtr, self.tap, [(RTR_S4, 24), (RTR_S6, 64)]),
                               (self.srv, 'wtd-s0', [(SRV4, 24), (SRV6, 64)])):
            self.offloads_off(ns, dev)
            for a, plen in addrs:
                extra = ['nodad'] if ':' in a else []
                self.sh('ip', 'addr', 'add', '%s/%d' % (a, plen), 'dev', dev, *extra, ns=ns)
            self.sh('ip', 'link', 'set', dev, 'up', ns=ns)
        self.sh('ip', 'route', 'add', 'default', 'via', RTR_C4, ns=self.cli)
        self.sh('ip', '-6', 'route', 'add', 'default', 'via', RTR_C6, ns=self.cli)
        self.sh('ip', 'route', 'add', 'default', 'via', RTR_S4, ns=self.srv)
        self.sh('ip', '-6', 'route', 'add', 'default', 'via', RTR_S6, ns=self.srv)
        self.sh('sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', ns=self.rtr)
        self.sh('sysctl', '-q', '-w', 'net.ipv6.conf.all.forwarding=1', ns=self.rtr)
        self.pin()
        rules = ('table inet wtloss {\n'
                 '  chain forward_loss {\n'
                 '    type filter hook forward priority 0; policy accept;\n'
                 '    meta l4proto tcp numgen random mod %d == 0 counter drop\n'
                 '  }\n}\n' % DROP_ONE_IN)
        path = os.path.join(self.state, 'loss.nft')
        with open(path, 'w') as f:
            f.write(rules)
        self.sh('nft', '-f', path, ns=self.rtr)
        self.start_nginx()

    def pin(self):
        """Static neighbours on every link: no ARP or ND on the wire."""
        for ns, dev, mac, addrs in (
                (self.cli, 'wtd-c0', '02:77:64:00:00:02', [RTR_C4, RTR_C6]),
                (self.rtr, 'wtd-c', '02:77:64:00:00:01', [CLI4, CLI6]),
                (self.rtr, self.tap, '02:77:64:00:00:04', [SRV4, SRV6]),
                (self.srv, 'wtd-s0', '02:77:64:00:00:03', [RTR_S4, RTR_S6])):
            for a in addrs:
                self.sh('ip', 'neigh', 'replace', a, 'lladdr', mac, 'dev', dev, 'nud',
                        'permanent', ns=ns)

    def start_nginx(self):
        www = os.path.join(self.state, 'www')
        os.makedirs(os.path.join(www, 'f'))
        for n in SIZES['get'] + [int(x) for x in KEEPALIVE]:
            with open(os.path.join(www, 'f', str(n)), 'wb') as f:
                f.write(b'w' * n)
        conf = os.path.join(self.state, 'nginx.conf')
        tmpd = os.path.join(self.state, 'tmp')
        os.makedirs(tmpd)
        # The upload is answered only once its whole body is read (the echo
        # module, which nginx-light brings): 'return 200' answers at once
        # and discards the body behind the answer, and through a lossy
        # router on a busy machine nginx could give up on the rest (a
        # reset) after curl had counted it as sent.
        echo = os.path.exists(ECHO_MODULE)
        # (not chunked, so that curl's byte counts are the bytes on the wire)
        upload = ('chunked_transfer_encoding off; echo_read_request_body; echo "stored";'
                  if echo else 'return 200 "stored\\n";')
        with open(conf, 'w') as f:
            f.write('%sworker_processes 1;\nuser root;\npid %s/nginx.pid;\n'
                    'error_log %s/nginx-error.log warn;\nevents { worker_connections 64; }\n'
                    'http {\n  access_log off;\n  client_body_temp_path %s/body;\n'
                    '  default_type application/octet-stream;\n  server_tokens off;\n'
                    '  keepalive_timeout 30s;\n'
                    '  server {\n    listen %s:80;\n    listen [%s]:80;\n    root %s;\n'
                    '    location /f/ { }\n'
                    '    location = /upload { client_max_body_size 16m; '
                    'client_body_buffer_size 1m; %s }\n  }\n}\n'
                    % ('load_module %s;\n' % ECHO_MODULE if echo else '', self.state,
                       self.state, tmpd, SRV4, SRV6, www, upload))
        self.sh('nginx', '-q', '-p', self.state, '-c', conf, ns=self.srv)
        for _ in range(100):
            if ':80 ' in self.sh('ss', '-Hltn', ns=self.srv):
                return
            time.sleep(0.05)
        raise RuntimeError('nginx is not listening')

    def curl(self, urls, body=None, v6=False):
        """One curl invocation (one connection for several urls): the
        manifest row (client port, c2s bytes, s2c bytes) from curl's own
        counts, summed over its transfers."""
        # paced: tcpdump, the router and the monitor share two cores
        args = ['curl', '-q', '-sS', '--noproxy', '*', '--max-time', '120', '-H', 'Expect:',
                '--limit-rate', '8M', '--interface', CLI6 if v6 else CLI4]
        if body is not None:
            args += ['-X', 'POST', '-T', body, '-H', 'Content-Type: application/octet-stream']
        fmt = '%{local_port} %{size_request} %{size_upload} %{size_header} %{size_download} ' \
              '%{http_code} %{num_connects}\\n'
        for u in urls:
            args += ['-o', '/dev/null', '-w', fmt, u]
        out = self.sh(*args, ns=self.cli)
        port, up, down, conns = None, 0, 0, 0
        for line in out.splitlines():
            f = line.split()
            if f[5] != '200':
                raise RuntimeError('curl %s: HTTP %s' % (urls, f[5]))
            port = int(f[0])
            up += int(f[1]) + int(f[2])
            down += int(f[3]) + int(f[4])
            conns += int(f[6])
        if conns != 1:
            raise RuntimeError('curl %s used %d connections, not one' % (urls, conns))
        return dict(client=(CLI6 if v6 else CLI4, port), server=(SRV6 if v6 else SRV4, 80),
                    c2s=up, s2c=down, what=' '.join(u.rsplit('/', 1)[1] for u in urls) +
                    (' POST' if body else ''))

    def workload(self):
        rows = []
        for v6 in (False, True):
            host = '[%s]' % SRV6 if v6 else SRV4
            for n in SIZES['get']:
                rows.append(self.curl(['http://%s/f/%d' % (host, n)], v6=v6))
            for n in SIZES['post']:
                body = os.path.join(self.state, 'post.%d' % n)
                if not os.path.exists(body):
                    with open(body, 'wb') as f:
                        f.write(b'p' * n)
                rows.append(self.curl(['http://%s/upload' % host], body=body, v6=v6))
        rows.append(self.curl(['http://%s/f/%s' % (SRV4, k) for k in KEEPALIVE]))
        return rows

    def drops(self):
        out = self.sh('nft', 'list', 'table', 'inet', 'wtloss', ns=self.rtr)
        for word in out.split('packets')[1:]:
            return int(word.split()[0])
        return 0

    def down(self):
        netns_delete((self.cli, self.rtr, self.srv))


def lossy_preflight():
    if os.geteuid() != 0:
        return 'needs root for network namespaces (uid %d)' % os.geteuid()
    missing = [c for c in ('ip', 'ethtool', 'tcpdump', 'nginx', 'curl', 'nft', 'ss')
               if shutil.which(c) is None]
    if missing:
        return 'missing %s (scripts/setup.sh installs them)' % ', '.join(missing)
    probe = 'wtdprobe%d' % os.getpid()
    if run(['ip', 'netns', 'add', probe]).returncode != 0:
        return 'cannot create a network namespace'
    rc = run(['ip', 'netns', 'exec', probe, 'nft', 'list', 'tables']).returncode
    run(['ip', 'netns', 'del', probe])
    return None if rc == 0 else 'nft does not work in a network namespace'


def lossy_run(wt, rd, tmp, lab, name, rx_cores):
    """One run: monitor + tcpdump on the router's server-side interface
    while the workload runs. Returns (records, capture path, manifest)."""
    out = os.path.join(tmp, name)
    os.makedirs(out)
    pcap = os.path.join(tmp, name + '.pcap')
    errf = open(os.path.join(tmp, name + '.stderr'), 'w+')
    # a large kernel buffer: the monitor polls one of the machine's cores
    td = subprocess.Popen(['ip', 'netns', 'exec', lab.rtr, 'tcpdump', '-i', lab.tap, '-n', '-s',
                           '0', '-B', '131072', '-U', '-Z', 'root', '-w', pcap],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    mon = subprocess.Popen(['ip', 'netns', 'exec', lab.rtr, wt, '--iface', lab.tap, '-o', out,
                            '--rx-cores', str(rx_cores)], stdout=errf, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            errf.seek(0)
            if 'wiretally: writing to ' in errf.read():
                break
            if mon.poll() is not None or time.monotonic() > deadline:
                errf.seek(0)
                raise RuntimeError('the monitor did not start: %s' % errf.read()[-2000:])
            time.sleep(0.05)
        lab.pin()  # the port replayed the interface's MAC: static neighbours again
        time.sleep(0.5)
        drops0 = lab.drops()
        rows = lab.workload()
        time.sleep(1)
        dropped = lab.drops() - drops0
        mon.send_signal(signal.SIGINT)
        rc = mon.wait(120)
        td.send_signal(signal.SIGINT)
        _, tderr = td.communicate(timeout=60)
    finally:
        for p in (mon, td):
            if p.poll() is None:
                p.kill()
                p.wait()
    errf.seek(0)
    summary = errf.read()
    errf.close()
    print('%s: the router dropped %d TCP segments; monitor summary:\n%s' %
          (name, dropped, summary[summary.find('wiretally: summary'):].rstrip()), flush=True)
    check(rc == 0, '%s: the monitor exits 0 after SIGINT (%d)' % (name, rc))
    check(b'0 packets dropped by kernel' in tderr,
          '%s: tcpdump lost nothing (%s)' % (name, tderr.decode(errors='replace').strip()[-200:]))
    check(' 0 missed, 0 errors, 0 no mbuf' in summary,
          '%s: the monitor\'s port lost nothing' % name)
    check(dropped >= 20, '%s: the router dropped %d TCP segments (>= 20)' % (name, dropped))
    return records(rd, out), pcap, rows


def check_lossy(name, recs, rows, cap, times):
    """The application's counts, and the capture's figures."""
    compare_with_capture(name, recs, cap, times=times, tcp_only=not times)
    got = by_endpoints(recs)
    bad, exceed, retx, missed = [], 0, 0, 0
    for row in rows:
        key = ('tcp', frozenset((row['client'], row['server'])))
        r = got.get(key)
        if r is None:
            bad.append('%s: no record' % row['what'])
            continue
        cs = 'a' if (r['a_addr'], int(r['a_port'])) == row['client'] else 'b'
        ss = 'b' if cs == 'a' else 'a'
        acked = (int(r[cs + '_acked_bytes'] or -1), int(r[ss + '_acked_bytes'] or -1))
        if acked != (row['c2s'], row['s2c']):
            bad.append('%s: acknowledged c2s %d s2c %d, the applications %d %d' %
                       ((row['what'],) + acked + (row['c2s'], row['s2c'])))
        wire = (int(r[cs + '_bytes']), int(r[ss + '_bytes']))
        if wire[0] < row['c2s'] or wire[1] < row['s2c']:
            bad.append('%s: payload c2s %d s2c %d below the applications\' %d %d' %
                       ((row['what'],) + wire + (row['c2s'], row['s2c'])))
        exceed += wire[0] + wire[1] > row['c2s'] + row['s2c']
        retx += int(r[cs + '_retx_bytes']) + int(r[ss + '_retx_bytes'])
        missed += int(r[cs + '_missed_bytes']) + int(r[ss + '_missed_bytes'])
    check(not bad, '%s: acknowledged bytes = the applications\' counts for all %d connections%s'
          % (name, len(rows), ('; ' + '; '.join(bad[:3])) if bad else ''))
    fills = sum(d.stream.fills for c in cap.conversations.values() for d in c.d.values())
    check(exceed >= len(rows) // 2 and retx > 0 and fills > 0,
          '%s: payload on the wire exceeds the applications\' bytes on %d of %d connections '
          '(%d bytes retransmitted after the tap, %d missed; %d holes filled by segments lost '
          'before it)' % (name, exceed, len(rows), retx, missed, fills))
    others = [c.describe() for c in cap.conversations.values()
              if not any(c.endpoints() == ('tcp', frozenset((r['client'], r['server'])))
                         for r in rows)]
    if others:
        print('note %s: not in the manifest: %s' % (name, ', '.join(others)), flush=True)


def part_lossy(wt, rd, tmp):
    why = lossy_preflight()
    if why:
        SKIPS.append('lossy: ' + why)
        print('SKIP lossy: ' + why, flush=True)
        return
    lab = Router(tmp)
    try:
        lab.up()
        runs = []
        for name, cores in (('rx1', 1), ('rx2', 2)):
            recs, pcap, rows = lossy_run(wt, rd, tmp, lab, name, cores)
            cap = wtpcap.Capture(pcap)
            check_lossy('live, %d RX lcore%s' % (cores, 's' if cores > 1 else ''), recs, rows,
                        cap, times=False)
            runs.append((name, pcap, rows, cap))
    except RuntimeError as e:
        check(False, 'lossy lab: %s' % e)
        return
    finally:
        lab.down()
    for name, pcap, rows, cap in runs:
        out = os.path.join(tmp, name + '-file')
        monitor_pcap(wt, pcap, out)
        check_lossy('capture file of %s' % name, records(rd, out), rows, cap, times=True)


def main(argv):
    parts = {'missed': (part_missed, 3), 'lossy': (part_lossy, 2)}
    if len(argv) < 2 or argv[1] not in parts or len(argv) != 2 + parts[argv[1]][1]:
        print(__doc__)
        return 2
    import tempfile
    tmp = tempfile.mkdtemp(prefix='wt-delivered-')
    parts[argv[1]][0](*[os.path.abspath(a) for a in argv[2:]], tmp)
    if FAILS:
        print('(files kept in %s)' % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    for s in SKIPS:
        print('*** SKIPPED part: %s ***' % s)
    print('%d failed' % len(FAILS))
    if FAILS:
        return 1
    return SKIP if SKIPS else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
