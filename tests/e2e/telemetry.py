#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# telemetry.py: /wiretally/stats and /wiretally/lcores through dpdk-telemetry.py, and the progress line.
"""Usage: telemetry.py WIRETALLY SAMPLE_PCAP

Runs the monitor replaying the sample capture from memory (net_pcap
infinite_rx) with 2 RX lcores for a few seconds and, while it runs, asks
DPDK's dpdk-telemetry.py for /wiretally/stats and /wiretally/lcores: the
counters must be there, grow between two reads, add up (received =
accounted + dropped), and there must be one entry per RX lcore whose packets
sum to the total. Also checks the one-line progress display (--progress on)
and that --duration stops the monitor with exit 0.
Exit 77 (skipped, said loudly) when dpdk-telemetry.py is not installed
(Debian package dpdk-dev, installed by scripts/setup.sh).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from wtcheck import FAILS, check




def query(prefix, cmd):
    p = subprocess.run(['dpdk-telemetry.py', '-f', prefix], input=(cmd + '\n').encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    for line in p.stdout.decode(errors='replace').splitlines():
        line = line.strip()
        if line.startswith('{') and cmd in line:
            return json.loads(line)[cmd]
    raise RuntimeError('dpdk-telemetry.py gave no answer to %s: %s %s' %
                       (cmd, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')))


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    if shutil.which('dpdk-telemetry.py') is None:
        print('*** SKIPPED: dpdk-telemetry.py is not installed (Debian package dpdk-dev) ***')
        return 77
    wt, sample = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    prefix = 'wt-telemetry-%d' % os.getpid()
    with tempfile.TemporaryDirectory(prefix='wt-telemetry-') as out:
        errpath = os.path.join(out, 'stderr')
        logdir = os.path.join(out, 'log')
        os.mkdir(logdir)
        cmd = [wt, '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % sample,
               '--file-prefix', prefix, '--no-pci', '--lcores', '0@0,1@1,2@1,3@0,4@0',
               '--log-level', 'lib.eal:warning', '--', '-o', logdir, '--rx-cores', '2',
               '--export-lcore', '3', '--scan-lcore', '4',
               '--table-size', '4096', '--duration', '6', '--progress', 'on']
        with open(errpath, 'w+', newline='') as errf:
            mon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
            try:
                deadline = time.monotonic() + 30
                while True:
                    errf.seek(0)
                    if 'wiretally: writing to ' in errf.read():
                        break
                    if mon.poll() is not None or time.monotonic() > deadline:
                        errf.seek(0)
                        raise RuntimeError('the monitor did not start: ' + errf.read())
                    time.sleep(0.05)
                time.sleep(1.0)
                s1 = query(prefix, '/wiretally/stats')
                time.sleep(1.0)
                s2 = query(prefix, '/wiretally/stats')
                lc = query(prefix, '/wiretally/lcores')
            finally:
                rc = mon.wait(60)
            errf.seek(0)
            err = errf.read()
    for key in ('rx_pkts', 'rx_bytes', 'accounted_pkts', 'dropped_pkts', 'active_records',
                'port_imissed', 'port_rx_nombuf', 'records_written', 'drop_not_ip',
                'forwarded_out', 'export_ring_full'):
        check(key in s1, '/wiretally/stats has %s' % key)
    check(s2['rx_pkts'] > s1['rx_pkts'] > 0,
          'packets grow between two reads (%d -> %d)' % (s1['rx_pkts'], s2['rx_pkts']))
    check(s2['active_records'] == 13, 'active records: the sample\'s 13 connections (%d)' %
          s2['active_records'])
    check(sorted(lc) == ['lcore_1', 'lcore_2'], '/wiretally/lcores: one entry per RX lcore (%s)'
          % sorted(lc))
    check(sorted(v['rx_index'] for v in lc.values()) == [0, 1], 'rx_index 0 and 1')
    check(sum(v['active_records'] for v in lc.values()) == 13,
          'the RX lcores\' tables hold the 13 connections between them')
    check(rc == 0, '--duration 6 stops the monitor, exit 0 (%d)' % rc)
    check('control on lcore 0, exporter on lcore 3, scanner on lcore 4' in err,
          'the exporter and the scanner run on their own lcores')
    check('13 written' in err, 'the 13 records were written by the exporter on its lcore')
    check(err.count('Mpps') >= 3 and '\r' in err, 'the progress line is printed every second')
    check(any('= received' in l for l in err.splitlines()), 'the exit summary still adds up')
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
