#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# agent_lossy.py: the host agent on nginx and curl through a router that drops TCP segments; joined with the tap monitor's records.
"""Usage: agent_lossy.py WIRETALLY_AGENT WIRETALLY_REPORT [WIRETALLY WIRETALLY_READ]

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
loses nothing.

With the monitor given, it runs live on the router's server-side
interface at the same time (as in tests/e2e/delivered.py's lossy part,
with tcpdump beside it), and `wiretally-report --join` of the two logs
gives every call record of those connections curl's pid as the client
end's owner and the nginx worker's pid, comm and cgroup (from /proc) as
the server end's; no record is left without both owners. Needs root, nginx, curl, nft, the agent built (77 with why
otherwise). Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import ipaddress
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
import delivered  # noqa: E402
from wtcheck import check  # noqa: E402
from agent_util import finish, start_agent  # noqa: E402


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


def check_agent(report, log, lab, rows, master, workers):
    """Both ends of every connection: owner and bytes = the application's."""
    rp = subprocess.run([report, log], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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


def ep(addr, port):
    return ipaddress.ip_address(addr), int(port)


def check_join(report, log, tapdir, rows, workers, worker_cgroup):
    """Every call record of the tap: curl at the client end, the nginx
    worker at the server end."""
    p = subprocess.run([report, '--join', log, tapdir], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    check(p.returncode == 0, 'wiretally-report --join exits 0 (%d: %s)' %
          (p.returncode, p.stderr.strip()[-300:]))
    recs = list(csv.DictReader(io.StringIO(p.stdout)))
    print(p.stderr.strip(), flush=True)
    for r in rows:
        cli, srv = ep(*r['client']), ep(*r['server'])
        what = '%s %s' % (r['what'], 'v6' if ':' in r['client'][0] else 'v4')
        mine = [x for x in recs if {ep(x['a_addr'], x['a_port']), ep(x['b_addr'], x['b_port'])} ==
                {cli, srv}]
        if not mine:
            check(False, 'join, %s: the tap has a call record of it' % what)
        for x in mine:
            c, s_ = ('a', 'b') if ep(x['a_addr'], x['a_port']) == cli else ('b', 'a')
            bad = []
            if x[c + '_pid'] != str(r['pid']) or x[c + '_comm'] != 'curl':
                bad.append('client end %s %s, expected curl %s' %
                           (x[c + '_pid'], x[c + '_comm'], r['pid']))
            if (not x[s_ + '_pid'].isdigit() or int(x[s_ + '_pid']) not in workers or
                    x[s_ + '_comm'] != 'nginx' or x[s_ + '_cgroup'] != worker_cgroup):
                bad.append('server end %s %s %r, expected a worker of %s in %r' %
                           (x[s_ + '_pid'], x[s_ + '_comm'], x[s_ + '_cgroup'], workers,
                            worker_cgroup))
            check(not bad, 'join, %s: curl owns the client end, the nginx worker the server '
                  'end%s' % (what, ('; ' + '; '.join(bad)) if bad else ''))
    n = len([x for x in recs if x['proto'] in ('tcp', 'udp')])
    check('join: %d call records: %d with both owners' % (len(recs), n) in p.stderr and n > 0,
          'join: every TCP/UDP record of the tap (%d of %d) has both owners' % (n, len(recs)))


def main():
    if len(sys.argv) not in (3, 5):
        print(__doc__, file=sys.stderr)
        return 2
    agent, report = sys.argv[1], sys.argv[2]
    wt, rd = (sys.argv[3], sys.argv[4]) if len(sys.argv) == 5 else (None, None)
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
        ag, rc = start_agent(agent, ['-o', log], errf, 'agent-lossy')
        if ag is None:
            return rc
        master, workers = nginx_pids(lab)
        worker_cgroup = open('/proc/%d/cgroup' % workers[0]).read().strip().split('::', 1)[1] \
            if workers else None
        if wt:  # the monitor live on the router (and tcpdump), the same workload
            _, _, rows = delivered.lossy_run(wt, rd, tmp, lab, 'tap', 1)
            dropped = 1  # lossy_run checked its drops
        else:
            drops0 = lab.drops()
            rows = lab.workload()
            dropped = lab.drops() - drops0
        time.sleep(1.5)  # the last ACKs and closes
        ag.send_signal(signal.SIGINT)
        ag.wait(60)
        errf.seek(0)
        summary = errf.read()
        check(ag.returncode == 0 and '\nlost 0 events' in summary,
              'the agent exits 0 and lost nothing (%d)' % ag.returncode)
        check(dropped > 0, 'the router dropped TCP segments')
        check_agent(report, log, lab, rows, master, workers)
        if wt:
            check_join(report, log, os.path.join(tmp, 'tap'), rows, workers, worker_cgroup)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        check(False, 'the lab ran (%s)' % e)
    finally:
        if ag is not None and ag.poll() is None:
            ag.kill()
            ag.wait()
        lab.down()
    return finish(tmp)


if __name__ == '__main__':
    sys.exit(main())
