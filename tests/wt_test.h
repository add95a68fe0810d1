/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_test.h: the small assertion harness of wiretally's C unit tests.
 *
 * A test program defines test functions, lists them with WT_TEST_MAIN and
 * exits 0 only when every check passed. Each failed check prints file:line
 * and the values, so a failure names its cause. Exit code 77 = skipped.
 */
#ifndef WT_TEST_H
#define WT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wt_test_failures;
static int wt_test_checks;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		wt_test_checks++;                                                                \
		if (!(cond)) {                                                                   \
			wt_test_failures++;                                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                                      \
	do {                                                                                    \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);                                \
		wt_test_checks++;                                                               \
		if (_a != _b) {                                                                 \
			wt_test_failures++;                                                     \
			fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n", \
			        __FILE__, __LINE__, #a, #b, _a, _b);                            \
		}                                                                               \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                      \
	do {                                                                                    \
		const char *_a = (a), *_b = (b);                                                \
		wt_test_checks++;                                                               \
		if (strcmp(_a, _b) != 0) {                                                      \
			wt_test_failures++;                                                     \
			fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, \
			        __LINE__, #a, #b, _a, _b);                                      \
		}                                                                               \
	} while (0)

struct wt_test_case {
	const char *name;
	void (*fn)(void);
};

#define WT_TEST(fn)     \
	{               \
#fn, fn \
	}

#define WT_TEST_MAIN(...)                                                               \
	int main(void)                                                                  \
	{                                                                               \
		static const struct wt_test_case cases[] = {__VA_ARGS__};               \
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {         \
			int before = wt_test_failures;                                  \
			cases[i].fn();                                                  \
			printf("%s %s\n", wt_test_failures == before ? "ok  " : "FAIL", \
			       cases[i].name);                                          \
		}                                                                       \
		printf("%d checks, %d failed\n", wt_test_checks, wt_test_failures);     \
		return wt_test_failures ? 1 : 0;                                        \
	}

#endif /* WT_TEST_H */
