/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally-read, prints call records of log segments as CSV/JSON and verifies them.
 *
 * Data flow: the seglog reader yields every good frame in log order (and
 * checks seq, CRCs, seals: --check counts everything); record frames go to
 * on_record(), which holds them for --stitch (stitch.c) or passes them on;
 * deliver() applies the filters (filter.c); what passes reaches the record
 * sink, sink_record(), which renders it (or counts it for --summary,
 * summary.c). --follow (follow.c) keeps the loop going at the end of the log.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "follow.h"
#include "ipfix_out.h"
#include "options.h"
#include "stitch.h"
#include "summary.h"
#include "wt_record.h"
#include "wt_seglog.h"

/*
 * The record sink: every record that is output, after --stitch and the
 * filters, goes through sink_record() exactly once, in output order.
 * sink_open() starts the output (CSV header), sink_close() ends it (the
 * summary, the final flush). An output format is one case in each.
 */
struct sink {
	const struct wtr_opts *o;
	struct wtr_summary *summary; /* --summary: records are counted, not printed */
	struct ipfix_out *ipfix;     /* --format ipfix, --ipfix: records sent, not printed */
	int ipfix_failed;            /* the IPFIX output stopped (said why) */
	uint64_t records;            /* records that reached the sink */
};

static int
sink_open(struct sink *s, const struct wtr_opts *o)
{
	s->o = o;
	if (o->summary) {
		s->summary = wtr_summary_create(o->top);
		return s->summary ? 0 : -ENOMEM;
	}
	if (ipfix_out_wanted(&o->ipfix)) {
		s->ipfix = ipfix_out_open(&o->ipfix);
		return s->ipfix ? 0 : -EIO;
	}
	switch (o->format) {
	case WTR_FORMAT_CSV:
		if (!o->no_header)
			printf("%s\n", wt_callrec_csv_header);
		break;
	case WTR_FORMAT_JSON:
		break;
	}
	return 0;
}

static int
sink_record(struct sink *s, const struct wt_callrec *rec)
{
	char line[WT_CALLREC_LINE_MAX];
	int n = 0;

	s->records++;
	if (s->summary != NULL)
		return wtr_summary_add(s->summary, rec);
	if (s->ipfix != NULL) {
		/* a failure was said once; the records after it are not sent */
		if (!s->ipfix_failed && ipfix_out_record(s->ipfix, rec) != 0)
			s->ipfix_failed = 1;
		return 0;
	}
	switch (s->o->format) {
	case WTR_FORMAT_CSV:
		n = wt_callrec_format_csv(line, sizeof(line), rec);
		break;
	case WTR_FORMAT_JSON:
		n = wt_callrec_format_json(line, sizeof(line), rec);
		break;
	}
	if (n > 0)
		fwrite(line, 1, (size_t)n, stdout);
	return 0;
}

/* @return 0, or -1 when records were not sent over IPFIX (said on stderr). */
static int
sink_close(struct sink *s)
{
	int rc = s->ipfix_failed ? -1 : 0;

	if (s->ipfix != NULL && ipfix_out_close(s->ipfix) != 0)
		rc = -1;
	s->ipfix = NULL;
	if (s->summary != NULL)
		wtr_summary_print(s->summary, stdout);
	wtr_summary_free(s->summary);
	s->summary = NULL;
	return rc;
}

/* ---- from the log to the sink ---------------------------------------- */

struct run {
	const struct wtr_opts *o;
	struct sink sink;
	struct wtr_stitch *stitch; /* --stitch: records held here until the end */
	int failed;                /* out of memory */
	uint64_t spool_records;    /* records read from a spool found by itself */
};

/* A record after stitching: filtered, then to the sink. */
static int
deliver(void *arg, const struct wt_callrec *rec)
{
	struct run *run = arg;

	if (!wtr_filter_match(&run->o->filter, rec))
		return 0;
	return sink_record(&run->sink, rec);
}

static void
on_record(struct run *run, const struct wt_callrec *rec)
{
	int rc = run->stitch ? wtr_stitch_add(run->stitch, rec) : deliver(run, rec);

	if (rc != 0 && !run->failed) {
		fprintf(stderr, PROG ": out of memory (%s)\n",
		        run->stitch ? "--stitch holds every record" : "--summary");
		run->failed = 1;
	}
}

static void
on_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t offset, const char *msg)
{
	const struct wtr_opts *o = arg;

	(void)p;
	if (!o->quiet)
		fprintf(stderr, PROG ": %s: offset %" PRIu64 ": %s\n", path, offset, msg);
}

static void
print_stats_frame(const struct wt_seglog_frame *f)
{
	printf("# stats: %s offset %" PRIu64 "\n", f->path, f->offset);
	fwrite(f->payload, 1, f->len, stdout);
	if (f->len == 0 || ((const char *)f->payload)[f->len - 1] != '\n')
		putchar('\n');
}

static void
print_check(const struct wt_seglog_read_stats *st, int status)
{
	char first[24] = "-", last[24] = "-";

	if (st->records + st->typed_records) {
		snprintf(first, sizeof(first), "%" PRIu64, st->first_seq);
		snprintf(last, sizeof(last), "%" PRIu64, st->last_seq);
	}
	printf("check: status=%s segments=%" PRIu64 " records=%" PRIu64
	       " first_seq=%s last_seq=%s stats_frames=%" PRIu64 " problems=%" PRIu64
	       " errors=%" PRIu64 " typed_records=%" PRIu64 "\n",
	       status == EXIT_OK     ? "ok"
	       : status == EXIT_DATA ? "problems"
	                             : "errors",
	       st->segments, st->records, first, last, st->stats_frames, st->problems, st->errors,
	       st->typed_records);
}

/* @path is a file of the spool directory @spool. */
static int
in_spool(const char *spool, const char *path)
{
	size_t n = strlen(spool);
	return strncmp(path, spool, n) == 0 && path[n] == '/';
}

/* Read every frame (--follow: until a signal). */
static void
read_log(struct run *run, struct wt_seglog_reader *r)
{
	const struct wtr_opts *o = run->o;
	struct wtr_follow fw = {.prog = "wiretally-read", .writer = "the monitor"};
	struct wt_seglog_frame f;
	struct wt_callrec rec;
	int records = !o->check && !o->stats;

	if (o->follow)
		wtr_follow_signals();
	for (;;) {
		while (!wtr_follow_stopped() && !run->failed && wt_seglog_reader_next(r, &f) == 1) {
			if (o->spool_found && in_spool(o->spool, f.path) &&
			    (f.type == WT_SEGLOG_FRAME_RECORD ||
			     (f.type >= WT_SEGLOG_FRAME_TYPED_FIRST &&
			      f.type <= WT_SEGLOG_FRAME_TYPED_LAST)))
				run->spool_records++;
			if (records && wt_seglog_frame_record(&f, &rec) == 0) {
				on_record(run, &rec);
			} else if (f.type == WT_SEGLOG_FRAME_STATS) {
				if (o->stats && !o->check)
					print_stats_frame(&f);
				wtr_follow_stats_frame(&fw, &f);
			}
			/* other frame types: skipped (future types) */
			if (o->follow && wtr_follow_flush_due(&fw))
				fflush(stdout);
		}
		if (!o->follow || wtr_follow_stopped() || run->failed)
			break;
		fflush(stdout);
		wtr_follow_idle(&fw, r, o->quiet);
	}
}

int
main(int argc, char **argv)
{
	struct wtr_opts o;
	struct run run = {.o = &o};
	char err[512];

	if (wtr_opts_parse(argc, argv, &o) != 0) {
		wtr_opts_free(&o);
		return EXIT_ERROR;
	}
	struct wt_seglog_reader_conf conf = {
	        .paths = o.paths,
	        .npaths = o.npaths,
	        .problem = on_problem,
	        .problem_arg = &o,
	        .spool_dir = o.spool,
	        .follow = o.follow,
	};
	struct wt_seglog_reader *r = wt_seglog_reader_open(&conf, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		wtr_opts_free(&o);
		return EXIT_ERROR;
	}
	static char outbuf[1 << 20];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	int records = !o.check && !o.stats;
	if (records && o.stitch && (run.stitch = wtr_stitch_create(o.stitch_gap_ns)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		run.failed = 1;
	}
	if (records && !run.failed) {
		int e = sink_open(&run.sink, &o);
		if (e == -ENOMEM)
			fprintf(stderr, PROG ": out of memory\n");
		if (e != 0) /* an IPFIX output that cannot open said why */
			run.failed = 1;
	}
	if (!run.failed)
		read_log(&run, r);
	if (run.stitch != NULL && !run.failed) {
		if (wtr_stitch_finish(run.stitch, deliver, &run) != 0) {
			fprintf(stderr, PROG ": out of memory (--stitch)\n");
			run.failed = 1;
		} else if (!o.quiet) {
			wtr_stitch_print(run.stitch, stderr);
		}
	}
	if (records && sink_close(&run.sink) != 0)
		run.failed = 1;
	const struct wt_seglog_read_stats *st = wt_seglog_reader_stats(r);
	int status = st->errors || run.failed ? EXIT_ERROR : st->problems ? EXIT_DATA : EXIT_OK;
	if (o.check)
		print_check(st, status);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": write error on standard output: %s\n", strerror(errno));
		status = EXIT_ERROR;
	}
	if (run.spool_records && !o.quiet)
		fprintf(stderr,
		        PROG ": %" PRIu64 " records were read from the spool %s, not yet archived "
		             "into %s (the monitor crashed or is still running; its next start "
		             "archives them)\n",
		        run.spool_records, o.spool, o.paths[0]);
	if ((st->problems || st->errors) && !o.quiet)
		fprintf(stderr, PROG ": %" PRIu64 " data problem(s), %" PRIu64 " read error(s)\n",
		        st->problems, st->errors);
	wtr_stitch_free(run.stitch);
	wt_seglog_reader_close(r);
	wtr_opts_free(&o);
	return status;
}
