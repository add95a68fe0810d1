# SPDX-License-Identifier: BSD-3-Clause
"""Shared by the tests that build network namespaces (tests/e2e, tests/agent)."""
import os
import signal
import subprocess


def netns_delete(names):
    """Kill every process left in each namespace, then delete it."""
    for ns in names:
        pids = subprocess.run(['ip', 'netns', 'pids', ns], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(['ip', 'netns', 'del', ns], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
