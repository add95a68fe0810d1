/* SPDX-License-Identifier: BSD-3-Clause */
/* options.h: wiretally-read's command line (what to read, what to print, how). */
#ifndef WTR_OPTIONS_H
#define WTR_OPTIONS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "filter.h"
#include "ipfix_out.h"

#define PROG "wiretally-read"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_DATA = 2 };

/* Record output formats (the record sink in main.c renders them). */
enum wtr_format {
	WTR_FORMAT_CSV = 0,
	WTR_FORMAT_JSON,
};

#define WTR_DEFAULT_TOP        10u
#define WTR_DEFAULT_STITCH_GAP 3600.0 /* seconds */

struct wtr_opts {
	enum wtr_format format;
	int stats;     /* print stats frames instead of records */
	int no_header; /* CSV without the header line */
	int quiet;     /* no problem lines on stderr */
	int check;     /* verify only, print one summary line */
	int follow;    /* tail a running monitor's log */
	int summary;   /* print a summary instead of the records */
	unsigned int top;
	int stitch; /* merge fragments of one connection */
	uint64_t stitch_gap_ns;
	const char *spool; /* NULL: none */
	int spool_found;   /* not given: the log's own spool (wt_seglog_spool_of) */
	char spool_auto[PATH_MAX];
	struct wtr_filter filter;
	struct ipfix_out_conf ipfix; /* --format ipfix, --ipfix URL */
	const char *const *paths;
	size_t npaths;
};

/**
 * Parse the command line into @o. --help and --version print and exit 0.
 * @return 0, or -1 after a one-line message on stderr (the caller exits 1).
 */
int wtr_opts_parse(int argc, char **argv, struct wtr_opts *o);

/** Free what wtr_opts_parse() allocated. */
void wtr_opts_free(struct wtr_opts *o);

#endif /* WTR_OPTIONS_H */
