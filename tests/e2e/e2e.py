#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""e2e.py: end-to-end tests of wiretally against captures with known byte counts.

  e2e.py sample WIRETALLY READER PCAP MANIFEST   the monitor on a shipped capture
  e2e.py lab LAB_SH                              the lab alone: capture + manifest check
  e2e.py live-capture WIRETALLY READER LAB_SH    lab capture, then the monitor on it
  e2e.py live-afpacket WIRETALLY READER LAB_SH   the monitor on the lab's veth (net_af_packet)
                                                 while tcpdump records the same frames

Every record is compared with what tests/e2e/wtpcap.py (an independent pcap
reader) finds in the capture, column by column (the TCP stream figures of
record version 2 from its own byte-interval model); every manifest
connection must have exactly one record whose payload bytes, and for TCP
acknowledged bytes, per direction equal the application's counts. Exit 0 pass, 1 fail, 77 skipped (the reason is printed).
"""
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wtpcap  # noqa: E402

SKIP = 77
MONITOR_TIMEOUT = 300
# Columns compared with the capture for every record; times only when the
# monitor read the capture file (live, it stamps packets with its own clock).
COMPARED = [c for c in wtpcap.RECORD_COLUMNS
            if c not in ('seq', 'start_ns', 'end_ns', 'end_reason', 'call_id')]


class Skip(Exception):
    pass


class Failed(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def run(cmd, timeout=MONITOR_TIMEOUT, what=None):
    """Run cmd, return its stdout; raise Failed with its stderr on failure."""
    what = what or os.path.basename(str(cmd[0]))
    try:
        p = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        raise Failed('%s did not finish in %d s: %s' % (what, timeout, ' '.join(map(str, cmd))))
    if p.returncode != 0:
        raise Failed('%s exited %d: %s\n--- stderr:\n%s--- stdout:\n%s' %
                     (what, p.returncode, ' '.join(map(str, cmd)), p.stderr, p.stdout[-4000:]))
    return p.stdout, p.stderr


def read_records(reader, outdir):
    """Records from wiretally-read as CSV, checked against its JSON lines."""
    text, _ = run([reader, '--format', 'csv', outdir], what='wiretally-read --format csv')
    lines = text.splitlines()
    if not lines or lines[0].split(',') != wtpcap.RECORD_COLUMNS:
        raise Failed('wiretally-read: the header line is %r, DESIGN.md section 3 says %r' %
                     (lines[0] if lines else '', ','.join(wtpcap.RECORD_COLUMNS)))
    records = list(csv.DictReader(io.StringIO(text)))
    jtext, _ = run([reader, '--format', 'json', outdir], what='wiretally-read --format json')
    jrecs = [json.loads(x) for x in jtext.splitlines() if x.strip()]
    errors = []
    if len(jrecs) != len(records):
        errors.append('JSON has %d records, CSV %d' % (len(jrecs), len(records)))
    for c, j in zip(records, jrecs):
        if list(j) != wtpcap.RECORD_COLUMNS:
            errors.append('JSON keys %s differ from the CSV columns' % list(j))
            break
        as_text = {k: '' if v is None else str(v) for k, v in j.items()}
        if as_text != c:
            errors.append('JSON record %s differs from CSV record %s' % (j, c))
            break
    if errors:
        raise Failed('wiretally-read: ' + '; '.join(errors))
    return records


def check(records, cap, manifest, times=None):
    """Compare records with the capture and the manifest; return error lines.

    times: None to require start_ns/end_ns equal to the packets' timestamps
    (capture file input; to the microsecond), or (lo_ns, hi_ns) bounds for a
    live run.
    """
    pairs, merrors, notes = wtpcap.match_manifest(cap, manifest)
    errors = ['manifest vs capture: ' + e for e in merrors]
    for n in notes:
        log('note ' + n)

    # Whole-log properties.
    seqs = sorted(int(r['seq']) for r in records)
    if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
        errors.append('seq is not gap-free and unique: %s' % seqs)
    ids = [r['call_id'] for r in records]
    bad_ids = [i for i in ids if not re.fullmatch(r'[0-9a-f]{32}', i)]
    if bad_ids:
        errors.append('call_id not 32 lowercase hex digits: %s' % bad_ids[:3])
    if len(set(ids)) != len(ids):
        errors.append('call_id repeats across connections: %s' % sorted(ids))
    for r in records:
        want = ('idle',) if os.environ.get('WT_E2E_EXPECT_IDLE') else ('shutdown', 'idle')
        if r['end_reason'] not in want:
            errors.append('seq %s: end_reason %r (expected %s)' %
                          (r['seq'], r['end_reason'], ' or '.join(want)))

    # Every record is one conversation of the capture, and vice versa.
    by_key = {c.endpoints(): c for c in cap.conversations.values()}
    recs_of = {}
    for r in records:
        k = wtpcap.record_endpoints(r)
        if k not in by_key:
            errors.append('record seq %s (%s %s.%s <-> %s.%s) is no connection of the '
                          'capture' % (r['seq'], r['proto'], r['a_addr'], r['a_port'],
                                       r['b_addr'], r['b_port']))
            continue
        recs_of.setdefault(k, []).append(r)
    for k, c in by_key.items():
        got = recs_of.get(k, [])
        if len(got) != 1:
            errors.append('%s: %d records, expected 1' % (c.describe(), len(got)))
            continue
        r, want = got[0], c.as_record()
        for col in COMPARED:
            if r[col] != want[col]:
                errors.append('%s: %s = %r, the capture says %r' %
                              (c.describe(), col, r[col], want[col]))
        start, end = int(r['start_ns']), int(r['end_ns'])
        if times is None:
            for col in ('start_ns', 'end_ns'):
                # DPDK 22.11's net_pcap opens files with microsecond
                # precision: a nanosecond capture arrives truncated.
                w = int(want[col]) // 1000 * 1000
                if int(r[col]) != w:
                    errors.append('%s: %s = %s, the packets say %d' %
                                  (c.describe(), col, r[col], w))
        elif not times[0] <= start <= end <= times[1]:
            errors.append('%s: start_ns %d, end_ns %d not within the run [%d, %d]' %
                          (c.describe(), start, end, times[0], times[1]))

    # The application's view: manifest rows.
    for row, c, cs in pairs:
        got = recs_of.get(c.endpoints(), [])
        if len(got) != 1:
            continue
        r, ss = got[0], 'b' if cs == 'a' else 'a'
        name = wtpcap.row_name(row)
        ok = True
        if (int(r[cs + '_bytes']), int(r[ss + '_bytes'])) != (row['c2s_bytes'],
                                                               row['s2c_bytes']):
            errors.append('%s: payload bytes c2s %s s2c %s, manifest %d %d' %
                          (name, r[cs + '_bytes'], r[ss + '_bytes'], row['c2s_bytes'],
                           row['s2c_bytes']))
            ok = False
        if row['proto'] == 'tcp':
            # delivered bytes (record version 2): what the peer acknowledged
            got = (r[cs + '_acked_bytes'], r[ss + '_acked_bytes'])
            if got != (str(row['c2s_bytes']), str(row['s2c_bytes'])):
                errors.append('%s: acknowledged bytes c2s %s s2c %s, manifest %d %d' %
                              (name, got[0], got[1], row['c2s_bytes'], row['s2c_bytes']))
                ok = False
            if r['origin'] != cs:
                errors.append('%s: origin %r, the client is %r' % (name, r['origin'], cs))
                ok = False
            for side in 'ab':
                if not set('SAF') <= set(r[side + '_flags']):
                    errors.append('%s: %s_flags %r lacks S, A or F' %
                                  (name, side, r[side + '_flags']))
                    ok = False
        if ok:
            log('ok   %-64s c2s %7d  s2c %7d' % (name, row['c2s_bytes'], row['s2c_bytes']))

    total = sum(int(r['a_pkts']) + int(r['b_pkts']) for r in records)
    if total != cap.ip_packets:
        errors.append('records count %d packets, the capture has %d IP packets' %
                      (total, cap.ip_packets))
    log('%d records, %d packets in records; capture: %d frames, %d IP, %d not IP' %
        (len(records), total, cap.frames, cap.ip_packets, cap.non_ip))
    return errors


def monitor_pcap(wiretally, pcap, outdir):
    os.makedirs(outdir, exist_ok=True)
    _, err = run([wiretally, '--pcap', pcap, '-o', outdir], what='wiretally --pcap')
    log('wiretally exit summary:\n' + err.rstrip())


def report(errors):
    for e in errors:
        log('FAIL ' + e)
    if errors:
        raise Failed('%d check(s) failed' % len(errors))


def test_sample(tmp, wiretally, reader, pcap, manifest):
    cap = wtpcap.Capture(pcap)
    rows = wtpcap.read_manifest(manifest)
    out = os.path.join(tmp, 'log')
    monitor_pcap(wiretally, pcap, out)
    report(check(read_records(reader, out), cap, rows))


# --- the lab -------------------------------------------------------------

def lab_preflight(lab_sh):
    """Raise Skip unless this machine can run the namespace lab."""
    if os.geteuid() != 0:
        raise Skip('needs root for network namespaces (running as uid %d)' % os.geteuid())
    missing = [c for c in ('ip', 'ethtool', 'tcpdump', 'nginx', 'curl', 'ss')
               if shutil.which(c) is None]
    if missing:
        raise Skip('missing %s (scripts/setup.sh installs them)' % ', '.join(missing))
    probe = 'wtprobe%d' % os.getpid()
    p = subprocess.run(['ip', 'netns', 'add', probe], stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise Skip('cannot create a network namespace: %s' % p.stderr.strip())
    try:
        p = subprocess.run(['ip', 'netns', 'exec', probe, 'true'], stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise Skip('cannot run a command in a network namespace (ip netns exec): %s' %
                       p.stderr.strip())
    finally:
        subprocess.run(['ip', 'netns', 'del', probe])
    if not os.access(lab_sh, os.X_OK):
        raise Failed('%s is not executable' % lab_sh)


class Lab:
    """scripts/netns-lab.sh with a prefix of its own."""

    def __init__(self, lab_sh):
        self.sh = lab_sh
        self.prefix = 'wte%d' % os.getpid()

    def cmd(self, *args, quiet=False):
        out, err = run([self.sh, '-p', self.prefix] + list(args), timeout=600,
                       what='netns-lab.sh ' + args[0])
        if not quiet and (out.strip() or err.strip()):
            log((out + err).rstrip())
        return out

    def info(self):
        return dict(line.split('=', 1) for line in
                    self.cmd('info', quiet=True).splitlines() if '=' in line)

    def down(self):
        subprocess.run([self.sh, '-p', self.prefix, 'down'], stdout=subprocess.DEVNULL)
        left = subprocess.run(['ip', 'netns', 'list'], stdout=subprocess.PIPE,
                              text=True).stdout
        if self.prefix + '-' in left:
            raise Failed('netns-lab.sh down left namespaces: %s' % left)


def capture_checked(lab, pcap, large=True):
    """Lab capture, then the manifest against it, here again."""
    lab.cmd('capture', *(['--large'] if large else []), pcap)
    manifest = pcap[:-len('.pcap')] + '.tsv'
    cap, rows = wtpcap.Capture(pcap), wtpcap.read_manifest(manifest)
    _, errors, _ = wtpcap.match_manifest(cap, rows)
    report(['manifest vs capture: ' + e for e in errors])
    if len(rows) < 10:
        raise Failed('manifest has only %d connections' % len(rows))
    return cap, rows


def test_lab(tmp, lab_sh):
    lab_preflight(lab_sh)
    lab = Lab(lab_sh)
    try:
        capture_checked(lab, os.path.join(tmp, 'lab.pcap'))
    finally:
        lab.down()


def test_live_capture(tmp, wiretally, reader, lab_sh):
    lab_preflight(lab_sh)
    lab = Lab(lab_sh)
    pcap = os.path.join(tmp, 'live.pcap')
    try:
        cap, rows = capture_checked(lab, pcap)
    finally:
        lab.down()
    out = os.path.join(tmp, 'log')
    monitor_pcap(wiretally, pcap, out)
    report(check(read_records(reader, out), cap, rows))


def start_iface_monitor(lab, wiretally, out, errf, args=()):
    """wiretally --iface on the lab server's veth, its output into errf; returns
    once its port is started (and the lab's neighbours pinned again)."""
    info = lab.info()
    # net_af_packet sees only interfaces of its own namespace: run the
    # monitor inside the server's, on the same veth tcpdump listens on.
    cmd = ['ip', 'netns', 'exec', info['SRV_NS'], str(wiretally), '--iface',
           info['SRV_IF'], '-o', out] + list(args)
    log('running: ' + ' '.join(cmd))
    mon = subprocess.Popen(cmd, stdout=errf, stderr=subprocess.STDOUT)
    # The monitor prints "writing to DIR" once its port is started and
    # it is about to poll: wait for that line.
    deadline = time.monotonic() + 60
    while True:
        errf.seek(0)
        if 'wiretally: writing to ' in errf.read():
            break
        if mon.poll() is not None:
            errf.seek(0)
            raise Failed('wiretally --iface exited %d before starting its port:\n%s' %
                         (mon.returncode, errf.read()))
        if time.monotonic() > deadline:
            mon.kill()
            raise Failed('wiretally --iface did not start its port in 60 s')
        time.sleep(0.05)
    # Starting the port replayed the veth's MAC address, which flushed the
    # server's neighbour table: pin the static entries again, so that no
    # ARP/neighbour discovery appears on the wire.
    lab.cmd('pin')
    return mon


def stop_iface_monitor(mon, errf):
    """SIGINT, wait, log its summary; raise Failed unless it exits 0."""
    mon.send_signal(signal.SIGINT)
    try:
        rc = mon.wait(MONITOR_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Failed('wiretally --iface did not stop within %d s of SIGINT' % MONITOR_TIMEOUT)
    errf.seek(0)
    log('wiretally exit summary:\n' + errf.read().rstrip())
    if rc != 0:
        raise Failed('wiretally --iface exited %d after SIGINT' % rc)


def cleanup(lab, errf, *procs):
    """Kill the processes still running, close errf, take the lab down."""
    for p in procs:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
    errf.close()
    lab.down()


def test_live_afpacket(tmp, wiretally, reader, lab_sh):
    lab_preflight(lab_sh)
    lab = Lab(lab_sh)
    out = os.path.join(tmp, 'log')
    os.makedirs(out)
    pcap = os.path.join(tmp, 'afpacket.pcap')
    mon = None
    errf = open(os.path.join(tmp, 'wiretally.stderr'), 'w+')
    try:
        lab.cmd('up')
        t0 = time.time_ns()
        mon = start_iface_monitor(lab, wiretally, out, errf,
                                  os.environ.get('WT_E2E_MONITOR_ARGS', '').split())
        # Without --large: a 1 MB transfer over veth is ~700 frames in ~2 ms,
        # more than net_af_packet's default ring (512 frames) holds if the RX
        # lcore is descheduled on a 2-core machine; that is a benchmark's
        # question, not this test's.
        cap, rows = capture_checked(lab, pcap, large=False)
        time.sleep(1)
        stop_iface_monitor(mon, errf)
        t1 = time.time_ns()
    finally:
        cleanup(lab, errf, mon)
    report(check(read_records(reader, out), cap, rows, times=(t0, t1)))


def main(argv):
    tests = {'sample': (test_sample, 4), 'lab': (test_lab, 1),
             'live-capture': (test_live_capture, 3), 'live-afpacket': (test_live_afpacket, 3)}
    if len(argv) == 2 and argv[1] in ('-h', '--help'):
        print(__doc__)
        return 0
    if len(argv) < 2 or argv[1] not in tests or len(argv) != 2 + tests[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        return 2
    return run_test(argv[1], tests[argv[1]][0], [os.path.abspath(a) for a in argv[2:]])


def run_test(name, fn, args):
    """fn(tmp, *args) as the test name: 0 pass, 1 fail (files kept), 77 skipped."""
    tmp = tempfile.mkdtemp(prefix='wt-e2e-%s-' % name)
    try:
        fn(tmp, *args)
    except Skip as e:
        msg = 'SKIP %s: %s' % (name, e)
        log(msg)
        print(msg, file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
        return SKIP
    except (Failed, wtpcap.PcapError, ValueError, OSError, subprocess.TimeoutExpired) as e:
        log('FAIL %s: %s\n(files kept in %s)' % (name, e, tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    log('PASS %s' % name)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
