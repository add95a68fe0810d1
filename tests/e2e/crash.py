#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# crash.py: kill -9 the monitor while it writes records; the restart recovers every one, none twice.
"""Usage: crash.py WIRETALLY WIRETALLY_READ SAMPLE_PCAP

The monitor replays, from memory and forever, a capture of 20,000 UDP
connections through a table of 1,024 records, so it completes (evicts) and
writes records all the time, in 2 MiB segments: through a spool on
hugetlbfs (when mounted), through a spool on disk, and straight into the log
directory. It is killed with SIGKILL at a few moments. Then:
  (a) wiretally-read on the log directory alone (it finds the spool from
      the log) sees every record that had reached a segment: seq gap-free,
      no duplicates, the same as with --spool, and says how many records
      came from the spool;
  (b) the monitor is started again on the same directories (on the shipped
      sample): it recovers what the killed run left and says so, and afterwards the log
      alone holds exactly the records of (a), unchanged, followed by the new
      run's, seq still gap-free, every call id once, and the spool is empty.
Exit 0 when all pass, 1 otherwise.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from pcapgen import pcap_bytes, udp4, write
from wtcheck import FAILS, check




def read(rd, args):
    """The reader's exit code, its CSV lines (header dropped; in seq order), stderr."""
    p = subprocess.run([rd, '--no-header'] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode()


def seq_of(line):
    return int(line.split(',', 1)[0])


def call_id_of(line):
    return line.split(',')[25]  # DESIGN.md section 3: the 26th column


def hugetlbfs_mount():
    with open('/proc/mounts') as f:
        for line in f:
            parts = line.split()
            if len(parts) > 2 and parts[2] == 'hugetlbfs':
                return parts[1]
    return None


def one_round(wt, rd, sample, flood, base, spool, delay, label):
    logdir = os.path.join(base, 'log')
    os.makedirs(logdir, exist_ok=True)
    spool_args = ['--spool', spool] if spool else ['--spool', 'off']
    prefix = 'wt-crash-%d-%s' % (os.getpid(), label.replace(' ', '-'))
    cmd = [wt, '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % flood, '--file-prefix', prefix,
           '--no-pci', '-l', '0,1', '--log-level', 'lib.eal:warning', '--', '-o', logdir,
           '--segment-size', '2M', '--table-size', '1024', '--record-ring', '1024'] + spool_args
    errf = open(os.path.join(base, 'killed.stderr'), 'w+')
    mon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
    deadline = time.monotonic() + 60
    while True:
        errf.seek(0)
        if 'wiretally: writing to ' in errf.read():
            break
        if mon.poll() is not None or time.monotonic() > deadline:
            errf.seek(0)
            raise RuntimeError('the monitor did not start: ' + errf.read())
        time.sleep(0.05)
    time.sleep(delay)
    mon.send_signal(signal.SIGKILL)
    mon.wait(60)
    errf.close()
    shutil.rmtree('/var/run/dpdk/' + prefix, ignore_errors=True)

    # (a) what reached a segment, read without the monitor and without
    # --spool: the reader finds the spool from the log itself
    rc_a, before, err_a = read(rd, [logdir])
    seqs = [seq_of(l) for l in before]
    check(rc_a == 0 and len(before) > 100 and seqs == list(range(len(before))),
          '%s: after kill -9 at %.1f s `wiretally-read DIR` sees %d records, seq 0..%d, no gap '
          '(exit %d%s)' % (label, delay, len(before), len(before) - 1, rc_a,
                           (': ' + err_a.strip().splitlines()[-1]) if rc_a else ''))
    if spool:
        rc_s, with_spool, _ = read(rd, ['--spool', spool, logdir])
        n_spool = len([f for f in os.listdir(spool) if f.endswith('.wts')])
        check(rc_s == 0 and with_spool == before and
              (n_spool == 0 or 'were read from the spool %s' % os.path.realpath(spool) in err_a),
              '%s: the same records as with --spool, and one line says how many came from '
              'the spool (%d segments there): %r' % (label, n_spool, err_a.strip()[-300:]))

    # (b) restart on the same directories: recovery, then a normal run
    segs = sorted(f for f in os.listdir(logdir) if f.startswith('seg-'))
    open_last = bool(segs) and open(os.path.join(logdir, segs[-1]), 'rb').read(192)[128:] == \
        bytes(64)
    in_spool = spool is not None and any(f.endswith('.wts') for f in os.listdir(spool))
    p = subprocess.run([wt, '--pcap', sample, '-o', logdir, '--table-size', '4096'] +
                       spool_args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    err = p.stderr.decode()
    check(p.returncode == 0, '%s: the restart exits 0 (%d)' % (label, p.returncode))
    said = [l for l in err.splitlines() if 'recover' in l]
    check(bool(said) == (open_last or in_spool) and
          (not open_last or 'wiretally: recovered the unsealed segment %s/%s' %
           (logdir, segs[-1]) in err),
          '%s: the restart says what it recovered (the last segment %s, spool %s): %s' %
          (label, 'open' if open_last else 'sealed', 'holds segments' if in_spool else 'empty',
           said))
    rc_b, after, err_b = read(rd, [logdir])
    # both are in seq order: the log now starts with exactly what was read
    kept = after[:len(before)] == before
    check(rc_b == 0 and kept, '%s: every record read after the kill is in the log, unchanged '
          '(exit %d)' % (label, rc_b))
    seqs = [seq_of(l) for l in after]
    ids = [call_id_of(l) for l in after]
    check(len(after) == len(before) + 13 and seqs == list(range(len(after))) and
          len(set(ids)) == len(ids),
          '%s: then the 13 records of the restart, seq gap-free, every call id once '
          '(%d = %d + 13)' % (label, len(after), len(before)))
    if spool:
        left = [f for f in os.listdir(spool) if f.endswith('.wts')]
        check(left == [], '%s: the spool is empty after the restart (%s)' % (label, left))
    else:
        # a crash inside a segment, made certain: the last segment's seal
        # zeroed (as before its writer sealed it); the next start says it
        last = os.path.join(logdir, sorted(f for f in os.listdir(logdir)
                                           if f.startswith('seg-'))[-1])
        with open(last, 'rb') as f:
            stored = f.read()
        if stored[:4] == b'\x28\xb5\x2f\xfd':
            # stored compressed once sealed (--compress zstd): a segment
            # being written is raw, its whole preallocated size (the
            # header's segment size, bytes 24-31)
            raw = subprocess.run(['zstd', '-dcq', last], stdout=subprocess.PIPE,
                                 check=True).stdout
            size = int.from_bytes(raw[24:32], 'little')
            with open(last, 'wb') as f:
                f.write(raw + bytes(size - len(raw)))
        with open(last, 'r+b') as f:
            f.seek(128)
            f.write(bytes(64))
        p = subprocess.run([wt, '--pcap', sample, '-o', logdir, '--spool', 'off'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        want = 'wiretally: recovered the unsealed segment %s a previous run left (13 records ' \
               'kept; sealed as recovered)' % last
        check(p.returncode == 0 and want in p.stderr.decode(),
              '%s: a restart after a crash inside a segment says: %s' % (label, want))


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    wt, rd, sample = (os.path.abspath(a) for a in argv[1:])
    with tempfile.TemporaryDirectory(prefix='wt-crash-') as tmp:
        frames, ts = [], 1700000000000000
        for i in range(20000):
            cli = [10, 3, (i >> 8) & 0xff, i & 0xff]
            frames.append((ts, udp4(cli, 1000 + i % 50000, [10, 4, 0, 1], 53, 20)))
            ts += 10
        flood = os.path.join(tmp, 'flood.pcap')
        write(flood, pcap_bytes(frames))
        modes = []
        mnt = hugetlbfs_mount()
        if mnt:
            modes.append(('hugetlbfs spool', os.path.join(mnt, 'wt-crash-%d' % os.getpid())))
        else:
            print('*** hugetlbfs spool part SKIPPED: no hugetlbfs mounted ***')
        modes.append(('disk spool', os.path.join(tmp, 'spool')))
        modes.append(('no spool', None))
        for label, spool in modes:
            for k, delay in enumerate((0.3, 0.9)):
                base = os.path.join(tmp, '%s-%d' % (label.replace(' ', '-'), k))
                os.makedirs(base)
                if spool:
                    os.makedirs(spool, exist_ok=True)
                    for f in os.listdir(spool):
                        os.unlink(os.path.join(spool, f))
                one_round(wt, rd, sample, flood, base, spool, delay, label)
            if spool and spool.startswith(mnt or '\0'):
                shutil.rmtree(spool, ignore_errors=True)
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
