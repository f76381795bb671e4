/* SPDX-License-Identifier: GPL-2.0-or-later */
/* probe.c — one include, compiled with the include path of one folder's library
 * (tests/layers/CMakeLists.txt): it builds when the folder may use the header and fails
 * when the header belongs to a folder it may not use, or is another folder's internal one. */
#include PROBE_HEADER

int layer_probe(void);
int layer_probe(void)
{
	return 0;
}
