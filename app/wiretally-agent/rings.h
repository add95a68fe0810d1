/* SPDX-License-Identifier: BSD-3-Clause */
/* rings.h: the per-CPU BPF ring buffers of wiretally-agent, read and merged into one stream in time
 * order. */
#ifndef WTA_RINGS_H
#define WTA_RINGS_H

#include <stddef.h>
#include <stdint.h>

struct wta_rings;

/* Called with each event, in time order across CPUs (in ring order on one
 * CPU). */
typedef void (*wta_store_fn)(void *arg, const void *event, size_t len);

/**
 * Create one ring buffer of @size bytes per CPU (@ncpu of them).
 * @return the rings, or NULL with a one-line reason in @err.
 */
struct wta_rings *wta_rings_open(int ncpu, uint64_t size, wta_store_fn store, void *arg, char *err,
                                 size_t errlen);

/** A ring's fd: the inner map template of the programs' array of maps (set
 * before they are loaded: libbpf 1.1 cannot resize its own template). */
int wta_rings_template_fd(const struct wta_rings *r);

/**
 * Put each CPU's ring into the array of maps @outer_fd (loaded) and open
 * them for reading. @return 0, or -1 with a one-line reason in @err.
 */
int wta_rings_attach(struct wta_rings *r, int outer_fd, char *err, size_t errlen);

/**
 * Wait up to @timeout_ms for a wakeup, then take everything the rings hold
 * and pass on, in time order, every event older than the moment of taking
 * minus a millisecond (a program between reserve and commit on another
 * CPU cannot hold an older one); later ones wait for the next call.
 * @return the events taken, or -errno.
 */
int wta_rings_poll(struct wta_rings *r, int timeout_ms);

/** Take what the rings hold and pass on every event held (at exit). */
int wta_rings_drain(struct wta_rings *r);

/** Events taken from the rings and not yet passed on. */
uint64_t wta_rings_held(const struct wta_rings *r);

void wta_rings_close(struct wta_rings *r);

#endif /* WTA_RINGS_H */
