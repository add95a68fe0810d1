#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh: fuzzing in the test command: a sanitized build, the unit and reader suites under it, every harness on its seeds and regressions, then fuzzed for a bounded time.
#
# usage: tests/fuzz/run.sh SOURCE_ROOT [SECONDS_PER_HARNESS]   (or $WT_FUZZ_SECONDS; default 45)
#
# 1. Configures SOURCE_ROOT/build-fuzz with clang, ASan + UBSan
#    (-fno-sanitize-recover), -fsanitize=fuzzer-no-link on everything (so
#    the libraries the harnesses link are instrumented) and -Dfuzz=true;
#    builds the harnesses and the unit and reader tests.
# 2. Runs the unit and reader suites in that build (suite 'eal' and the
#    hugepage tests aside): every test under the sanitizers once.
# 3. For each harness: its seed corpus (tests/fuzz/seeds/NAME) and its
#    regressions (tests/fuzz/regressions/NAME: every input that ever
#    crashed it) must pass; then it is fuzzed for SECONDS (default 45)
#    from the seeds. A new crashing input is copied into
#    tests/fuzz/regressions/NAME (commit it with the fix) and fails the run.
# Exit 0 all passed, 1 a failure, 77 no clang with libFuzzer here.
set -u
src=$(cd "${1:?usage: run.sh SOURCE_ROOT [SECONDS]}" && pwd)
secs=${2:-${WT_FUZZ_SECONDS:-45}}
bld=$src/build-fuzz
fz=$src/tests/fuzz

if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP fuzz: clang is not installed (scripts/setup.sh installs it)"
	exit 77
fi
probe=$(mktemp -d)
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' \
	>"$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null; then
	rm -rf "$probe"
	echo "SKIP fuzz: clang cannot build libFuzzer harnesses here (libclang-rt / compiler-rt missing)"
	exit 77
fi
rm -rf "$probe"

fail=0
say() { echo "fuzz: $*"; }

if [ ! -f "$bld/meson-private/coredata.dat" ]; then
	setup_log=$(mktemp)
	CC=clang meson setup "$bld" "$src" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=false \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer' \
		>"$setup_log" 2>&1 || { cat "$setup_log"; echo "FAIL fuzz: meson setup build-fuzz"; exit 1; }
	rm -f "$setup_log"
fi
harnesses="fuzz_parse fuzz_seglog fuzz_record fuzz_trace fuzz_ropts fuzz_opts"
if ! ninja -C "$bld" >"$bld/wt-build.log" 2>&1; then
	tail -40 "$bld/wt-build.log"
	echo "FAIL fuzz: the sanitized build failed"
	exit 1
fi

# 2. the unit and reader suites under ASan + UBSan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if meson test -C "$bld" --suite unit --suite reader --no-suite eal --print-errorlogs \
	--timeout-multiplier 4 >"$bld/wt-tests.log" 2>&1; then
	say "unit and reader suites pass under ASan + UBSan ($(grep -c ' OK ' "$bld/wt-tests.log") tests)"
else
	grep -E "FAIL|ERROR|runtime error|AddressSanitizer" "$bld/wt-tests.log" | head -30
	echo "FAIL fuzz: a unit or reader test fails under the sanitizers (build-fuzz/wt-tests.log)"
	fail=1
fi

# 3. every harness: seeds and regressions, then fuzzing
for h in $harnesses; do
	exe=$bld/tests/fuzz/$h
	name=${h#fuzz_}
	if [ ! -x "$exe" ]; then
		say "$h not built here (its dependency is missing): skipped"
		continue
	fi
	seeds=$fz/seeds/$name
	regs=$fz/regressions/$name
	opts="-rss_limit_mb=4096 -timeout=20"
	asan=$ASAN_OPTIONS
	case $h in
	fuzz_seglog) opts="$opts -max_len=70000" ;;
	fuzz_opts) # the parser keeps pointers into argv for the process's life
		opts="$opts -detect_leaks=0"
		asan=detect_leaks=0:abort_on_error=1
		;;
	esac
	dirs=""
	[ -d "$seeds" ] && dirs="$seeds"
	[ -d "$regs" ] && dirs="$dirs $regs"
	if [ -n "$dirs" ] && ! (cd "$bld" && ASAN_OPTIONS=$asan "$exe" $opts -runs=0 $dirs \
		>"$bld/$h.replay.log" 2>&1); then
		tail -30 "$bld/$h.replay.log"
		echo "FAIL fuzz: $h fails on its seeds or regressions"
		fail=1
		continue
	fi
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null
	art=$(mktemp -d)
	if (cd "$bld" && ASAN_OPTIONS=$asan "$exe" $opts -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$art/" "$work" >"$bld/$h.log" 2>&1); then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$bld/$h.log")
		cov=$(grep -o 'cov: [0-9]*' "$bld/$h.log" | tail -1)
		say "$h: ${runs:-?} inputs in ${secs} s, $cov, no crash"
	else
		mkdir -p "$regs"
		for c in "$art"/*; do
			[ -f "$c" ] && cp "$c" "$regs/" && say "$h: crashing input kept as ${regs#"$src"/}/$(basename "$c")"
		done
		grep -E "ERROR|runtime error|invariant failed|SUMMARY" "$bld/$h.log" | head -10
		echo "FAIL fuzz: $h crashed (log: build-fuzz/$h.log)"
		fail=1
	fi
	rm -rf "$work" "$art"
done
exit $fail
