#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test_follow.py: wiretally-read --follow against a paced writer: every record once, in order, and how long after its commit it is printed.
"""Usage: test_follow.py WIRETALLY_READ WT_MKLOG

wt_mklog appends records one by one (pace=MS) and prints the time each was
committed (trace); a follower started before it prints them through a pipe,
read here with the time each line arrives. Checked: every seq exactly once,
in order, across segment rolls, writer restarts, a killed writer and its
recovery, a spool whose archiver moves segments away while they are read;
"the monitor closed the log" once after a stats frame and a seal; SIGTERM
and SIGINT stop the follower with exit 0 and everything flushed. The
latency from commit to the line arriving here must stay under 1 s (the
follower looks every 0.1 s and flushes at least every 0.2 s); the figures
are printed.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlib  # noqa: E402

check = rlib.Checker()
LIMIT_S = 1.0


class Follower:
    def __init__(self, reader, *args):
        self.errf = tempfile.TemporaryFile(mode="w+")
        self.p = subprocess.Popen([reader, "--follow", "-H", *args], stdout=subprocess.PIPE,
                                  stderr=self.errf, text=True)
        self.lines = []  # (arrival ns, line)
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.append((time.time_ns(), line.rstrip("\n")))

    def wait_for(self, n, timeout=20):
        """Wait until n lines arrived (a liveness bound, not a timing check)."""
        end = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < end:
            time.sleep(0.02)
        return len(self.lines) >= n

    def stderr(self):
        self.errf.seek(0)
        return self.errf.read()

    def wait_stderr(self, text, timeout=10):
        end = time.monotonic() + timeout
        while text not in self.stderr() and time.monotonic() < end:
            time.sleep(0.05)
        return text in self.stderr()

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
            check(False, "follower did not stop within 10 s of signal %d" % sig)
        self.t.join(5)
        return rc

    def seqs(self):
        return [int(l.split(",", 1)[0]) for _, l in self.lines]


def write(mklog, d, n, mode, seg=65536):
    """Run wt_mklog; return {seq: commit time ns} from its trace."""
    p = subprocess.run([mklog, d, str(n), str(seg), mode + ",trace"], capture_output=True,
                       text=True, check=True)
    return {int(a): int(b) for a, b in (l.split() for l in p.stdout.splitlines())}


def latencies(fl, commits):
    arrived = {int(l.split(",", 1)[0]): t for t, l in fl.lines}
    lat = sorted((arrived[s] - t) / 1e9 for s, t in commits.items() if s in arrived)
    return lat


def report(name, lat):
    if not lat:
        check(False, "%s: no latency measured" % name)
        return
    print("%s: %d records, commit-to-output latency: median %.3f s, 99%% %.3f s, max %.3f s"
          % (name, len(lat), lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
    check(lat[-1] < LIMIT_S, "%s: every record printed within %.1f s of its commit (max %.3f s)"
          % (name, LIMIT_S, lat[-1]))
    check(lat[0] >= -0.01, "%s: no record printed before its commit (%.3f)" % (name, lat[0]))


def case_direct(t, tmp):
    d = os.path.join(tmp, "direct")
    os.mkdir(d)
    fl = Follower(t.reader, d)  # before the first segment exists
    time.sleep(0.3)
    commits = write(t.mklog, d, 600, "pace=4,stats")  # 209 per segment: two rolls
    check(fl.wait_for(600), "direct: 600 records arrive (%d)" % len(fl.lines))
    closed = "wiretally-read: the monitor closed the log (its counters at %s offset %d, " \
             "segment sealed); still following: a restart continues the log\n" % (
                 os.path.join(d, "seg-%020d.wts" % 3), 256 + 182 * 312)
    check(fl.wait_stderr(closed), "direct: the close is said: %r" % fl.stderr())
    c2 = write(t.mklog, d, 100, "pace=3,crash")  # restart, then killed: segment 4 open
    check(fl.wait_for(700), "direct: a restart's records arrive (%d)" % len(fl.lines))
    c3 = write(t.mklog, d, 50, "pace=2")  # recovers segment 4, writes segment 5
    check(fl.wait_for(750), "direct: after the recovery (%d)" % len(fl.lines))
    time.sleep(0.3)
    rc = fl.stop(signal.SIGTERM)
    check(rc == 0, "direct: SIGTERM: exit 0 (%d)" % rc)
    check(fl.seqs() == list(range(750)), "direct: seq 0..749 once each, in order")
    check(fl.stderr() == closed, "direct: nothing else on stderr: %r" % fl.stderr())
    commits.update(c2)
    commits.update(c3)
    report("direct", latencies(fl, commits))
    return d


def case_spool(t, tmp):
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tmp
    d = os.path.join(tmp, "archive")
    os.mkdir(d)
    s = tempfile.mkdtemp(prefix="wt-follow-spool-", dir=shm)
    try:
        fl = Follower(t.reader, "--spool", s, d)
        time.sleep(0.3)
        commits = write(t.mklog, d, 1500, "spool=%s,pace=1" % s)  # 5 segments, archived
        check(fl.wait_for(1500), "spool: 1500 records arrive (%d)" % len(fl.lines))
        commits.update(write(t.mklog, d, 200, "spool=%s,pace=1,crash" % s))
        check(fl.wait_for(1700), "spool: a killed writer's records arrive (%d)" % len(fl.lines))
        commits.update(write(t.mklog, d, 30, "spool=%s" % s))  # recovers, archives
        check(fl.wait_for(1730), "spool: after the recovery (%d)" % len(fl.lines))
        time.sleep(0.3)
        rc = fl.stop(signal.SIGINT)
        check(rc == 0, "spool: SIGINT: exit 0 (%d)" % rc)
        check(fl.seqs() == list(range(1730)), "spool: seq 0..1729 once each, in order")
        check(fl.stderr() == "", "spool: nothing on stderr: %r" % fl.stderr())
        check(len(os.listdir(s)) == 0 and len([n for n in os.listdir(d) if n.endswith(".wts")])
              >= 6, "spool: everything was archived meanwhile")
        report("spool", latencies(fl, commits))
    finally:
        shutil.rmtree(s, ignore_errors=True)


def auto_spool(d):
    """The monitor's automatic spool for d (docs/READER.md): on the first
    hugetlbfs mount, "wiretally-" + FNV-1a 64 of d's real path in hex."""
    with open("/proc/mounts") as f:
        mounts = [l.split()[1] for l in f if l.split()[2] == "hugetlbfs"]
    if not mounts:
        return None
    h = 0xcbf29ce484222325
    for b in os.path.realpath(d).encode():
        h = ((h ^ b) * 0x100000001b3) % 2**64
    return "%s/wiretally-%016x" % (mounts[0], h)


def case_auto_spool(t, tmp):
    """--follow without --spool follows the monitor's automatic spool, which
    appears after the follower started."""
    d = os.path.join(tmp, "auto")
    os.mkdir(d)
    s = auto_spool(d)
    try:
        with open("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") as f:
            free = int(f.read())
    except OSError:
        free = 0
    if s is None or free < 8:
        print("SKIPPED case auto spool: no hugetlbfs mounted or fewer than 8 free 2 MiB pages "
              "(--follow with the automatic spool NOT tested)", file=sys.stderr)
        return
    fl = Follower(t.reader, d)
    try:
        time.sleep(0.3)
        os.mkdir(s)
        commits = write(t.mklog, d, 300, "spool=%s,pace=2,crash" % s, seg=2 << 20)
        check(fl.wait_for(300), "auto spool: records of the open segment in the spool (%d)"
              % len(fl.lines))
        check(not any(n.startswith("seg-") for n in os.listdir(d)),
              "auto spool: nothing archived yet: they came from the spool")
        write(t.mklog, d, 0, "spool=%s" % s, seg=2 << 20)  # recovers and archives
        rc = fl.stop()
        check(rc == 0 and fl.seqs() == list(range(300)), "auto spool: seq 0..299 once each")
        report("auto spool", latencies(fl, commits))
    finally:
        shutil.rmtree(s, ignore_errors=True)


def case_filters(t, d):
    """An existing log, filtered, then stopped while idle."""
    fl = Follower(t.reader, "--proto", "udp", "--port", "1026", "--port", "1031", d)
    time.sleep(1)
    rc = fl.stop(signal.SIGINT)
    # make_rec(i): udp when i % 3 == 2, ports 1024 + i
    want = [i for i in range(750) if i % 3 == 2 and 1024 + i in (1026, 1031)]
    check(rc == 0 and fl.seqs() == want, "filters: %s, expected %s" % (fl.seqs(), want))
    fl = Follower(t.reader, "--format", "json", d)
    check(fl.wait_for(750), "json: the whole log")
    rc = fl.stop()
    check(rc == 0 and fl.lines[0][1].startswith('{"seq":0,'), "json: one object per line")
    fl = Follower(t.reader, "--stats", d)
    time.sleep(1)
    rc = fl.stop()
    check(rc == 0 and [l for _, l in fl.lines][:2] == [
        "# stats: %s offset %d" % (os.path.join(d, "seg-%020d.wts" % 3), 256 + 182 * 312),
        "rx_packets=12345"], "--follow --stats: %s" % fl.lines[:2])


def all_cases(t, tmp):
    d = case_direct(t, tmp)
    case_spool(t, tmp)
    case_auto_spool(t, tmp)
    case_filters(t, d)


if __name__ == "__main__":
    sys.exit(rlib.run_tests("wt-follow-", all_cases, check))
