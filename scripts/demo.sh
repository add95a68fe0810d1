#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh: set everything up, build, run the monitor on the shipped sample capture, print its call records.
set -eu

usage() {
	cat <<EOF
usage: scripts/demo.sh [--no-setup] [--format csv|json] [CAPTURE]

Runs scripts/setup.sh (Debian packages, hugepages when possible), builds
build/ with meson and ninja, runs the monitor on CAPTURE (default: the
shipped samples/http-nginx-curl.pcap, real nginx/curl traffic) into a fresh
log directory, and prints the call records with wiretally-read. The
monitor's start-up lines and exit summary go to stderr.
EOF
}

setup=1
format=csv
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--no-setup) setup=0; shift ;;
	--format) format=${2:?--format needs csv or json}; shift 2 ;;
	-*) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done

cd "$(dirname "$0")/.."
capture=${1:-samples/http-nginx-curl.pcap}
[ -r "$capture" ] || { echo "demo.sh: cannot read capture $capture" >&2; exit 1; }
if [ "$setup" = 1 ]; then
	scripts/setup.sh >&2
fi
if [ -f build/build.ninja ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
ninja -C build >/dev/null

out=$(mktemp -d /tmp/wiretally-demo.XXXXXX)
echo "demo.sh: wiretally --pcap $capture -o $out" >&2
build/app/wiretally/wiretally --pcap "$capture" -o "$out"
echo "demo.sh: wiretally-read --format $format $out" >&2
build/app/wiretally-read/wiretally-read --format "$format" "$out"
echo "demo.sh: the log stays in $out" >&2
