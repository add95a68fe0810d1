#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run_pktpath.sh: the packet-path benchmark (wt_calltab and the rte_hash peer) as a markdown table.
set -eu

usage() {
	cat <<EOF
usage: benchmarks/run_pktpath.sh [BUILD_DIR] [--pkts N] [--conns "1000 100000 1000000"]

For each connection count, runs bench_pktpath with the wiretally table and
with the rte_hash peer (same frames, same parse and key code, in one run,
one after the other), then counts instructions per packet of the hit path
with valgrind --tool=callgrind (repeatable; 2M packets over the same
connections). Prints a markdown table for docs/PERFORMANCE.md. Mpps are
best-of-3 (the machines are shared); compare ratios within one run.
EOF
}

build=build
pkts=30000000
conns="1000 100000 1000000"
while [ $# -gt 0 ]; do
	case $1 in
	-h | --help) usage; exit 0 ;;
	--pkts) pkts=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	*) build=$1; shift ;;
	esac
done
cd "$(dirname "$0")/.."
bench=$build/benchmarks/bench_pktpath
[ -x "$bench" ] || { echo "run_pktpath.sh: $bench not built (ninja -C $build)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "run_pktpath.sh: valgrind not installed" >&2; exit 1; }

field() { # field NAME LINE
	echo "$2" | tr ' ' '\n' | sed -n "s|^$1=||p"
}

best() { # best TABLE CONNS: the run with the highest Mpps of three
	b=""
	for _ in 1 2 3; do
		l=$("$bench" --table "$1" --conns "$2" --pkts "$pkts" 2>/dev/null | tail -n 1)
		if [ -z "$b" ] || awk -v x="$(field Mpps "$l")" -v y="$(field Mpps "$b")" 'BEGIN{exit !(x>y)}'; then
			b=$l
		fi
	done
	echo "$b"
}

instr() { # instr TABLE CONNS: instructions per packet of bench_timed
	tmp=$(mktemp)
	valgrind --tool=callgrind --collect-atstart=no --toggle-collect=bench_timed \
		--callgrind-out-file="$tmp" "$bench" --table "$1" --conns "$2" --pkts 2000000 \
		--frames 1000000 >/dev/null 2>&1
	total=$(callgrind_annotate "$tmp" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
	rm -f "$tmp"
	echo "$total" | awk '{printf "%.0f", $1 / 2000000}'
}

echo "| table | connections | Mpps | ns/pkt | TSC cycles/pkt | instructions/pkt | bytes/record |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for c in $conns; do
	for t in wt rte_hash; do
		l=$(best "$t" "$c")
		i=$(instr "$t" "$c")
		echo "| $t | $c | $(field Mpps "$l") | $(field ns/pkt "$l") | $(field tsc_cycles/pkt "$l") | $i | $(field bytes/record "$l") |"
	done
done
echo
echo "($(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $pkts packets per run)"
