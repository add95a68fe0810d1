#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# agent_loss.py: a flood of events into a deliberately small ring: every lost event counted, the reports say so.
"""Usage: agent_loss.py WIRETALLY_AGENT WIRETALLY_REPORT

The agent traces one fresh network namespace only (--netns) through a
64 KiB ring buffer (about 1,600 hot events) and is stopped (SIGSTOP) while
a program in that namespace sends 20,000 UDP datagrams of 100 bytes to
itself and receives them, counting its own successful calls. So the
events generated are known exactly: one OPEN per socket, one UDP_SEND per
send, one UDP_RECV per receive. After SIGCONT and SIGINT:
- the agent's lost count (the summary's "lost" line, the stats frame's
  agent.lost and agent.lost.ring_full) equals the events generated minus
  the events its log holds, counted by this test's own decoder of the
  segment files; it is not zero;
- the events it stored plus those it lost equal the events generated (the
  namespace filter let nothing else in);
- the per-connection report's bytes equal 100 times the stored events of
  each socket, and the report, per connection and --by process, says on
  stderr that the agent lost that many events and its totals are
  incomplete;
- both UDP sockets get a CLOSE record at exit, and the summary's UDP line
  says so;
- kill -9 loses nothing that reached a segment: after 1000 datagrams each
  way and a second, the agent killed, the report has every byte, from the
  unsealed segment and again after a new agent recovered it.
Needs root and the agent (77 with why otherwise). Exit 0 when all pass.
"""
import csv
import io
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'e2e'))
sys.path.insert(0, os.path.dirname(HERE))
from netns_util import netns_delete  # noqa: E402
from wtcheck import check  # noqa: E402
from agent_util import arguments, finish, start_agent  # noqa: E402

N = 20000
SIZE = 100
EV_OPEN, EV_CLOSE, EV_UDP_SEND, EV_UDP_RECV = 16, 22, 23, 24

FLOOD = r'''
import json, socket, sys
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
rx.bind(('127.0.0.1', 0))
rx.setblocking(False)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sys.stdout.write('ready\n'); sys.stdout.flush()
sys.stdin.readline()
sent = recv = 0
def drain():
    global recv
    while True:
        try:
            if len(rx.recv(4096)) != %(size)d:
                raise SystemExit('short datagram')
            recv += 1
        except BlockingIOError:
            return
for i in range(%(n)d):
    if tx.sendto(b'x' * %(size)d, rx.getsockname()) == %(size)d:
        sent += 1
    if i %% 50 == 49:
        drain()
drain()
print(json.dumps({'sent': sent, 'recv': recv, 'tx_port': tx.getsockname()[1],
                  'rx_port': rx.getsockname()[1]}))
''' % {'n': N, 'size': SIZE}


def frames(log):
    """(type, payload) of every committed frame of every segment in @log:
    this test's own decoder (docs/FORMAT.md sections 2 and 3)."""
    for name in sorted(os.listdir(log)):
        if not name.startswith('seg-'):
            continue
        with open(os.path.join(log, name), 'rb') as f:
            data = f.read()
        if data[:8] != b'WTSEGLOG':
            continue
        i = struct.unpack_from('<I', data, 12)[0]
        while i + 8 <= len(data):
            word = struct.unpack_from('<I', data, i)[0]
            n, t = word & 0xffffff, (word >> 24) & 0x7f
            if not word & 0x80000000 or i + 8 + n > len(data):
                break
            yield t, data[i + 8:i + 8 + n]
            i += 8 + (n + 7) // 8 * 8


def log_records(log):
    """{type: count} of the log's frames, {(type, conn): count} of its UDP
    hot records, and the last stats frame as a dict."""
    types, per_conn, stats = {}, {}, {}
    for t, payload in frames(log):
        types[t] = types.get(t, 0) + 1
        if t in (EV_UDP_SEND, EV_UDP_RECV):
            conn = struct.unpack_from('<Q', payload, 16)[0]
            per_conn[(t, conn)] = per_conn.get((t, conn), 0) + 1
        elif t == 2:
            stats = {}
            for line in payload.decode().splitlines():
                k, _, v = line.partition('=')
                stats[k] = int(v) if v.isdigit() else v
    return types, per_conn, stats


EXCHANGE = r'''
import json, socket
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(('127.0.0.1', 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(1000):
    tx.sendto(b'k' * 100, rx.getsockname())
    assert len(rx.recv(200)) == 100
print(json.dumps({'tx_port': tx.getsockname()[1], 'rx_port': rx.getsockname()[1]}))
'''


def check_kill9(agent, report, ns, tmp):
    """kill -9 loses nothing that reached a segment: 1000 datagrams each
    way, a second for the agent to write them, kill -9; the report reads
    them all from the unsealed segment, and again after a new agent on the
    same directory recovered it (sealed, seq continued)."""
    log = os.path.join(tmp, 'trace-kill9')
    os.mkdir(log)
    errf = open(os.path.join(tmp, 'agent-kill9.stderr'), 'w+')
    ag, rc = start_agent(agent, ['-o', log, '--netns', '/run/netns/' + ns], errf, 'agent-loss')
    if ag is None:
        check(False, 'the agent starts again for kill -9')
        return
    out = subprocess.run(['ip', 'netns', 'exec', ns, sys.executable, '-c', EXCHANGE],
                         stdout=subprocess.PIPE, text=True, timeout=60, check=True).stdout
    ports = json.loads(out)
    time.sleep(1)  # the 50 ms poll, the writer thread
    ag.kill()
    ag.wait()

    def totals(what):
        p = subprocess.run([report, log], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        rows = {int(r['local_port']): r for r in csv.DictReader(io.StringIO(p.stdout))}
        got = (rows.get(ports['tx_port'], {}).get('sent_bytes'),
               rows.get(ports['rx_port'], {}).get('received_bytes'))
        check(p.returncode == 0 and got == ('100000', '100000') and 'open record' not in p.stderr,
              'kill -9, %s: the report has all 100000 bytes each way (%s, %r)' %
              (what, got, p.stderr.strip()))

    totals('the unsealed segment')
    p = subprocess.run([agent, '-o', log, '--duration', '0.3', '-q'], stderr=subprocess.PIPE,
                       text=True, timeout=60)
    check(p.returncode == 0, 'a new agent on the directory starts and stops (%d %s)' %
          (p.returncode, p.stderr.strip()))
    totals('after a new agent recovered it')


def main():
    args = arguments(__doc__, 'agent-loss')
    if not isinstance(args, tuple):
        return args
    agent, report = args
    ns = 'wtl%d' % os.getpid()
    if subprocess.run(['ip', 'netns', 'add', ns]).returncode != 0:
        print('SKIP agent-loss: cannot create a network namespace')
        return 77
    tmp = tempfile.mkdtemp(prefix='wt-agent-loss-')
    log = os.path.join(tmp, 'trace')
    os.mkdir(log)
    errf = open(os.path.join(tmp, 'agent.stderr'), 'w+')
    ag = app = None
    try:
        subprocess.run(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], check=True)
        ag, rc = start_agent(agent, ['-o', log, '--netns', '/run/netns/' + ns, '--ring-size',
                                     '64K'], errf, 'agent-loss')
        if ag is None:
            return rc
        app = subprocess.Popen(['ip', 'netns', 'exec', ns, sys.executable, '-c', FLOOD],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        check(app.stdout.readline().strip() == 'ready', 'the flood program starts')
        ag.send_signal(signal.SIGSTOP)  # the ring fills, nobody empties it
        app.stdin.write('go\n')
        app.stdin.flush()
        out, _ = app.communicate(timeout=120)
        ag.send_signal(signal.SIGCONT)
        got = json.loads(out)
        generated = 2 + got['sent'] + got['recv']
        print('the program sent %d and received %d datagrams: %d events generated' %
              (got['sent'], got['recv'], generated), flush=True)
        time.sleep(1)
        ag.send_signal(signal.SIGINT)
        ag.wait(60)
        errf.seek(0)
        summary = errf.read()
        print(summary.strip(), flush=True)
        check(ag.returncode == 0, 'the agent exits 0 (%d)' % ag.returncode)

        types, per_conn, st = log_records(log)
        stored = sum(c for t, c in types.items() if 16 <= t <= 24 and t != EV_CLOSE)
        lost = generated - stored
        print('the log holds %d of them (types %s)' % (stored, sorted(types.items())), flush=True)
        check(lost > 0, 'the small ring overflowed: %d events not stored' % lost)
        check('\nlost %d events (%d the ring buffer could not take, 0 the log could not take)'
              % (lost, lost) in summary,
              'the summary\'s lost line says %d = generated %d - stored %d' %
              (lost, generated, stored))
        check(st.get('agent.lost') == lost and st.get('agent.lost.ring_full') == lost,
              'the stats frame: agent.lost = agent.lost.ring_full = %d (%s, %s)' %
              (lost, st.get('agent.lost'), st.get('agent.lost.ring_full')))
        check(st.get('agent.kernel_events', 0) + st.get('agent.lost.ring_full', 0) == generated,
              'stored in the ring (%s) + lost (%s) = the %d events the program caused '
              '(nothing from other namespaces)' %
              (st.get('agent.kernel_events'), st.get('agent.lost.ring_full'), generated))
        check(types.get(EV_CLOSE) == 2 and st.get('agent.udp_opened') == 2 and
              st.get('agent.udp_evicted') == 0,
              'both UDP sockets closed at exit (CLOSE records %s, opened %s, evicted %s)' %
              (types.get(EV_CLOSE), st.get('agent.udp_opened'), st.get('agent.udp_evicted')))
        check('UDP sockets: 2 seen, 2 closed at exit, 0 left the map idle' in summary,
              'the summary\'s UDP line')

        for args in ([], ['--by', 'process']):
            p = subprocess.run([report] + args + [log], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            check(p.returncode == 0 and 'the agent lost %d events' % lost in p.stderr and
                  'these totals are incomplete' in p.stderr,
                  'wiretally-report %s says the agent lost %d events and its totals are '
                  'incomplete (%s)' % (' '.join(args), lost, p.stderr.strip()))
            if args:
                continue
            rows = list(csv.DictReader(io.StringIO(p.stdout)))
            by_port = {int(r['local_port']): r for r in rows if r['proto'] == 'udp'}
            for port, col, t in ((got['tx_port'], 'sent_bytes', EV_UDP_SEND),
                                 (got['rx_port'], 'received_bytes', EV_UDP_RECV)):
                r = by_port.get(port)
                if r is None:
                    check(False, 'a report line for UDP port %d' % port)
                    continue
                n = per_conn.get((t, int(r['conn_id'])), 0)
                check(int(r[col]) == SIZE * n and r['close_ns'] != '',
                      'port %d: %s %s = %d x the %d events stored, closed' %
                      (port, col, r[col], SIZE, n))
        check_kill9(agent, report, ns, tmp)
    except (RuntimeError, subprocess.TimeoutExpired, subprocess.CalledProcessError,
            ValueError) as e:
        check(False, 'the run went through (%s)' % e)
    finally:
        for p in (ag, app):
            if p is not None and p.poll() is None:
                if p is ag:
                    p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
        netns_delete([ns])
    return finish(tmp)


if __name__ == '__main__':
    sys.exit(main())
