#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tunnels.py: connections inside real VXLAN tunnels: two tenants with the same inner 5-tuple stay two calls.
"""Usage: tunnels.py WIRETALLY WIRETALLY_READ

Two VTEP namespaces joined by a veth (the underlay, 10.201.0.1 and
10.201.0.2), each with two VXLAN devices (VNI 100 and 200) moved into four
tenant namespaces; both tenants use the same inner addresses
(192.168.77.1 client, 192.168.77.2 server). A Python HTTP server in each
tenant's server namespace; curl in each client namespace fetches a file
from the same local port, so both tenants' inner connections have the
same 5-tuple (192.168.77.1:40077 -> 192.168.77.2:8080); one more curl runs
between the VTEPs themselves, outside any tunnel. Offloads off everywhere,
static neighbours (no ARP on the wire). The monitor listens on the server
VTEP's underlay interface (live, --tunnels inner), tcpdump records the same
interface, and the monitor then reads tcpdump's file.

Checked, live and from the file: one record per tenant, naming its tunnel
(tunnel vxlan, tunnel_id 100 or 200, outer_a_addr = the server VTEP, the
endpoint a being the server), acknowledged bytes equal curl's own counts in
both directions; packets and payload bytes per direction equal what tshark
decodes from the capture (its VXLAN dissector, per VNI); the underlay
connection's record names no tunnel. --tunnels outer on the file: no record
names a tunnel and the records hold every packet (version 1's accounting).
Needs root, ip netns with VXLAN, python3, curl, tcpdump, tshark (else exit
77 with why). Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from wtcheck import FAILS, check

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from netns_util import netns_delete  # noqa: E402

SKIP = 77
U1, U2 = '10.201.0.1', '10.201.0.2'
C, S = '192.168.77.1', '192.168.77.2'
CPORT, SPORT = 40077, 8080
TENANTS = {100: 300000, 200: 123456}  # VNI -> bytes of the file fetched
UNDERLAY_FILE = 54321


def run(cmd, timeout=120, **kw):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True, **kw)


class Lab:
    def __init__(self, tmp):
        self.p = 'wtt%d' % os.getpid()
        self.v1, self.v2 = self.p + '-v1', self.p + '-v2'
        self.tc = {vni: '%s-c%d' % (self.p, vni) for vni in TENANTS}
        self.ts = {vni: '%s-s%d' % (self.p, vni) for vni in TENANTS}
        self.tap = 'wtt-u2'
        self.tmp = tmp
        self.procs = []

    def all_ns(self):
        return [self.v1, self.v2] + list(self.tc.values()) + list(self.ts.values())

    def sh(self, *cmd, ns=None, check_rc=True):
        full = (['ip', 'netns', 'exec', ns] if ns else []) + list(cmd)
        p = run(full, timeout=60)
        if check_rc and p.returncode != 0:
            raise RuntimeError('%s: %s' % (' '.join(full), p.stderr.strip()))
        return p.stdout

    def offloads_off(self, ns, dev):
        for line in self.sh('ethtool', '-k', dev, ns=ns).splitlines():
            if ': on' in line and not line.startswith(' ') and '[fixed]' not in line:
                self.sh('ethtool', '-K', dev, line.split(':')[0], 'off', ns=ns, check_rc=False)

    def up(self):
        for ns in self.all_ns():
            self.sh('ip', 'netns', 'add', ns)
            self.sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
            self.sh('sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', ns=ns,
                    check_rc=False)
        self.sh('ip', 'link', 'add', 'wtt-u1', 'netns', self.v1, 'address', '02:77:74:00:00:01',
                'type', 'veth', 'peer', 'name', self.tap, 'netns', self.v2, 'address',
                '02:77:74:00:00:02')
        for ns, dev, a, peer, mac in ((self.v1, 'wtt-u1', U1, U2, '02:77:74:00:00:02'),
                                      (self.v2, self.tap, U2, U1, '02:77:74:00:00:01')):
            self.offloads_off(ns, dev)
            self.sh('ip', 'addr', 'add', a + '/24', 'dev', dev, ns=ns)
            self.sh('ip', 'link', 'set', dev, 'up', ns=ns)
        self.pin()
        for vni in TENANTS:
            for vtep, tenant, local, remote, addr, mac, peer_mac in (
                    (self.v1, self.tc[vni], U1, U2, C, '02:77:74:%02x:00:01' % (vni % 256),
                     '02:77:74:%02x:00:02' % (vni % 256)),
                    (self.v2, self.ts[vni], U2, U1, S, '02:77:74:%02x:00:02' % (vni % 256),
                     '02:77:74:%02x:00:01' % (vni % 256))):
                dev = 'vx%d' % vni
                # created in the VTEP (its UDP socket stays there), moved to the tenant
                self.sh('ip', 'link', 'add', dev, 'address', mac, 'type', 'vxlan', 'id', vni,
                        'local', local, 'remote', remote, 'dstport', 4789, 'dev',
                        'wtt-u1' if vtep == self.v1 else self.tap, ns=vtep)
                self.sh('ip', 'link', 'set', dev, 'netns', tenant, ns=vtep)
                self.offloads_off(tenant, dev)
                self.sh('ip', 'addr', 'add', addr + '/24', 'dev', dev, ns=tenant)
                self.sh('ip', 'link', 'set', dev, 'up', ns=tenant)
                self.sh('ip', 'neigh', 'replace', S if addr == C else C, 'lladdr', peer_mac,
                        'dev', dev, 'nud', 'permanent', ns=tenant)
        www = os.path.join(self.tmp, 'www')
        os.makedirs(www)
        for n in list(TENANTS.values()) + [UNDERLAY_FILE]:
            with open(os.path.join(www, str(n)), 'wb') as f:
                f.write(b't' * n)
        for ns, bind in [(self.ts[v], S) for v in TENANTS] + [(self.v2, U2)]:
            self.procs.append(subprocess.Popen(
                ['ip', 'netns', 'exec', ns, sys.executable, '-m', 'http.server', str(SPORT),
                 '--bind', bind, '--directory', www], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        for ns in [self.ts[v] for v in TENANTS] + [self.v2]:
            for _ in range(200):
                if ':%d ' % SPORT in self.sh('ss', '-Hltn', ns=ns):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError('the HTTP server in %s is not listening' % ns)

    def pin(self):
        self.sh('ip', 'neigh', 'replace', U2, 'lladdr', '02:77:74:00:00:02', 'dev', 'wtt-u1',
                'nud', 'permanent', ns=self.v1)
        self.sh('ip', 'neigh', 'replace', U1, 'lladdr', '02:77:74:00:00:01', 'dev', self.tap,
                'nud', 'permanent', ns=self.v2)

    def curl(self, ns, host, n):
        """(bytes curl sent, bytes it received) for one fetch."""
        out = self.sh('curl', '-q', '-sS', '--noproxy', '*', '--max-time', '60',
                      '--local-port', CPORT, '--limit-rate', '4M', '-o', '/dev/null', '-w',
                      '%{size_request} %{size_upload} %{size_header} %{size_download} '
                      '%{http_code}', 'http://%s:%d/%d' % (host, SPORT, n), ns=ns)
        f = out.split()
        if f[4] != '200':
            raise RuntimeError('curl in %s: HTTP %s' % (ns, f[4]))
        return int(f[0]) + int(f[1]), int(f[2]) + int(f[3])

    def down(self):
        for p in self.procs:
            p.kill()
            p.wait()
        netns_delete(self.all_ns())


def preflight():
    if os.geteuid() != 0:
        return 'needs root for network namespaces (uid %d)' % os.geteuid()
    missing = [c for c in ('ip', 'ethtool', 'tcpdump', 'tshark', 'curl', 'ss')
               if shutil.which(c) is None]
    if missing:
        return 'missing %s (scripts/setup.sh installs them)' % ', '.join(missing)
    probe = 'wttprobe%d' % os.getpid()
    if run(['ip', 'netns', 'add', probe]).returncode != 0:
        return 'cannot create a network namespace'
    rc = run(['ip', '-n', probe, 'link', 'add', 'vxp', 'type', 'vxlan', 'id', 1, 'local',
              '10.9.9.1', 'remote', '10.9.9.2', 'dstport', 4789]).returncode
    run(['ip', 'netns', 'del', probe])
    return None if rc == 0 else 'this kernel has no VXLAN devices'


def records(rd, out):
    p = run([rd, out])
    check(p.returncode == 0, 'wiretally-read %s exits 0 (%s)' % (out, p.stderr.strip()[-200:]))
    return list(csv.DictReader(io.StringIO(p.stdout)))


def tshark_truth(pcap):
    """Per (VNI or None, sender address, sender port): [packets, payload] of
    the TCP segments between C/S (inside VXLAN) or U1/U2 (the underlay)."""
    p = run(['tshark', '-r', pcap, '-Y', 'tcp', '-T', 'fields', '-E', 'separator=|', '-e',
             'vxlan.vni', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'tcp.len'])
    check(p.returncode == 0, 'tshark reads the capture (%s)' % p.stderr.strip()[-200:])
    out = {}
    for line in p.stdout.splitlines():
        vni, src, port, plen = line.split('|')
        key = (int(vni) if vni else None, src.split(',')[-1], int(port))
        cur = out.setdefault(key, [0, 0])
        cur[0] += 1
        cur[1] += int(plen)
    return out


def check_records(what, recs, sent, truth, live):
    """sent: VNI (None: the underlay) -> (client bytes sent, received)."""
    bad = []
    tun = {}
    for r in recs:
        if r['proto'] != 'tcp':
            continue
        if r['tunnel']:
            tun.setdefault(r['tunnel_id'], []).append(r)
        elif {r['a_addr'], r['b_addr']} == {U1, U2}:
            tun.setdefault('underlay', []).append(r)
        else:
            bad.append('seq %s: a TCP record outside the tunnels and the underlay' % r['seq'])
    for vni, (up, down) in sent.items():
        key = 'underlay' if vni is None else str(vni)
        rs = tun.get(key, [])
        if len(rs) != 1:
            bad.append('%s: %d records' % (key, len(rs)))
            continue
        r = rs[0]
        srv, cli = (U2, U1) if vni is None else (S, C)
        want = {'a_addr': srv, 'a_port': str(SPORT), 'b_addr': cli, 'b_port': str(CPORT),
                'a_acked_bytes': str(down), 'b_acked_bytes': str(up), 'origin': 'b'}
        if vni is not None:
            want.update(tunnel='vxlan', tunnel_id=str(vni), outer_a_addr=U2, outer_b_addr=U1)
        else:
            want.update(tunnel='', tunnel_id='', outer_a_addr='', outer_b_addr='')
        for x, addr, port in (('a', srv, SPORT), ('b', cli, CPORT)):
            t = truth.get((vni, addr, port), [0, 0])
            want[x + '_bytes'] = str(t[1])
            if not live:  # live, tcpdump and the monitor may differ at the run's edges
                want[x + '_pkts'] = str(t[0])
        for k, v in want.items():
            if r[k] != v:
                bad.append('%s: %s = %r, expected %r' % (key, k, r[k], v))
    check(not bad, '%s: one record per tenant with its tunnel, acknowledged bytes = curl\'s, '
          'packets and payload = tshark\'s (%d records)%s' %
          (what, len(recs), ('; ' + '; '.join(bad[:4])) if bad else ''))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    wt, rd = sys.argv[1], sys.argv[2]
    why = preflight()
    if why:
        print('SKIP live-tunnels: ' + why)
        return SKIP
    tmp = tempfile.mkdtemp(prefix='wt-tunnels-')
    lab = Lab(tmp)
    try:
        lab.up()
        out, pcap = os.path.join(tmp, 'live'), os.path.join(tmp, 'underlay.pcap')
        os.makedirs(out)
        errf = open(os.path.join(tmp, 'monitor.stderr'), 'w+')
        td = subprocess.Popen(['ip', 'netns', 'exec', lab.v2, 'tcpdump', '-i', lab.tap, '-n',
                               '-s', '0', '-B', '65536', '-U', '-Z', 'root', '-w', pcap],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        mon = subprocess.Popen(['ip', 'netns', 'exec', lab.v2, wt, '--iface', lab.tap, '-o', out],
                               stdout=errf, stderr=subprocess.STDOUT)
        lab.procs += [td, mon]
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
        sent = {vni: lab.curl(lab.tc[vni], S, n) for vni, n in TENANTS.items()}
        sent[None] = lab.curl(lab.v1, U2, UNDERLAY_FILE)
        time.sleep(1)
        mon.send_signal(signal.SIGINT)
        mon.wait(120)
        td.send_signal(signal.SIGINT)
        td.wait(60)
        errf.seek(0)
        summary = errf.read()
        check(mon.returncode == 0, 'the monitor exits 0 (%d)' % mon.returncode)
        check('calls inside tunnels' in summary, 'the summary counts the calls inside tunnels')
        truth = tshark_truth(pcap)
        check(all((v, S, SPORT) in truth for v in TENANTS),
              'tshark decodes both tenants\' connections inside VXLAN')
        check_records('live', records(rd, out), sent, truth, True)
        fout = os.path.join(tmp, 'file')
        os.makedirs(fout)
        p = run([wt, '--pcap', pcap, '-o', fout])
        check(p.returncode == 0, 'the monitor reads the capture (%s)' % p.stderr.strip()[-200:])
        check_records('capture file', records(rd, fout), sent, truth, False)
        oout = os.path.join(tmp, 'outer')
        os.makedirs(oout)
        p = run([wt, '--pcap', pcap, '-o', oout, '--tunnels', 'outer'])
        orecs = records(rd, oout)
        frecs = records(rd, fout)
        opk = sum(int(r['a_pkts']) + int(r['b_pkts']) for r in orecs)
        fpk = sum(int(r['a_pkts']) + int(r['b_pkts']) for r in frecs)
        check(p.returncode == 0 and not any(r['tunnel'] or r['outer_a_addr'] for r in orecs)
              and opk == fpk and any(r['b_port'] == '4789' or r['a_port'] == '4789'
                                     for r in orecs),
              '--tunnels outer: the VXLAN datagrams are records of their own, none names a '
              'tunnel, %d packets as with --tunnels inner (%d)' % (opk, fpk))
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, 'the lab ran (%s; files in %s)' % (e, tmp))
    finally:
        lab.down()
    if not FAILS:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print('files kept in %s' % tmp)
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
