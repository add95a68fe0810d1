#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# run_agent.py: the host agent's cost: ns per BPF program run and per event, events/s without loss, and what applications keep (iperf3, wrk).
"""Usage: run_agent.py [--build DIR] [--parts programs,rate,apps] [--seconds S]
                    [--rounds N] [--out FILE]

programs  kernel.bpf_stats_enabled on; for each workload (iperf3 over
          loopback with 128 KiB and 1 KiB writes, wrk against nginx, a UDP
          flood with sendmmsg/recvmmsg) a fresh agent: per BPF program its
          runs, ns per run (run_time_ns / run_cnt), translated
          instructions and JIT bytes; then ns of BPF time per event stored
          (the sum over all programs / the events the agent stored).
rate      the UDP flood (benchmarks/agent_flood) in a namespace of its own,
          the agent tracing only that namespace: the program's calls per
          second without and with the agent, the events stored per second
          and the events lost (must be 0), batches of 32 and of 1.
apps      iperf3 over loopback (128 KiB and 1 KiB writes) and wrk against
          nginx (1 thread, 8 connections, a 612-byte page), each run
          without and with the agent, alternating, --rounds times: the
          medians and the ratio with/without.
The machines are shared VMs: every ratio compares runs of this one
invocation, alternated. Needs root, iperf3, wrk, nginx (apt-get install
iperf3 wrk nginx-light) and the agent built. Prints a markdown report
(also to --out).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from netns_util import netns_delete  # noqa: E402

NS = 'wtbench%d' % os.getpid()


def sh(*cmd, ns=None, timeout=300, check=True):
    full = (['ip', 'netns', 'exec', ns] if ns else []) + [str(c) for c in cmd]
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(full), p.stderr.strip()[-400:]))
    return p.stdout


class Agent:
    """wiretally-agent running into a fresh directory."""

    def __init__(self, build, tmp, args=()):
        self.dir = tempfile.mkdtemp(dir=tmp, prefix='trace-')
        self.err = open(os.path.join(self.dir, '..', os.path.basename(self.dir) + '.err'), 'w+')
        self.p = subprocess.Popen([os.path.join(build, 'app', 'wiretally-agent',
                                                'wiretally-agent'), '-o', self.dir] + list(args),
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(100):
            self.err.seek(0)
            if 'tracing' in self.err.read() or self.p.poll() is not None:
                break
            time.sleep(0.1)
        if self.p.poll() is not None:
            self.err.seek(0)
            raise RuntimeError('the agent did not start: %s' % self.err.read().strip())

    def stop(self):
        """Stop it; its summary as {name: events} and the lost count."""
        self.p.send_signal(signal.SIGINT)
        self.p.wait(120)
        self.err.seek(0)
        text = self.err.read()
        events = {m.group(1): int(m.group(2))
                  for m in re.finditer(r'^\s+(\w+)\s+(\d+) events', text, re.M)}
        m = re.search(r'^lost (\d+) events', text, re.M)
        shutil.rmtree(self.dir, ignore_errors=True)
        return events, int(m.group(1)) if m else -1


def prog_stats():
    """{name: (run_cnt, run_time_ns, xlated insns, jited bytes)} of the agent's programs."""
    out = {}
    for p in json.loads(sh('bpftool', 'prog', 'show', '-j')):
        if p.get('name', '').startswith('wta_'):
            out[p['name']] = (p.get('run_cnt', 0), p.get('run_time_ns', 0),
                              p.get('bytes_xlated', 0) // 8, p.get('bytes_jited', 0))
    return out


# ---- the workloads ------------------------------------------------------------

def lab_up(tmp):
    sh('ip', 'netns', 'add', NS)
    sh('ip', 'link', 'set', 'lo', 'up', ns=NS)
    www = os.path.join(tmp, 'www')
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, 'index.html'), 'w') as f:
        f.write('<!DOCTYPE html>' + 'x' * 597)  # 612 bytes, nginx's default page size
    conf = os.path.join(tmp, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write('worker_processes 1;\nuser root;\npid %s/nginx.pid;\nerror_log %s/err.log;\n'
                'events { worker_connections 256; }\nhttp { access_log off; server_tokens off;\n'
                '  server { listen 127.0.0.1:8080; root %s; } }\n' % (tmp, tmp, www))
    sh('nginx', '-q', '-p', tmp, '-c', conf, ns=NS)
    iperf = subprocess.Popen(['ip', 'netns', 'exec', NS, 'iperf3', '-s', '-B', '127.0.0.1'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return iperf


def lab_down(tmp, iperf):
    if iperf is not None:
        iperf.kill()
        iperf.wait()
    try:
        os.kill(int(open(os.path.join(tmp, 'nginx.pid')).read()), signal.SIGTERM)
    except (OSError, ValueError):
        pass
    netns_delete([NS])


def iperf3(seconds, length):
    out = json.loads(sh('iperf3', '-c', '127.0.0.1', '-t', seconds, '-l', length, '-J', ns=NS,
                        timeout=seconds * 3 + 30))
    return out['end']['sum_received']['bits_per_second'] / 1e9  # Gbit/s


def wrk(seconds):
    out = sh('wrk', '-t1', '-c8', '-d%ds' % seconds, 'http://127.0.0.1:8080/', ns=NS,
             timeout=seconds * 3 + 30)
    m = re.search(r'Requests/sec:\s+([\d.]+)', out)
    return float(m.group(1))


def flood(build, seconds, batch):
    return json.loads(sh(os.path.join(build, 'benchmarks', 'agent_flood'), seconds, batch, 64,
                         ns=NS, timeout=seconds * 3 + 30))


WORKLOADS = [
    ('iperf3, 128 KiB writes', lambda b, s: '%.2f Gbit/s' % iperf3(s, '128K')),
    ('iperf3, 1 KiB writes', lambda b, s: '%.2f Gbit/s' % iperf3(s, '1K')),
    ('wrk, nginx 612 B page', lambda b, s: '%.0f req/s' % wrk(s)),
    ('UDP flood, batches of 32', lambda b, s: '%.0f calls/s' % flood(b, s, 32)['calls_per_s']),
]


# ---- parts ----------------------------------------------------------------------

def part_programs(a, tmp, out):
    out.append('### BPF programs per workload (kernel.bpf_stats_enabled)\n')
    old = sh('sysctl', '-n', 'kernel.bpf_stats_enabled').strip()
    sh('sysctl', '-q', '-w', 'kernel.bpf_stats_enabled=1')
    try:
        for name, fn in WORKLOADS:
            ag = Agent(a.build, tmp)
            before = prog_stats()
            result = fn(a.build, a.seconds)
            after = prog_stats()
            events, lost = ag.stop()
            stored = sum(events.values())
            out.append('**%s** (%s; %d events stored, %d lost)\n' % (name, result, stored, lost))
            out.append('| program | runs | ns/run | xlated insns | JIT bytes |')
            out.append('|---|---:|---:|---:|---:|')
            total_ns = 0
            for prog in sorted(after):
                n = after[prog][0] - before.get(prog, (0, 0))[0]
                t = after[prog][1] - before.get(prog, (0, 0))[1]
                total_ns += t
                out.append('| %s | %d | %s | %d | %d |' % (prog, n, '%.0f' % (t / n) if n else '-',
                                                          after[prog][2], after[prog][3]))
            out.append('| **all, per event stored** | %d events | **%s** | | |\n' %
                       (stored, '%.0f' % (total_ns / stored) if stored else '-'))
    finally:
        sh('sysctl', '-q', '-w', 'kernel.bpf_stats_enabled=' + old)


def part_rate(a, tmp, out):
    out.append('### Events per second without loss (UDP flood, agent on its namespace only)\n')
    out.append('One UDP_SEND and one UDP_RECV event per datagram; medians of %d rounds of %d s; '
               'lost: over all rounds.\n' % (a.rounds, a.seconds))
    out.append('| batch | calls/s without agent | calls/s with agent | kept | events stored/s '
               '| lost |')
    out.append('|---:|---:|---:|---:|---:|---:|')
    for batch in (32, 1):
        base, withs, rates, lost_all = [], [], [], 0
        for _ in range(a.rounds):
            base.append(flood(a.build, a.seconds, batch)['calls_per_s'])
            ag = Agent(a.build, tmp, ['--netns', '/run/netns/' + NS])
            r = flood(a.build, a.seconds, batch)
            time.sleep(0.2)
            events, lost = ag.stop()
            stored = events.get('udp_send', 0) + events.get('udp_receive', 0)
            withs.append(r['calls_per_s'])
            rates.append(stored / r['seconds'])
            lost_all += lost
        b, w = statistics.median(base), statistics.median(withs)
        out.append('| %d | %.0f | %.0f | %.1f %% | %.0f | %d |' %
                   (batch, b, w, 100 * w / b, statistics.median(rates), lost_all))
    out.append('')


def part_apps(a, tmp, out):
    out.append('### What applications keep (%d alternated rounds of %d s)\n' %
               (a.rounds, a.seconds))
    out.append('Each round runs the workload without the agent, then with it; "kept" is the '
               'median of the rounds\' ratios, with the lowest and highest.\n')
    out.append('| workload | without agent (median) | with agent (median) | kept | lowest, highest '
               '| agent lost |')
    out.append('|---|---:|---:|---:|---:|---:|')
    for name, fn in WORKLOADS[:3]:
        base, withs, ratios, lost_all = [], [], [], 0
        for _ in range(a.rounds):
            b = float(fn(a.build, a.seconds).split()[0])
            ag = Agent(a.build, tmp)
            w = float(fn(a.build, a.seconds).split()[0])
            _, lost = ag.stop()
            lost_all += lost
            base.append(b)
            withs.append(w)
            ratios.append(w / b)
        unit = 'Gbit/s' if 'iperf3' in name else 'req/s'
        out.append('| %s | %.2f %s | %.2f %s | %.1f %% | %.1f %%, %.1f %% | %d |' %
                   (name, statistics.median(base), unit, statistics.median(withs), unit,
                    100 * statistics.median(ratios), 100 * min(ratios), 100 * max(ratios),
                    lost_all))
    out.append('')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--parts', default='programs,rate,apps')
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--out')
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit('run_agent.py: needs root')
    missing = [c for c in ('iperf3', 'wrk', 'nginx', 'bpftool') if shutil.which(c) is None]
    if missing:
        sys.exit('run_agent.py: missing %s (apt-get install iperf3 wrk nginx-light bpftool)' %
                 ', '.join(missing))
    tmp = tempfile.mkdtemp(prefix='wt-bench-agent-')
    out = ['## Host agent: %s, %s, %d CPUs\n' % (time.strftime('%Y-%m-%d'),
                                                   os.uname().release, os.cpu_count())]
    iperf = None
    try:
        iperf = lab_up(tmp)
        shown = 0
        for part in a.parts.split(','):
            {'programs': part_programs, 'rate': part_rate, 'apps': part_apps}[part](a, tmp, out)
            print('\n'.join(out[shown:]), flush=True)
            shown = len(out)
    finally:
        lab_down(tmp, iperf)
        shutil.rmtree(tmp, ignore_errors=True)
    text = '\n'.join(out) + '\n'
    if a.out:
        with open(a.out, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
