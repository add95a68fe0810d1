/* SPDX-License-Identifier: BSD-3-Clause */
/* wt_counters.c: names and descriptions generated from the counter lists. */
#include "wt_counters.h"

static const char *const drop_names[WT_DROP_MAX] = {[WT_DROP_NONE] = "accounted",
#define N(e, n, d) [WT_DROP_##e] = #n,
                                                    WT_FOREACH_DROP(N)
#undef N
};

static const char *const drop_descs[WT_DROP_MAX] = {[WT_DROP_NONE] = "packet is in a call record",
#define D(e, n, d) [WT_DROP_##e] = d,
                                                    WT_FOREACH_DROP(D)
#undef D
};

static const char *const note_names[WT_NOTE_MAX] = {
#define N(e, n, d) [WT_NOTE_BIT_##e] = #n,
        WT_FOREACH_NOTE(N)
#undef N
};

static const char *const note_descs[WT_NOTE_MAX] = {
#define D(e, n, d) [WT_NOTE_BIT_##e] = d,
        WT_FOREACH_NOTE(D)
#undef D
};

const char *
wt_drop_name(unsigned int reason)
{
	return reason < WT_DROP_MAX ? drop_names[reason] : "?";
}

const char *
wt_drop_desc(unsigned int reason)
{
	return reason < WT_DROP_MAX ? drop_descs[reason] : "?";
}

const char *
wt_note_name(unsigned int bit)
{
	return bit < WT_NOTE_MAX ? note_names[bit] : "?";
}

const char *
wt_note_desc(unsigned int bit)
{
	return bit < WT_NOTE_MAX ? note_descs[bit] : "?";
}
