#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# test.sh: the project's test command: setup, configure and build build/, run every meson test suite, print the tally.
set -eu

usage() {
	cat <<EOF
usage: scripts/test.sh [--no-setup] [MESON TEST ARGS...]

Runs scripts/setup.sh, configures build/ (meson setup, or --reconfigure when
it exists), builds, then runs 'meson test -C build --print-errorlogs' over
every suite (unit, eal, e2e, corpus, live; extra arguments go to meson test,
e.g. --suite e2e). Skipped tests (exit 77) are listed with their reason. The
last line is 'N passed, N failed' (', N skipped' when any were).
Exit status: 0 when nothing failed, 1 otherwise.

  --no-setup   do not run scripts/setup.sh
  env WT_TIMEOUT_MULTIPLIER (default 3), WT_MESON_OPTIONS (for meson setup)
EOF
}

setup=1
case ${1:-} in
-h | --help) usage; exit 0 ;;
--no-setup) setup=0; shift ;;
esac

cd "$(dirname "$0")/.."
root=$(pwd)
log=build/meson-logs/testlog.json

tally() {
	# Skipped tests with the last line they printed, then the count line.
	python3 - "$log" <<'EOF'
import json, sys
counts = {'passed': 0, 'failed': 0, 'skipped': 0}
skipped, failed = [], []
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        t = json.loads(line)
        r = t['result']
        if r in ('OK', 'EXPECTEDFAIL'):
            counts['passed'] += 1
        elif r == 'SKIP':
            counts['skipped'] += 1
            out = (t.get('stdout') or '') + (t.get('stderr') or '')
            lines = [l for l in out.splitlines() if l.strip()]
            skipped.append('%s: %s' % (t['name'], lines[-1] if lines else '(no reason printed)'))
        else:
            counts['failed'] += 1
            failed.append('%s: %s' % (t['name'], r))
if failed:
    print('FAILED tests:')
    print('\n'.join('  ' + s for s in failed))
if skipped:
    print('SKIPPED tests (%d):' % len(skipped))
    print('\n'.join('  ' + s for s in skipped))
line = '%d passed, %d failed' % (counts['passed'], counts['failed'])
if counts['skipped']:
    line += ', %d skipped' % counts['skipped']
print(line)
sys.exit(1 if counts['failed'] or not sum(counts.values()) else 0)
EOF
}

fail_before_tests() {
	echo "test.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

if [ "$setup" = 1 ]; then
	"$root/scripts/setup.sh" || fail_before_tests "scripts/setup.sh failed"
fi
reconf=
[ ! -f build/meson-private/coredata.dat ] || reconf=--reconfigure
# shellcheck disable=SC2086
meson setup $reconf ${WT_MESON_OPTIONS:-} build ||
	fail_before_tests "meson setup $reconf build failed"
ninja -C build || fail_before_tests "the build failed"

rm -f "$log"
rc=0
meson test -C build --print-errorlogs --timeout-multiplier "${WT_TIMEOUT_MULTIPLIER:-3}" "$@" || rc=$?
[ -f "$log" ] || fail_before_tests "meson test wrote no $log (exit $rc)"
tally
