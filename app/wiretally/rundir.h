/* SPDX-License-Identifier: BSD-3-Clause */
/* rundir.h: the EAL runtime directory of a monitor run (/run/dpdk/wiretally-PID): removed at exit,
 * and those of dead runs at start. */
#ifndef WT_RUNDIR_H
#define WT_RUNDIR_H

#include <stddef.h>

/** The runtime directory the EAL uses for file prefix wiretally-@pid, as
 * DPDK computes it (/var/run/dpdk for root, else $XDG_RUNTIME_DIR/dpdk or
 * /tmp/dpdk), into @buf. */
void wt_rundir_path(char *buf, size_t len, int pid);

/** Remove the files in @dir (the EAL's: flat) and @dir. @return the number
 * of entries it could not remove (0: gone). */
int wt_rundir_remove(const char *dir);

/** Remove the wiretally-PID runtime directories whose process no longer
 * exists (a run killed before it could clean up). @return how many. */
int wt_rundir_sweep(void);

#endif /* WT_RUNDIR_H */
