#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# format-check.sh CLANG_FORMAT: report C files that differ from .clang-format.
# Run with `ninja -C build format-check`. Exit 1 when a file needs formatting.
cf=${1:-clang-format}
cd "$(dirname "$0")/.." || exit 2
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "needs formatting: $f"
		bad=1
	fi
done
exit $bad
