# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the e2e test scripts made of named checks: ok/FAIL lines, parts
skipped with a reason, and a main that runs the parts in a temporary
directory and prints the tally."""
import os
import tempfile

FAILS = []
SKIPS = []


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        FAILS.append(what)


def run_parts(doc, argv, n_args, prefix, parts):
    """argv = [script, n_args paths]; each part is called with the absolute
    paths and a temporary directory. Returns the exit status: 0 all passed,
    1 a check failed, 2 usage."""
    if len(argv) != n_args + 1:
        print(doc)
        return 2
    paths = [os.path.abspath(a) for a in argv[1:]]
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        for part in parts:
            part(*paths, tmp)
    for s in SKIPS:
        print('*** SKIPPED part: %s ***' % s)
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0
