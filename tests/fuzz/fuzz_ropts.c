/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_ropts.c: libFuzzer harness: wiretally-read's command-line parser (filters, IPFIX output,
 * spool).
 *
 * Input: the arguments, split at NUL bytes (fuzz_args.h). Invariants:
 * wtr_opts_parse() returns 0 or -1 and never reads past an argument
 * (ASan); what it took, parsed or not, is freed by wtr_opts_free()
 * (LeakSanitizer).
 * --help and --version exit the process: arguments that could name them
 * are left out.
 */
#include <getopt.h>

#include "fuzz_args.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An argument getopt could take as --help or --version. */
static int
exits(const char *s)
{
	if (s[0] != '-')
		return 0;
	if (s[1] == '-')
		return strncmp(s, "--h", 3) == 0 || strncmp(s, "--v", 3) == 0;
	return strchr(s, 'h') != NULL || strchr(s, 'V') != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_args a;

	fuzz_args_split(&a, data, data + size, exits);
	fuzz_args_keep(&a);
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	struct wtr_opts o;
	optind = 0; /* glibc: start getopt afresh (the last run's argv is freed) */
	int rc = wtr_opts_parse(a.argc, a.argv, &o);
	fclose(stderr);
	stderr = saved;
	REQUIRE(rc == 0 || rc == -1);
	wtr_opts_free(&o); /* also what a failed parse had taken */
	fuzz_args_free(&a);
	return 0;
}
