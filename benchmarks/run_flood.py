#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# run_flood.py: the SYN-flood benchmark and log density: wiretally beside nfpcapd on one capture, and over the corpus.
"""SYN flood and log density, wiretally beside nfpcapd (nfdump's pcap
collector), in one run so that the ratios hold on a noisy machine.

flood    benchmarks/gen_pcap.py --profile syn --conns N (default 4,000,000
         one-packet connections from random sources), read by
           wiretally --pcap F -o DIR --table-size 65536   (--compress zstd,
                     the default, and --compress off)
           nfpcapd -r F -w DIR -B 131072                  (plain, and -y: LZ4)
         per run: CPU seconds (user + system of the process), Mpps and records
         per second over the CPU time and the wall time, the RX lcore's waits
         for the exporter (records that found the export ring full and
         stalls: wiretally's summary), the bytes the log takes on disk (the
         files' allocated blocks) per record, and the records (nfdump -I's
         flows for nfpcapd).
paced    the same capture from a paced source: the monitor on a net_ring0
         port, benchmarks/bench_ringgen (a DPDK secondary process on the main
         lcore's CPU: there is no third CPU here) sending it at each
         --paced-rates Mpps for --paced-seconds: offered rate, ring-full
         misses, RX waits, bytes per record.
corpus   the captures of ../shared/corpus/pcaps as one capture (mergecap -a),
         read once into one log by each: bytes per record (the files' sizes
         and their allocated blocks), wiretally with --compress zstd and
         off, nfpcapd plain and with -y.

Prints a Markdown report (--out FILE too). Needs the build (BUILD, default
./build), nfdump and zstd installed (scripts/setup.sh), root for the
hugepage spool (--spool auto picks it when hugepages are free).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def disk_bytes(d):
    """Bytes the directory's files take on disk (allocated blocks) and
    their apparent size."""
    used = size = 0
    for dp, _, names in os.walk(d):
        for n in names:
            st = os.lstat(os.path.join(dp, n))
            used += st.st_blocks * 512
            size += st.st_size
    return used, size


def timed(cmd):
    """Run @cmd; (rc, stdout, stderr, wall seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    return p.returncode, out.decode(errors='replace'), err.decode(errors='replace'), wall


def cpu_of(fn):
    """Call fn(); return (its result, CPU seconds of the children it ran)."""
    before = os.times()
    res = fn()
    after = os.times()
    return res, (after.children_user - before.children_user) + \
        (after.children_system - before.children_system)


def wiretally(build, pcap, outdir, extra):
    wt = os.path.join(build, 'app', 'wiretally', 'wiretally')
    shutil.rmtree(outdir, ignore_errors=True)
    (rc, out, err, wall), cpu = cpu_of(
        lambda: timed([wt, '--pcap', pcap, '-o', outdir, '--progress', 'off'] + extra))
    if rc != 0:
        sys.exit('run_flood.py: wiretally exited %d: %s' % (rc, err[-800:]))
    m = re.search(r'records: (\d+) created.*; (\d+) written', err)
    written = int(m.group(2)) if m else -1
    pk = re.search(r'^\s+received\s+(\d+) pkts', err, re.M)
    full = re.search(r'export: (\d+) records waited for room in a ring \((\d+) stalls\)', err)
    used, size = disk_bytes(outdir)
    return {'records': written, 'pkts': int(pk.group(1)) if pk else -1, 'cpu': cpu,
            'wall': wall, 'disk': used, 'size': size,
            'ring_full': int(full.group(1)) if full else 0,
            'stalls': int(full.group(2)) if full else 0}


def nfpcapd(pcap, outdir, extra):
    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    (rc, out, err, wall), cpu = cpu_of(
        lambda: timed(['nfpcapd', '-r', pcap, '-w', outdir, '-B', '131072'] + extra))
    if rc != 0:
        sys.exit('run_flood.py: nfpcapd exited %d: %s' % (rc, (out + err)[-800:]))
    r = subprocess.run(['nfdump', '-R', outdir, '-I'], stdout=subprocess.PIPE, text=True)
    fl = re.search(r'^Flows: (\d+)', r.stdout, re.M)
    pk = re.search(r'^Packets: (\d+)', r.stdout, re.M)
    used, size = disk_bytes(outdir)
    return {'records': int(fl.group(1)) if fl else -1, 'pkts': int(pk.group(1)) if pk else -1,
            'cpu': cpu, 'wall': wall, 'disk': used, 'size': size, 'ring_full': None,
            'stalls': None}


def flood(args, work):
    out = subprocess.run([sys.executable, os.path.join(HERE, 'gen_pcap.py'), '--profile', 'syn',
                          '--conns', str(args.conns), '-o', args.pcap_dir],
                         stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    pcap = out[0]
    rows = []
    for r in range(args.rounds):
        rows.append(('wiretally (zstd)', r, wiretally(args.build, pcap, os.path.join(work, 'wz'),
                                                      ['--table-size', '65536'])))
        rows.append(('wiretally (raw)', r, wiretally(args.build, pcap, os.path.join(work, 'wr'),
                                                     ['--table-size', '65536', '--compress',
                                                      'off'])))
        rows.append(('nfpcapd', r, nfpcapd(pcap, os.path.join(work, 'nf'), [])))
        rows.append(('nfpcapd -y (LZ4)', r, nfpcapd(pcap, os.path.join(work, 'nfy'), ['-y'])))
    return pcap, rows


def paced(args, pcap, work, rate):
    """The monitor on a net_ring port, bench_ringgen (a DPDK secondary
    process on the main lcore's CPU) sending the flood at @rate Mpps."""
    wt = os.path.join(args.build, 'app', 'wiretally', 'wiretally')
    gen = os.path.join(args.build, 'benchmarks', 'bench_ringgen')
    out = os.path.join(work, 'ring')
    shutil.rmtree(out, ignore_errors=True)
    prefix = 'wtflood%d' % os.getpid()
    errf = os.path.join(work, 'ring.err')
    with open(errf, 'w') as ef:
        # no --huge-unlink: the generator maps the monitor's hugepages
        m = subprocess.Popen([wt, '-l', '0,1', '--file-prefix', prefix, '--no-pci',
                              '--log-level=lib.eal:warning', '--vdev', 'net_ring0', '--', '-o',
                              out, '--table-size', '65536', '--progress', 'off'],
                             stdout=subprocess.DEVNULL, stderr=ef)
    t0 = time.monotonic()
    while 'writing to' not in open(errf, errors='replace').read():
        if m.poll() is not None or time.monotonic() - t0 > 120:
            m.kill()
            sys.exit('run_flood.py: the monitor did not start: ' +
                     open(errf, errors='replace').read()[-800:])
        time.sleep(0.1)
    g = subprocess.run([gen, '--proc-type=secondary', '--file-prefix', prefix, '--lcores', '8@0',
                        '--no-pci', '--log-level=lib.eal:warning', '--', '--ring',
                        'ETH_RXTX0_net_ring0', '--pcap', pcap, '--rate', str(rate),
                        '--duration', str(args.paced_seconds)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    m.send_signal(2)  # SIGINT: the monitor completes and writes every record
    m.wait(timeout=300)
    err = open(errf, errors='replace').read()
    # without --huge-unlink (the generator maps them) the monitor's hugepage
    # files outlive it: remove them
    with open('/proc/mounts') as mf:
        for line in mf:
            f = line.split()
            if len(f) > 2 and f[2] == 'hugetlbfs':
                for n in os.listdir(f[1]):
                    if n.startswith(prefix + 'map_'):
                        os.unlink(os.path.join(f[1], n))
    if g.returncode != 0 or m.returncode != 0:
        sys.exit('run_flood.py: paced run failed (generator %d, monitor %d): %s %s' % (
            g.returncode, m.returncode, g.stderr[-400:], err[-400:]))
    gs = dict(kv.split('=', 1) for kv in g.stdout.split() if '=' in kv)
    full = re.search(r'export: (\d+) records waited for room in a ring \((\d+) stalls\)', err)
    m2 = re.search(r'records: (\d+) created.*; (\d+) written', err)
    used, _ = disk_bytes(out)
    written = int(m2.group(2)) if m2 else -1
    return {'rate': rate, 'offered_mpps': float(gs.get('offered_mpps', 0)),
            'offered': int(gs.get('offered', 0)), 'missed': int(gs.get('missed', 0)),
            'kept': int(full.group(1)) if full else 0, 'stalls': int(full.group(2)) if full else 0,
            'written': written, 'per_record': used / max(written, 1)}


def corpus(args, work):
    """All captures of the corpus as one capture (mergecap -a, classic pcap),
    read once by each tool: one log, as a monitor keeps one."""
    cdir = os.path.join(args.shared, 'corpus', 'pcaps')
    caps = sorted(os.path.join(cdir, f) for f in os.listdir(cdir)
                  if f.endswith(('.pcap', '.pcapng')))
    one = os.path.join(work, 'corpus-all.pcap')
    subprocess.run(['mergecap', '-a', '-F', 'pcap', '-w', one] + caps, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = {}
    for key, extra in (('zstd', []), ('raw', ['--compress', 'off'])):
        res[key] = wiretally(args.build, one, os.path.join(work, 'c-' + key),
                             ['--spool', 'off'] + extra)
    res['nfpcapd'] = nfpcapd(one, os.path.join(work, 'c-nf'), [])
    res['nfpcapd -y'] = nfpcapd(one, os.path.join(work, 'c-nfy'), ['-y'])
    return len(caps), res


def report(args, pcap, rows, paced_rows, ncaps, tot):
    o = ['# SYN flood and log density (benchmarks/run_flood.py)', '',
         '%s, %s, %d round(s); capture %s (%d one-packet connections).' % (
             time.strftime('%Y-%m-%d'), os.uname().nodename, args.rounds,
             os.path.basename(pcap), args.conns), '',
         '## Flood', '',
         '| tool | round | records | CPU s | Mpps per CPU s | records/s (wall) | RX waits: '
         'records kept / stalls | bytes on disk per record |',
         '|---|---|---|---|---|---|---|---|']
    for name, r, x in rows:
        o.append('| %s | %d | %d | %.2f | %.2f | %.2f M | %s | %.1f |' % (
            name, r + 1, x['records'], x['cpu'], x['pkts'] / 1e6 / max(x['cpu'], 1e-9),
            x['records'] / 1e6 / max(x['wall'], 1e-9),
            '%d / %d' % (x['ring_full'], x['stalls']) if x['ring_full'] is not None else '–',
            x['disk'] / max(x['records'], 1)))
    by = {}
    for name, r, x in rows:
        by.setdefault(name, []).append(x)
    if 'wiretally (zstd)' in by and 'nfpcapd' in by:
        wz = sorted(x['cpu'] for x in by['wiretally (zstd)'])[len(by['wiretally (zstd)']) // 2]
        nf = sorted(x['cpu'] for x in by['nfpcapd'])[len(by['nfpcapd']) // 2]
        o += ['', 'Median CPU: wiretally (zstd) %.2f s, nfpcapd %.2f s: nfpcapd takes %.1fx '
              'the CPU.' % (wz, nf, nf / max(wz, 1e-9))]
    if paced_rows:
        o += ['', '## Flood from a paced source (net_ring0 fed by bench_ringgen on the main '
              'lcore\'s CPU, %g s)' % args.paced_seconds, '',
              '| asked Mpps | offered Mpps | offered | missed (ring full) | RX waits: records '
              'kept / stalls | records written | bytes on disk per record |',
              '|---|---|---|---|---|---|---|']
        for x in paced_rows:
            o.append('| %g | %.3f | %d | %d | %d / %d | %d | %.1f |' % (
                x['rate'], x['offered_mpps'], x['offered'], x['missed'], x['kept'], x['stalls'],
                x['written'], x['per_record']))
    if ncaps:
        o += ['', '## Corpus: the %d captures of ../shared/corpus/pcaps as one capture '
              '(mergecap -a), one log' % ncaps, '',
              '| tool | records | bytes (file sizes) | per record | bytes on disk (blocks) | '
              'per record |', '|---|---|---|---|---|---|']
        for key, name in (('zstd', 'wiretally --compress zstd'),
                          ('raw', 'wiretally --compress off'), ('nfpcapd', 'nfpcapd'),
                          ('nfpcapd -y', 'nfpcapd -y (LZ4)')):
            x = tot[key]
            n = max(x['records'], 1)
            o.append('| %s | %d | %d | %.1f | %d | %.1f |' % (
                name, x['records'], x['size'], x['size'] / n, x['disk'], x['disk'] / n))
    text = '\n'.join(o) + '\n'
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 epilog=__doc__.split('\n\n', 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    ap.add_argument('--shared', default=os.path.join(ROOT, '..', 'shared'))
    ap.add_argument('--conns', type=int, default=4000000)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--pcap-dir', default='/tmp/wt-bench-pcaps')
    ap.add_argument('--no-corpus', action='store_true')
    ap.add_argument('--paced-rates', type=float, nargs='*', default=[0.3, 1.0],
                    help='Mpps asked of the paced source (none: skip it)')
    ap.add_argument('--paced-seconds', type=float, default=8)
    ap.add_argument('--out', help='also write the report here')
    args = ap.parse_args()
    for tool in ('nfpcapd', 'nfdump', 'zstd', 'mergecap'):
        if shutil.which(tool) is None:
            sys.exit('run_flood.py: %s is not installed (scripts/setup.sh)' % tool)
    with tempfile.TemporaryDirectory(prefix='wt-flood-') as work:
        pcap, rows = flood(args, work)
        paced_rows = [paced(args, pcap, work, r) for r in args.paced_rates]
        ncaps, tot = (0, None) if args.no_corpus else corpus(args, work)
        report(args, pcap, rows, paced_rows, ncaps, tot)


if __name__ == '__main__':
    main()
