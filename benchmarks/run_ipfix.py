#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# run_ipfix.py: what --ipfix costs the monitor on a burst of records, beside the same run without it.
"""The monitor with and without --ipfix tcp:// on a burst of records.

A capture of --conns connections with two packets each
(benchmarks/gen_pcap.py --profile 64): every record completes at the end
of the capture, in one burst, so the IPFIX sender falls behind the
exporter and catches up after it. Each round runs, in turn, every binary
given (--bin, repeatable: this build's monitor by default; add an older
build to compare) without --ipfix and with --ipfix to a TCP sink (a
Python thread that reads and discards). Per run: wall seconds, CPU seconds
(user + system of the monitor), records written and sent (the log's stats
frame), the sender's largest lag (ipfix.records_behind_max) where the
binary has it, and the bytes the sink received.

Prints a Markdown table (--out FILE too). Needs the build (BUILD, default
./build).
"""
import argparse
import os
import pathlib
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sink(port, got):
    """Accept one TCP connection on 127.0.0.1:port, read it to the end."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen(1)
    s.settimeout(120)
    c, _ = s.accept()
    n = 0
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
    got.append(n)
    c.close()
    s.close()


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stats(reader, logdir):
    out = subprocess.run([reader, '--stats', logdir], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    return {k: int(v) for k, v in re.findall(r'^([\w.]+)=(\d+)$', out, re.M)}


def one(binary, reader, pcap, tmp, ipfix):
    logdir = os.path.join(tmp, 'log')
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)
    args = [binary, '-q', '--spool', 'off', '-o', logdir, '--pcap', pcap]
    got, th = [], None
    if ipfix:
        port = free_port()
        th = threading.Thread(target=sink, args=(port, got))
        th.start()
        time.sleep(0.2)
        args += ['--ipfix', 'tcp://127.0.0.1:%d' % port]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if th is not None:
        th.join(60)
    if p.returncode != 0:
        sys.exit('%s exited %d: %s' % (binary, p.returncode, p.stderr.decode()[-500:]))
    st = stats(reader, logdir)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {'wall': wall, 'cpu': cpu, 'written': st.get('records.written'),
            'sent': st.get('ipfix.records_sent'),
            'behind_max': st.get('ipfix.records_behind_max'),
            'sink': got[0] if got else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--conns', type=int, default=200000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--bin', action='append', default=[],
                    help='NAME=PATH of a monitor binary (repeatable; default this build)')
    ap.add_argument('--out')
    a = ap.parse_args()
    build = os.environ.get('BUILD', os.path.join(HERE, '..', 'build'))
    reader = os.path.join(build, 'app', 'wiretally-read', 'wiretally-read')
    bins = [b.split('=', 1) for b in a.bin] or \
        [['this build', os.path.join(build, 'app', 'wiretally', 'wiretally')]]
    tmp = tempfile.mkdtemp(prefix='wt-ipfix-bench-')
    try:
        subprocess.run([sys.executable, os.path.join(HERE, 'gen_pcap.py'), '--conns',
                        str(a.conns), '--pkts', str(2 * a.conns), '-o', tmp],
                       check=True, stdout=subprocess.DEVNULL)
        pcap = os.path.join(tmp, '64-c%d-p%d.pcap' % (a.conns, 2 * a.conns))
        rows = []
        for r in range(a.rounds):
            for name, path in bins:
                for ipfix in (False, True):
                    res = one(path, reader, pcap, tmp, ipfix)
                    res.update(name=name, ipfix=ipfix, round=r + 1)
                    rows.append(res)
                    print('round %d %s %s: %s' % (r + 1, name, 'ipfix' if ipfix else 'plain',
                                                  res), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = ['| binary | --ipfix | wall s | CPU s | records written | sent | '
             'sender behind at most | bytes to the sink |',
             '|---|---|---:|---:|---:|---:|---:|---:|']
    for name, _ in bins:
        for ipfix in (False, True):
            rs = [x for x in rows if x['name'] == name and x['ipfix'] == ipfix]
            fmt = lambda k, f: ', '.join(f % x[k] if x[k] is not None else '-' for x in rs)
            lines.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                name, 'tcp' if ipfix else 'no', fmt('wall', '%.2f'), fmt('cpu', '%.2f'),
                fmt('written', '%d'), fmt('sent', '%d'), fmt('behind_max', '%d'),
                fmt('sink', '%d')))
    text = '\n'.join(lines) + '\n'
    sys.stdout.write(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
