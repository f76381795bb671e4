/* SPDX-License-Identifier: GPL-2.0-or-later */
/* capture.c — pcap and pcapng files through libpcap, into the flow table. */
#include "capture.h"

#include <pcap/pcap.h>
#include <stdio.h>

#include "flow.h"
#include "packet.h"

/* pcap_datalink() answers DLT_ values; they equal the file's LINKTYPE_ values except for a
 * few historical ones, DLT_RAW among them (12 on Linux, 14 on OpenBSD). */
static int link_of(int dlt)
{
	switch (dlt) {
	case DLT_NULL: return LINK_NULL;
	case DLT_EN10MB: return LINK_ETHERNET;
	case DLT_RAW: return LINK_RAW;
#ifdef DLT_LOOP
	case DLT_LOOP: return LINK_LOOP;
#endif
	case DLT_LINUX_SLL: return LINK_LINUX_SLL;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2: return LINK_LINUX_SLL2;
#endif
#ifdef DLT_IPV4
	case DLT_IPV4: return LINK_IPV4;
	case DLT_IPV6: return LINK_IPV6;
#endif
	default: return packet_link_known(dlt) ? dlt : -1;
	}
}

static int read_packets(pcap_t *pc, struct flow_table *ft, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc;
	/* pcapng may change the link type between interfaces, but libpcap reports the first
	 * one only and refuses files whose interfaces differ. */
	int link = link_of(pcap_datalink(pc));
	if (link < 0) {
		snprintf(err, errlen, "unsupported link type %s", pcap_datalink_val_to_name(pcap_datalink(pc)));
		return -1;
	}
	while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
		struct packet p;
		if (packet_decode((enum packet_link)link, data, hdr->caplen, &p) != PACKET_OK)
			continue;
		if (flow_table_packet(ft, &p) < 0) {
			snprintf(err, errlen, "stopped");
			return -1;
		}
	}
	if (rc == PCAP_ERROR) {
		snprintf(err, errlen, "%s", pcap_geterr(pc));
		return -1;
	}
	return 0;
}

int capture_read_file(const char *path, capture_fn fn, void *arg, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, pcap_err);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, pcap_err);
		return -1;
	}
	struct flow_table *ft = flow_table_new(fn, arg);
	int ret = -1;
	if (!ft)
		snprintf(err, errlen, "out of memory");
	else
		ret = read_packets(pc, ft, err, errlen);
	flow_table_free(ft);
	pcap_close(pc);
	return ret;
}
