/* SPDX-License-Identifier: BSD-3-Clause */
/* say.h: the monitor's one way to tell the operator something. */
#ifndef WT_SAY_H
#define WT_SAY_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_log.h>

/*
 * Every message of the monitor is one line "wiretally: ..." with a level
 * (RTE_LOG_ERR, _WARNING, _NOTICE, _INFO), said with WT_LOG(level, ...) from
 * any thread or lcore:
 *   - INFO is for the start-up lines, which --quiet hides
 *     (wt_say_quiet()); errors, warnings and notices are always said;
 *   - while the EAL runs (wt_say_eal(1) after rte_eal_init(), 0 before
 *     rte_eal_cleanup()) the line goes through rte_log under the
 *     "wiretally" log type (EAL option --log-level=wiretally:LEVEL filters
 *     it), to the log stream eal.c opens on stderr; before and after, to
 *     stderr directly;
 *   - the line is written in one call, so lines of several threads never
 *     mix.
 * Not messages, and not said this way: the exit summary and the progress
 * line (stats.c: the monitor's report, a block on stderr), --help and
 * --version (stdout), and records printed as CSV when the log refuses them.
 */
extern int wt_logtype;

void wt_say(uint32_t level, const char *fmt, ...) __rte_format_printf(2, 3);

/** --quiet: from now on INFO lines are not said. */
void wt_say_quiet(int quiet);

/** The EAL is up (1) or about to be cleaned up (0). */
void wt_say_eal(int up);

#define WT_LOG(level, ...) wt_say(RTE_LOG_##level, __VA_ARGS__)

#endif /* WT_SAY_H */
