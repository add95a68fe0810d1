#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# agent_lossy.py: the host agent on nginx and curl through a router that drops TCP segments.
"""Usage: agent_lossy.py WIRETALLY_AGENT WIRETALLY_REPORT

The lossy lab of tests/e2e/delivered.py (client, router dropping one TCP
segment in 25 both ways with nftables, server; offloads off): nginx (a
master and a worker) serves downloads and takes uploads, curl fetches
them over IPv4 and IPv6, one keep-alive connection carries three
requests. The agent traces the host meanwhile. For both ends of every
connection the per-connection report names the right process (curl's
pid; the nginx worker's, not the master's) and gives exactly the bytes
the applications exchanged, by curl's own counts: sent and received, and
indicated = received; while the retransmitted bytes over the run are not
zero (the router dropped segments) and none counts in sent. The agent
loses nothing. Needs root, nginx, curl, nft, the agent built (77 with why
otherwise). Exit 0 when all pass, 1 otherwise.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
import delivered  # noqa: E402
from wtcheck import FAILS, check  # noqa: E402


class Lab(delivered.Router):
    """The router lab; curl runs with Popen so its pid is known (ip netns
    exec execs the command in its own process)."""

    def __init__(self, tmp):
        super().__init__(tmp)
        self.last_pid = None

    def sh(self, *cmd, ns=None, check_rc=True):
        if cmd and cmd[0] == 'curl':
            p = subprocess.Popen(['ip', 'netns', 'exec', ns] + [str(c) for c in cmd],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.last_pid = p.pid
            out, err = p.communicate(timeout=180)
            if check_rc and p.returncode != 0:
                raise RuntimeError('curl: %s' % err.strip())
            return out
        return super().sh(*cmd, ns=ns, check_rc=check_rc)

    def curl(self, urls, body=None, v6=False):
        row = super().curl(urls, body=body, v6=v6)
        row['pid'] = self.last_pid
        return row


def nginx_pids(lab):
    """(master, workers) of the lab's nginx."""
    master = int(open(os.path.join(lab.state, 'nginx.pid')).read())
    workers = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                st = open('/proc/%s/stat' % d).read()
            except OSError:
                continue
            if int(st.rsplit(')', 1)[1].split()[1]) == master:
                workers.append(int(d))
    return master, workers


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    agent, report = sys.argv[1], sys.argv[2]
    why = delivered.lossy_preflight()
    if why:
        print('SKIP agent-lossy: ' + why)
        return 77
    tmp = tempfile.mkdtemp(prefix='wt-agent-lossy-')
    lab = Lab(tmp)
    log = os.path.join(tmp, 'trace')
    os.mkdir(log)
    errf = open(os.path.join(tmp, 'agent.stderr'), 'w+')
    ag = None
    try:
        lab.up()
        ag = subprocess.Popen([agent, '-o', log], stdout=subprocess.DEVNULL, stderr=errf)
        for _ in range(100):
            errf.seek(0)
            text = errf.read()
            if 'tracing' in text or ag.poll() is not None:
                break
            time.sleep(0.1)
        if ag.poll() is not None:
            if ag.returncode == 3:
                print('SKIP agent-lossy: %s' % text.strip())
                return 77
            check(False, 'the agent starts (%s)' % text.strip())
            return 1
        drops0 = lab.drops()
        rows = lab.workload()
        dropped = lab.drops() - drops0
        master, workers = nginx_pids(lab)
        time.sleep(1.5)  # the last ACKs and closes
        ag.send_signal(signal.SIGINT)
        ag.wait(60)
        errf.seek(0)
        summary = errf.read()
        check(ag.returncode == 0 and '\nlost 0 events' in summary,
              'the agent exits 0 and lost nothing (%d)' % ag.returncode)
        check(dropped > 0, 'the router dropped %d TCP segments' % dropped)
        rp = subprocess.run([report, log], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
        lines = list(csv.DictReader(io.StringIO(rp.stdout)))
        netns = {ns: os.stat('/run/netns/' + ns).st_ino for ns in (lab.cli, lab.srv)}
        retx = 0
        for r in rows:
            what = '%s %s' % (r['what'], 'v6' if ':' in r['client'][0] else 'v4')
            ends = (
                ('curl', netns[lab.cli], r['client'][1], 80, r['c2s'], r['s2c'],
                 lambda pid: pid == r['pid']),
                ('nginx', netns[lab.srv], 80, r['client'][1], r['s2c'], r['c2s'],
                 lambda pid: pid in workers and pid != master))
            for comm, ns, lport, rport, sent, received, owner in ends:
                mine = [x for x in lines if x['proto'] == 'tcp' and int(x['netns']) == ns and
                        int(x['local_port']) == lport and int(x['remote_port']) == rport]
                if len(mine) != 1:
                    check(False, '%s, %s end: one report line (%d)' % (what, comm, len(mine)))
                    continue
                x = mine[0]
                retx += int(x['retransmitted_bytes'])
                bad = ['%s %s, expected %s' % (k, x[k], v) for k, v in
                       (('comm', comm), ('sent_bytes', sent), ('received_bytes', received),
                        ('indicated_bytes', received), ('cancelled_bytes', 0))
                       if x[k] != str(v)]
                if not owner(int(x['pid'])):
                    bad.append('pid %s (curl %s, nginx master %d, workers %s)' %
                               (x['pid'], r['pid'], master, workers))
                check(not bad, '%s, %s end: owner and bytes = the application\'s%s' %
                      (what, comm, ('; ' + '; '.join(bad)) if bad else ''))
        check(retx > 0, 'retransmitted bytes over the run: %d (not in sent)' % retx)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, 'the lab ran (%s)' % e)
    finally:
        if ag is not None and ag.poll() is None:
            ag.kill()
            ag.wait()
        lab.down()
    if FAILS:
        print('files kept in %s' % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main())
