/* SPDX-License-Identifier: GPL-2.0-or-later */
/* explain_format.h — the answer of pinhole explain, for a reviewer (text) or a bot (json). */
#ifndef PINHOLE_EXPLAIN_FORMAT_H
#define PINHOLE_EXPLAIN_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "explain.h"

/* Writes which rules let the target through, with the set element and its file:line; near
 * misses (the set holds it, the protocol or port does not fit); sets that hold it but no rule
 * uses; or that nothing holds it. target_text is the target as the user wrote it, label the
 * rules file. json selects the JSON form (schema in pinhole(8), EXPLAIN). Returns 0, or -1
 * on a write error. */
int explanation_render(const struct explanation *e, const char *target_text, const char *label, bool json, FILE *out);

#endif
