/* SPDX-License-Identifier: BSD-3-Clause */
/* options.h: the monitor's options: one list drives getopt, the config file and --help. */
#ifndef WT_OPTIONS_H
#define WT_OPTIONS_H

#include <stdint.h>

#define WT_MAX_INPUTS 16

/* Kinds of option values. */
enum wt_opt_kind {
	WT_OPT_FLAG,  /* no argument */
	WT_OPT_STR,   /* any text */
	WT_OPT_LIST,  /* repeatable text (--pcap, --iface) */
	WT_OPT_UINT,  /* decimal or 0x hex, range-checked */
	WT_OPT_SIZE,  /* bytes, with optional K/M/G suffix (powers of 1024) */
	WT_OPT_SECS,  /* seconds, fractions allowed */
	WT_OPT_ONOFF, /* on/off, yes/no, true/false, 1/0 */
};

/*
 * _(ID, long name, short letter or 0, kind, default (text), min, max, help)
 * Every option except config and help also is a key of the [wiretally]
 * section of the config file, spelled as the long name.
 */
#define WT_FOREACH_OPTION(_)                                                                       \
	_(CONFIG, "config", 'c', WT_OPT_STR, "", 0, 0,                                             \
	  "read options from this INI file ([wiretally] section); command line wins")              \
	_(PCAP, "pcap", 0, WT_OPT_LIST, "", 0, 0,                                                  \
	  "read this capture (pcap/pcapng file, - for stdin, a FIFO; a net_pcap port; "            \
	  "repeatable)")                                                                           \
	_(IFACE, "iface", 0, WT_OPT_LIST, "", 0, 0,                                                \
	  "capture live from this kernel interface (adds a net_af_packet port; repeatable)")       \
	_(PORT, "port", 'p', WT_OPT_LIST, "", 0, 0,                                                \
	  "use only these DPDK port ids (default: every port; repeatable or comma list)")          \
	_(OUTPUT, "output", 'o', WT_OPT_STR, "", 0, 0,                                             \
	  "log directory for call-record segments (created, mode 0750, when missing; required)")   \
	_(RX_CORES, "rx-cores", 0, WT_OPT_UINT, "1", 1, 32,                                        \
	  "RX lcores, each with its own RX queue per port and its own call-record table")          \
	_(EXPORT_LCORE, "export-lcore", 0, WT_OPT_STR, "auto", 0, 0,                               \
	  "lcore of the exporter: an EAL lcore id, main, or auto (a worker lcore left over by "    \
	  "the RX lcores, else main)")                                                             \
	_(SCAN_LCORE, "scan-lcore", 0, WT_OPT_STR, "auto", 0, 0,                                   \
	  "lcore of the completion scanner (live clock): an EAL lcore id, main, or auto")          \
	_(TABLE_SIZE, "table-size", 0, WT_OPT_UINT, "1048576", 16, 268435456,                      \
	  "call records per RX lcore, preallocated at start")                                      \
	_(SCAN_INTERVAL, "scan-interval", 0, WT_OPT_SECS, "180", 0.001, 86400,                     \
	  "completion scan period in seconds: a record idle for a whole period completes")         \
	_(ACTIVE_TIMEOUT, "active-timeout", 0, WT_OPT_SECS, "auto", 0, 604800,                     \
	  "interim records of long calls: at a scan pass, a call whose current part began at "     \
	  "least SEC ago writes it (end_reason active) and goes on; 0 or off: never; auto: off "   \
	  "for capture files, 300 live (at least --scan-interval)")                                \
	_(VLAN_KEY, "vlan-key", 0, WT_OPT_ONOFF, "on", 0, 0,                                       \
	  "make the outermost VLAN id part of the connection key")                                 \
	_(TUNNELS, "tunnels", 0, WT_OPT_STR, "inner", 0, 0,                                        \
	  "inner: a record per connection inside GRE, VXLAN, Geneve, GTP-U, IP-in-IP and Teredo "  \
	  "tunnels (nested too), keyed with the tunnel; outer: a record per tunnel, as record "    \
	  "version 1 did")                                                                         \
	_(SEGMENT_SIZE, "segment-size", 0, WT_OPT_SIZE, "64M", 65536, 68719476736.0,               \
	  "bytes per log segment file (K/M/G suffixes)")                                           \
	_(SPOOL, "spool", 0, WT_OPT_STR, "auto", 0, 0,                                             \
	  "segments are written in this spool directory (hugetlbfs: zero-copy) and archived into " \
	  "the output directory with fsync by a background thread; auto: a spool on the "          \
	  "hugetlbfs mount when enough hugepages are free; off: straight into the output "         \
	  "directory")                                                                             \
	_(COMPRESS, "compress", 0, WT_OPT_STR, "zstd", 0, 0,                                       \
	  "sealed segments in the output directory are stored compressed: zstd (level 1), "        \
	  "zstd:LEVEL (-7 to 19), or off (raw); the spool and the segment being written stay raw") \
	_(SPOOL_SEGMENTS, "spool-segments", 0, WT_OPT_UINT, "4", 2, 64,                            \
	  "spool files at once (being written, waiting for the archiver, prepared ahead)")         \
	_(LOG_BACKLOG, "log-backlog", 0, WT_OPT_UINT, "1048576", 0, 268435456,                     \
	  "completed records kept in memory (304 bytes each, allocated when needed) while the "    \
	  "log cannot take them (disk full, spool full); they are written when it takes them "     \
	  "again, and beyond this many records are printed on stderr as CSV")                      \
	_(FRAG_TABLE_SIZE, "frag-table-size", 0, WT_OPT_UINT, "4096", 16, 16777216,                \
	  "IP datagrams whose first fragment is remembered, per RX lcore")                         \
	_(FRAG_TIMEOUT, "frag-timeout", 0, WT_OPT_SECS, "30", 0.001, 3600,                         \
	  "seconds a fragment-table entry lives after its last use")                               \
	_(HASH_SEED, "hash-seed", 0, WT_OPT_UINT, "random", 0, 18446744073709551615.0,             \
	  "seed of the table hash (default: random per run; records do not depend on it)")         \
	_(BURST, "burst", 0, WT_OPT_UINT, "32", 1, 64, "packets per RX burst")                     \
	_(RX_DESC, "rx-desc", 0, WT_OPT_UINT, "1024", 64, 32768, "RX descriptors per queue")       \
	_(MBUFS, "mbufs", 0, WT_OPT_UINT, "8191", 1023, 4194303, "mbufs in the packet pool")       \
	_(RECORD_RING, "record-ring", 0, WT_OPT_UINT, "16384", 64, 1048576,                        \
	  "completed records one RX lcore can queue for the exporter (as many again kept aside)")  \
	_(FORWARD_RING, "forward-ring", 0, WT_OPT_UINT, "4096", 64, 1048576,                       \
	  "packets one RX lcore can queue for another (software sharding)")                        \
	_(IPFIX, "ipfix", 0, WT_OPT_STR, "", 0, 0,                                                 \
	  "also send every record written to the log to this IPFIX collector: udp://HOST:PORT or " \
	  "tcp://HOST:PORT (IPv6: udp://[ADDR]:PORT); docs/IPFIX.md")                              \
	_(IPFIX_DOMAIN, "ipfix-domain", 0, WT_OPT_UINT, "1", 0, 4294967295.0,                      \
	  "IPFIX observation domain id")                                                           \
	_(IPFIX_TEMPLATE_REFRESH, "ipfix-template-refresh", 0, WT_OPT_SECS, "60", 0.1, 86400,      \
	  "IPFIX over UDP: seconds between template re-sends (also every 1000 messages)")          \
	_(IPFIX_QUEUE, "ipfix-queue", 0, WT_OPT_UINT, "65536", 64, 16777216,                       \
	  "no longer used: the IPFIX sender reads every record from the log (accepted, with a "    \
	  "warning, so that older command lines and configs still start)")                         \
	_(PROGRESS, "progress", 0, WT_OPT_STR, "auto", 0, 0,                                       \
	  "one-line rate display on stderr every second: on, off, or auto (on a terminal)")        \
	_(DURATION, "duration", 0, WT_OPT_SECS, "0", 0, 31536000,                                  \
	  "stop after this many seconds (0: at the end of input or on a signal)")                  \
	_(QUIET, "quiet", 'q', WT_OPT_FLAG, "off", 0, 0,                                           \
	  "print only errors, warnings and notices (no start-up lines, no exit summary)")          \
	_(HELP, "help", 'h', WT_OPT_FLAG, "off", 0, 0, "show this help and exit")                  \
	_(VERSION, "version", 'V', WT_OPT_FLAG, "off", 0, 0, "show the version and exit")

enum wt_opt_id {
#define WT_OPT_ENUM(id, name, sh, kind, def, mn, mx, help) WT_OPTID_##id,
	WT_FOREACH_OPTION(WT_OPT_ENUM)
#undef WT_OPT_ENUM
	        WT_OPTID_MAX
};

struct wt_opts {
	const char *config;
	const char *pcap[WT_MAX_INPUTS];
	unsigned int n_pcap;
	const char *iface[WT_MAX_INPUTS];
	unsigned int n_iface;
	uint16_t ports[WT_MAX_INPUTS * 4];
	unsigned int n_ports;
	const char *output;
	uint64_t rx_cores;
	int export_lcore; /* -1 main, -2 auto, else an lcore id */
	int scan_lcore;
	uint64_t table_size;
	double scan_interval;
	double active_timeout; /* seconds; 0 = off, -1 = auto (wt_opts_active_timeout()) */
	int vlan_key;
	int tunnels_inner; /* --tunnels inner (1) or outer (0) */
	uint64_t segment_size;
	const char *spool; /* NULL = auto, "" = off, else a directory */
	uint64_t spool_segments;
	uint64_t log_backlog;
	int compress_level; /* zstd level of sealed segments, 0 = off */
	uint64_t frag_table_size;
	double frag_timeout;
	uint64_t hash_seed;
	int hash_seed_set;
	uint64_t burst;
	uint64_t rx_desc;
	uint64_t mbufs;
	uint64_t record_ring;
	uint64_t forward_ring;
	const char *ipfix; /* collector URL, NULL = none */
	uint64_t ipfix_domain;
	double ipfix_template_refresh;
	int ipfix_queue_given; /* --ipfix-queue: no longer used, said at start */
	int progress;          /* -1 auto, 0 off, 1 on */
	double duration;
	int quiet;
	int help;
	int version;
	/* which options were given on the command line (they beat the config) */
	uint8_t from_cli[WT_OPTID_MAX];
};

/**
 * Parse the application part of the command line (after "--", or all of it
 * without EAL options), then the config file it names, into @o.
 * @return 0, or -1 after printing one line naming the bad option or key.
 */
int wt_opts_parse(struct wt_opts *o, int argc, char **argv);

/** Print the usage text (every option, its config key and default). */
void wt_opts_usage(const char *prog);

/* --active-timeout auto: for live ports (system clock); capture files: off. */
#define WT_ACTIVE_TIMEOUT_LIVE 300.0

/**
 * The active timeout in effect, in seconds (0 = no interim records):
 * @packet_clock nonzero when every input is a capture file read on packet
 * time.
 */
double wt_opts_active_timeout(const struct wt_opts *o, int packet_clock);

#endif /* WT_OPTIONS_H */
