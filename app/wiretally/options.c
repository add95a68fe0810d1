/* SPDX-License-Identifier: BSD-3-Clause */
/* options.c: command line and config file parsing for the monitor. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#include "options.h"
#include "say.h"

struct opt_def {
	const char *name;
	int short_name;
	enum wt_opt_kind kind;
	const char *def;
	double min, max;
	const char *help;
};

static const struct opt_def defs[WT_OPTID_MAX] = {
#define WT_OPT_DEF(id, name, sh, kind, def, mn, mx, help) \
	[WT_OPTID_##id] = {name, sh, kind, def, mn, mx, help},
        WT_FOREACH_OPTION(WT_OPT_DEF)
#undef WT_OPT_DEF
};

#define CFG_SECTION "wiretally"

static const char *
arg_name(enum wt_opt_kind k)
{
	switch (k) {
	case WT_OPT_STR:
	case WT_OPT_LIST:
		return "TEXT";
	case WT_OPT_UINT:
		return "N";
	case WT_OPT_SIZE:
		return "BYTES";
	case WT_OPT_SECS:
		return "SEC";
	case WT_OPT_ONOFF:
		return "on|off";
	default:
		return "";
	}
}

void
wt_opts_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "       %s --pcap FILE -o DIR [options]     (sets up the EAL itself)\n"
	       "       %s --iface NAME -o DIR [options]    (live, sets up the EAL itself)\n\n"
	       "wiretally turns every connection it sees into a call record (HP patent\n"
	       "WO 93/26111) and writes completed records to log segments in DIR; read\n"
	       "them with wiretally-read. It stops at the end of capture-file input or on\n"
	       "SIGINT/SIGTERM, completing every active record first. Options are read\n"
	       "once at start: SIGHUP reloads nothing (it says so); restart to apply a change.\n"
	       "\nOptions:\n",
	       prog, prog, prog);
	for (int i = 0; i < WT_OPTID_MAX; i++) {
		const struct opt_def *d = &defs[i];
		char left[64];
		if (d->short_name)
			snprintf(left, sizeof(left), "-%c, --%s %s", d->short_name, d->name,
			         arg_name(d->kind));
		else
			snprintf(left, sizeof(left), "    --%s %s", d->name, arg_name(d->kind));
		printf("  %-32s %s", left, d->help);
		if (d->kind != WT_OPT_FLAG && d->def[0] != '\0')
			printf(" [default: %s]", d->def);
		printf("\n");
	}
	printf("\nEvery option except --config, --help and --version can also be set in\n"
	       "the config file as `name = value` in section [%s] (see\n"
	       "config/wiretally.conf). The command line wins over the file.\n",
	       CFG_SECTION);
}

static int
parse_uint(const char *s, uint64_t *v)
{
	char *end;
	if (s[0] == '\0' || s[0] == '-' || isspace((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = x;
	return 0;
}

static int
parse_size(const char *s, uint64_t *v)
{
	char *end;
	if (s[0] == '\0' || s[0] == '-' || isspace((unsigned char)s[0]))
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	uint64_t mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mul = 1ull << 10;
		end++;
		break;
	case 'M':
		mul = 1ull << 20;
		end++;
		break;
	case 'G':
		mul = 1ull << 30;
		end++;
		break;
	default:
		break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || (x != 0 && mul > UINT64_MAX / x))
		return -1;
	*v = x * mul;
	return 0;
}

static int
parse_secs(const char *s, double *v)
{
	char *end;
	if (s[0] == '\0' || isspace((unsigned char)s[0]))
		return -1;
	errno = 0;
	double x = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(x))
		return -1;
	*v = x;
	return 0;
}

static int
parse_onoff(const char *s, int *v)
{
	static const char *const on[] = {"on", "yes", "true", "1"};
	static const char *const off[] = {"off", "no", "false", "0"};
	for (unsigned int i = 0; i < 4; i++) {
		if (strcasecmp(s, on[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, off[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

/* Add list items: --port takes comma lists; files and interfaces one each. */
static int
add_list(struct wt_opts *o, enum wt_opt_id id, const char *val, const char *where)
{
	if (id == WT_OPTID_PORT) {
		char buf[256];
		snprintf(buf, sizeof(buf), "%s", val);
		for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok != NULL;
		     tok = strtok_r(NULL, ", ", &save)) {
			uint64_t p;
			if (parse_uint(tok, &p) != 0 || p > 65535) {
				WT_LOG(ERR, "%s: '%s' is not a port id (0-65535)\n", where, tok);
				return -1;
			}
			if (o->n_ports >= (sizeof(o->ports) / sizeof(o->ports[0]))) {
				WT_LOG(ERR, "%s: more than %u ports\n", where,
				       (unsigned int)(sizeof(o->ports) / sizeof(o->ports[0])));
				return -1;
			}
			o->ports[o->n_ports++] = (uint16_t)p;
		}
		return 0;
	}
	const char **arr = id == WT_OPTID_PCAP ? o->pcap : o->iface;
	unsigned int *n = id == WT_OPTID_PCAP ? &o->n_pcap : &o->n_iface;
	if (val[0] == '\0' || strchr(val, ',') != NULL) {
		WT_LOG(ERR,
		       "%s: '%s' is empty or contains a comma (DPDK device "
		       "arguments cannot carry one)\n",
		       where, val);
		return -1;
	}
	if (*n >= WT_MAX_INPUTS) {
		WT_LOG(ERR, "%s: more than %d inputs\n", where, WT_MAX_INPUTS);
		return -1;
	}
	arr[(*n)++] = val;
	return 0;
}

/* Apply one value to option @id. @where names the source for messages. */
static int
apply(struct wt_opts *o, enum wt_opt_id id, const char *val, const char *where)
{
	const struct opt_def *d = &defs[id];
	uint64_t u = 0;
	double s = 0;
	int b = 0;

	switch (d->kind) {
	case WT_OPT_FLAG:
		b = 1;
		if (val != NULL && parse_onoff(val, &b) != 0)
			goto bad;
		break;
	case WT_OPT_STR:
		if (val[0] == '\0')
			goto bad;
		break;
	case WT_OPT_LIST:
		return add_list(o, id, val, where);
	case WT_OPT_UINT:
		if (id == WT_OPTID_HASH_SEED && strcmp(val, "random") == 0)
			break;
		if (parse_uint(val, &u) != 0 || (double)u < d->min || (double)u > d->max)
			goto bad;
		break;
	case WT_OPT_SIZE:
		if (parse_size(val, &u) != 0 || (double)u < d->min || (double)u > d->max)
			goto bad;
		break;
	case WT_OPT_SECS:
		if (id == WT_OPTID_ACTIVE_TIMEOUT && strcmp(val, "auto") == 0) {
			s = -1;
			break;
		}
		if (id == WT_OPTID_ACTIVE_TIMEOUT && strcmp(val, "off") == 0)
			break;
		if (parse_secs(val, &s) != 0 || s < d->min || s > d->max)
			goto bad;
		break;
	case WT_OPT_ONOFF:
		if (parse_onoff(val, &b) != 0)
			goto bad;
		break;
	}

	switch (id) {
	case WT_OPTID_CONFIG:
		o->config = val;
		break;
	case WT_OPTID_OUTPUT:
		o->output = val;
		break;
	case WT_OPTID_RX_CORES:
		o->rx_cores = u;
		break;
	case WT_OPTID_TABLE_SIZE:
		o->table_size = u;
		break;
	case WT_OPTID_RECORD_RING:
		o->record_ring = u;
		break;
	case WT_OPTID_FORWARD_RING:
		o->forward_ring = u;
		break;
	case WT_OPTID_EXPORT_LCORE:
	case WT_OPTID_SCAN_LCORE: {
		int v;
		if (strcmp(val, "main") == 0)
			v = -1;
		else if (strcmp(val, "auto") == 0)
			v = -2;
		else if (parse_uint(val, &u) == 0 && u < 1024)
			v = (int)u;
		else {
			WT_LOG(ERR, "%s: '%s' is not an lcore id, main or auto\n", where, val);
			return -1;
		}
		if (id == WT_OPTID_EXPORT_LCORE)
			o->export_lcore = v;
		else
			o->scan_lcore = v;
		break;
	}
	case WT_OPTID_SPOOL:
		o->spool = strcmp(val, "auto") == 0 ? NULL : strcmp(val, "off") == 0 ? "" : val;
		break;
	case WT_OPTID_SPOOL_SEGMENTS:
		o->spool_segments = u;
		break;
	case WT_OPTID_COMPRESS: {
		long lv = 1;
		char *end = NULL;
		if (strcmp(val, "off") == 0)
			lv = 0;
		else if (strncmp(val, "zstd", 4) == 0 && val[4] == ':')
			lv = strtol(val + 5, &end, 10);
		else if (strcmp(val, "zstd") != 0)
			lv = 100;
		if (lv == 100 || (end != NULL && (end == val + 5 || *end != '\0')) || lv < -7 ||
		    lv > 19 || (end != NULL && lv == 0)) {
			WT_LOG(ERR,
			       "%s: '%s' is not zstd, zstd:LEVEL (-7 to 19, not 0) or "
			       "off\n",
			       where, val);
			return -1;
		}
		o->compress_level = (int)lv;
		break;
	}
	case WT_OPTID_LOG_BACKLOG:
		o->log_backlog = u;
		break;
	case WT_OPTID_TUNNELS:
		if (strcmp(val, "inner") == 0 || strcmp(val, "outer") == 0) {
			o->tunnels_inner = val[0] == 'i';
		} else {
			WT_LOG(ERR, "%s: '%s' is not inner or outer\n", where, val);
			return -1;
		}
		break;
	case WT_OPTID_PROGRESS:
		if (strcmp(val, "auto") == 0)
			o->progress = -1;
		else if (parse_onoff(val, &b) == 0)
			o->progress = b;
		else {
			WT_LOG(ERR, "%s: '%s' is not on, off or auto\n", where, val);
			return -1;
		}
		break;
	case WT_OPTID_SCAN_INTERVAL:
		o->scan_interval = s;
		break;
	case WT_OPTID_ACTIVE_TIMEOUT:
		o->active_timeout = s;
		break;
	case WT_OPTID_VLAN_KEY:
		o->vlan_key = b;
		break;
	case WT_OPTID_SEGMENT_SIZE:
		o->segment_size = u;
		break;
	case WT_OPTID_FRAG_TABLE_SIZE:
		o->frag_table_size = u;
		break;
	case WT_OPTID_FRAG_TIMEOUT:
		o->frag_timeout = s;
		break;
	case WT_OPTID_HASH_SEED:
		o->hash_seed = u;
		o->hash_seed_set = strcmp(val, "random") != 0;
		break;
	case WT_OPTID_BURST:
		o->burst = u;
		break;
	case WT_OPTID_RX_DESC:
		o->rx_desc = u;
		break;
	case WT_OPTID_MBUFS:
		o->mbufs = u;
		break;
	case WT_OPTID_DURATION:
		o->duration = s;
		break;
	case WT_OPTID_IPFIX:
		o->ipfix = val;
		break;
	case WT_OPTID_IPFIX_DOMAIN:
		o->ipfix_domain = u;
		break;
	case WT_OPTID_IPFIX_TEMPLATE_REFRESH:
		o->ipfix_template_refresh = s;
		break;
	case WT_OPTID_IPFIX_QUEUE:
		o->ipfix_queue_given = strcmp(where, "default") != 0; /* no longer used */
		break;
	case WT_OPTID_QUIET:
		o->quiet = b;
		break;
	case WT_OPTID_HELP:
		o->help = b;
		break;
	case WT_OPTID_VERSION:
		o->version = b;
		break;
	default:
		break;
	}
	return 0;
bad:
	switch (d->kind) {
	case WT_OPT_UINT:
	case WT_OPT_SIZE:
	case WT_OPT_SECS:
		WT_LOG(ERR, "%s: '%s' is not %s between %.15g and %.15g%s\n", where, val,
		       d->kind == WT_OPT_SIZE   ? "a size in bytes (K/M/G suffix allowed)"
		       : d->kind == WT_OPT_SECS ? "a number of seconds"
		                                : "a whole number",
		       d->min, d->max, id == WT_OPTID_ACTIVE_TIMEOUT ? ", off or auto" : "");
		break;
	case WT_OPT_ONOFF:
	case WT_OPT_FLAG:
		WT_LOG(ERR, "%s: '%s' is not on or off\n", where, val);
		break;
	default:
		WT_LOG(ERR, "%s: empty value\n", where);
		break;
	}
	return -1;
}

static int
find_option(const char *name)
{
	for (int i = 0; i < WT_OPTID_MAX; i++)
		if (strcmp(defs[i].name, name) == 0)
			return i;
	return -1;
}

static int
load_config(struct wt_opts *o)
{
	char where[512];
	struct rte_cfgfile *cfg = rte_cfgfile_load(o->config, 0);
	int ret = -1;

	if (cfg == NULL) {
		WT_LOG(ERR, "config %s: cannot read or parse it (%s)\n", o->config,
		       errno ? strerror(errno) : "syntax error");
		return -1;
	}
	int nsec = rte_cfgfile_num_sections(cfg, NULL, 0);
	if (nsec > 0) {
		char(*names)[CFG_NAME_LEN] = calloc((size_t)nsec, CFG_NAME_LEN);
		char **ptrs = calloc((size_t)nsec, sizeof(char *));
		int bad = names == NULL || ptrs == NULL;
		if (!bad) {
			for (int i = 0; i < nsec; i++)
				ptrs[i] = names[i];
			nsec = rte_cfgfile_sections(cfg, ptrs, nsec);
			for (int i = 0; i < nsec && !bad; i++) {
				if (strcmp(names[i], CFG_SECTION) != 0) {
					WT_LOG(ERR,
					       "config %s: unknown section [%s] (only "
					       "[%s])\n",
					       o->config, names[i], CFG_SECTION);
					bad = 1;
				}
			}
		}
		free(names);
		free(ptrs);
		if (bad)
			goto out;
	}
	int n = rte_cfgfile_section_num_entries(cfg, CFG_SECTION);
	if (n < 0)
		n = 0;
	struct rte_cfgfile_entry *ents = calloc((size_t)n + 1, sizeof(*ents));
	if (ents == NULL)
		goto out;
	n = rte_cfgfile_section_entries(cfg, CFG_SECTION, ents, n);
	for (int i = 0; i < n; i++) {
		int id = find_option(ents[i].name);
		snprintf(where, sizeof(where), "config %s: %s", o->config, ents[i].name);
		if (id < 0 || id == WT_OPTID_CONFIG || id == WT_OPTID_HELP ||
		    id == WT_OPTID_VERSION) {
			WT_LOG(ERR, "config %s: unknown key '%s' in [%s]\n", o->config,
			       ents[i].name, CFG_SECTION);
			free(ents);
			goto out;
		}
		if (o->from_cli[id])
			continue; /* the command line wins */
		/* Values outlive the config object, so copy them. A list value
		 * holds several items separated by blanks. */
		char *val = strdup(ents[i].value);
		int bad = val == NULL;
		if (!bad && defs[id].kind == WT_OPT_LIST && id != WT_OPTID_PORT) {
			for (char *save = NULL, *tok = strtok_r(val, " \t", &save);
			     tok != NULL && !bad; tok = strtok_r(NULL, " \t", &save))
				bad = apply(o, (enum wt_opt_id)id, tok, where) != 0;
		} else if (!bad) {
			bad = apply(o, (enum wt_opt_id)id, val, where) != 0;
		}
		if (bad) {
			free(ents);
			goto out;
		}
	}
	free(ents);
	ret = 0;
out:
	rte_cfgfile_close(cfg);
	return ret;
}

/* Interim records are cut at scan passes: a timeout shorter than the scan
 * interval could not be kept. */
static int
check_active_timeout(const struct wt_opts *o)
{
	if (o->active_timeout <= 0 || o->active_timeout >= o->scan_interval)
		return 0;
	char where[600];
	if (o->from_cli[WT_OPTID_ACTIVE_TIMEOUT])
		snprintf(where, sizeof(where), "--active-timeout");
	else
		snprintf(where, sizeof(where), "config %s: active-timeout", o->config);
	WT_LOG(ERR,
	       "%s: %g s is shorter than the scan interval (%g s): interim records "
	       "are written at scan passes; give at least %g, 0 (off) or a shorter "
	       "--scan-interval\n",
	       where, o->active_timeout, o->scan_interval, o->scan_interval);
	return -1;
}

int
wt_opts_parse(struct wt_opts *o, int argc, char **argv)
{
	struct option longopts[WT_OPTID_MAX + 1];
	char shortopts[WT_OPTID_MAX * 2 + 2];
	int ns = 0;

	memset(o, 0, sizeof(*o));
	shortopts[ns++] = ':';
	for (int i = 0; i < WT_OPTID_MAX; i++) {
		longopts[i].name = defs[i].name;
		longopts[i].has_arg = defs[i].kind == WT_OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + i;
		if (defs[i].short_name) {
			shortopts[ns++] = (char)defs[i].short_name;
			if (defs[i].kind != WT_OPT_FLAG)
				shortopts[ns++] = ':';
		}
		/* defaults */
		if (defs[i].kind != WT_OPT_LIST && defs[i].kind != WT_OPT_STR &&
		    defs[i].kind != WT_OPT_FLAG)
			(void)apply(o, (enum wt_opt_id)i, defs[i].def, "default");
	}
	memset(&longopts[WT_OPTID_MAX], 0, sizeof(longopts[0]));
	o->progress = -1;
	o->export_lcore = -2;
	o->scan_lcore = -2;
	o->tunnels_inner = 1;
	o->compress_level = 1; /* --compress zstd */
	shortopts[ns] = '\0';

	optind = 0; /* glibc: start afresh, also after an earlier parse (optind = 1 would keep
	             * its position inside that parse's argv) */
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			if (c == ':')
				WT_LOG(ERR, "option %s needs a value (see --help)\n", bad);
			else
				WT_LOG(ERR, "unknown option %s (see --help)\n", bad);
			return -1;
		}
		int id = -1;
		if (c >= 256)
			id = c - 256;
		else
			for (int i = 0; i < WT_OPTID_MAX; i++)
				if (defs[i].short_name == c)
					id = i;
		if (id < 0)
			return -1;
		char where[80];
		snprintf(where, sizeof(where), "--%s", defs[id].name);
		/* A list given on the command line replaces the config file's. */
		if (apply(o, (enum wt_opt_id)id, optarg, where) != 0)
			return -1;
		o->from_cli[id] = 1;
	}
	if (optind < argc) {
		WT_LOG(ERR,
		       "unexpected argument '%s' (options go after '--'; see "
		       "--help)\n",
		       argv[optind]);
		return -1;
	}
	if (o->config != NULL && load_config(o) != 0)
		return -1;
	return check_active_timeout(o);
}

double
wt_opts_active_timeout(const struct wt_opts *o, int packet_clock)
{
	if (o->active_timeout >= 0)
		return o->active_timeout;
	if (packet_clock)
		return 0;
	return o->scan_interval > WT_ACTIVE_TIMEOUT_LIVE ? o->scan_interval
	                                                 : WT_ACTIVE_TIMEOUT_LIVE;
}
