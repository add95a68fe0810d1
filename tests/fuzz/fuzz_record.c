/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_record.c: libFuzzer harness: any call record through the CSV and JSON writers and the IPFIX
 * encoder, decoded back.
 *
 * Input: the bytes of a struct wt_callrec (zero-filled when shorter), as a
 * damaged or hostile log could hold. Invariants: the CSV line has the
 * header's number of columns and one newline, at its end; the JSON line is
 * one object with balanced braces and quotes; both fit
 * WT_CALLREC_LINE_MAX; the IPFIX message with the templates and the record
 * decodes with the test decoder (tests/unit/ipfix_decode.h, written apart
 * from the encoder) into one record of the template the library chose,
 * whose length is the template's and whose packet counts are the
 * record's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_require.h"

#include "ipfix_decode.h"
#include "wt_ipfix.h"
#include "wt_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count(const char *s, char c)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wt_callrec r;
	static char line[WT_CALLREC_LINE_MAX];

	memset(&r, 0, sizeof(r));
	memcpy(&r, data, size < sizeof(r) ? size : sizeof(r));

	int n = wt_callrec_format_csv(line, sizeof(line), &r);
	REQUIRE(n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n' && line[n] == '\0');
	REQUIRE(strlen(line) == (size_t)n && count(line, '\n') == 1);
	REQUIRE(count(line, ',') == count(wt_callrec_csv_header, ',')); /* no field holds a comma */

	n = wt_callrec_format_json(line, sizeof(line), &r);
	REQUIRE(n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n');
	REQUIRE(strlen(line) == (size_t)n && count(line, '\n') == 1);
	REQUIRE(line[0] == '{' && line[n - 2] == '}');
	REQUIRE(count(line, '{') == count(line, '}') && count(line, '"') % 2 == 0);

	static uint8_t buf[8192];
	static struct decoder d;
	struct wt_ipfix_msg m;
	struct dec_msg dm;
	memset(&d, 0, sizeof(d));
	wt_ipfix_msg_begin(&m, buf, sizeof(buf));
	REQUIRE(wt_ipfix_msg_add_template_sets(&m, WT_IPFIX_TPL_GROUP_PLAIN |
	                                                   WT_IPFIX_TPL_GROUP_TUN) == 0);
	REQUIRE(wt_ipfix_msg_add_record(&m, &r) == 0);
	size_t len = wt_ipfix_msg_finish(&m, 1, 2, 3);
	REQUIRE(dec_message(&d, buf, len, &dm) == 0);
	REQUIRE(dm.data_records == 1 && d.nrec == 1);
	uint16_t tid = wt_ipfix_template_of(&r);
	REQUIRE(d.rec[0].tid == tid);
	struct dec_tpl *t = dec_find_tpl(&d, tid);
	REQUIRE(t != NULL);
	size_t rl = 0;
	for (unsigned int i = 0; i < t->n; i++)
		rl += t->f[i].len;
	REQUIRE(rl == wt_ipfix_record_len(tid));
	/* packetDeltaCount (2) both ways: the initiator's forward (RFC 5103) */
	uint64_t fwd = dec_num(&d.rec[0], 0, 2, UINT64_MAX);
	uint64_t rev = dec_num(&d.rec[0], WT_IPFIX_REVERSE_PEN, 2, UINT64_MAX);
	int b_first = r.origin == WT_ORIGIN_B;
	REQUIRE(fwd == r.d[b_first].pkts && rev == r.d[!b_first].pkts);
	return 0;
}
