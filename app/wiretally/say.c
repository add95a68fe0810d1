/* SPDX-License-Identifier: BSD-3-Clause */
/* say.c: the monitor's messages: one line each, through rte_log while the EAL runs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "say.h"

RTE_LOG_REGISTER(wt_logtype, wiretally, INFO);

static int say_quiet;  /* atomic: set once at start */
static int say_eal_up; /* atomic */

void
wt_say_quiet(int quiet)
{
	__atomic_store_n(&say_quiet, quiet != 0, __ATOMIC_RELAXED);
}

void
wt_say_eal(int up)
{
	__atomic_store_n(&say_eal_up, up != 0, __ATOMIC_RELEASE);
}

void
wt_say(uint32_t level, const char *fmt, ...)
{
	static const char prefix[] = "wiretally: ";
	char line[8192];
	va_list ap;

	if (level > RTE_LOG_NOTICE && __atomic_load_n(&say_quiet, __ATOMIC_RELAXED))
		return;
	memcpy(line, prefix, sizeof(prefix) - 1);
	va_start(ap, fmt);
	int n = vsnprintf(line + sizeof(prefix) - 1, sizeof(line) - sizeof(prefix), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = strlen(line);
	if (len == sizeof(line) - 1) /* cut: still one line */
		len--;
	if (len == 0 || line[len - 1] != '\n') {
		line[len++] = '\n';
		line[len] = '\0';
	}
	if (__atomic_load_n(&say_eal_up, __ATOMIC_ACQUIRE))
		rte_log(level, (uint32_t)wt_logtype, "%s", line);
	else
		fputs(line, stderr);
}
