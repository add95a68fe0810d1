/* SPDX-License-Identifier: BSD-3-Clause */
/* options.c: wiretally-read's usage text and command-line parsing. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "options.h"
#include "wt_seglog.h"

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
	        "Output:\n"
	        "  -f, --format csv|json|ipfix\n"
	        "                         record output format (default csv). CSV starts with the\n"
	        "                         header line of DESIGN.md section 3; JSON is one object\n"
	        "                         per line with the same names as keys; ipfix: see below\n"
	        "  -H, --no-header        CSV without the header line\n"
	        "  -s, --stats            print the stats frames (the monitor's counters at exit,\n"
	        "                         \"name=value\" lines, each frame after a line\n"
	        "                         \"# stats: FILE offset N\") instead of the records\n"
	        "  -c, --check            print no records, only verify; then print one summary\n"
	        "                         line: status, segments, records, first/last seq,\n"
	        "                         stats frames, problems, errors, typed records\n"
	        "      --summary          print a summary of the records instead of them: count,\n"
	        "                         time span, totals per protocol and per end_reason, top\n"
	        "                         talkers (addresses by payload bytes sent + received)\n"
	        "      --top N            talkers in the summary (default %u)\n"
	        "  -q, --quiet            do not report problems one by one on stderr (the exit\n"
	        "                         code still tells), nor the --stitch counts, nor\n"
	        "                         --follow's notice that the monitor closed the log\n"
	        "\n"
	        "Filters (records printed, summarised or stitched; --check and the seq checks\n"
	        "always see every record). Different options must all match; an option given\n"
	        "several times matches when any of its values does:\n"
	        "      --since TIME       records that end at or after TIME (end_ns >= TIME)\n"
	        "      --until TIME       records that start before TIME (start_ns < TIME); with\n"
	        "                         both: records whose [start, end] overlaps [SINCE, "
	        "UNTIL)\n"
	        "                         TIME: RFC 3339 (2026-11-22T07:40:00Z,\n"
	        "                         2026-11-22T08:40:00.5+01:00, 2026-11-22 = 00:00 UTC) or\n"
	        "                         unix seconds (1795324800.25)\n"
	        "      --proto P          tcp, udp, icmp, icmp6 or a protocol number\n"
	        "      --host ADDR        ADDR (IPv4 or IPv6) is either endpoint\n"
	        "      --port N           either endpoint's port is N (protocols without ports: "
	        "0)\n"
	        "      --net CIDR         either endpoint is in CIDR (10.0.0.0/8, 2001:db8::/32)\n"
	        "      --seq N|N-M|N-     the record's seq is N, in N..M, or N and later (to send\n"
	        "                         again what a consumer misses; with --stitch: the seq\n"
	        "                         of a merged record's first fragment)\n"
	        "\n"
	        "Fragments:\n"
	        "      --stitch           merge the records the completion scan split from one\n"
	        "                         connection (idle longer than the scan interval), and\n"
	        "                         interim records of one call, into one record each;\n"
	        "                         the rules are in docs/READER.md. Records that cannot\n"
	        "                         be merged are printed as they are; the counts go to\n"
	        "                         stderr. Output in seq order of each first fragment\n"
	        "      --stitch-gap SEC   longest idle time between two fragments of one\n"
	        "                         connection (default %g)\n"
	        "\n"
	        "Input:\n"
	        "  -S, --spool SPOOL      also read the monitor's spool directory SPOOL (see\n"
	        "                         above); DIR may then hold no segment yet. auto: the\n"
	        "                         spool a monitor with --spool auto (its default) uses\n"
	        "                         for DIR, if there is one\n"
	        "  -F, --follow           read the records of DIR (and --spool), then wait for\n"
	        "                         new ones, segment after segment, until SIGINT or\n"
	        "                         SIGTERM; records are printed (flushed) within 0.2 s of\n"
	        "                         being written. Says on stderr when the monitor closed\n"
	        "                         the log (and goes on: a restart continues it). Follows\n"
	        "                         the monitor's automatic spool for DIR too, as soon as\n"
	        "                         it exists; a monitor with another --spool: give it,\n"
	        "                         else records show up only once their segment is\n"
	        "                         archived. One DIR; not with --check, --summary or\n"
	        "                         --stitch\n"
	        "  -h, --help             this text\n"
	        "  -V, --version          program version\n"
	        "\n"
	        "IPFIX (records after --stitch and the filters):\n" IPFIX_OUT_HELP "\n"
	        "Problems are reported on stderr, one line each: \"" PROG
	        ": FILE: offset N: what\".\n"
	        "A corrupt segment header skips that segment; a frame with a bad CRC is skipped\n"
	        "alone; after a torn or garbage frame header reading resumes at the next good\n"
	        "frame; a truncated segment is read up to where it ends; every good record around\n"
	        "them is still printed. An unsealed segment (monitor running, or crashed and not\n"
	        "yet recovered) is read up to its last committed record without complaint.\n"
	        "\n"
	        "Exit status:\n"
	        "  0  all good\n"
	        "  1  usage or I/O error: unknown option, bad option value, missing path,\n"
	        "     directory without segments, file that is not a segment, unreadable file,\n"
	        "     segment of a newer format version, write error on stdout, records not\n"
	        "     sent over IPFIX\n"
	        "  2  data problems (corrupt or truncated header or frame, seal mismatch, seq\n"
	        "     gap or duplicate, segment number gap); all good records were printed\n"
	        "\n"
	        "The segment format is specified in docs/FORMAT.md, this program in\n"
	        "docs/READER.md.\n",
	        WTR_DEFAULT_TOP, WTR_DEFAULT_STITCH_GAP);
}

enum {
	OPT_SUMMARY = 256,
	OPT_TOP,
	OPT_STITCH,
	OPT_STITCH_GAP,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PROTO,
	OPT_HOST,
	OPT_PORT,
	OPT_NET,
	OPT_SEQ,
};
_Static_assert(OPT_NET - OPT_SINCE == WTR_FILTER_NET && OPT_PORT - OPT_SINCE == WTR_FILTER_PORT &&
                       OPT_SEQ - OPT_SINCE == WTR_FILTER_SEQ,
               "filter options in the order of enum wtr_filter_kind");

static int
bad_value(const char *opt, const char *value, const char *what)
{
	fprintf(stderr, PROG ": %s '%s': %s\n", opt, value, what);
	return -1;
}

/* Options that only make sense together. */
static int
check_combinations(const struct wtr_opts *o, int top_given, int gap_given)
{
	const char *clash = NULL;

	if (top_given && !o->summary)
		clash = "--top needs --summary";
	else if (gap_given && !o->stitch)
		clash = "--stitch-gap needs --stitch";
	else if (o->summary && (o->check || o->stats))
		clash = o->check ? "--summary and --check exclude each other"
		                 : "--summary and --stats exclude each other";
	else if (o->follow && o->check)
		clash = "--follow cannot be combined with --check (a log being written has no end "
		        "to check up to)";
	else if (o->follow && o->summary)
		clash = "--follow cannot be combined with --summary (run --summary on the log "
		        "afterwards)";
	else if (o->follow && o->stitch)
		clash = "--follow cannot be combined with --stitch (stitching needs every fragment "
		        "of a connection, and a later one may come at any time; run --stitch on "
		        "the "
		        "log afterwards)";
	else if (ipfix_out_wanted(&o->ipfix) && (o->stats || o->check || o->summary))
		clash = "IPFIX output (--format ipfix, --ipfix) sends records: not with --stats, "
		        "--check or --summary";
	else if (o->follow && o->npaths != 1)
		clash = "--follow reads one DIR";
	if (clash != NULL) {
		fprintf(stderr, PROG ": %s (see --help)\n", clash);
		return -1;
	}
	return 0;
}

/*
 * --spool auto (and --follow without --spool): the spool a monitor on the
 * first DIR chooses with its default --spool auto (wt_seglog_spool_auto_dir);
 * none when no hugetlbfs is mounted or (without --follow) when it does not
 * exist. A follower waits for it to appear; an explicit spool must exist.
 */
static int
resolve_spool(struct wtr_opts *o)
{
	struct stat sb;
	int is_auto = o->spool != NULL && strcmp(o->spool, "auto") == 0;

	if (o->spool == NULL && !o->follow && o->npaths == 1 && stat(o->paths[0], &sb) == 0 &&
	    S_ISDIR(sb.st_mode)) {
		/* after a crash the spool holds what was not archived: read it
		 * too, found from the log itself */
		if (wt_seglog_spool_of(o->paths[0], o->spool_auto, sizeof(o->spool_auto)) == 0) {
			o->spool = o->spool_auto;
			o->spool_found = 1;
		}
	} else if (is_auto || (o->follow && o->spool == NULL)) {
		o->spool = NULL;
		if (wt_seglog_spool_of(o->paths[0], o->spool_auto, sizeof(o->spool_auto)) == 0 ||
		    (wt_seglog_spool_auto_dir(o->paths[0], o->spool_auto, sizeof(o->spool_auto)) ==
		             0 &&
		     (o->follow || stat(o->spool_auto, &sb) == 0)))
			o->spool = o->spool_auto;
	} else if (o->spool != NULL && o->follow && stat(o->spool, &sb) != 0) {
		fprintf(stderr, PROG ": %s: cannot access: %s\n", o->spool, strerror(errno));
		return -1;
	}
	return 0;
}

int
wtr_opts_parse(int argc, char **argv, struct wtr_opts *o)
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
	        {"follow", no_argument, NULL, 'F'},
	        {"summary", no_argument, NULL, OPT_SUMMARY},
	        {"top", required_argument, NULL, OPT_TOP},
	        {"stitch", no_argument, NULL, OPT_STITCH},
	        {"stitch-gap", required_argument, NULL, OPT_STITCH_GAP},
	        {"since", required_argument, NULL, OPT_SINCE},
	        {"until", required_argument, NULL, OPT_UNTIL},
	        {"proto", required_argument, NULL, OPT_PROTO},
	        {"host", required_argument, NULL, OPT_HOST},
	        {"port", required_argument, NULL, OPT_PORT},
	        {"net", required_argument, NULL, OPT_NET},
	        {"seq", required_argument, NULL, OPT_SEQ},
	        IPFIX_OUT_LONGOPTS,
	        {NULL, 0, NULL, 0},
	};
	int c, top_given = 0, gap_given = 0;
	char *end;

	memset(o, 0, sizeof(*o));
	o->top = WTR_DEFAULT_TOP;
	o->ipfix.domain = IPFIX_OUT_DEFAULT_DOMAIN;
	o->stitch_gap_ns = (uint64_t)(WTR_DEFAULT_STITCH_GAP * 1e9);
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":f:sHcqhVS:F", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "csv") == 0) {
				o->format = WTR_FORMAT_CSV;
			} else if (strcmp(optarg, "json") == 0) {
				o->format = WTR_FORMAT_JSON;
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
		case 'F':
			o->follow = 1;
			break;
		case OPT_SUMMARY:
			o->summary = 1;
			break;
		case OPT_TOP: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || v < 1 || v > 1000000)
				return bad_value("--top", optarg, "not a number 1-1000000");
			o->top = (unsigned int)v;
			top_given = 1;
			break;
		}
		case OPT_STITCH:
			o->stitch = 1;
			break;
		case OPT_STITCH_GAP: {
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(v) || v < 0 || v > 1e9)
				return bad_value("--stitch-gap", optarg,
				                 "not a number of seconds 0-1000000000");
			o->stitch_gap_ns = (uint64_t)llround(v * 1e9);
			gap_given = 1;
			break;
		}
		case OPT_SINCE:
		case OPT_UNTIL:
		case OPT_PROTO:
		case OPT_HOST:
		case OPT_PORT:
		case OPT_NET:
		case OPT_SEQ:
			if (wtr_filter_add(&o->filter, (enum wtr_filter_kind)(c - OPT_SINCE),
			                   optarg) != 0)
				return -1;
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
	o->paths = (const char *const *)(argv + optind);
	o->npaths = (size_t)(argc - optind);
	if (wtr_filter_finish(&o->filter) != 0 || check_combinations(o, top_given, gap_given) != 0)
		return -1;
	o->ipfix.quiet = o->quiet;
	return resolve_spool(o);
}

void
wtr_opts_free(struct wtr_opts *o)
{
	wtr_filter_free(&o->filter);
}
