#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# test_cli.py: wiretally-read's output, messages and exit codes on good, damaged and wrong input.
"""Usage: test_cli.py WIRETALLY_READ WT_MKLOG

Every case builds its log with wt_mklog (records make_rec(seq), see
tests/unit/seglog_testutil.h), maybe damages it at documented offsets
(docs/FORMAT.md), runs wiretally-read and checks exit code, stdout and
stderr exactly where they are specified.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

READ, MKLOG = sys.argv[1], sys.argv[2]
SEG = 65536           # minimum segment size: 370 records each
HDR = 256             # header size, version 1.0
SPAN = 176            # bytes per record frame
CSV_HEADER = ("seq,start_ns,end_ns,proto,a_addr,a_port,b_addr,b_port,origin,vlan,"
              "a_mac,a_pkts,a_bytes,a_ip_bytes,a_flags,a_first_seq,a_last_seq,"
              "b_mac,b_pkts,b_bytes,b_ip_bytes,b_flags,b_first_seq,b_last_seq,end_reason,"
              "call_id")
KEYS = CSV_HEADER.split(",")

failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(*args):
    p = subprocess.run([READ, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def mklog(d, n, mode=None, seg=SEG):
    args = [MKLOG, d, str(n), str(seg)] + ([mode] if mode else [])
    subprocess.run(args, check=True)


def seg(d, no):
    return os.path.join(d, "seg-%020d.wts" % no)


def poke(path, off, data):
    with open(path, "r+b") as f:
        f.seek(off)
        f.write(data)


def flip(path, off):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)[0] ^ 0x10
        f.seek(off)
        f.write(bytes([b]))


def seqs_of(csv_out, header=True):
    lines = csv_out.splitlines()
    if header:
        check(lines and lines[0] == CSV_HEADER, "CSV header line")
        lines = lines[1:]
    return [int(l.split(",", 1)[0]) for l in lines]


def problem_lines(err):
    """Problem lines, without the closing summary line."""
    return [l for l in err.splitlines() if "offset" in l]


def case_good(tmp):
    d = os.path.join(tmp, "good")
    os.mkdir(d)
    mklog(d, 1000, "stats")
    rc, out, err = run(d)
    check(rc == 0, "good log: exit 0 (got %d)" % rc)
    check(err == "", "good log: nothing on stderr: %r" % err)
    lines = out.splitlines()
    check(len(lines) == 1001, "good log: header + 1000 lines (got %d)" % len(lines))
    check(seqs_of(out) == list(range(1000)), "good log: seq 0..999 in order")
    check(all(len(l.split(",")) == 26 for l in lines), "good log: 26 columns everywhere")
    # record 1 of make_rec(): tcp, 10.0.0.1:1025 <-> 192.168.0.1:443, origin a, active
    check(lines[2] == "1,1700000000000001000,1700000000000001501,tcp,10.0.0.1,1025,"
          "192.168.0.1,443,a,,02:00:00:00:00:0a,4,100,220,FSPA,7,107,"
          "02:00:00:00:00:0b,3,50,130,FSA,11,61,active,11223344556677880100000000000001",
          "good log: record 1 rendered: %r" % lines[2])

    rc, out2, _ = run("--no-header", d)
    check(rc == 0 and out2 == "\n".join(lines[1:]) + "\n", "--no-header drops only the header")

    rc, out, err = run("--format", "json", d)
    check(rc == 0, "json: exit 0")
    objs = [json.loads(l) for l in out.splitlines()]
    check(len(objs) == 1000, "json: 1000 lines")
    check(all(list(o.keys()) == KEYS for o in objs), "json: DESIGN.md keys in order")
    check([o["seq"] for o in objs] == list(range(1000)), "json: seq 0..999")
    check(objs[2]["proto"] == "udp" and objs[2]["a_flags"] is None, "json: udp record 2")

    rc, out, err = run("--stats", d)
    check(rc == 0, "--stats: exit 0")
    check(out == "# stats: %s offset %d\nrx_packets=12345\nnot_ip=7\nrecords=42\n"
          % (seg(d, 3), HDR + 260 * SPAN), "--stats output: %r" % out)

    rc, out, err = run("--check", d)
    check(rc == 0 and err == "", "--check good: exit 0, quiet stderr")
    check(out == "check: status=ok segments=3 records=1000 first_seq=0 last_seq=999 "
          "stats_frames=1 problems=0 errors=0\n", "--check summary: %r" % out)

    # files one by one, in order = the directory
    rc, out3, _ = run(seg(d, 1), seg(d, 2), seg(d, 3))
    check(rc == 0 and seqs_of(out3) == list(range(1000)), "files in order: exit 0, same records")
    # out of order: duplicates and numbering reported, records still printed
    rc, out3, err = run("-c", seg(d, 2), seg(d, 1))
    check(rc == 2, "files out of order: exit 2 (got %d)" % rc)
    check("segment number 1 follows segment 2" in err, "files out of order: segno reported")
    return d


def case_usage(tmp, good):
    rc, out, err = run("--bogus", good)
    check(rc == 1 and out == "", "unknown option: exit 1, no output")
    check(err == "wiretally-read: unknown option '--bogus' (see --help)\n",
          "unknown option message: %r" % err)
    rc, out, err = run("-x", good)
    check(rc == 1 and err == "wiretally-read: unknown option '-x' (see --help)\n",
          "unknown short option: %r" % err)
    rc, out, err = run("--format", "xml", good)
    check(rc == 1 and err == "wiretally-read: unknown format 'xml' (csv, json or ipfix)\n",
          "bad format: %r" % err)
    rc, out, err = run("--format")
    check(rc == 1 and err == "wiretally-read: option '--format' needs an argument (see --help)\n",
          "missing option argument: %r" % err)
    rc, out, err = run()
    check(rc == 1 and err == "wiretally-read: no DIR or FILE given (see --help)\n",
          "no argument: %r" % err)

    missing = os.path.join(tmp, "nonexistent")
    rc, out, err = run(missing)
    check(rc == 1 and out == "", "missing dir: exit 1, no output")
    check(err == "wiretally-read: %s: cannot access: No such file or directory\n" % missing,
          "missing dir message: %r" % err)

    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    with open(os.path.join(empty, "readme.txt"), "w") as f:
        f.write("not a segment\n")
    rc, out, err = run(empty)
    check(rc == 1 and out == "", "empty dir: exit 1, no output")
    check(err == "wiretally-read: %s: no segments found (no seg-*.wts files)\n" % empty,
          "empty dir message: %r" % err)

    txt = os.path.join(empty, "readme.txt")
    rc, out, err = run(good, txt)
    check(rc == 1 and out == "", "non-segment file: exit 1, nothing printed")
    check(err == "wiretally-read: %s: not a wiretally segment file (bad magic)\n" % txt,
          "non-segment file message: %r" % err)

    # a directory with a segment's name cannot be mapped: read error, exit 1
    d = os.path.join(tmp, "dirseg")
    shutil.copytree(good, d)
    os.mkdir(seg(d, 4))
    rc, out, err = run("--check", d)
    check(rc == 1, "unreadable segment: exit 1 (got %d)" % rc)
    check(("wiretally-read: %s: offset 0: cannot map: " % seg(d, 4)) in err,
          "unreadable segment message: %r" % err)
    check("records=1000 " in out, "unreadable segment: the others are still read")

    rc, out, err = run("--help")
    check(rc == 0 and err == "", "--help: exit 0")
    for word in ("--format csv|json", "--stats", "--no-header", "--check", "--quiet",
                 "--spool SPOOL", "Exit status", "docs/FORMAT.md"):
        check(word in out, "--help mentions %s" % word)


def damaged(tmp, good, name):
    d = os.path.join(tmp, name)
    shutil.copytree(good, d)
    return d


def case_damage(tmp, good):
    # corrupted header of the middle segment of three
    d = damaged(tmp, good, "badheader")
    flip(seg(d, 2), 40)
    rc, out, err = run(d)
    check(rc == 2, "bad header: exit 2 (got %d)" % rc)
    check(seqs_of(out) == list(range(370)) + list(range(740, 1000)),
          "bad header: segments 1 and 3 printed")
    pl = problem_lines(err)
    check(len(pl) == 2, "bad header: two problem lines: %r" % pl)
    check(pl and pl[0].startswith("wiretally-read: %s: offset 0: segment header corrupt (CRC "
                                  % seg(d, 2)), "bad header line: %r" % pl[:1])
    check(len(pl) > 1 and pl[1] == "wiretally-read: %s: offset 256: seq gap: expected 370, "
          "found 740 (370 records missing)" % seg(d, 3), "seq gap line: %r" % pl[1:])
    check(err.splitlines()[-1] == "wiretally-read: 2 data problem(s), 0 read error(s)",
          "closing summary on stderr")

    # torn last record: its commit word zeroed in a sealed segment; the
    # reader steps over it to the stats frame that follows
    d = damaged(tmp, good, "torn")
    last = HDR + 259 * SPAN
    poke(seg(d, 3), last, b"\0\0\0\0")
    rc, out, err = run(d)
    check(rc == 2, "torn last: exit 2 (got %d)" % rc)
    check(seqs_of(out) == list(range(999)), "torn last: records 0..998 printed")
    check(problem_lines(err) == ["wiretally-read: %s: offset %d: zero frame word before the "
                                 "sealed end offset %d; 176 bytes skipped to the next good "
                                 "frame at offset %d" % (seg(d, 3), last, last + SPAN + 48,
                                                         last + SPAN)],
          "torn last line: %r" % err)
    rc, out, err = run("--stats", d)
    check(rc == 2 and "rx_packets=12345" in out, "torn last: stats frame still read")
    # same, and the stats frame zeroed too: the seal tells
    poke(seg(d, 3), last + SPAN, b"\0\0\0\0")
    rc, out, err = run(d)
    check(rc == 2 and seqs_of(out) == list(range(999)), "torn tail: exit 2, 999 records")
    pl = problem_lines(err)
    check(len(pl) == 1 and pl[0].startswith("wiretally-read: %s: offset %d: sealed segment: "
                                            "header says 261 frames, 260 records"
                                            % (seg(d, 3), last)),
          "torn tail line: %r" % pl)

    # torn last record: payload damaged
    d = damaged(tmp, good, "tornpayload")
    flip(seg(d, 3), HDR + 259 * SPAN + 8 + 50)
    rc, out, err = run(d)
    check(rc == 2 and seqs_of(out) == list(range(999)), "damaged last payload: exit 2, 999")
    check(problem_lines(err) == ["wiretally-read: %s: offset %d: frame CRC mismatch (type 1, "
                                 "length 168); frame skipped" % (seg(d, 3), HDR + 259 * SPAN)],
          "damaged last payload line: %r" % err)

    # bad CRC in the middle: that frame alone is skipped
    d = damaged(tmp, good, "midcrc")
    flip(seg(d, 2), HDR + 10 * SPAN + 8 + 3)
    rc, out, err = run(d)
    check(rc == 2, "mid CRC: exit 2")
    check(seqs_of(out) == [s for s in range(1000) if s != 380], "mid CRC: all but seq 380")
    check(len(problem_lines(err)) == 2 and "seq gap: expected 380, found 381" in err,
          "mid CRC: CRC and gap lines: %r" % err)

    # a deleted middle segment
    d = damaged(tmp, good, "gap")
    os.unlink(seg(d, 2))
    rc, out, err = run("--check", d)
    check(rc == 2, "deleted segment: exit 2")
    check(out == "check: status=problems segments=2 records=630 first_seq=0 last_seq=999 "
          "stats_frames=1 problems=2 errors=0\n", "deleted segment summary: %r" % out)
    check("seq gap: expected 370, found 740 (370 records missing)" in err,
          "deleted segment: gap reported")
    rc, out, err = run("--check", "--quiet", d)
    check(rc == 2 and err == "", "--quiet: exit 2 and silent stderr: %r" % err)

    # a newer major version: cannot read, exit 1; the rest is printed
    d = damaged(tmp, good, "v2")
    poke(seg(d, 2), 8, struct.pack("<H", 2))
    rc, out, err = run(d)
    check(rc == 1, "newer version: exit 1 (got %d)" % rc)
    check("wiretally-read: %s: offset 0: segment format version 2.0 not supported "
          "(this reader reads 1.x)" % seg(d, 2) in err, "newer version message: %r" % err)
    check(len(seqs_of(out)) == 630, "newer version: the other segments printed")


def case_crash(tmp):
    d = os.path.join(tmp, "crash")
    os.mkdir(d)
    mklog(d, 500, "crash")           # last segment left unsealed
    rc, out, err = run(d)
    check(rc == 0 and err == "", "unsealed segment read without complaint: %r" % err)
    check(seqs_of(out) == list(range(500)), "unsealed: records 0..499")
    mklog(d, 100)                     # recovers segment 2, continues in 3
    with open(seg(d, 2), "rb") as f:
        f.seek(128)
        state = struct.unpack("<I", f.read(4))[0]
    check(state == 2, "segment 2 recovered (state %d)" % state)
    rc, out, err = run("--check", d)
    check(rc == 0 and out == "check: status=ok segments=3 records=600 first_seq=0 "
          "last_seq=599 stats_frames=0 problems=0 errors=0\n",
          "after recovery: %r %r" % (out, err))


def case_spool(tmp):
    """A monitor in spool mode killed: --spool reads spool + archive, each
    segment once; a restart archives the spool."""
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else tmp
    d = os.path.join(tmp, "archive")
    os.mkdir(d)
    s = tempfile.mkdtemp(prefix="wt-cli-spool-", dir=shm)
    try:
        mklog(d, 1000, "crash,spool=" + s)
        rc, out, err = run("--spool", s, d)
        check(rc == 0 and err == "", "spool + archive after a crash: exit 0, quiet: %r" % err)
        check(seqs_of(out) == list(range(1000)), "spool + archive: records 0..999 once each")

        # A restart archives everything once and empties the spool.
        mklog(d, 100, "spool=" + s)
        check(os.listdir(s) == [], "spool empty after the restart: %r" % os.listdir(s))
        summary = ("check: status=ok segments=4 records=1100 first_seq=0 last_seq=1099 "
                   "stats_frames=0 problems=0 errors=0\n")
        rc, out, err = run("--check", d)
        check(rc == 0 and out == summary, "after the restart: %r %r" % (out, err))
        rc, out, _ = run(d)

        # Killed after the archive's rename, before the spool copy was
        # deleted: every segment in both. Read once each.
        for name in os.listdir(d):
            shutil.copy(os.path.join(d, name), os.path.join(s, name))
        rc, out2, err = run("--spool", s, d)
        check(rc == 0 and err == "" and out2 == out,
              "segments in spool and archive: each read once, exit 0: %r" % err)
        # Without --spool the two directories are one log read twice.
        rc, _, err = run("--check", d, s)
        check(rc == 2 and "seq duplicate or out of order" in err,
              "spool given as a second DIR: duplicates, exit 2 (got %d)" % rc)
        # An empty archive directory is fine with a spool.
        empty = os.path.join(tmp, "empty-archive")
        os.mkdir(empty)
        rc, out3, _ = run("--spool", s, empty)
        check(rc == 0 and out3 == out, "spool alone (empty archive): same output")
        missing = os.path.join(tmp, "no-spool")
        rc, out4, err = run("--spool", missing, d)
        check(rc == 1 and out4 == "" and
              err == "wiretally-read: %s: cannot access: No such file or directory\n" % missing,
              "missing spool: exit 1, one line: %r" % err)
        rc, _, err = run("--spool", empty, empty)
        check(rc == 1 and err == "wiretally-read: %s: no segments found (no seg-*.wts files), "
              "nor in %s\n" % (empty, empty), "nothing anywhere: exit 1: %r" % err)
        # The next start drops the spool copies (already archived), adds nothing.
        mklog(d, 0, "spool=" + s)
        check(os.listdir(s) == [], "duplicates dropped from the spool: %r" % os.listdir(s))
        rc, out5, err = run("--check", d)
        check(rc == 0 and out5 == summary, "nothing archived twice: %r %r" % (out5, err))
    finally:
        shutil.rmtree(s, ignore_errors=True)


def main():
    tmp = tempfile.mkdtemp(prefix="wt-cli-")
    try:
        good = case_good(tmp)
        case_usage(tmp, good)
        case_damage(tmp, good)
        case_crash(tmp)
        case_spool(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
