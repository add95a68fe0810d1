/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_args.h: the option harnesses' input: arguments split at NUL bytes, then an optional config
 * text after a 0xff byte. */
#ifndef FUZZ_ARGS_H
#define FUZZ_ARGS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_require.h"

#define FUZZ_MAX_ARGS 24

struct fuzz_args {
	int argc;
	char *argv[FUZZ_MAX_ARGS + 4];
	char *own[FUZZ_MAX_ARGS + 4]; /* to free: getopt may permute argv */
	const uint8_t *conf;          /* after the first 0xff, or NULL */
	size_t conf_len;
};

/* Split @p..@end; arguments @skip says yes to are left out. */
static inline void
fuzz_args_split(struct fuzz_args *a, const uint8_t *p, const uint8_t *end,
                int (*skip)(const char *))
{
	const uint8_t *ff = memchr(p, 0xff, (size_t)(end - p));
	const uint8_t *aend = ff ? ff : end;

	memset(a, 0, sizeof(*a));
	a->argv[a->argc++] = strdup("prog");
	while (p < aend && a->argc < FUZZ_MAX_ARGS) {
		const uint8_t *z = memchr(p, 0, (size_t)(aend - p));
		size_t n = z ? (size_t)(z - p) : (size_t)(aend - p);
		char *s = malloc(n + 1);
		memcpy(s, p, n);
		s[n] = '\0';
		if (skip != NULL && skip(s))
			free(s);
		else
			a->argv[a->argc++] = s;
		p += n + (z ? 1 : 0);
	}
	if (ff != NULL) {
		a->conf = ff + 1;
		a->conf_len = (size_t)(end - ff - 1);
	}
}

static inline void
fuzz_args_add(struct fuzz_args *a, const char *s)
{
	a->argv[a->argc++] = strdup(s);
}

/* Keep the pointers to free (call before parsing) and free them after. */
static inline void
fuzz_args_keep(struct fuzz_args *a)
{
	a->argv[a->argc] = NULL;
	memcpy(a->own, a->argv, sizeof(a->own));
}

static inline void
fuzz_args_free(struct fuzz_args *a)
{
	for (int i = 0; i < a->argc; i++)
		free(a->own[i]);
}

#endif /* FUZZ_ARGS_H */
