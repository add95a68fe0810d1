/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_trace.c: libFuzzer harness: wiretally-report's decoder of the agent's trace records, and its
 * connection table.
 *
 * Input: a sequence of frames, each a type byte, a length byte and that
 * many payload bytes (typed records 16..24, stats frames, anything), fed to
 * wtrp_frame() as the reader would hand them over; a type byte with bit 7
 * set instead removes the connection the next 8 bytes name, if it is in
 * the table (as --follow forgets a closed one). Invariants: the decoder
 * never reads past a payload (ASan: each is copied into an exactly sized
 * buffer), every connection in the table is found by its id, the table's
 * count matches, and the text helpers quote whatever a record holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_require.h"

#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct report r;
	memset(&r, 0, sizeof(r));
	FILE *devnull = fopen("/dev/null", "w");
	FILE *saved = stdout;
	stdout = devnull;

	for (size_t off = 0; off + 2 <= size;) {
		unsigned int type = data[off], len = data[off + 1];
		off += 2;
		if (type & 0x80) {
			uint64_t id = 0;
			if (off + 8 <= size)
				memcpy(&id, data + off, 8);
			off += 8;
			struct conn *c = wtrp_find(&r.t, id);
			if (c != NULL)
				wtrp_remove(&r.t, c);
			REQUIRE(wtrp_find(&r.t, id) == NULL);
			continue;
		}
		if (len > size - off)
			len = (unsigned int)(size - off);
		uint8_t *payload = malloc(len ? len : 1);
		memcpy(payload, data + off, len);
		off += len;
		struct wt_seglog_frame f = {.type = type, .len = len, .payload = payload};
		struct conn *c = wtrp_frame(&r, &f);
		if (c != NULL) {
			char comm[17];
			wtrp_csv_str(wtrp_comm(c, comm));
			wtrp_json_str(c->cgroup);
			REQUIRE(strlen(c->cgroup) < sizeof(c->cgroup));
		}
		free(payload);
	}
	for (size_t i = 0; i < r.t.n; i++)
		REQUIRE(wtrp_find(&r.t, r.t.c[i].id) == &r.t.c[i]);
	size_t used = 0;
	for (size_t i = 0; i < r.t.nslot; i++)
		used += r.t.slot[i] != 0;
	REQUIRE(used == r.t.n);
	stdout = saved;
	fclose(devnull);
	wtrp_free(&r);
	return 0;
}
