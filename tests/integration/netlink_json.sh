#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole apply / remove --format json, judged by jq and the real nft: a first apply reports
# the objects nft then lists; a re-apply says changed=false and sends no batch; a one-line
# edit reports exactly its element counts; --dry-run commits nothing; --confirm gives the
# deadline; a rules-file error and a foreign table still give one parseable document; remove
# reports what went. stdout holds the document alone. Fresh namespaces (netlink_lib.bash).
CASES="first_apply reapply one_line_edit dry_run confirm errors foreign_table sets_only remove bad_format"
source "$(dirname "$0")/netlink_lib.bash"

# jqt DESCRIPTION FILTER FILE: PASS when jq -e FILTER holds for FILE (one JSON document).
jqt() {
	if jq -e "$2" "$3" >/dev/null; then pass "$1"; else fail "$1 ($2 on $(jq -c . "$3" 2>&1 | head -c 600))"; fi
}

# The number of elements nft lists in every set of table inet pinhole.
nft_elements() {
	nft -j list sets inet | jq '[.nftables[] | select(.set.table? == "pinhole") | .set.name] | .[]' -r |
		while read -r s; do set_elems pinhole "$s"; done | wc -l
}

case_first_apply() {
	"$PINHOLE" apply -f json rules/marketo.rules >"$NL_TMP/a.json"
	expect "apply --format json exits 0" test $? -eq 0
	jqt "stdout is one document: command apply, table pinhole, inet, table mode" \
		'.command == "apply" and .table == "pinhole" and .family == "inet" and .mode == "table" and .dry_run == false' "$NL_TMP/a.json"
	jqt "a first apply changes, commits and says the table is created" \
		'.changed and .committed and .plan.table == "create" and .unchanged_source == false and .from_cache == false' "$NL_TMP/a.json"
	jqt "generation_after follows generation" '.generation_after > .generation' "$NL_TMP/a.json"
	local sets chains elems
	sets=$(nft -j list sets inet | jq '[.nftables[] | select(.set.table? == "pinhole")] | length')
	chains=$(nft -j list chains inet | jq '[.nftables[] | select(.chain.table? == "pinhole")] | length')
	elems=$(nft_elements)
	jqt "sets_created is what nft lists ($sets)" ".counts.sets_created == $sets and (.plan.sets | length) == $sets" "$NL_TMP/a.json"
	jqt "chains_created is what nft lists ($chains)" ".counts.chains_created == $chains" "$NL_TMP/a.json"
	jqt "elements_added is the elements nft lists ($elems)" ".counts.elements_added == $elems" "$NL_TMP/a.json"
	jqt "every planned set is created, with its elements" \
		'all(.plan.sets[]; .action == "create" and .elements_added == .elements)' "$NL_TMP/a.json"
	jqt "rules_added is the rules of the created chains" '.counts.rules_added == ([.plan.chains[].rules] | add)' "$NL_TMP/a.json"
	jqt "a batch was sent; no confirmation; no errors" \
		'.batch.messages > 2 and .batch.bytes > 0 and .confirm == null and .errors == []' "$NL_TMP/a.json"
}

case_reapply() {
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -f json rules/marketo.rules >"$NL_TMP/b.json"
	jqt "re-apply: changed false, nothing committed, no batch" \
		'.changed == false and .committed == false and .batch == null and .generation_after == null' "$NL_TMP/b.json"
	jqt "re-apply answered by the unchanged-file shortcut, still naming table and mode" \
		'.unchanged_source and .table == "pinhole" and .mode == "table" and (.counts | all(.[]; . == 0))' "$NL_TMP/b.json"
	"$PINHOLE" apply -f json --no-cache rules/marketo.rules >"$NL_TMP/c.json"
	jqt "re-apply with --no-cache: compared element by element, still nothing to send" \
		'.changed == false and .batch == null and .unchanged_source == false and .from_cache == false and .plan.sets == [] and .plan.chains == []' "$NL_TMP/c.json"
}

# elements_added/removed against what nft lists before and after (the kernel merges adjacent
# prefixes, so a one-line edit of marketo.rules can be two elements).
nft_delta() {
	comm -13 "$1" "$2" | wc -l
	comm -23 "$1" "$2" | wc -l
}

case_one_line_edit() {
	printf 'set web { 203.0.113.0/25 198.51.100.7 }\nallow out to @web tcp port 443\n' >"$NL_TMP/w.rules"
	"$PINHOLE" apply -q "$NL_TMP/w.rules"
	sed -i 's/198.51.100.7/198.51.100.9/' "$NL_TMP/w.rules"
	"$PINHOLE" apply -f json "$NL_TMP/w.rules" >"$NL_TMP/e.json"
	jqt "a one-line edit: one element added, one removed, nothing else" \
		'.counts == {"elements_added":1,"elements_removed":1,"sets_created":0,"sets_deleted":0,"sets_recreated":0,"chains_created":0,"chains_deleted":0,"chains_rewritten":0,"rules_added":0,"rules_removed":0}' "$NL_TMP/e.json"
	jqt "the plan names only that set, kept, and no chain" \
		'(.plan.sets | length) == 1 and .plan.sets[0].name == "web_v4" and .plan.sets[0].action == "keep" and .plan.chains == [] and .plan.table == "keep"' "$NL_TMP/e.json"
	jqt "committed in one generation" '.committed and .generation_after == .generation + 1' "$NL_TMP/e.json"
	expect "and nft has the new prefix" grep -qx '198.51.100.9' <(set_elems pinhole web_v4)
	# marketo.rules: the counts are the difference nft sees in the set
	"$PINHOLE" apply -q rules/marketo.rules
	set_elems pinhole marketo_senders_v4 >"$NL_TMP/before"
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/m.rules"
	"$PINHOLE" apply -f json "$NL_TMP/m.rules" >"$NL_TMP/e2.json"
	set_elems pinhole marketo_senders_v4 >"$NL_TMP/after"
	local d
	d=$(nft_delta "$NL_TMP/before" "$NL_TMP/after" | paste -sd' ')
	jqt "a marketo.rules edit counts what nft sees change (+${d% *} -${d#* })" \
		".counts.elements_added == ${d% *} and .counts.elements_removed == ${d#* } and (.plan.sets | length) == 1" "$NL_TMP/e2.json"
}

case_dry_run() {
	"$PINHOLE" apply -n -f json rules/marketo.rules >"$NL_TMP/d.json"
	expect "dry run exits 1 (changes), as without --format" test $? -eq 1
	jqt "dry run: changed, not committed, the batch checked" \
		'.dry_run and .changed and .committed == false and .generation_after == null and .batch.messages > 2' "$NL_TMP/d.json"
	expect "dry run created nothing" test "$(ruleset_json)" = "[]"
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -n -f json rules/marketo.rules >"$NL_TMP/d2.json"
	expect "dry run of what is applied exits 0" test $? -eq 0
	jqt "and says changed false, no batch" '.changed == false and .batch == null and .committed == false' "$NL_TMP/d2.json"
}

case_confirm() {
	"$PINHOLE" apply -q rules/marketo.rules
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/m.rules"
	local t0 t1
	set_elems pinhole marketo_senders_v4 >"$NL_TMP/before"
	t0=$(date -u +%s)
	"$PINHOLE" apply -f json --confirm 30 "$NL_TMP/m.rules" >"$NL_TMP/f.json"
	t1=$(date -u +%s)
	set_elems pinhole marketo_senders_v4 >"$NL_TMP/after"
	local d
	d=$(nft_delta "$NL_TMP/before" "$NL_TMP/after" | paste -sd' ')
	jqt "stdout is the document alone (the reminder is its confirm member)" '.confirm.seconds == 30' "$NL_TMP/f.json"
	jqt "the deadline is 30 s from now, ISO-8601 UTC" \
		"(.confirm.deadline | fromdateiso8601) >= $t0 + 30 and (.confirm.deadline | fromdateiso8601) <= $t1 + 30" "$NL_TMP/f.json"
	jqt "committed, with the elements nft sees change" \
		".committed and .counts.elements_added == ${d% *} and .counts.elements_removed == ${d#* }" "$NL_TMP/f.json"
	expect "pinhole confirm keeps it" "$PINHOLE" confirm -t pinhole
}

case_errors() {
	printf 'set web { 203.0.113.5/24 }\nallow out to @web tcp port 443\n' >"$NL_TMP/bad.rules"
	"$PINHOLE" apply -f json "$NL_TMP/bad.rules" >"$NL_TMP/g.json" 2>"$NL_TMP/g.err"
	expect "a rules-file error exits 1" test $? -eq 1
	jqt "and still gives one document: nothing changed, the error at file:line" \
		".changed == false and .committed == false and .plan == null and .errors[0].file == \"$NL_TMP/bad.rules\" and .errors[0].line == 1" "$NL_TMP/g.json"
	expect "the diagnostic is on stderr as usual" grep -q 'bad.rules:1:' "$NL_TMP/g.err"
	expect "nothing reached the kernel" test "$(ruleset_json)" = "[]"
	"$PINHOLE" apply -n -f json "$NL_TMP/bad.rules" >/dev/null 2>&1
	expect "dry run of it exits 2" test $? -eq 2
}

# The attack: a table by pinhole's name that someone else made; table mode must not take it.
case_foreign_table() {
	nft add table inet pinhole
	nft add chain inet pinhole theirs
	"$PINHOLE" apply -f json rules/marketo.rules >"$NL_TMP/h.json" 2>/dev/null
	expect "apply into a foreign table exits 1" test $? -eq 1
	jqt "and reports nothing planned nor committed" '.changed == false and .committed == false and .batch == null' "$NL_TMP/h.json"
	expect "their chain is still there" nft list chain inet pinhole theirs
}

case_sets_only() {
	nft add table inet filter
	printf 'option mode sets-only\noption table filter\nset peers { 198.51.100.0/24 2001:db8::/48 }\n' >"$NL_TMP/so.rules"
	"$PINHOLE" apply -f json "$NL_TMP/so.rules" >"$NL_TMP/i.json" 2>/dev/null
	jqt "sets-only: mode, table, two sets made with one element each" \
		'.mode == "sets-only" and .table == "filter" and .counts.sets_created == 2 and .counts.elements_added == 2 and .counts.chains_created == 0' "$NL_TMP/i.json"
	"$PINHOLE" apply -f json "$NL_TMP/so.rules" >"$NL_TMP/j.json" 2>/dev/null
	jqt "its shortcut re-apply still says sets-only" '.unchanged_source and .mode == "sets-only" and .changed == false' "$NL_TMP/j.json"
}

case_remove() {
	"$PINHOLE" apply -q rules/marketo.rules
	local sets chains
	sets=$(nft -j list sets inet | jq '[.nftables[] | select(.set.table? == "pinhole")] | length')
	chains=$(nft -j list chains inet | jq '[.nftables[] | select(.chain.table? == "pinhole")] | length')
	"$PINHOLE" remove -n -f json rules/marketo.rules >"$NL_TMP/k.json"
	jqt "remove --dry-run: would change, commits nothing" '.command == "remove" and .dry_run and .changed and .committed == false' "$NL_TMP/k.json"
	expect "and the table is still there" nft list table inet pinhole
	"$PINHOLE" remove -f json rules/marketo.rules >"$NL_TMP/l.json"
	jqt "remove: the table with what nft listed ($sets sets, $chains chains)" \
		".table == \"pinhole\" and .mode == \"table\" and .changed and .committed and .counts.tables_deleted == 1 and .counts.sets_deleted == $sets and .counts.chains_deleted == $chains and .errors == []" "$NL_TMP/l.json"
	expect "nft lists nothing" test "$(ruleset_json)" = "[]"
	"$PINHOLE" remove -f json rules/marketo.rules >"$NL_TMP/m.json"
	jqt "a second remove: nothing to change" '.changed == false and .committed == false and .counts.tables_deleted == 0' "$NL_TMP/m.json"
}

case_bad_format() {
	expect_status "apply --format yaml is a usage error" 1 "$PINHOLE" apply --format yaml rules/marketo.rules
	expect_status "remove --format yaml too" 1 "$PINHOLE" remove --format yaml
	expect "and nothing was applied" test "$(ruleset_json)" = "[]"
}

nl_main
