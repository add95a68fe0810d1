/* SPDX-License-Identifier: BSD-3-Clause */
/* agent_flood.c: UDP datagrams to itself over loopback as fast as sendmmsg/recvmmsg go: a known
 * number of agent events.
 *
 * usage: agent_flood SECONDS [BATCH [SIZE]]
 *
 * One socket sends BATCH datagrams of SIZE bytes (default 32, 64) to a
 * second one with one sendmmsg(), which takes them back with recvmmsg()
 * until none is left; for SECONDS. Each datagram sent and each one received
 * is one call of sock_sendmsg/sock_recvmsg, so one UDP_SEND and one
 * UDP_RECV event of wiretally-agent: the program's own counts are the
 * events it caused (plus one OPEN per socket). Prints one JSON line:
 * {"sent":N,"received":N,"seconds":S,"calls_per_s":R}. Used by
 * benchmarks/run_agent.py (part rate).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 256

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: agent_flood SECONDS [BATCH [SIZE]]\n");
		return 2;
	}
	double secs = atof(argv[1]);
	int batch = argc > 2 ? atoi(argv[2]) : 32;
	int size = argc > 3 ? atoi(argv[3]) : 64;
	if (secs <= 0 || batch < 1 || batch > MAX_BATCH || size < 1 || size > 1400) {
		fprintf(stderr, "agent_flood: SECONDS > 0, BATCH 1..%d, SIZE 1..1400\n", MAX_BATCH);
		return 2;
	}
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int big = 1 << 22;
	if (rx < 0 || tx < 0 || setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) != 0 ||
	    bind(rx, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(rx, (struct sockaddr *)&a, &alen) != 0 ||
	    connect(tx, (struct sockaddr *)&a, sizeof(a)) != 0) {
		fprintf(stderr, "agent_flood: sockets: %s\n", strerror(errno));
		return 1;
	}
	static char out[MAX_BATCH][1400], in[MAX_BATCH][1500];
	static struct iovec oiov[MAX_BATCH], iiov[MAX_BATCH];
	static struct mmsghdr om[MAX_BATCH], im[MAX_BATCH];
	for (int i = 0; i < batch; i++) {
		memset(out[i], 'f', (size_t)size);
		oiov[i] = (struct iovec){out[i], (size_t)size};
		iiov[i] = (struct iovec){in[i], sizeof(in[i])};
		om[i].msg_hdr.msg_iov = &oiov[i];
		om[i].msg_hdr.msg_iovlen = 1;
		im[i].msg_hdr.msg_iov = &iiov[i];
		im[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long sent = 0, received = 0;
	double t0 = now(), t = t0;
	for (unsigned long k = 0; t - t0 < secs; k++) {
		int n = sendmmsg(tx, om, (unsigned int)batch, 0);
		if (n > 0)
			sent += (unsigned long long)n;
		for (;;) {
			int r = recvmmsg(rx, im, (unsigned int)batch, MSG_DONTWAIT, NULL);
			if (r <= 0)
				break;
			received += (unsigned long long)r;
		}
		if (k % 64 == 0)
			t = now();
	}
	t = now() - t0;
	printf("{\"sent\":%llu,\"received\":%llu,\"seconds\":%.3f,\"calls_per_s\":%.0f}\n", sent,
	       received, t, (double)(sent + received) / t);
	return 0;
}
