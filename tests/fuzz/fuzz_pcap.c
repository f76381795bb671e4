/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: one pcap or pcapng file through the matcher's reader (matcher/capture.c:
 * libpcap's parsing, link-layer and IP decoding, TCP reassembly, the TLS and DNS parsers).
 * The bytes go through a memfd, since the reader takes a path. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"

static int count(const struct capture_record *rec, void *arg)
{
	(*(size_t *)arg) += rec->kind == CAPTURE_SNI ? rec->tls.has_name : rec->dns.n_addrs;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	char path[64], err[256];
	size_t seen = 0;
	if (fd < 0 && (fd = memfd_create("fuzz-pcap", MFD_CLOEXEC)) < 0)
		return 0;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	capture_read_file(path, count, &seen, err, sizeof(err));
	return 0;
}
