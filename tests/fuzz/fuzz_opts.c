/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_opts.c: libFuzzer harness: the monitor's command-line and config-file parser.
 *
 * Input: byte 0 = mode (bit 0: add --config FILE, FILE holding the input
 * after its first 0xff byte); the bytes before that 0xff are the
 * arguments, split at NUL bytes (fuzz_args.h). Invariants: wt_opts_parse()
 * returns 0 or -1 and never reads past an argument or the file (ASan); a
 * parsed configuration has its inputs within WT_MAX_INPUTS. The parser
 * keeps what it allocates and pointers into argv for the process's life
 * (it runs once): the arguments are never freed; run with -detect_leaks=0.
 */
#include <unistd.h>

#include "fuzz_args.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char conf[64];
	struct fuzz_args a;

	if (size < 1)
		return 0;
	if (conf[0] == '\0')
		snprintf(conf, sizeof(conf), "/tmp/wt-fuzz-opts-%d.conf", (int)getpid());
	fuzz_args_split(&a, data + 1, data + size, NULL);
	if (data[0] & 1) {
		FILE *f = fopen(conf, "w");
		if (f != NULL) {
			if (a.conf != NULL)
				fwrite(a.conf, 1, a.conf_len, f);
			fclose(f);
			fuzz_args_add(&a, "--config");
			fuzz_args_add(&a, conf);
		}
	}
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	struct wt_opts o;
	int rc = wt_opts_parse(&o, a.argc, a.argv);
	fclose(stderr);
	stderr = saved;
	REQUIRE(rc == 0 || rc == -1);
	if (rc == 0)
		REQUIRE(o.n_pcap <= WT_MAX_INPUTS && o.n_iface <= WT_MAX_INPUTS);
	/* the arguments are not freed: the parser keeps pointers into argv
	 * (optarg) for the process's life, as a program's argv lives */
	return 0;
}
