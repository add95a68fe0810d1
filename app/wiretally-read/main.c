/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c: wiretally-read, prints call records of log segments as CSV/JSON and verifies them. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix_out.h"
#include "wt_record.h"
#include "wt_seglog.h"

#define PROG "wiretally-read"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_DATA = 2 };

struct opts {
	int json;
	int stats;
	int no_header;
	int quiet;
	int check;
	const char *spool;
	struct ipfix_out_conf ipfix;
};

static void
usage(FILE *f)
{
	fprintf(f,
	        "Usage: " PROG " [options] DIR|FILE...\n"
	        "Print the call records of wiretally log segments, in seq order, and verify them.\n"
	        "\n"
	        "A DIR means all its segment files (seg-*.wts) in order; several arguments are\n"
	        "read one after the other as one log. Every record's seq must follow the\n"
	        "previous one (no gap, no duplicate) across all of them.\n"
	        "\n"
	        "A monitor in spool mode writes segments in a spool directory (hugepages) and\n"
	        "archives each sealed one into DIR; give the spool with --spool to read every\n"
	        "record, archived or not (for example after the monitor was killed, before it\n"
	        "is restarted): segments of both are read in segment order, each number once,\n"
	        "from DIR when it has it.\n"
	        "\n"
	        "Options:\n"
	        "  -f, --format csv|json|ipfix\n"
	        "                         record output format (default csv). CSV starts with the\n"
	        "                         header line of DESIGN.md section 3; JSON is one object\n"
	        "                         per line with the same names as keys; ipfix: see below\n"
	        "  -s, --stats            print the stats frames (the monitor's counters at exit,\n"
	        "                         \"name=value\" lines, each frame after a line\n"
	        "                         \"# stats: FILE offset N\") instead of the records\n"
	        "  -H, --no-header        CSV without the header line\n"
	        "  -c, --check            print no records, only verify; then print one summary\n"
	        "                         line: status, segments, records, first/last seq,\n"
	        "                         stats frames, problems, errors\n"
	        "  -q, --quiet            do not report problems one by one on stderr (the exit\n"
	        "                         code still tells)\n"
	        "  -S, --spool SPOOL      also read the monitor's spool directory SPOOL (see\n"
	        "                         above); DIR may then hold no segment yet\n" IPFIX_OUT_HELP
	        "  -h, --help             this text\n"
	        "  -V, --version          program version\n"
	        "\n"
	        "Problems are reported on stderr, one line each: \"" PROG
	        ": FILE: offset N: what\".\n"
	        "A corrupt segment header skips that segment; a frame with a bad CRC is skipped\n"
	        "alone; after a torn or garbage frame header reading resumes at the next good\n"
	        "frame; every good record around them is still printed. An unsealed segment\n"
	        "(monitor running, or crashed and not yet recovered) is read up to its last\n"
	        "committed record without complaint.\n"
	        "\n"
	        "Exit status:\n"
	        "  0  all good\n"
	        "  1  usage or I/O error: unknown option, missing path, directory without\n"
	        "     segments, file that is not a segment, unreadable file, segment of a newer\n"
	        "     format version, write error on stdout, records not sent over IPFIX\n"
	        "  2  data problems (corrupt header or frame, seal mismatch, seq gap or\n"
	        "     duplicate, segment number gap); all good records were printed\n"
	        "\n"
	        "The segment format is specified in docs/FORMAT.md.\n");
}

static void
on_problem(void *arg, enum wt_seglog_problem p, const char *path, uint64_t offset, const char *msg)
{
	const struct opts *o = arg;

	(void)p;
	if (!o->quiet)
		fprintf(stderr, PROG ": %s: offset %" PRIu64 ": %s\n", path, offset, msg);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	        {"format", required_argument, NULL, 'f'},
	        {"stats", no_argument, NULL, 's'},
	        {"no-header", no_argument, NULL, 'H'},
	        {"check", no_argument, NULL, 'c'},
	        {"quiet", no_argument, NULL, 'q'},
	        {"help", no_argument, NULL, 'h'},
	        {"version", no_argument, NULL, 'V'},
	        {"spool", required_argument, NULL, 'S'},
	        IPFIX_OUT_LONGOPTS,
	        {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":f:sHcqhVS:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "csv") == 0) {
				o->json = 0;
			} else if (strcmp(optarg, "json") == 0) {
				o->json = 1;
			} else if (strcmp(optarg, "ipfix") == 0) {
				o->ipfix.file = 1;
			} else {
				fprintf(stderr, PROG ": unknown format '%s' (csv, json or ipfix)\n",
				        optarg);
				return -1;
			}
			break;
		case 's':
			o->stats = 1;
			break;
		case 'H':
			o->no_header = 1;
			break;
		case 'c':
			o->check = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'S':
			o->spool = optarg;
			break;
		case IPFIX_OPT_URL:
		case IPFIX_OPT_DOMAIN:
		case IPFIX_OPT_REFRESH:
		case IPFIX_OPT_RATE:
			if (ipfix_out_option(&o->ipfix, c, optarg) != 0)
				return -1;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		case 'V':
			printf(PROG " " WT_VERSION "\n");
			exit(EXIT_OK);
		case ':':
			fprintf(stderr, PROG ": option '%s' needs an argument (see --help)\n",
			        argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n",
			        argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no DIR or FILE given (see --help)\n");
		return -1;
	}
	if (ipfix_out_wanted(&o->ipfix) && (o->stats || o->check)) {
		fprintf(stderr, PROG ": IPFIX output (--format ipfix, --ipfix) sends records: not "
		                     "with --stats or --check\n");
		return -1;
	}
	o->ipfix.quiet = o->quiet;
	return optind;
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
print_summary(const struct wt_seglog_read_stats *st, int status)
{
	char first[24] = "-", last[24] = "-";

	if (st->records) {
		snprintf(first, sizeof(first), "%" PRIu64, st->first_seq);
		snprintf(last, sizeof(last), "%" PRIu64, st->last_seq);
	}
	printf("check: status=%s segments=%" PRIu64 " records=%" PRIu64
	       " first_seq=%s last_seq=%s stats_frames=%" PRIu64 " problems=%" PRIu64
	       " errors=%" PRIu64 "\n",
	       status == EXIT_OK     ? "ok"
	       : status == EXIT_DATA ? "problems"
	                             : "errors",
	       st->segments, st->records, first, last, st->stats_frames, st->problems, st->errors);
}

int
main(int argc, char **argv)
{
	struct opts o = {.ipfix.domain = IPFIX_OUT_DEFAULT_DOMAIN};
	struct wt_seglog_frame f;
	struct wt_callrec rec;
	char err[512], line[WT_CALLREC_LINE_MAX];
	int first = parse_args(argc, argv, &o);

	if (first < 0)
		return EXIT_ERROR;
	struct wt_seglog_reader_conf conf = {
	        .paths = (const char *const *)(argv + first),
	        .npaths = (size_t)(argc - first),
	        .problem = on_problem,
	        .problem_arg = &o,
	        .spool_dir = o.spool,
	};
	struct wt_seglog_reader *r = wt_seglog_reader_open(&conf, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_ERROR;
	}
	static char outbuf[1 << 20];
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	int records = !o.check && !o.stats;
	struct ipfix_out *ipx = NULL;
	if (ipfix_out_wanted(&o.ipfix) && (ipx = ipfix_out_open(&o.ipfix)) == NULL) {
		wt_seglog_reader_close(r);
		return EXIT_ERROR;
	}
	if (records && !ipx && !o.json && !o.no_header)
		printf("%s\n", wt_callrec_csv_header);
	while (wt_seglog_reader_next(r, &f) == 1) {
		if (ipx && wt_seglog_frame_record(&f, &rec) == 0) {
			if (ipfix_out_record(ipx, &rec) != 0)
				break;
		} else if (records && wt_seglog_frame_record(&f, &rec) == 0) {
			int n = o.json ? wt_callrec_format_json(line, sizeof(line), &rec)
			               : wt_callrec_format_csv(line, sizeof(line), &rec);
			if (n > 0)
				fwrite(line, 1, (size_t)n, stdout);
		} else if (o.stats && !o.check && f.type == WT_SEGLOG_FRAME_STATS) {
			print_stats_frame(&f);
		}
		/* other frame types: skipped (future types) */
	}
	const struct wt_seglog_read_stats *st = wt_seglog_reader_stats(r);
	int status = st->errors ? EXIT_ERROR : st->problems ? EXIT_DATA : EXIT_OK;
	if (o.check)
		print_summary(st, status);
	if (ipx && ipfix_out_close(ipx) != 0)
		status = EXIT_ERROR;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": write error on standard output: %s\n", strerror(errno));
		status = EXIT_ERROR;
	}
	if ((st->problems || st->errors) && !o.quiet)
		fprintf(stderr, PROG ": %" PRIu64 " data problem(s), %" PRIu64 " read error(s)\n",
		        st->problems, st->errors);
	wt_seglog_reader_close(r);
	return status;
}
