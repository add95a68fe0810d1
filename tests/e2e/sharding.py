#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# sharding.py: the same capture gives the same records with 1, 2 and 4 RX lcores, and split over two tap ports.
"""Usage: sharding.py WIRETALLY WIRETALLY_READ SAMPLE_PCAP [CORPUS_DIR]

1. For the shipped sample, a generated capture (2,000 UDP and TCP
   connections, VLAN-tagged and untagged, fragmented datagrams, idle gaps
   that make the completion scan split connections) and, when given, every
   capture of the external corpus: wiretally with --rx-cores 1, 2 and 4 must
   write exactly the same records (every column but seq and call_id), at the
   default scan interval and at one that splits connections; with
   --active-timeout, long calls (pcapgen.long_calls()) and the corpus give
   the same interim records too.
2. Two tap ports: each capture is split by direction (frames sent by the
   lower and by the higher MAC address) into two files replayed as two
   ports, merged by time: the records must equal the single-file run's.
3. The stored counters (wiretally-read --stats) say how many RX lcores ran
   and that packets were forwarded to their owner lcore when N > 1.
Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import os
import subprocess
import sys
import tempfile

import wtpcap
from pcapgen import long_calls, pcap_bytes, tcp4, udp4, udp4_fragments, write, MAC_A, MAC_B
from wtcheck import FAILS, check




def run(wt, rd, pcaps, out, extra):
    os.mkdir(out)
    # tables big enough for every capture here, small enough to start fast
    args = [wt, '-o', out, '-q', '--table-size', '65536', '--segment-size', '1M'] + extra
    for p in pcaps:
        args += ['--pcap', p]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        raise RuntimeError('%s exited %d: %s' % (' '.join(args), p.returncode,
                                                 p.stderr.decode(errors='replace')))
    r = subprocess.run([rd, out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise RuntimeError('wiretally-read %s exited %d: %s' % (out, r.returncode,
                                                                r.stderr.decode()))
    rows = list(csv.DictReader(io.StringIO(r.stdout.decode())))
    st = subprocess.run([rd, '--stats', out], stdout=subprocess.PIPE, timeout=60)
    stats = dict(l.split('=', 1) for l in st.stdout.decode().splitlines() if '=' in l)
    return rows, stats


def comparable(rows):
    """The records as a sorted list, without the columns that depend on
    completion order (seq) and on the run (call_id)."""
    return sorted(tuple((k, v) for k, v in r.items() if k not in ('seq', 'call_id'))
                  for r in rows)


def generated(path):
    """2,000 connections with known structure; returns the path."""
    frames, ts = [], 1700000000000000
    for i in range(2000):
        cli = [10, 1 + (i % 3), (i >> 8) & 0xff, i & 0xff]
        srv = [10, 200, 0, 1 + i % 7]
        vlan = 10 + i % 4 if i % 5 == 0 else None
        if i % 2:
            frames.append((ts, udp4(cli, 1024 + i, srv, 53, 10 + i % 50, vlan=vlan)))
            frames.append((ts + 3, udp4(srv, 53, cli, 1024 + i, 100, MAC_B, MAC_A, vlan)))
        else:
            frames.append((ts, tcp4(cli, 2048 + i, srv, 80, 0x02, 1000 * i, 0, vlan=vlan)))
            frames.append((ts + 2, tcp4(srv, 80, cli, 2048 + i, 0x12, 7, 0, MAC_B, MAC_A, vlan)))
            frames.append((ts + 4, tcp4(cli, 2048 + i, srv, 80, 0x18, 1000 * i + 1, 300,
                                        vlan=vlan)))
        if i % 50 == 0:  # a fragmented datagram of the same connection
            for k, fr in enumerate(udp4_fragments(cli, 1024 + i, srv, 53, 4000, i)):
                frames.append((ts + 5 + k, fr))
        # every 500th connection talks again much later (a split at 0.5 s scans)
        if i % 500 == 0:
            frames.append((ts + 3000000, udp4(cli, 1024 + i, srv, 53, 7)))
        ts += 1000
    frames.sort(key=lambda f: f[0])
    write(path, pcap_bytes(frames))
    return path


def split_by_direction(src, a_path, b_path):
    """Frames sent by the lower source MAC to one file, the others to the
    other: a tap that delivers each direction on its own port."""
    it = wtpcap.read_pcap(src)
    unit = next(it)
    parts = {0: [], 1: []}
    macs = {}
    for ts, fr in it:
        smac, dmac = fr[6:12], fr[0:6]
        side = 0 if smac < dmac else 1
        parts[side].append((ts // 1000, fr))
        macs[side] = True
    write(a_path, pcap_bytes(parts[0]))
    write(b_path, pcap_bytes(parts[1]))
    return len(parts[0]), len(parts[1]), unit


def compare_rx_cores(wt, rd, tmp, name, pcaps, extra):
    base, stats1 = run(wt, rd, pcaps, os.path.join(tmp, name + '-1'), ['--rx-cores', '1'] + extra)
    ok = True
    for n in (2, 4):
        rows, stats = run(wt, rd, pcaps, os.path.join(tmp, '%s-%d' % (name, n)),
                          ['--rx-cores', str(n)] + extra)
        same = comparable(rows) == comparable(base)
        ok &= same
        if not same or stats.get('rx_cores') != str(n):
            check(False, '%s %s: --rx-cores %d gives the records of --rx-cores 1 (%d vs %d '
                  'records; rx_cores=%s)' % (name, ' '.join(extra), n, len(rows), len(base),
                                             stats.get('rx_cores')))
    return ok, base, stats1


_default_rows = {}


def gen_rows_default(wt, rd, tmp, gen):
    """The generated capture's records with one RX lcore (computed once)."""
    if gen not in _default_rows:
        _default_rows[gen], _ = run(wt, rd, [gen], os.path.join(tmp, 'gen-default'), [])
    return _default_rows[gen]


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__)
        return 2
    wt, rd, sample = (os.path.abspath(a) for a in argv[1:4])
    corpus = argv[4] if len(argv) == 5 else None
    with tempfile.TemporaryDirectory(prefix='wt-sharding-') as tmp:
        gen = generated(os.path.join(tmp, 'generated.pcap'))
        # 1. --rx-cores 1, 2, 4
        for name, pcap in (('sample', sample), ('generated', gen)):
            for extra in ([], ['--scan-interval', '0.5']):
                ok, base, _ = compare_rx_cores(wt, rd, tmp, name + ('-split' if extra else ''),
                                               [pcap], extra)
                check(ok and len(base) > 0, '%s%s: the same %d records with 1, 2 and 4 RX '
                      'lcores' % (name, ' (scan 0.5 s)' if extra else '', len(base)))
        # interim records: cut at packet-time scan passes, so the same for any N
        longp = os.path.join(tmp, 'long.pcap')
        write(longp, pcap_bytes(long_calls()[0]))
        ok, base, _ = compare_rx_cores(wt, rd, tmp, 'long-interim', [longp],
                                       ['--scan-interval', '2', '--active-timeout', '10'])
        n_int = sum(1 for r in base if r['end_reason'] == 'active')
        check(ok and n_int > 0, 'long calls, --active-timeout 10: the same %d records (%d '
              'interim) with 1, 2 and 4 RX lcores' % (len(base), n_int))
        _, gen_rows, _ = compare_rx_cores(wt, rd, tmp, 'gen-check', [gen], ['--scan-interval', '0.5'])
        idle = sum(1 for r in gen_rows if r['end_reason'] == 'idle')
        check(idle >= 4, 'the generated capture does split connections at 0.5 s scans '
              '(%d idle records)' % idle)
        # stats: forwarding happened with 4 RX lcores
        _, stats4 = run(wt, rd, [gen], os.path.join(tmp, 'gen-stats4'), ['--rx-cores', '4'])
        check(stats4.get('rx_cores') == '4' and int(stats4.get('forwarded', 0)) > 0,
              '4 RX lcores: packets forwarded to their owners (%s)' % stats4.get('forwarded'))
        # full rings: records kept and retried, packets waited for, nothing lost
        small, st_small = run(wt, rd, [gen], os.path.join(tmp, 'gen-small-rings'),
                              ['--rx-cores', '4', '--record-ring', '64', '--forward-ring', '64'])
        check(comparable(small) == comparable(gen_rows_default(wt, rd, tmp, gen)),
              'tiny rings (64 records, 64 packets): the same %d records' % len(small))
        check(int(st_small.get('records.export_ring_full', 0)) > 0,
              'tiny rings: the export ring did fill (%s records kept and retried)' %
              st_small.get('records.export_ring_full'))
        check(int(st_small.get('forward_ring_full', 0)) >= 0 and
              int(st_small.get('records.unwritten', 1)) == 0,
              'tiny rings: no record unwritten (forwarding waits: %s)' %
              st_small.get('forward_ring_full'))
        # 2. two tap ports, one direction each
        for name, pcap in (('sample', sample), ('generated', gen)):
            a = os.path.join(tmp, name + '-dir-a.pcap')
            b = os.path.join(tmp, name + '-dir-b.pcap')
            na, nb, _ = split_by_direction(pcap, a, b)
            single, _ = run(wt, rd, [pcap], os.path.join(tmp, name + '-single'), [])
            for n in (1, 2):
                two, _ = run(wt, rd, [a, b], os.path.join(tmp, '%s-two-%d' % (name, n)),
                             ['--rx-cores', str(n)])
                check(comparable(two) == comparable(single) and na > 0 and nb > 0,
                      '%s as two tap ports (%d + %d frames), %d RX lcore%s: the records of '
                      'the single capture (%d)' % (name, na, nb, n, '' if n == 1 else 's',
                                                   len(single)))
        # 3. the external corpus, when present
        if corpus and os.path.isdir(corpus):
            names = sorted(f for f in os.listdir(corpus) if f.endswith(('.pcap', '.pcapng')))
            bad, n_int = [], 0
            for f in names:
                for suffix, extra in (('', []), ('-s', ['--scan-interval', '0.001']),
                                      ('-si', ['--scan-interval', '0.001',
                                               '--active-timeout', '0.002'])):
                    ok, base, _ = compare_rx_cores(wt, rd, tmp, f + suffix,
                                                   [os.path.join(corpus, f)], extra)
                    n_int += sum(1 for r in base if r['end_reason'] == 'active')
                    if not ok:
                        bad.append(f)
            check(not bad and len(names) > 0 and n_int > 0, 'corpus: %d captures, the same '
                  'records with 1, 2 and 4 RX lcores at both scan intervals and with interim '
                  'records (%d)%s' % (len(names), n_int,
                                      (' (differ: %s)' % ', '.join(bad)) if bad else ''))
        else:
            print('*** corpus part SKIPPED: no corpus directory given or found ***')
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
