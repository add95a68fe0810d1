/* SPDX-License-Identifier: BSD-3-Clause */
/* cpu_jitter.c: how long a busy-polling thread on a CPU is stopped by everything else (interrupts,
 * other tasks, the hypervisor).
 *
 * Usage: cpu_jitter CPU SECONDS
 *
 * Pins itself to CPU, reads the TSC in a tight loop for SECONDS and counts
 * the gaps between two reads longer than 20 us, 69 us (a 1024-entry RX
 * ring at 14.88 Mpps), 275 us (4096 entries) and 1 ms, and the longest.
 * An RX lcore on that CPU is stopped just as long: a gap longer than its
 * ring holds is packets a NIC would miss whatever the monitor does.
 * Prints one line of key=value.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: cpu_jitter CPU SECONDS\n");
		return 1;
	}
	int cpu = atoi(argv[1]);
	double secs = atof(argv[2]);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		perror("cpu_jitter: sched_setaffinity");
		return 1;
	}
	/* TSC rate over 200 ms */
	double s0 = now_s();
	unsigned long long c0 = __rdtsc();
	while (now_s() - s0 < 0.2)
		;
	double hz = (double)(__rdtsc() - c0) / (now_s() - s0);

	const double lim[4] = {20, 69, 275, 1000};
	unsigned long over[4] = {0};
	double longest = 0;
	unsigned long long prev = __rdtsc();
	unsigned long long end = prev + (unsigned long long)(secs * hz);
	while (prev < end) {
		unsigned long long t = __rdtsc();
		double gap = (double)(t - prev) / hz * 1e6;
		prev = t;
		for (int i = 0; i < 4; i++)
			over[i] += gap > lim[i];
		if (gap > longest)
			longest = gap;
	}
	printf("cpu=%d seconds=%g over_20us=%lu over_69us=%lu over_275us=%lu over_1ms=%lu "
	       "longest_us=%.0f\n",
	       cpu, secs, over[0], over[1], over[2], over[3], longest);
	return 0;
}
