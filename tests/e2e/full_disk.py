#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# full_disk.py: the monitor on a log that cannot be written (small tmpfs): it keeps receiving, loses nothing.
"""Usage: full_disk.py WIRETALLY WIRETALLY_READ

The log directory is a small tmpfs (root only), the captures are written
here, so every flow's packets and bytes are known; segments are stored raw
(--compress off) so that the tmpfs fills at a known point. Checks, without and with
a hugetlbfs spool:
  - space never returns: the whole capture is read (the summary's packets
    = the capture's frames); every record is in the log or printed as CSV
    on stderr (or, with a spool, stays in the spool), none twice, every flow
    exact; exit 3; the summary and the last line say how many and where;
  - the same with --log-backlog 100: the records beyond it are printed
    while the monitor runs, none lost;
  - space returns while the monitor runs (a FIFO feeds the capture in two
    parts; between them the tmpfs is remounted larger): exit 0, every
    record in the log in one unbroken seq run, nothing printed, the
    refusal and its end said, the counters add up.
Exit 0 when all pass, 1 otherwise, 77 when not root (said).
"""
import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time

from monitor_cli import flows_pcap, read_records, read_records_args, sum_by_flow
from wtcheck import SKIPS, check, run_parts


def mount_small(path, size='256k'):
    os.mkdir(path)
    return subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=' + size, 'tmpfs', path]).returncode == 0


def hugetlbfs_mount():
    """The first hugetlbfs mount, as --spool auto takes (not a test's small one)."""
    with open('/proc/mounts') as f:
        for line in f:
            if line.split()[2:3] == ['hugetlbfs']:
                return line.split()[1]
    return None


def printed_records(err):
    """Records printed as CSV on stderr: the lines after the header that parse
    as records (the monitor's own lines in between do not)."""
    lines = err.splitlines()
    hdr = [i for i, l in enumerate(lines) if l.startswith('seq,start_ns,')]
    if not hdr:
        return []
    body = [lines[hdr[0]]] + [l for l in lines[hdr[0] + 1:] if re.match(r'^\d+,\d+,', l)]
    return list(csv.DictReader(io.StringIO('\n'.join(body))))


def summary_value(err, label):
    m = re.search(r'^\s+%s\s+(\d+) pkts' % re.escape(label), err, re.M)
    return int(m.group(1)) if m else -1


def conservation_ok(err):
    return ('= received' in err and '= in call records' in err and '= created' in err and
            '= written + unwritten' in err and 'BUG' not in err)


def split_pcap(data, first_frames):
    """(pcap with the first N frames, the bytes of the remaining frames)."""
    off = 24
    for _ in range(first_frames):
        off += 16 + int.from_bytes(data[off + 8:off + 12], 'little')
    return data[:off], data[off:]


class FifoRun:
    """The monitor reading a FIFO the test writes in parts; stderr in a file."""

    def __init__(self, wt, tmp, name, args):
        self.fifo = os.path.join(tmp, name + '.fifo')
        os.mkfifo(self.fifo)
        self.errpath = os.path.join(tmp, name + '.err')
        self.errf = open(self.errpath, 'w+')
        self.mon = subprocess.Popen([wt, '--pcap', self.fifo] + args,
                                    stdout=subprocess.DEVNULL, stderr=self.errf)
        self.w = open(self.fifo, 'wb')  # blocks until the monitor opens it

    def feed(self, data):
        self.w.write(data)
        self.w.flush()

    def err(self):
        with open(self.errpath, errors='replace') as f:
            return f.read()

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while needle not in self.err():
            if self.mon.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def finish(self):
        self.w.close()
        rc = self.mon.wait(120)
        self.errf.close()
        return rc, self.err()

    def kill(self):
        if self.mon.poll() is None:
            self.mon.kill()
            self.mon.wait()
        try:
            self.w.close()
        except BrokenPipeError:
            pass
        self.errf.close()


def check_exact(what, recs, truth):
    whole = sum_by_flow(recs)
    check(whole == truth, '%s: every flow exact (%d flows, %d expected)' %
          (what, len(whole), len(truth)))


def check_once(what, written, printed, n):
    ids = [x['call_id'] for x in written] + [x['call_id'] for x in printed]
    check(len(ids) == n and len(set(ids)) == n,
          '%s: %d records in the log + %d printed = %d, none twice' %
          (what, len(written), len(printed), n))


def test_never(wt, rd, tmp, backlog=None):
    """No room comes back: the capture is read to its end anyway."""
    what = 'full disk' + (', --log-backlog %d' % backlog if backlog is not None else '')
    small = os.path.join(tmp, 'never-%s' % backlog)
    if not mount_small(small):
        SKIPS.append('%s: cannot mount a tmpfs' % what)
        return
    try:
        pcap = os.path.join(tmp, 'never.pcap')
        truth, nframes = flows_pcap(pcap, 3000)
        args = [wt, '--pcap', pcap, '-o', small, '--segment-size', '64K', '--table-size', '64',
                '--spool', 'off', '--compress', 'off']
        if backlog is not None:
            args += ['--log-backlog', str(backlog)]
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        err = p.stderr.decode(errors='replace')
        check(p.returncode == 3, '%s: exit 3 (got %d)' % (what, p.returncode))
        check(re.search(r'cannot write call records to \S+: No space left on device; '
                        r'receiving goes on', err) is not None,
              '%s: the cause is named once, and that receiving goes on' % what)
        check(summary_value(err, 'received') == nframes,
              '%s: the whole capture is received (%d of %d packets)' %
              (what, summary_value(err, 'received'), nframes))
        written = read_records(rd, small)
        printed = printed_records(err)
        check_once(what, written, printed, 3000)
        check_exact(what, written + printed, truth)
        check(conservation_ok(err), '%s: the summary\'s conservation lines add up' % what)
        m = re.search(r'wiretally: (\d+) call records are not in the log: they were printed '
                      r'on stderr as CSV', err)
        check(m is not None and int(m.group(1)) == len(printed) and len(printed) > 0,
              '%s: the last line says how many records are not in the log (%s, %d printed)'
              % (what, m.group(1) if m else None, len(printed)))
        if backlog is not None:
            # printed while running: before the exit summary
            pos_sum = err.find('wiretally: summary')
            pos_hdr = err.find('seq,start_ns,')
            check('as many as it can hold (--log-backlog)' in err and 0 <= pos_hdr < pos_sum,
                  '%s: the overflow is said, and printed while the monitor runs' % what)
    finally:
        subprocess.run(['umount', small])


def room_returns(wt, rd, tmp, what, small, nflows, pkts_per_flow, first_frames, args,
                 refusal):
    """The monitor reads a FIFO: the first frames, then (once it has said
    @refusal) the tmpfs @small is remounted larger, and once it says the log
    takes records again, the rest. Checks what holds whatever the log:
    exit 0, every record in the log once in an unbroken seq run, exact,
    nothing printed, the summary adds up. @return the monitor's stderr."""
    pcap = os.path.join(tmp, what.replace(' ', '-').replace(',', '') + '.pcap')
    truth, nframes = flows_pcap(pcap, nflows, pkts_per_flow=pkts_per_flow)
    with open(pcap, 'rb') as f:
        part1, part2 = split_pcap(f.read(), first_frames)
    run = FifoRun(wt, tmp, os.path.basename(pcap), ['-o', small, '--progress', 'off'] + args)
    try:
        run.feed(part1)
        check(run.wait_for(refusal), '%s: the refusal is said while the input is open' % what)
        subprocess.run(['mount', '-o', 'remount,size=64m', small], check=True)
        check(run.wait_for('the log takes records again'),
              '%s: the end of the refusal is said before the input ends' % what)
        run.feed(part2)
        rc, err = run.finish()
        run = None
    finally:
        if run is not None:
            run.kill()
    check(rc == 0, '%s: exit 0 (got %d)' % (what, rc))
    written = read_records(rd, small)
    seqs = [int(x['seq']) for x in written]
    check(len(written) == nflows and seqs == list(range(seqs[0], seqs[0] + nflows)),
          '%s: all %d records in the log, seq unbroken (%d)' % (what, nflows, len(written)))
    check(printed_records(err) == [] and 'not in the log' not in err,
          '%s: nothing printed on stderr' % what)
    check_exact(what, written, truth)
    check(conservation_ok(err), '%s: the conservation lines add up' % what)
    return err


def test_returns(wt, rd, tmp):
    """Room comes back while the monitor runs: every record reaches the log."""
    what = 'full disk, then room'
    small = os.path.join(tmp, 'returns')
    if not mount_small(small):
        SKIPS.append('%s: cannot mount a tmpfs' % what)
        return
    try:
        err = room_returns(wt, rd, tmp, what, small, 3000, (2, 1), 6000,
                           ['--segment-size', '64K', '--table-size', '64', '--spool', 'off',
                            '--compress', 'off'],
                           'cannot write call records to')
        m = re.search(r'the log refused records 1 times, for [0-9.]+ s in all: (\d+) records '
                      r'waited in memory \(at most (\d+) at once\), (\d+) of them written later, '
                      r'0 printed on stderr', err)
        check(m is not None and int(m.group(1)) == int(m.group(3)) > 0,
              '%s: the summary counts the records that waited, all written (%s)' %
              (what, m.group(0) if m else None))
    finally:
        subprocess.run(['umount', small])


def spool_setup(tmp, name):
    mnt = hugetlbfs_mount()
    if mnt is None:
        SKIPS.append('%s: no hugetlbfs mounted for the spool' % name)
        return None, None
    small = os.path.join(tmp, name)
    if not mount_small(small):
        SKIPS.append('%s: cannot mount a tmpfs' % name)
        return None, None
    spool = os.path.join(mnt, 'wt-%s-%d' % (name, os.getpid()))
    os.mkdir(spool)
    return small, spool


def test_spool_never(wt, rd, tmp):
    """A hugetlbfs spool whose archive disk stays full: the records of the
    spool's segments stay there, the others are printed; once there is room
    the next start archives the spool. Every record exactly once."""
    what = 'archive disk full'
    small, spool = spool_setup(tmp, 'archive-never')
    if small is None:
        return
    try:
        pcap = os.path.join(tmp, 'flows30k.pcap')
        truth, nframes = flows_pcap(pcap, 30000, pkts_per_flow=(1, 0))
        p = subprocess.run([wt, '--pcap', pcap, '-o', small, '--spool', spool,
                            '--segment-size', '2M', '--table-size', '1024', '--compress', 'off'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        err = p.stderr.decode(errors='replace')
        check(p.returncode == 3, '%s: exit 3 (got %d)' % (what, p.returncode))
        check('No space left on device' in err and 'stay in the spool' in err and
              "the log's spool is full" in err,
              '%s: the cause and where the records are are said' % what)
        check(summary_value(err, 'received') == nframes,
              '%s: the whole capture is received' % what)
        printed = printed_records(err)
        in_spool = read_records_args(rd, ['--spool', spool, small])
        check_once(what, in_spool, printed, 30000)
        check_exact(what, in_spool + printed, truth)
        check(conservation_ok(err), '%s: the conservation lines add up' % what)
        # room again: the next start archives the spool
        subprocess.run(['mount', '-o', 'remount,size=64m', small], check=True)
        good = os.path.join(tmp, 'one.pcap')
        flows_pcap(good, 1, pkts_per_flow=(1, 0), base_ts=1800000000000000)
        r = subprocess.run([wt, '--pcap', good, '-o', small, '--spool', spool,
                            '--segment-size', '2M', '--table-size', '1024'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        archived = read_records(rd, small)
        check(r.returncode == 0 and 'recovered' in r.stderr.decode() and
              [x['call_id'] for x in archived[:len(in_spool)]] ==
              [x['call_id'] for x in in_spool] and len(archived) == len(in_spool) + 1,
              '%s: the next start archives the spool (%d records) before its own'
              % (what, len(in_spool)))
        check([f for f in os.listdir(spool) if f.endswith('.wts')] == [],
              '%s: the spool is empty afterwards' % what)
    finally:
        subprocess.run(['umount', small])
        shutil.rmtree(spool, ignore_errors=True)


def test_spool_returns(wt, rd, tmp):
    """A hugetlbfs spool whose archive disk is full, then gets room while
    the monitor runs: every record is archived into the log."""
    what = 'archive disk full, then room'
    small, spool = spool_setup(tmp, 'archive-returns')
    if small is None:
        return
    try:
        room_returns(wt, rd, tmp, what, small, 40000, (1, 0), 35000,
                     ['--spool', spool, '--segment-size', '2M', '--table-size', '1024',
                      '--compress', 'off'],
                     "the log's spool is full")
        check([f for f in os.listdir(spool) if f.endswith('.wts')] == [],
              '%s: the spool is empty afterwards' % what)
    finally:
        subprocess.run(['umount', small])
        shutil.rmtree(spool, ignore_errors=True)


def main(argv):
    if os.geteuid() != 0:
        print('SKIP full-disk: needs root to mount a small tmpfs')
        return 77
    parts = [lambda wt, rd, tmp: test_never(wt, rd, tmp),
             lambda wt, rd, tmp: test_never(wt, rd, tmp, backlog=100),
             test_returns, test_spool_never, test_spool_returns]
    return run_parts(__doc__, argv, 2, 'wt-full-disk-', parts)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
