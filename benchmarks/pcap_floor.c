/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_floor.c: the cost every libpcap-based tool pays to read a capture file (pcap_next_ex,
 * nothing else).
 *
 * Usage: pcap_floor FILE
 *
 * Reads every packet of FILE with pcap_next_ex() and touches one byte of
 * it; prints "packets=N". Its whole-process CPU time is the floor under
 * argus, softflowd, nfpcapd, pmacctd and wiretally --pcap (net_pcap reads
 * with libpcap too) on the same file: benchmarks/run_pipeline.py prints it
 * beside them.
 */
#include <inttypes.h>
#include <stdio.h>

#include <pcap/pcap.h>

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, sum = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_floor FILE\n");
		return 1;
	}
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (p == NULL) {
		fprintf(stderr, "pcap_floor: %s: %s\n", argv[1], err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		n++;
		sum += h->caplen ? d[h->caplen - 1] : 0;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_floor: %s: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets=%" PRIu64 " (checksum %" PRIu64 ")\n", n, sum);
	return 0;
}
