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
HDR = 256             # header size, version 1.x
SPAN = 312            # bytes per record frame (record version 2)
SEG = 29 * 4096       # segment size: P records each, so 1000 records are 3 segments
P = (SEG - HDR) // SPAN        # 379
R3 = 1000 - 2 * P              # records in the third segment (242)
CSV_HEADER = ("seq,start_ns,end_ns,proto,a_addr,a_port,b_addr,b_port,origin,vlan,"
              "a_mac,a_pkts,a_bytes,a_ip_bytes,a_flags,a_first_seq,a_last_seq,"
              "b_mac,b_pkts,b_bytes,b_ip_bytes,b_flags,b_first_seq,b_last_seq,end_reason,"
              "call_id,"
              "a_seq_bytes,a_acked_bytes,a_retx_bytes,a_missed_bytes,"
              "b_seq_bytes,b_acked_bytes,b_retx_bytes,b_missed_bytes,"
              "tunnel,tunnel_id,outer_a_addr,outer_b_addr")
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
    check(all(len(l.split(",")) == 38 for l in lines), "good log: 38 columns everywhere")
    # record 1 of make_rec(): tcp, 10.0.0.1:1025 <-> 192.168.0.1:443, origin a, active,
    # with its version 2 figures, inside Geneve and VXLAN
    check(lines[2] == "1,1700000000000001000,1700000000000001501,tcp,10.0.0.1,1025,"
          "192.168.0.1,443,a,,02:00:00:00:00:0a,4,100,220,FSPA,7,107,"
          "02:00:00:00:00:0b,3,50,130,FSA,11,61,active,11223344556677880100000000000001,"
          "101,100,1,2,50,50,0,0,geneve/vxlan,1/5000,198.51.100.1,198.51.100.2",
          "good log: record 1 rendered: %r" % lines[2])
    # record 2 is UDP: the TCP columns empty; record 3 TCP, no tunnel
    check(lines[3].endswith(",,,,,,,,,,,,") and lines[4].endswith(",303,300,3,6,150,150,0,0,,,,"),
          "good log: records 2 and 3 rendered: %r" % lines[3:5])

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
          % (seg(d, 3), HDR + R3 * SPAN), "--stats output: %r" % out)

    rc, out, err = run("--check", d)
    check(rc == 0 and err == "", "--check good: exit 0, quiet stderr")
    check(out == "check: status=ok segments=3 records=1000 first_seq=0 last_seq=999 "
          "stats_frames=1 problems=0 errors=0 typed_records=0\n", "--check summary: %r" % out)

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
    check(seqs_of(out) == list(range(P)) + list(range(2 * P, 1000)),
          "bad header: segments 1 and 3 printed")
    pl = problem_lines(err)
    check(len(pl) == 2, "bad header: two problem lines: %r" % pl)
    check(pl and pl[0].startswith("wiretally-read: %s: offset 0: segment header corrupt (CRC "
                                  % seg(d, 2)), "bad header line: %r" % pl[:1])
    check(len(pl) > 1 and pl[1] == "wiretally-read: %s: offset 256: seq gap: expected %d, "
          "found %d (%d records missing)" % (seg(d, 3), P, 2 * P, P), "seq gap line: %r" % pl[1:])
    check(err.splitlines()[-1] == "wiretally-read: 2 data problem(s), 0 read error(s)",
          "closing summary on stderr")

    # torn last record: its commit word zeroed in a sealed segment; the
    # reader steps over it to the stats frame that follows
    d = damaged(tmp, good, "torn")
    last = HDR + (R3 - 1) * SPAN
    poke(seg(d, 3), last, b"\0\0\0\0")
    rc, out, err = run(d)
    check(rc == 2, "torn last: exit 2 (got %d)" % rc)
    check(seqs_of(out) == list(range(999)), "torn last: records 0..998 printed")
    check(problem_lines(err) == ["wiretally-read: %s: offset %d: zero frame word before the "
                                 "sealed end offset %d; %d bytes skipped to the next good "
                                 "frame at offset %d" % (seg(d, 3), last, last + SPAN + 48,
                                                         SPAN, last + SPAN)],
          "torn last line: %r" % err)
    rc, out, err = run("--stats", d)
    check(rc == 2 and "rx_packets=12345" in out, "torn last: stats frame still read")
    # same, and the stats frame zeroed too: the seal tells
    poke(seg(d, 3), last + SPAN, b"\0\0\0\0")
    rc, out, err = run(d)
    check(rc == 2 and seqs_of(out) == list(range(999)), "torn tail: exit 2, 999 records")
    pl = problem_lines(err)
    check(len(pl) == 1 and pl[0].startswith("wiretally-read: %s: offset %d: sealed segment: "
                                            "header says %d frames, %d records"
                                            % (seg(d, 3), last, R3 + 1, R3)),
          "torn tail line: %r" % pl)

    # torn last record: payload damaged
    d = damaged(tmp, good, "tornpayload")
    flip(seg(d, 3), HDR + (R3 - 1) * SPAN + 8 + 50)
    rc, out, err = run(d)
    check(rc == 2 and seqs_of(out) == list(range(999)), "damaged last payload: exit 2, 999")
    check(problem_lines(err) == ["wiretally-read: %s: offset %d: frame CRC mismatch (type 1, "
                                 "length 304); frame skipped" % (seg(d, 3), HDR + (R3 - 1) * SPAN)],
          "damaged last payload line: %r" % err)

    # bad CRC in the middle: that frame alone is skipped
    d = damaged(tmp, good, "midcrc")
    flip(seg(d, 2), HDR + 10 * SPAN + 8 + 3)
    rc, out, err = run(d)
    check(rc == 2, "mid CRC: exit 2")
    check(seqs_of(out) == [s for s in range(1000) if s != P + 10], "mid CRC: all but that seq")
    check(len(problem_lines(err)) == 2 and
          "seq gap: expected %d, found %d" % (P + 10, P + 11) in err,
          "mid CRC: CRC and gap lines: %r" % err)

    # a deleted middle segment
    d = damaged(tmp, good, "gap")
    os.unlink(seg(d, 2))
    rc, out, err = run("--check", d)
    check(rc == 2, "deleted segment: exit 2")
    check(out == "check: status=problems segments=2 records=%d first_seq=0 last_seq=999 "
          "stats_frames=1 problems=2 errors=0 typed_records=0\n" % (1000 - P),
          "deleted segment summary: %r" % out)
    check("seq gap: expected %d, found %d (%d records missing)" % (P, 2 * P, P) in err,
          "deleted segment: gap reported")
    rc, out, err = run("--check", "--quiet", d)
    check(rc == 2 and err == "", "--quiet: exit 2 and silent stderr: %r" % err)

    # a newer major version: cannot read, exit 1; the rest is printed
    d = damaged(tmp, good, "v2")
    poke(seg(d, 2), 8, struct.pack("<H", 2))
    rc, out, err = run(d)
    check(rc == 1, "newer version: exit 1 (got %d)" % rc)
    check("wiretally-read: %s: offset 0: segment format version 2.2 not supported "
          "(this reader reads 1.x)" % seg(d, 2) in err, "newer version message: %r" % err)
    check(len(seqs_of(out)) == 1000 - P, "newer version: the other segments printed")


def crc32c(data):
    crc = 0xFFFFFFFF
    for x in data:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def v1_segment(path, records, segsize=SEG):
    """A sealed segment of format version 1.0 with 168-byte records, written
    here from docs/FORMAT.md alone (sections 2, 3, 5.1), as a monitor built
    before record version 2 wrote it."""
    frames = b""
    for r in records:
        payload = struct.pack("<QQQQQ16s16sHHHBBBBBBB6s6s5x2x", r["seq"], 0x1111, r["seq"],
                              r["start"], r["start"] + 500, bytes([10, 0, 0, 2]) + bytes(12),
                              bytes([10, 0, 0, 1]) + bytes(12), 80, 40000 + r["seq"], 0, 6, 4,
                              2, 1, 0x1b, 0x13, 3, bytes([2, 0, 0, 0, 0, 2]),
                              bytes([2, 0, 0, 0, 0, 1]))
        payload += struct.pack("<QQQII", 5, 1000, 1200, 100, 1101)
        payload += struct.pack("<QQQII", 4, 77, 237, 4000000000, 4000000078)
        assert len(payload) == 168
        word = struct.pack("<I", 0x80000000 | 1 << 24 | len(payload))
        frames += word + struct.pack("<I", crc32c(word + payload)) + payload
    create = bytearray(128)
    struct.pack_into("<8sHHIIIQQQQQ", create, 0, b"WTSEGLOG", 1, 0, 256, 0, 0, segsize, 1,
                     0x1111, 1700000000000000000, records[0]["seq"])
    struct.pack_into("<I", create, 16, crc32c(bytes(create)))
    seal = bytearray(64)
    struct.pack_into("<IIQQQQQ", seal, 0, 1, 0, len(records), records[-1]["seq"],
                     256 + len(frames), len(records), 1700000000000000001)
    struct.pack_into("<I", seal, 4, crc32c(bytes(seal)))
    with open(path, "wb") as f:
        f.write(bytes(create) + bytes(seal) + bytes(64) + frames)
        f.truncate(segsize)


def case_v1_log(tmp):
    """A log of format 1.0 (record version 1) is read as before; the twelve
    columns of record version 2 are empty."""
    d = os.path.join(tmp, "v1")
    os.mkdir(d)
    v1_segment(seg(d, 1), [dict(seq=i, start=1700000000000000000 + i) for i in range(3)])
    rc, out, err = run(d)
    check(rc == 0 and err == "", "version 1.0 log: exit 0, quiet: %d %r" % (rc, err))
    lines = out.splitlines()
    check(len(lines) == 4 and lines[0] == CSV_HEADER, "version 1.0 log: header and 3 records")
    check(len(lines) > 1 and lines[1] ==
          "0,1700000000000000000,1700000000000000500,tcp,10.0.0.2,80,10.0.0.1,40000,b,,"
          "02:00:00:00:00:02,5,1000,1200,FSPA,100,1101,02:00:00:00:00:01,4,77,237,FSA,"
          "4000000000,4000000078,idle,00000000000011110000000000000000,,,,,,,,,,,,",
          "version 1.0 record: the new columns empty: %r" % lines[1:2])
    rc, out, err = run("--format", "json", d)
    check(rc == 0 and '"a_seq_bytes":null' in out and '"tunnel":null' in out,
          "version 1.0 record as JSON: nulls")
    rc, out, err = run("--check", d)
    check(rc == 0 and out.startswith("check: status=ok segments=1 records=3 "),
          "version 1.0 log: --check ok: %r %r" % (out, err))
    # a monitor of version 2 continues the log: both kinds in one log
    mklog(d, 2)
    rc, out, err = run(d)
    recs = out.splitlines()[1:]
    check(rc == 0 and len(recs) == 5 and recs[2].endswith(",,,,,,,,,,,,") and
          recs[3].endswith(",303,300,3,6,150,150,0,0,,,,") and
          recs[4].endswith(",404,400,4,8,200,200,0,0,,,,") and
          [int(l.split(",")[0]) for l in recs] == list(range(5)),
          "version 1.0 then 1.2 segments: seq 0..4, old records without, new with the "
          "version 2 columns: %r %r" % (recs, err))


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
          "last_seq=599 stats_frames=0 problems=0 errors=0 typed_records=0\n",
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
                   "stats_frames=0 problems=0 errors=0 typed_records=0\n")
        rc, out, err = run("--check", d)
        check(rc == 0 and out == summary, "after the restart: %r %r" % (out, err))
        rc, out, _ = run(d)

        # Killed after the archive's rename, before the spool copy was
        # deleted: every segment in both. Read once each.
        for name in os.listdir(d):
            if name.startswith("seg-"):
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
        case_v1_log(tmp)
        case_crash(tmp)
        case_spool(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
