# SPDX-License-Identifier: BSD-3-Clause
# rlib.py: shared helpers of the reader tests: run wiretally-read, write logs with wt_mklog, records as dicts.
"""Records are dicts keyed by the CSV columns of DESIGN.md section 3 (values
as in the CSV: strings). wt_mklog csv=FILE turns such rows into a log, so a
test states its records in Python, independently of the reader, and checks
what wiretally-read prints against its own computation."""
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile

CSV_HEADER = ("seq,start_ns,end_ns,proto,a_addr,a_port,b_addr,b_port,origin,vlan,"
              "a_mac,a_pkts,a_bytes,a_ip_bytes,a_flags,a_first_seq,a_last_seq,"
              "b_mac,b_pkts,b_bytes,b_ip_bytes,b_flags,b_first_seq,b_last_seq,end_reason,"
              "call_id,"
              "a_seq_bytes,a_acked_bytes,a_retx_bytes,a_missed_bytes,"
              "b_seq_bytes,b_acked_bytes,b_retx_bytes,b_missed_bytes,"
              "tunnel,tunnel_id,outer_a_addr,outer_b_addr")
COLUMNS = CSV_HEADER.split(",")
FLAG_ORDER = "FSRPAUEC"


class Checker:
    def __init__(self):
        self.checks = 0
        self.failures = 0

    def __call__(self, cond, what):
        self.checks += 1
        if not cond:
            self.failures += 1
            print("FAIL:", what, file=sys.stderr)
        return cond

    def done(self):
        print("%d checks, %d failed" % (self.checks, self.failures))
        return 1 if self.failures else 0


class Tools:
    def __init__(self, reader, mklog):
        self.reader, self.mklog = reader, mklog

    def run(self, *args, timeout=120):
        p = subprocess.run([self.reader, *args], capture_output=True, text=True,
                           timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def write(self, d, rows, seg=65536, mode=None):
        """A log in the new directory d with the records rows (seq assigned 0..)."""
        os.makedirs(d, exist_ok=True)
        path = d.rstrip("/") + ".input.csv"
        # two columns no CSV shows, for the stitching tests: the first byte
        # of a's and b's TCP stream (record version 2's tcp_base)
        cols = COLUMNS + (["a_tcp_base", "b_tcp_base"] if any("a_tcp_base" in r for r in rows)
                          else [])
        with open(path, "w") as f:
            f.write(",".join(cols) + "\n")
            for r in rows:
                f.write(",".join(str(r.get(c, "")) for c in cols) + "\n")
        modes = "csv=" + path + ("," + mode if mode else "")
        subprocess.run([self.mklog, d, "0", str(seg), modes], check=True)


def parse_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def flags_str(bits):
    return "".join(FLAG_ORDER[i] for i in range(8) if bits & (1 << i))


def flags_bits(s):
    return sum(1 << FLAG_ORDER.index(c) for c in set(s))


def rec(**kw):
    """A record with defaults for every column (a TCP call, both sides)."""
    r = dict(seq=0, start_ns=1700000000000000000, end_ns=1700000001000000000, proto="tcp",
             a_addr="10.0.0.2", a_port=80, b_addr="10.0.0.1", b_port=40000, origin="b",
             vlan="", a_mac="02:00:00:00:00:02", a_pkts=1, a_bytes=0, a_ip_bytes=40,
             a_flags="", a_first_seq="", a_last_seq="", b_mac="02:00:00:00:00:01",
             b_pkts=1, b_bytes=0, b_ip_bytes=40, b_flags="", b_first_seq="",
             b_last_seq="", end_reason="idle", call_id="%032x" % 1)
    r.update(dict.fromkeys(COLUMNS[26:], ""))  # record version 2: none by default
    r.update(kw)
    return {k: str(v) for k, v in r.items()}


def run_tests(prefix, body, check):
    """Call body(Tools(argv[1], argv[2]), tmpdir), remove tmpdir, return the exit code."""
    t = Tools(sys.argv[1], sys.argv[2])
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        body(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return check.done()
