#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# format-check.sh CLANG_FORMAT: report C files that differ from .clang-format.
# Run with `ninja -C build format-check`. Exit 1 when a file needs formatting.
cf=${1:-clang-format}
cd "$(dirname "$0")/.." || exit 2
bad=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null) ||
	files=$(find app lib tests benchmarks -name '*.[ch]')
for f in $files; do
	if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "needs formatting: $f"
		bad=1
	fi
done
exit $bad
