/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_require.h: REQUIRE(), the harnesses' invariant check: a broken one aborts, which libFuzzer
 * reports as a crash. */
#ifndef FUZZ_REQUIRE_H
#define FUZZ_REQUIRE_H

#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(c)                                                     \
	do {                                                           \
		if (!(c)) {                                            \
			fprintf(stderr, "invariant failed: %s\n", #c); \
			abort();                                       \
		}                                                      \
	} while (0)

#endif /* FUZZ_REQUIRE_H */
