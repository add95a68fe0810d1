/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_ipfix.h: call records as IPFIX (RFC 7011) biflow records (RFC 5103): templates, data,
 * messages.
 *
 * Every call record becomes one bidirectional Data Record. The forward
 * direction is the connection's initiator when the record knows it (origin
 * a or b), else endpoint a; the reverse counters (RFC 5103, Private
 * Enterprise Number 29305) are what the other endpoint sent. Eight
 * templates: IPv4 and IPv6, each with and without the TCP elements (flags,
 * sequence numbers), each with and without the tunnel elements (record
 * version 2: a connection inside tunnels), so that no record carries a
 * meaningless value.
 * Elements IANA has no number for are enterprise-specific under
 * WT_IPFIX_PEN; their reverse counterparts set bit 0x4000 of the element
 * id (RFC 5103 section 6.2). docs/IPFIX.md lists every element.
 *
 * This file is the pure encoder: no I/O, no allocation, no EAL; any thread
 * with its own struct wt_ipfix_msg. wt_ipfix_export.h sends messages.
 */
#ifndef WT_IPFIX_H
#define WT_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "wt_record.h"

/*
 * Private Enterprise Number of wiretally's own Information Elements. 32473
 * is the number RFC 5612 reserves for documentation and examples: the
 * project has not registered its own yet. Change it here only (collector
 * configs in config/ and docs/IPFIX.md name it too).
 */
#define WT_IPFIX_PEN 32473u
/* RFC 5103: reverse counterparts of IANA elements. */
#define WT_IPFIX_REVERSE_PEN 29305u
/* RFC 5103 section 6.2: reverse of an enterprise-specific element. */
#define WT_IPFIX_REVERSE_BIT 0x4000u

#define WT_IPFIX_VERSION         10
#define WT_IPFIX_HDR_LEN         16
#define WT_IPFIX_SET_HDR_LEN     4
#define WT_IPFIX_MAX_MSG         65535u /* the message length field has 16 bits */
#define WT_IPFIX_TEMPLATE_SET_ID 2

/* Template ids (data set ids). */
/* Template ids (data set ids): 256 + bit 0 not TCP, bit 1 IPv6, bit 2 tunnelled. */
enum wt_ipfix_template {
	WT_IPFIX_TPL_V4_TCP = 256,
	WT_IPFIX_TPL_V4 = 257,
	WT_IPFIX_TPL_V6_TCP = 258,
	WT_IPFIX_TPL_V6 = 259,
	WT_IPFIX_TPL_V4_TCP_TUN = 260,
	WT_IPFIX_TPL_V4_TUN = 261,
	WT_IPFIX_TPL_V6_TCP_TUN = 262,
	WT_IPFIX_TPL_V6_TUN = 263,
};
#define WT_IPFIX_TPL_FIRST WT_IPFIX_TPL_V4_TCP
#define WT_IPFIX_NTPL      8
/* Template groups, each one template set: the four plain templates and the
 * four tunnel ones (together they pass a 1400-byte UDP message). */
#define WT_IPFIX_TPL_GROUP_PLAIN 1u
#define WT_IPFIX_TPL_GROUP_TUN   2u
#define WT_IPFIX_TPL_GROUP_ALL   3u

/* Which templates carry an element. */
#define WT_IPFIX_IN_ALL 0 /* every template */
#define WT_IPFIX_IN_TCP 1 /* only the TCP templates */
#define WT_IPFIX_IN_V4  2 /* only the IPv4 templates */
#define WT_IPFIX_IN_V6  3 /* only the IPv6 templates */
#define WT_IPFIX_IN_TUN 4 /* only the tunnel templates */

/* flowEndReason values (IANA registry "flowEndReason"). */
#define WT_IPFIX_END_IDLE   1 /* idleTimeout */
#define WT_IPFIX_END_ACTIVE 2 /* activeTimeout */
#define WT_IPFIX_END_EOF    3 /* endOfFlowDetected */
#define WT_IPFIX_END_FORCED 4 /* forcedEnd */
#define WT_IPFIX_END_LACK   5 /* lackOfResources */

/* biflowDirection values (RFC 5103 section 6.3). */
#define WT_IPFIX_BIDIR_ARBITRARY 0
#define WT_IPFIX_BIDIR_INITIATOR 1

/* wtTcpSequenceValid bits */
#define WT_IPFIX_SEQ_VALID_FWD 0x01
#define WT_IPFIX_SEQ_VALID_REV 0x02
/* wtTcpFiguresValid bits (record version 2, docs/IPFIX.md) */
#define WT_IPFIX_TCP_VALID     0x01 /* the sequence, retransmitted, missed figures */
#define WT_IPFIX_TCP_ACKED_FWD 0x02 /* wtTcpAckedOctetDeltaCount: the reverse ACKed */
#define WT_IPFIX_TCP_ACKED_REV 0x04 /* its reverse counterpart */
/* wtTunnelIdsValid bits: bit i (0..3) wtTunnelIds holds level i's VNI or
 * GRE key; these for the GTP-U TEIDs: */
#define WT_IPFIX_TEID_FWD 0x10 /* wtGtpuTeid */
#define WT_IPFIX_TEID_REV 0x20 /* reverseWtGtpuTeid */

/*
 * The elements of a data record, in template order:
 * _(ENUM, PEN, element id, length, where, name).
 * Order matters to one collector: nfdump 1.7 maps a reverse (PEN 29305)
 * element it has no reverse slot for (tcpControlBits, sourceMacAddress) to
 * the forward element of the same number, so the reverse ones come first
 * and the forward value, written after it, is what nfdump keeps.
 * Numbers matter to another: pmacct 1.7 tells two enterprise elements of
 * one template apart by id and repetition, not by PEN, so wiretally's own
 * ids start at 101, clear of the reverse IANA ids used here (1, 2, 6, 56).
 * tcpControlBits uses the reduced-size encoding of 1 byte (RFC 7011
 * section 6.2): the record keeps the 8 classic flags, and pmacct reads
 * only 1-byte flags.
 */
#define WT_IPFIX_FOREACH_ELEMENT(_)                                                          \
	_(START_MS, 0, 152, 8, WT_IPFIX_IN_ALL, "flowStartMilliseconds")                     \
	_(END_MS, 0, 153, 8, WT_IPFIX_IN_ALL, "flowEndMilliseconds")                         \
	_(SRC4, 0, 8, 4, WT_IPFIX_IN_V4, "sourceIPv4Address")                                \
	_(DST4, 0, 12, 4, WT_IPFIX_IN_V4, "destinationIPv4Address")                          \
	_(SRC6, 0, 27, 16, WT_IPFIX_IN_V6, "sourceIPv6Address")                              \
	_(DST6, 0, 28, 16, WT_IPFIX_IN_V6, "destinationIPv6Address")                         \
	_(SPORT, 0, 7, 2, WT_IPFIX_IN_ALL, "sourceTransportPort")                            \
	_(DPORT, 0, 11, 2, WT_IPFIX_IN_ALL, "destinationTransportPort")                      \
	_(PROTO, 0, 4, 1, WT_IPFIX_IN_ALL, "protocolIdentifier")                             \
	_(VLAN, 0, 58, 2, WT_IPFIX_IN_ALL, "vlanId")                                         \
	_(BIDIR, 0, 239, 1, WT_IPFIX_IN_ALL, "biflowDirection")                              \
	_(END_REASON, 0, 136, 1, WT_IPFIX_IN_ALL, "flowEndReason")                           \
	_(REV_SMAC, WT_IPFIX_REVERSE_PEN, 56, 6, WT_IPFIX_IN_ALL, "reverseSourceMacAddress") \
	_(SMAC, 0, 56, 6, WT_IPFIX_IN_ALL, "sourceMacAddress")                               \
	_(PKTS, 0, 2, 8, WT_IPFIX_IN_ALL, "packetDeltaCount")                                \
	_(OCTETS, 0, 1, 8, WT_IPFIX_IN_ALL, "octetDeltaCount")                               \
	_(REV_PKTS, WT_IPFIX_REVERSE_PEN, 2, 8, WT_IPFIX_IN_ALL, "reversePacketDeltaCount")  \
	_(REV_OCTETS, WT_IPFIX_REVERSE_PEN, 1, 8, WT_IPFIX_IN_ALL, "reverseOctetDeltaCount") \
	_(REV_FLAGS, WT_IPFIX_REVERSE_PEN, 6, 1, WT_IPFIX_IN_TCP, "reverseTcpControlBits")   \
	_(FLAGS, 0, 6, 1, WT_IPFIX_IN_TCP, "tcpControlBits")                                 \
	_(PAYLOAD, WT_IPFIX_PEN, 101, 8, WT_IPFIX_IN_ALL, "wtPayloadOctetDeltaCount")        \
	_(REV_PAYLOAD, WT_IPFIX_PEN, 101 | WT_IPFIX_REVERSE_BIT, 8, WT_IPFIX_IN_ALL,         \
	  "reverseWtPayloadOctetDeltaCount")                                                 \
	_(SEQ_FIRST, WT_IPFIX_PEN, 102, 4, WT_IPFIX_IN_TCP, "wtTcpSequenceFirst")            \
	_(REV_SEQ_FIRST, WT_IPFIX_PEN, 102 | WT_IPFIX_REVERSE_BIT, 4, WT_IPFIX_IN_TCP,       \
	  "reverseWtTcpSequenceFirst")                                                       \
	_(SEQ_LAST, WT_IPFIX_PEN, 103, 4, WT_IPFIX_IN_TCP, "wtTcpSequenceLast")              \
	_(REV_SEQ_LAST, WT_IPFIX_PEN, 103 | WT_IPFIX_REVERSE_BIT, 4, WT_IPFIX_IN_TCP,        \
	  "reverseWtTcpSequenceLast")                                                        \
	_(SEQ_VALID, WT_IPFIX_PEN, 104, 1, WT_IPFIX_IN_TCP, "wtTcpSequenceValid")            \
	_(REC_SEQ, WT_IPFIX_PEN, 105, 8, WT_IPFIX_IN_ALL, "wtRecordSeq")                     \
	_(CALL_ID, WT_IPFIX_PEN, 106, 16, WT_IPFIX_IN_ALL, "wtCallId")                       \
	_(WT_END, WT_IPFIX_PEN, 107, 1, WT_IPFIX_IN_ALL, "wtEndReason")                      \
	_(TCP_SEQ, WT_IPFIX_PEN, 108, 8, WT_IPFIX_IN_TCP, "wtTcpSeqOctetDeltaCount")         \
	_(REV_TCP_SEQ, WT_IPFIX_PEN, 108 | WT_IPFIX_REVERSE_BIT, 8, WT_IPFIX_IN_TCP,         \
	  "reverseWtTcpSeqOctetDeltaCount")                                                  \
	_(TCP_ACKED, WT_IPFIX_PEN, 109, 8, WT_IPFIX_IN_TCP, "wtTcpAckedOctetDeltaCount")     \
	_(REV_TCP_ACKED, WT_IPFIX_PEN, 109 | WT_IPFIX_REVERSE_BIT, 8, WT_IPFIX_IN_TCP,       \
	  "reverseWtTcpAckedOctetDeltaCount")                                                \
	_(TCP_RETX, WT_IPFIX_PEN, 110, 8, WT_IPFIX_IN_TCP, "wtTcpRetransOctetDeltaCount")    \
	_(REV_TCP_RETX, WT_IPFIX_PEN, 110 | WT_IPFIX_REVERSE_BIT, 8, WT_IPFIX_IN_TCP,        \
	  "reverseWtTcpRetransOctetDeltaCount")                                              \
	_(TCP_MISSED, WT_IPFIX_PEN, 111, 8, WT_IPFIX_IN_TCP, "wtTcpMissedOctetDeltaCount")   \
	_(REV_TCP_MISSED, WT_IPFIX_PEN, 111 | WT_IPFIX_REVERSE_BIT, 8, WT_IPFIX_IN_TCP,      \
	  "reverseWtTcpMissedOctetDeltaCount")                                               \
	_(TCP_VALID, WT_IPFIX_PEN, 112, 1, WT_IPFIX_IN_TCP, "wtTcpFiguresValid")             \
	_(TUN_CHAIN, WT_IPFIX_PEN, 113, 5, WT_IPFIX_IN_TUN, "wtTunnelChain")                 \
	_(TUN_IDS, WT_IPFIX_PEN, 114, 16, WT_IPFIX_IN_TUN, "wtTunnelIds")                    \
	_(TUN_IDS_VALID, WT_IPFIX_PEN, 115, 1, WT_IPFIX_IN_TUN, "wtTunnelIdsValid")          \
	_(TEID, WT_IPFIX_PEN, 116, 4, WT_IPFIX_IN_TUN, "wtGtpuTeid")                         \
	_(REV_TEID, WT_IPFIX_PEN, 116 | WT_IPFIX_REVERSE_BIT, 4, WT_IPFIX_IN_TUN,            \
	  "reverseWtGtpuTeid")                                                               \
	_(OUTER_FAMILY, WT_IPFIX_PEN, 117, 1, WT_IPFIX_IN_TUN, "wtTunnelOuterFamily")        \
	_(OUTER_SRC, WT_IPFIX_PEN, 118, 16, WT_IPFIX_IN_TUN, "wtTunnelOuterSourceAddress")   \
	_(REV_OUTER_SRC, WT_IPFIX_PEN, 118 | WT_IPFIX_REVERSE_BIT, 16, WT_IPFIX_IN_TUN,      \
	  "reverseWtTunnelOuterSourceAddress")

enum wt_ipfix_element {
#define WT_IPFIX_EL_ENUM(e, pen, id, len, where, name) WT_IPFIX_EL_##e,
	WT_IPFIX_FOREACH_ELEMENT(WT_IPFIX_EL_ENUM)
#undef WT_IPFIX_EL_ENUM
	        WT_IPFIX_EL_MAX
};

/* One element of the list above (for docs, tests and tools). */
struct wt_ipfix_element_def {
	uint32_t pen; /* 0 = IANA */
	uint16_t id;
	uint16_t len;
	uint8_t where; /* WT_IPFIX_IN_* */
	const char *name;
};

/** The element list, WT_IPFIX_EL_MAX entries, in template order. */
extern const struct wt_ipfix_element_def wt_ipfix_elements[WT_IPFIX_EL_MAX];

/** Does template @tid carry element @e? */
int wt_ipfix_template_has(uint16_t tid, enum wt_ipfix_element e);

/** Template id for a record (by family and protocol). */
uint16_t wt_ipfix_template_of(const struct wt_callrec *r);

/** Bytes of one data record of template @tid (no padding). */
size_t wt_ipfix_record_len(uint16_t tid);

/** Bytes of the template set holding all the templates. */
size_t wt_ipfix_template_set_len(void);

/** The group (WT_IPFIX_TPL_GROUP_*) of template @tid. */
unsigned int wt_ipfix_template_group(uint16_t tid);

/** Bytes of the template sets of @groups (one set per group). */
size_t wt_ipfix_template_sets_len(unsigned int groups);

/**
 * flowEndReason of a record: idle -> idleTimeout (1), active ->
 * activeTimeout (2), evicted -> lackOfResources (5), shutdown -> forcedEnd
 * (4); but idle or shutdown of a TCP connection that ended itself (RST
 * seen, or FIN seen from both ends) -> endOfFlowDetected (3).
 */
uint8_t wt_ipfix_flow_end_reason(const struct wt_callrec *r);

/**
 * A message being built in a caller's buffer. Usage:
 *   wt_ipfix_msg_begin(&m, buf, cap);
 *   wt_ipfix_msg_add_templates(&m);            (when templates are due)
 *   while (wt_ipfix_msg_add_record(&m, r) == 0) ...
 *   len = wt_ipfix_msg_finish(&m, domain, seq, export_time);
 * A message holds templates and data sets in the order added; a data set
 * is opened whenever the template changes.
 */
struct wt_ipfix_msg {
	uint8_t *buf;
	size_t cap;         /* <= WT_IPFIX_MAX_MSG */
	size_t len;         /* bytes used, header included */
	size_t set_off;     /* offset of the open set's header; 0 = no open set */
	uint16_t set_id;    /* id of the open set */
	uint32_t records;   /* data records added */
	uint32_t templates; /* template records added */
};

/** Start an empty message in @buf (@cap >= 256; capped at WT_IPFIX_MAX_MSG). */
void wt_ipfix_msg_begin(struct wt_ipfix_msg *m, uint8_t *buf, size_t cap);

/** Add one template set per group of @groups (WT_IPFIX_TPL_GROUP_*), all or
 * none. @return 0, or -ENOSPC when they do not fit the message.
 */
int wt_ipfix_msg_add_template_sets(struct wt_ipfix_msg *m, unsigned int groups);

/** Add the template sets with all the templates.
 * @return 0, or -ENOSPC (nothing added) when it does not fit. */
int wt_ipfix_msg_add_templates(struct wt_ipfix_msg *m);

/** Add one data record (opening a data set when needed).
 * @return 0, or -ENOSPC (nothing added) when it does not fit. */
int wt_ipfix_msg_add_record(struct wt_ipfix_msg *m, const struct wt_callrec *r);

/**
 * Close the open set and write the message header: version 10, length,
 * @export_time (seconds since the epoch), @seq (data records sent before
 * this message in this transport session and observation domain, mod
 * 2^32: RFC 7011 section 3.1), @domain (observation domain id).
 * @return the message length in bytes.
 */
size_t wt_ipfix_msg_finish(struct wt_ipfix_msg *m, uint32_t domain, uint32_t seq,
                           uint32_t export_time);

#endif /* WT_IPFIX_H */
