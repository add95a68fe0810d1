#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test_agent.py: wiretally-agent and wiretally-report on real processes in two network namespaces.
"""Usage: test_agent.py WIRETALLY_AGENT WIRETALLY_REPORT

Two namespaces joined by a veth (offloads off). The agent traces the host;
agent_apps.py runs a server (a thread of the listener's creator, a forked
worker that accepts by itself, the creator again; UDP) and a client (a
thread, a forked child, a short-lived child that exits before its last
ACK; UDP), each writing its own pid and byte counts per socket. Then, per
socket of both ends, the per-connection report must name the process that
used it (its pid and comm; for the worker, the worker and not the
listener's creator) and give exactly the bytes the programs sent and
received; TCP's indicated bytes equal its received bytes, nothing is
cancelled, the agent's summary says "lost 0". The totals: --by process
gives each program's bytes, --by service the server port's three
connections, --by nic and --by client add up to the per-connection lines. Needs root and the agent
built (exit 77 with why otherwise). Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from netns_util import netns_delete  # noqa: E402
from agent_util import arguments, check, finish, start_agent  # noqa: E402
C, S = '10.77.0.1', '10.77.0.2'


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=120, **kw)


def sh(*cmd, ns=None):
    full = (['ip', 'netns', 'exec', ns] if ns else []) + list(cmd)
    p = run(full)
    if p.returncode != 0:
        raise RuntimeError('%s: %s' % (' '.join(str(c) for c in full), p.stderr.strip()))
    return p.stdout


def lab_up(p):
    cns, sns = p + '-c', p + '-s'
    for ns in (cns, sns):
        sh('ip', 'netns', 'add', ns)
        sh('ip', 'link', 'set', 'lo', 'up', ns=ns)
    sh('ip', 'link', 'add', 'wtag-c', 'netns', cns, 'type', 'veth', 'peer', 'name', 'wtag-s',
       'netns', sns)
    for ns, dev, a in ((cns, 'wtag-c', C), (sns, 'wtag-s', S)):
        for line in sh('ethtool', '-k', dev, ns=ns).splitlines():
            if ': on' in line and not line.startswith(' ') and '[fixed]' not in line:
                run(['ip', 'netns', 'exec', ns, 'ethtool', '-K', dev, line.split(':')[0], 'off'])
        sh('ip', 'addr', 'add', a + '/24', 'dev', dev, ns=ns)
        sh('ip', 'link', 'set', dev, 'up', ns=ns)
    return cns, sns


def lab_down(p):
    netns_delete((p + '-c', p + '-s'))


def by(report, log, what):
    p = run([report, '--by', what, log])
    check(p.returncode == 0, 'report --by %s exits 0 (%s)' % (what, p.stderr.strip()))
    return list(csv.DictReader(io.StringIO(p.stdout)))


def check_totals(report, log, rows, apps):
    """--by process: each program's bytes; --by service: the server's port;
    --by nic and --by client add up to the per-connection totals."""
    cols = ('sent_bytes', 'received_bytes')
    procs = by(report, log, 'process')
    for pid in sorted({a['pid'] for a in apps}):
        want = [sum(a[k] for a in apps if a['pid'] == pid) for k in ('sent', 'received')]
        got = [r for r in procs if r['pid'] == str(pid)]
        check(len(got) == 1 and [int(got[0][c]) for c in cols] == want,
              '--by process: pid %d sent/received %s (%s)' %
              (pid, want, got and [got[0][c] for c in cols]))
    svc = [r for r in by(report, log, 'service') if r['proto'] == 'tcp' and
           r['local_port'] == '9000']
    want = [sum(a[k] for a in apps if a['side'] == 'server' and a['proto'] == 'tcp')
            for k in ('sent', 'received')]
    check(len(svc) == 1 and [int(svc[0][c]) for c in cols] == want and svc[0]['connections'] == '3',
          '--by service: tcp 9000 = the server\'s 3 connections %s (%s)' %
          (want, svc and [svc[0][c] for c in cols]))
    # (UDP lines have no indicated bytes: empty)
    total = [sum(int(r[c] or 0) for r in rows) for c in cols + ('indicated_bytes',)]
    for what in ('nic', 'client'):
        lines = by(report, log, what)
        t = [sum(int(r[c] or 0) for r in lines) for c in cols + ('indicated_bytes',)]
        check(t == total, '--by %s adds up to the per-connection totals %s (%s)' %
              (what, total, t))


def check_config(agent, tmp):
    """The example config/wiretally-agent.conf, every key set to its
    default (netns: the agent's own namespace), runs; a bad value is named
    with its line."""
    root = os.path.dirname(os.path.dirname(HERE))
    lines = []
    for line in open(os.path.join(root, 'config', 'wiretally-agent.conf')):
        if line.startswith(';') and '=' in line and not line.startswith('; '):
            key = line[1:].split('=', 1)[0].strip()
            value = {'output': os.path.join(tmp, 'conf-log'), 'duration': '0.5',
                     'netns': '/proc/self/ns/net', 'quiet': 'on'}.get(key)
            line = '%s = %s\n' % (key, value) if value else line[1:]
        lines.append(line)
    os.mkdir(os.path.join(tmp, 'conf-log'))
    conf = os.path.join(tmp, 'agent.conf')
    with open(conf, 'w') as f:
        f.writelines(lines)
    p = run([agent, '--config', conf])
    check(p.returncode == 0 and p.stderr == '',
          'the example config with every key set runs (%d %r)' % (p.returncode, p.stderr))
    with open(conf, 'w') as f:
        f.writelines(l.replace('/proc/self/ns/net', '/nonexistent/ns') for l in lines)
    p = run([agent, '--config', conf])
    n = 1 + [i for i, l in enumerate(lines) if l.startswith('netns')][0]
    check(p.returncode == 2 and p.stderr.strip() ==
          "wiretally-agent: config %s line %d: netns '/nonexistent/ns': No such file or directory"
          % (conf, n), 'a bad netns in the config is named with its line (%r)' % p.stderr)


def main():
    args = arguments(__doc__, 'agent')
    if not isinstance(args, tuple):
        return args
    agent, report = args
    tmp = tempfile.mkdtemp(prefix='wt-agent-')
    p = 'wtag%d' % os.getpid()
    log, man = os.path.join(tmp, 'trace'), os.path.join(tmp, 'manifest.jsonl')
    os.mkdir(log)
    errf = open(os.path.join(tmp, 'agent.stderr'), 'w+')
    ag, rc = start_agent(agent, ['-o', log], errf, 'agent')
    if ag is None:
        return rc
    try:
        cns, sns = lab_up(p)
        srv = subprocess.Popen(['ip', 'netns', 'exec', sns, sys.executable,
                                os.path.join(HERE, 'agent_apps.py'), 'server', S, man])
        time.sleep(0.5)
        cl = run(['ip', 'netns', 'exec', cns, sys.executable, os.path.join(HERE, 'agent_apps.py'),
                  'client', S, man])
        check(cl.returncode == 0, 'the client ran (%s)' % cl.stderr.strip()[-300:])
        time.sleep(1)
        open(man + '.stop', 'w').close()
        srv.wait(30)
        time.sleep(1)  # the last ACKs, the closes
        ag.send_signal(signal.SIGINT)
        ag.wait(60)
        errf.seek(0)
        summary = errf.read()
        check(ag.returncode == 0, 'the agent exits 0 (%d)' % ag.returncode)
        check('\nlost 0 events' in summary, 'the summary says lost 0')
        rp = run([report, log])
        check(rp.returncode == 0 and rp.stderr == '',
              'the report reads the trace log (%d %r)' % (rp.returncode, rp.stderr))
        rows = list(csv.DictReader(io.StringIO(rp.stdout)))
        netns = {ns: os.stat('/run/netns/' + ns).st_ino for ns in (cns, sns)}
        apps = [json.loads(l) for l in open(man)]
        check(len(apps) == 8, 'the programs used 8 sockets (%d)' % len(apps))
        for a in apps:
            ns = netns[cns if a['side'] == 'client' else sns]
            mine = [r for r in rows if r['proto'] == a['proto'] and int(r['netns']) == ns and
                    int(r['local_port']) == a['lport'] and
                    (a['proto'] == 'udp' or int(r['remote_port']) == a['rport'])]
            what = '%s %s :%d' % (a['side'], a['proto'], a['lport'])
            if len(mine) != 1:
                check(False, '%s: one report line (%d)' % (what, len(mine)))
                continue
            r = mine[0]
            want = {'pid': a['pid'], 'comm': 'python3', 'sent_bytes': a['sent'],
                    'received_bytes': a['received'], 'cancelled_bytes': 0}
            if a['proto'] == 'tcp':
                want['indicated_bytes'] = a['received']
            bad = ['%s %s, expected %s' % (k, r[k], v) for k, v in want.items()
                   if r[k] != str(v)]
            check(not bad, '%s (pid %d): owner and bytes as the program says%s' %
                  (what, a['pid'], ('; ' + '; '.join(bad)) if bad else ''))
        check_totals(report, log, rows, apps)
        check_config(agent, tmp)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, 'the lab ran (%s)' % e)
    finally:
        if ag.poll() is None:
            ag.kill()
            ag.wait()
        lab_down(p)
    return finish(tmp)


if __name__ == '__main__':
    sys.exit(main())
