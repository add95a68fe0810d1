# SPDX-License-Identifier: BSD-3-Clause
# agent_util.py: what the agent tests share: starting the agent, ending a test.
"""arguments() takes the command line, start_agent() runs wiretally-agent and waits for its start-up line;
finish() keeps the files of a failed test, prints the tally and gives
the exit status."""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                'e2e'))
from wtcheck import FAILS, check  # noqa: E402

SKIP = 77


def arguments(doc, name):
    """(WIRETALLY_AGENT, WIRETALLY_REPORT) from the command line, or the
    exit status: 2 (usage, @doc printed), 77 (not root)."""
    if len(sys.argv) != 3:
        print(doc, file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print('SKIP %s: needs root (uid %d)' % (name, os.geteuid()))
        return SKIP
    return sys.argv[1], sys.argv[2]


def start_agent(agent, args, errf, name):
    """Start `agent args`, its stderr into @errf, and wait (10 s at most)
    until it traces. Returns (process, None), or (None, exit status): 77
    when the machine cannot trace (the agent's exit 3, its line printed as
    the skip reason), 1 when it failed otherwise."""
    ag = subprocess.Popen([agent] + args, stdout=subprocess.DEVNULL, stderr=errf)
    text = ''
    for _ in range(100):
        errf.seek(0)
        text = errf.read()
        if 'tracing' in text or ag.poll() is not None:
            break
        time.sleep(0.1)
    if ag.poll() is None:
        return ag, None
    if ag.returncode == 3:  # preflight: root, BTF, tracefs, tracepoints
        print('SKIP %s: %s' % (name, text.strip()))
        return None, SKIP
    check(False, 'the agent starts (%s)' % text.strip())
    return None, 1


def finish(tmp):
    """Remove @tmp unless a check failed; the tally; the exit status."""
    if FAILS:
        print('files kept in %s' % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % len(FAILS))
    return 1 if FAILS else 0
