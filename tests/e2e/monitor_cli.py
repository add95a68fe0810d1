#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# monitor_cli.py: the monitor's command line, config file, errors, eviction, scan and streams, end to end.
"""Usage: monitor_cli.py WIRETALLY WIRETALLY_READ CONFIG_EXAMPLE

Runs the monitor on captures this script writes itself (so every count is
known) and checks:
  - every bad input gets exit 1 and one line naming the problem: unknown
    option, bad value, missing -o, missing/non-directory/read-only output,
    missing/garbage/non-Ethernet capture, no input, config errors;
  - --help, --version, the shipped config/wiretally.conf, config values and
    the command line winning over them;
  - a table smaller than the connection count evicts (end_reason evicted)
    and every packet is still in exactly one record;
  - the completion scan on packet time splits a connection idle longer than
    the interval, and the parts add up;
  - a truncated capture: records of what was read, and a warning;
  - streamed captures (stdin, a FIFO, pcapng) and SIGHUP.
A full disk is full_disk.py's. Exit 0 when all pass, 1 otherwise.
"""
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from pcapgen import pcap_bytes, udp4, write

from wtcheck import SKIPS, check, run_parts


# ---- running the monitor ---------------------------------------------------

class Run:
    def __init__(self, wt, rd, args):
        p = subprocess.run([wt] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        self.rc = p.returncode
        self.out = p.stdout.decode(errors='replace')
        self.err = p.stderr.decode(errors='replace')
        self.rd = rd

    def records(self, logdir):
        return read_records(self.rd, logdir)



def umask():
    m = os.umask(0)
    os.umask(m)
    return m

def read_records(rd, logdir):
    """The log's records as dicts (wiretally-read's CSV); it must read clean."""
    return read_records_args(rd, [logdir])


def read_records_args(rd, args):
    p = subprocess.run([rd] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    if p.returncode != 0:
        raise AssertionError('wiretally-read %s exited %d: %s' %
                             (' '.join(args), p.returncode, p.stderr.decode()))
    return list(csv.DictReader(io.StringIO(p.stdout.decode())))


def err_line(run):
    """The last non-empty stderr line (the monitor's one-line error)."""
    lines = [l for l in run.err.splitlines() if l.strip()]
    return lines[-1] if lines else ''


def test_errors(wt, rd, tmp):
    def fails_with(args, needle, what):
        r = Run(wt, rd, args)
        line = err_line(r)
        check(r.rc == 1 and needle in line,
              '%s: exit 1 and "%s" (got %d: %s)' % (what, needle, r.rc, line))

    logdir = os.path.join(tmp, 'log-errors')
    os.mkdir(logdir)
    good = os.path.join(tmp, 'good.pcap')
    write(good, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, 10))]))
    garbage = os.path.join(tmp, 'garbage.pcap')
    write(garbage, b'this is not a capture file at all' * 10)
    raw = os.path.join(tmp, 'raw.pcap')
    write(raw, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 1)[14:])],
                          linktype=101))
    afile = os.path.join(tmp, 'afile')
    write(afile, b'x')

    fails_with(['--bogus'], 'unknown option --bogus', 'unknown option')
    fails_with(['--pcap', good, '-o', logdir, '--table-size', 'lots'],
               "--table-size: 'lots' is not a whole number", 'bad number')
    fails_with(['--pcap', good, '-o', logdir, '--table-size', '8'],
               "--table-size: '8' is not a whole number between 16", 'number out of range')
    fails_with(['--pcap', good, '-o', logdir, '--scan-interval', '-1'],
               '--scan-interval', 'negative interval')
    fails_with(['--pcap', good, '-o', logdir, '--vlan-key', 'maybe'],
               "--vlan-key: 'maybe' is not on or off", 'bad on/off')
    fails_with(['--pcap', good, '-o', logdir, '--segment-size', '1Q'],
               "--segment-size: '1Q' is not a size", 'bad size suffix')
    fails_with(['--pcap', good], 'no output directory', 'missing -o')
    blocker = os.path.join(tmp, 'blocker')
    open(blocker, 'w').close()
    fails_with(['--pcap', good, '-o', os.path.join(blocker, 'sub')],
               'Not a directory', 'output directory under a file')
    # a missing output directory is created, with its parents, mode 0750
    made = os.path.join(tmp, 'new', 'deep')
    p = subprocess.run([wt, '--pcap', good, '-o', made, '-q'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    mode = os.stat(made).st_mode & 0o777 if os.path.isdir(made) else None
    check(p.returncode == 0 and mode == 0o750 & ~umask() and
          any(n.startswith('seg-') for n in os.listdir(made)),
          'a missing -o DIR is created (mode %s) and written (%d %s)' %
          (oct(mode) if mode is not None else None, p.returncode, p.stderr.strip()[-200:]))
    fails_with(['--pcap', good, '-o', afile], 'not a directory', 'output is a file')
    fails_with(['--pcap', os.path.join(tmp, 'missing.pcap'), '-o', logdir],
               'missing.pcap', 'missing capture')
    fails_with(['--pcap', garbage, '-o', logdir], 'garbage.pcap', 'garbage capture')
    fails_with(['--pcap', raw, '-o', logdir], 'is not Ethernet', 'non-Ethernet capture')
    fails_with(['-o', logdir], 'no input', 'no input')
    fails_with(['--pcap', 'a,b.pcap', '-o', logdir], 'contains a comma', 'comma in a path')
    fails_with(['--pcap', good, '-o', logdir, 'stray'], "unexpected argument 'stray'",
               'stray argument')

    # EAL options given by the user: an lcore list too short for the roles
    fails_with(['--no-huge', '-m', '256', '--no-pci', '-l', '0', '--file-prefix',
                'wt-cli-%d' % os.getpid(), '--log-level', 'lib.eal:error', '--vdev',
                'net_pcap0,rx_pcap=' + good, '--', '-o', logdir, '--rx-cores', '2'],
               '--rx-cores 2 needs 2 worker lcores', 'lcore list too short for the roles')
    fails_with(['--no-huge', '-m', '256', '--no-pci', '-l', '0,1', '--file-prefix',
                'wt-cli-r-%d' % os.getpid(), '--log-level', 'lib.eal:error', '--vdev',
                'net_pcap0,rx_pcap=' + good, '--', '-o', logdir, '--export-lcore', '5'],
               '--export-lcore 5: not an lcore of the EAL', 'exporter on a missing lcore')
    fails_with(['--pcap', good, '-o', logdir, '--scan-lcore', 'fast'],
               "--scan-lcore: 'fast' is not an lcore id, main or auto", 'bad scanner lcore')
    fails_with(['--pcap', good, '-o', logdir, '--rx-cores', '33'],
               "--rx-cores: '33' is not a whole number between 1 and 32", 'too many RX lcores')
    fails_with(['--pcap', good, '-o', logdir, '--port', '7'], '--port 7: no such port',
               'a port that does not exist')

    conf = os.path.join(tmp, 'bad-key.conf')
    write(conf, b'[wiretally]\ntable-sise = 100\n')
    fails_with(['--config', conf, '--pcap', good, '-o', logdir], "unknown key 'table-sise'",
               'config: unknown key')
    conf2 = os.path.join(tmp, 'bad-section.conf')
    write(conf2, b'[wiretaly]\ntable-size = 100\n')
    fails_with(['--config', conf2, '--pcap', good, '-o', logdir], 'unknown section [wiretaly]',
               'config: unknown section')
    conf3 = os.path.join(tmp, 'bad-value.conf')
    write(conf3, b'[wiretally]\nscan-interval = soon\n')
    fails_with(['--config', conf3, '--pcap', good, '-o', logdir],
               "bad-value.conf: scan-interval: 'soon' is not a number of seconds",
               'config: bad value names file and key')
    fails_with(['--config', os.path.join(tmp, 'none.conf'), '--pcap', good, '-o', logdir],
               'none.conf', 'config: missing file')
    check(os.listdir(logdir) == [], 'failed runs wrote nothing into the log directory')

    # read-only output (root bypasses permissions; a read-only mount does not)
    if os.geteuid() == 0:
        ro = os.path.join(tmp, 'ro')
        os.mkdir(ro)
        if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).returncode == 0:
            try:
                fails_with(['--pcap', good, '-o', ro], 'not writable', 'read-only output')
            finally:
                subprocess.run(['umount', ro])
        else:
            SKIPS.append('read-only output: cannot mount a tmpfs')
    else:
        SKIPS.append('read-only output: needs root')


def test_help_and_config(wt, rd, tmp, example_conf):
    r = Run(wt, rd, ['--help'])
    check(r.rc == 0 and 'Usage: wiretally [EAL options] -- [options]' in r.out, '--help usage')
    for opt in ('--pcap', '--iface', '--output', '--table-size', '--scan-interval',
                '--vlan-key', '--segment-size', '--frag-table-size', '--frag-timeout',
                '--hash-seed', '--burst', '--rx-desc', '--mbufs', '--config', '--quiet',
                '--rx-cores', '--record-ring', '--forward-ring', '--duration', '--progress',
                '--spool', '--spool-segments', '--export-lcore', '--scan-lcore',
                '--active-timeout'):
        check(opt in r.out, '--help documents ' + opt)
    r = Run(wt, rd, ['--version'])
    check(r.rc == 0 and r.out.startswith('wiretally '), '--version')

    # every option of --help is a documented key of the example config
    with open(example_conf) as f:
        conf_text = f.read()
    for opt in ('pcap', 'iface', 'port', 'output', 'table-size', 'scan-interval', 'vlan-key',
                'segment-size', 'frag-table-size', 'frag-timeout', 'hash-seed', 'burst',
                'rx-desc', 'mbufs', 'quiet', 'rx-cores', 'record-ring', 'forward-ring',
                'duration', 'progress', 'spool', 'spool-segments', 'export-lcore',
                'scan-lcore', 'active-timeout'):
        check((';%s =' % opt) in conf_text, 'config/wiretally.conf documents ' + opt)

    good = os.path.join(tmp, 'cfg.pcap')
    write(good, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, 10))]))
    logdir = os.path.join(tmp, 'log-config')
    os.mkdir(logdir)
    # the shipped example is valid as is (everything commented out) ...
    r = Run(wt, rd, ['--config', example_conf, '--pcap', good, '-o', logdir])
    check(r.rc == 0 and 'table: 1048576 records' in r.err, 'the shipped config loads (defaults)')
    # ... values apply, and the command line wins
    conf = os.path.join(tmp, 'good.conf')
    write(conf, ('[wiretally]\ntable-size = 64\nscan-interval = 5\nvlan-key = off\n'
                 'output = %s\n' % logdir).encode())
    r = Run(wt, rd, ['--config', conf, '--pcap', good])
    check(r.rc == 0 and 'table: 64 records' in r.err and 'every 5 s' in r.err and
          'VLAN not in the key' in r.err, 'config values apply (table-size, scan, vlan, output)')
    r = Run(wt, rd, ['--config', conf, '--pcap', good, '--table-size', '128'])
    check(r.rc == 0 and 'table: 128 records' in r.err, 'the command line wins over the config')
    recs = read_records(rd, logdir)
    check([int(x['seq']) for x in recs] == list(range(len(recs))) and len(recs) == 3,
          'three runs into one directory: seq continues 0..2 (got %d records)' % len(recs))


def flows_pcap(path, nflows, pkts_per_flow=(2, 1), base_ts=1700000000000000, gap_us=10):
    """nflows UDP flows 10.1.x.y:2000+i <-> 10.2.0.1:53; c2s then s2c packets.
    Returns {(client_ip, port): (c2s_pkts, c2s_bytes, s2c_pkts, s2c_bytes)}."""
    frames, truth, ts = [], {}, base_ts
    for i in range(nflows):
        cli = [10, 1, (i >> 8) & 0xff, i & 0xff]
        port = 2000 + (i % 60000)
        c2s, s2c = pkts_per_flow
        for k in range(c2s):
            frames.append((ts, udp4(cli, port, [10, 2, 0, 1], 53, 10 + k)))
            ts += gap_us
        for k in range(s2c):
            frames.append((ts, udp4([10, 2, 0, 1], 53, cli, port, 100 + k,
                                    smac=b'\x02\0\0\0\0\x02', dmac=b'\x02\0\0\0\0\x01')))
            ts += gap_us
        truth['.'.join(map(str, cli)), port] = (
            c2s, sum(10 + k for k in range(c2s)), s2c, sum(100 + k for k in range(s2c)))
    write(path, pcap_bytes(frames))
    return truth, len(frames)


def sum_by_flow(recs):
    """Sum records per (client ip, port): a = 10.2.0.1 (greater address)."""
    got = {}
    for x in recs:
        key = (x['b_addr'], int(x['b_port']))
        c = got.setdefault(key, [0, 0, 0, 0])
        c[0] += int(x['b_pkts'])
        c[1] += int(x['b_bytes'])
        c[2] += int(x['a_pkts'])
        c[3] += int(x['a_bytes'])
    return {k: tuple(v) for k, v in got.items()}


def test_eviction(wt, rd, tmp):
    pcap = os.path.join(tmp, 'flows.pcap')
    truth, nframes = flows_pcap(pcap, 500)
    logdir = os.path.join(tmp, 'log-evict')
    os.mkdir(logdir)
    r = Run(wt, rd, ['--pcap', pcap, '-o', logdir, '--table-size', '16'])
    recs = r.records(logdir)
    reasons = [x['end_reason'] for x in recs]
    check(r.rc == 0, 'eviction run exits 0 (%d)' % r.rc)
    check(reasons.count('evicted') >= 400 and reasons.count('shutdown') <= 16,
          'table of 16 records, 500 flows: %d evicted, %d at shutdown' %
          (reasons.count('evicted'), reasons.count('shutdown')))
    check(sum_by_flow(recs) == truth, 'every flow exact through eviction (500 flows)')
    check(sum(int(x['a_pkts']) + int(x['b_pkts']) for x in recs) == nframes,
          'every packet in exactly one record (%d)' % nframes)
    check('records hold %d pkts = in call records' % nframes in r.err, 'summary adds up')


def test_scan_split(wt, rd, tmp):
    # one flow: packets at t = 0, 1 s, then 10 s later; scan every 2 s:
    # idle through a whole interval after 1 s -> first record completes idle
    base = 1700000000000000
    frames = [(base, udp4([10, 0, 0, 1], 4000, [10, 0, 0, 2], 4001, 5)),
              (base + 1000000, udp4([10, 0, 0, 2], 4001, [10, 0, 0, 1], 4000, 7)),
              (base + 11000000, udp4([10, 0, 0, 1], 4000, [10, 0, 0, 2], 4001, 9)),
              (base + 11500000, udp4([10, 0, 0, 3], 1, [10, 0, 0, 4], 2, 1))]
    pcap = os.path.join(tmp, 'idle.pcap')
    write(pcap, pcap_bytes(frames))
    logdir = os.path.join(tmp, 'log-scan')
    os.mkdir(logdir)
    r = Run(wt, rd, ['--pcap', pcap, '-o', logdir, '--scan-interval', '2'])
    recs = r.records(logdir)
    first = [x for x in recs if x['a_addr'] == '10.0.0.2']
    check(len(first) == 2 and first[0]['end_reason'] == 'idle' and
          first[1]['end_reason'] == 'shutdown', 'idle connection split by the scan: idle, shutdown')
    if len(first) == 2:
        check(int(first[0]['start_ns']) == base * 1000 and
              int(first[0]['end_ns']) == (base + 1000000) * 1000,
              'first part spans the first two packets (packet time)')
        check((int(first[0]['a_pkts']), int(first[0]['b_pkts']), int(first[1]['b_pkts'])) ==
              (1, 1, 1) and int(first[0]['b_bytes']) + int(first[1]['b_bytes']) == 14,
              'the parts add up (b: 5 + 9 bytes, a: 7)')
        check(first[0]['call_id'] != first[1]['call_id'], 'the parts have their own call_id')


def test_truncated_capture(wt, rd, tmp):
    pcap = os.path.join(tmp, 'trunc-src.pcap')
    truth, nframes = flows_pcap(pcap, 20)
    with open(pcap, 'rb') as f:
        data = f.read()
    cut = os.path.join(tmp, 'trunc.pcap')
    write(cut, data[:len(data) - 30])  # the last frame is cut short
    logdir = os.path.join(tmp, 'log-trunc')
    os.mkdir(logdir)
    r = Run(wt, rd, ['--pcap', cut, '-o', logdir])
    recs = r.records(logdir)
    got = sum(int(x['a_pkts']) + int(x['b_pkts']) for x in recs)
    check(r.rc == 0 and got == nframes - 1, 'truncated capture: every complete frame counted '
          '(%d of %d)' % (got, nframes))
    check('ended with a read error' in r.err, 'truncated capture: warned on stderr')
    check(re.search(r'wiretally: capture \S+trunc\.pcap ends inside frame %d at offset \d+ '
                    r'\(\d+ of its \d+ bytes\); the %d frames before it are read' %
                    (nframes, nframes - 1), r.err) is not None,
          'truncated capture: the cut frame is named with its offset')


def test_streams(wt, rd, tmp):
    """--pcap - (standard input) and --pcap FIFO, pcap and pcapng: the same
    records as the file (call_id aside: another run); a stream cut inside a
    frame is said with the frame's offset, the frames before it recorded; a
    non-Ethernet stream is refused in one line."""
    pcap = os.path.join(tmp, 'stream-src.pcap')
    truth, nframes = flows_pcap(pcap, 20)
    with open(pcap, 'rb') as f:
        data = f.read()

    def records(args, stdin=None):
        logdir = os.path.join(tmp, 'log-stream-%d' % len(os.listdir(tmp)))
        p = subprocess.run([wt] + args + ['-o', logdir, '--spool', 'off'], input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out = subprocess.run([rd, '--no-header', logdir], stdout=subprocess.PIPE, text=True,
                             timeout=60).stdout if p.returncode == 0 else ''
        rows = sorted(','.join(l.split(',')[1:25] + l.split(',')[26:]) for l in out.splitlines())
        return p.returncode, rows, p.stderr.decode()

    rc, want, _ = records(['--pcap', pcap])
    rc1, got, err = records(['--pcap', '-'], stdin=data)
    check(rc == 0 and rc1 == 0 and got == want and len(want) == 20,
          '--pcap - (standard input): the same %d records as the file (%d %s)' %
          (len(want), rc1, err.strip()[-200:]))
    fifo = os.path.join(tmp, 'stream.fifo')
    os.mkfifo(fifo)
    writer = subprocess.Popen(['sh', '-c', 'cat "$0" > "$1"', pcap, fifo])
    rc2, got, err = records(['--pcap', fifo])
    writer.wait(60)
    check(rc2 == 0 and got == want, '--pcap FIFO: read once, the same records (%d %s)' %
          (rc2, err.strip()[-200:]))
    if shutil.which('editcap'):
        ng = os.path.join(tmp, 'stream.pcapng')
        subprocess.run(['editcap', '-F', 'pcapng', pcap, ng], check=True)
        with open(ng, 'rb') as f:
            rc3, got, err = records(['--pcap', '-'], stdin=f.read())
        check(rc3 == 0 and got == want, 'a pcapng stream: the same records (%d %s)' %
              (rc3, err.strip()[-200:]))
    else:
        SKIPS.append('pcapng stream: editcap (tshark) not installed')
    # cut inside the last frame: where it is, and the frames before it
    last_start = len(data)
    off = 24
    while off < len(data):  # walk the records to find the last one's offset
        caplen = int.from_bytes(data[off + 8:off + 12], 'little')
        last_start, off = off, off + 16 + caplen
    size = len(data) - last_start
    rc4, got, err = records(['--pcap', '-'], stdin=data[:len(data) - 30])
    want_line = ('wiretally: capture - (standard input) ends inside frame %d at offset %d '
                 '(%d of its %d bytes); the %d frames before it are read' %
                 (nframes, last_start, size - 30, size, nframes - 1))
    pkts = sum(int(r.split(',')[10]) + int(r.split(',')[17]) for r in got)
    check(rc4 == 0 and want_line in err and pkts == nframes - 1,
          'a stream cut inside a frame: %r, %d packets recorded' % (want_line, pkts))
    raw = os.path.join(tmp, 'stream-raw.pcap')
    write(raw, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 1)[14:])],
                          linktype=101))
    with open(raw, 'rb') as f:
        rc5, _, err = records(['--pcap', '-'], stdin=f.read())
    check(rc5 != 0 and [l for l in err.splitlines() if 'capture' in l] ==
          ['wiretally: capture - (standard input): link type 101 is not Ethernet; wiretally '
           'reads Ethernet (LINKTYPE_ETHERNET, 1) captures'],
          'a non-Ethernet stream: refused in one line (%d %r)' % (rc5, err))


def test_sighup(wt, rd, tmp):
    """SIGHUP reloads nothing and says so (and whether the config file
    changed); the monitor keeps running until it is told to stop."""
    conf = os.path.join(tmp, 'hup.conf')
    with open(conf, 'w') as f:
        f.write('[wiretally]\nscan-interval = 180\n')
    logdir = os.path.join(tmp, 'hup-log')
    os.mkdir(logdir)
    sample = os.path.join(tmp, 'hup.pcap')
    write(sample, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, 10))]))
    errpath = os.path.join(tmp, 'hup.err')
    cmd = [wt, '--vdev', 'net_pcap0,rx_pcap=%s,infinite_rx=1' % sample, '--no-pci', '--no-huge',
           '-m', '256', '--file-prefix', 'wt-hup-%d' % os.getpid(), '--log-level',
           'lib.eal:warning', '--', '-o', logdir, '--config', conf, '--table-size', '1024',
           '--spool', 'off', '--progress', 'off']
    with open(errpath, 'w+') as errf:
        mon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf)
        try:
            deadline = time.monotonic() + 30
            while 'wiretally: writing to ' not in open(errpath).read():
                if mon.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError('the monitor did not start: ' + open(errpath).read())
                time.sleep(0.05)
            mon.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            with open(conf, 'a') as f:
                f.write('table-size = 2048\n')
            os.utime(conf, (time.time() + 5, time.time() + 5))
            mon.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            alive = mon.poll() is None
            mon.send_signal(signal.SIGTERM)
            rc = mon.wait(60)
        finally:
            if mon.poll() is None:
                mon.kill()
                mon.wait()
    err = open(errpath).read()
    check(alive and rc == 0, 'SIGHUP: the monitor keeps running, stops on SIGTERM with 0 (rc %d)'
          % rc)
    check('SIGHUP: nothing is reloaded; restart wiretally to apply a changed configuration '
          '(the config file is unchanged since start)' in err,
          'SIGHUP: says nothing is reloaded, config unchanged')
    check('(the config file changed since start)' in err,
          'SIGHUP after an edit: says the config file changed and a restart is needed')
    recs = read_records(rd, logdir)
    check(len(recs) == 1 and int(recs[0]['a_pkts']) + int(recs[0]['b_pkts']) > 1,
          'SIGHUP: the run went on and its record was written at the stop')


def test_messages(wt, rd, tmp):
    """Every message is a 'wiretally: ' line through one helper: --quiet
    hides the start-up (INFO) lines and keeps warnings; the EAL's
    --log-level=wiretally:LEVEL filters them while the EAL runs."""
    good = os.path.join(tmp, 'msg.pcap')
    write(good, pcap_bytes([(1000000, udp4([10, 0, 0, 1], 1000, [10, 0, 0, 2], 53, 10))]))

    def run(args, name):
        logdir = os.path.join(tmp, 'msg-' + name)
        os.mkdir(logdir)  # (a directory made is said before the EAL reads --log-level)
        p = subprocess.run([wt] + args + ['-o', logdir, '--spool', 'off', '--progress', 'off'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        return p.returncode, p.stderr.splitlines()

    rc, lines = run(['--pcap', good], 'plain')
    head = lines[:lines.index('wiretally: summary')] if 'wiretally: summary' in lines else lines
    check(rc == 0 and head and all(l.startswith('wiretally: ') for l in head) and
          any(l.startswith('wiretally: writing to ') for l in head),
          'messages: every line before the summary is a "wiretally: " message, the start-up '
          'lines among them (%d: %s)' % (rc, head[:3]))
    rc, lines = run(['--pcap', good, '-q'], 'quiet')
    check(rc == 0 and lines == [], '-q: nothing on stderr after a good run (%d: %s)' %
          (rc, lines[:3]))
    rc, lines = run(['--pcap', good, '-q', '--ipfix-queue', '64'], 'quiet-warn')
    check(rc == 0 and lines == ['wiretally: --ipfix-queue is no longer used: the IPFIX sender '
                                'reads every record from the log'],
          '-q: a warning is still said, alone (%d: %s)' % (rc, lines[:3]))
    # stderr a pipe nobody reads (closed before the monitor starts): every
    # message fails with EPIPE, the monitor neither dies of SIGPIPE nor
    # loses its record, and its spool is archived and gone
    logdir = os.path.join(tmp, 'msg-epipe')
    os.mkdir(logdir)
    rfd, wfd = os.pipe()
    os.close(rfd)
    p = subprocess.run([wt, '--pcap', good, '-o', logdir, '--progress', 'off'],
                       stdout=subprocess.DEVNULL, stderr=wfd, timeout=120)
    os.close(wfd)
    recs = read_records(rd, logdir)
    st = subprocess.run([rd, '--stats', logdir], stdout=subprocess.PIPE, text=True, timeout=60)
    check(p.returncode == 0 and len(recs) == 1 and 'records.written=1\n' in st.stdout,
          'stderr closed: the monitor exits 0 (not killed by SIGPIPE), its record and its '
          'counters (written at a clean stop) in the log (%d, %d records, stats %s)' %
          (p.returncode, len(recs), 'records.written=1' in st.stdout))
    eal = ['--vdev', 'net_pcap0,rx_pcap=%s' % good, '--no-pci', '--no-huge', '-m', '256',
           '--file-prefix', 'wt-msg-%d' % os.getpid(), '--log-level', 'lib.eal:warning']
    rc, lines = run(eal + ['--log-level', 'wiretally:warning', '--', '--ipfix-queue', '64'],
                    'loglevel')
    msgs = [l for l in lines if l.startswith('wiretally: ') and l != 'wiretally: summary']
    check(rc == 0 and msgs == ['wiretally: --ipfix-queue is no longer used: the IPFIX sender '
                               'reads every record from the log'] and
          'wiretally: summary' in lines,
          '--log-level=wiretally:warning: the start-up lines go, the warning and the summary '
          'stay (%d: %s)' % (rc, msgs[:3]))


def main(argv):
    def without_conf(part):
        return lambda wt, rd, conf, tmp: part(wt, rd, tmp)
    parts = [without_conf(test_errors),
             lambda wt, rd, conf, tmp: test_help_and_config(wt, rd, tmp, conf)]
    parts += [without_conf(p) for p in (test_eviction, test_scan_split, test_truncated_capture,
                                        test_streams, test_sighup, test_messages)]
    return run_parts(__doc__, argv, 3, 'wt-monitor-cli-', parts)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
