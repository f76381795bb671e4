#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole touches only what it owns: other tables (and, in sets-only mode, the user's own
# sets, chains and rules) are identical after apply, re-apply, a changed apply and remove;
# a change someone commits between pinhole's read and its commit is detected by the
# generation id and never overwritten blindly (tests/unit/test_apply.c commits in between,
# through apply/'s test hook). Fresh network namespace per case.
CASES="others_survive foreign_table_refused sets_only"
source "$(dirname "$0")/netlink_lib.bash"

someone_elses() {
	nft -f - <<'NFT'
table inet filter {
	set blocklist {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/25, 203.0.113.7 }
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @blocklist counter drop
		tcp dport 22 accept comment "ssh"
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}
}
NFT
}

case_others_survive() {
	someone_elses
	local before
	before=$(others_json)
	"$PINHOLE" apply -q rules/marketo.rules
	expect "other tables are identical after apply" test "$before" = "$(others_json)"
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/changed.rules"
	"$PINHOLE" apply -q "$NL_TMP/changed.rules"
	expect "other tables are identical after a changed apply" test "$before" = "$(others_json)"
	"$PINHOLE" apply -q "$NL_TMP/changed.rules"
	expect "other tables are identical after re-apply" test "$before" = "$(others_json)"
	"$PINHOLE" remove >/dev/null
	expect "other tables are identical after remove" test "$before" = "$(others_json)"
	expect "and pinhole's table is gone" test -z "$(nft list tables | grep 'inet pinhole')"
}

# Table mode takes a table by name only when it carries pinhole's mark (or is empty):
# someone's own table that happens to have the policy's table name is left alone.
case_foreign_table_refused() {
	someone_elses
	local before
	before=$(ruleset_json)
	printf 'option table filter\nset peers { 198.51.100.0/24 }\nallow in from @peers\n' >"$NL_TMP/f.rules"
	"$PINHOLE" apply -q "$NL_TMP/f.rules" 2>"$NL_TMP/err"
	expect "apply into someone's table exits 1" test $? -eq 1
	expect "and says the table is not pinhole's" grep -q "table inet filter exists and is not pinhole's" "$NL_TMP/err"
	"$PINHOLE" remove -t filter 2>>"$NL_TMP/err"
	expect "remove of someone's table exits 1" test $? -eq 1
	expect "the table is untouched" test "$before" = "$(ruleset_json)"
	nft add table inet empty
	printf 'option table empty\nset peers { 198.51.100.0/24 }\nallow in from @peers\n' >"$NL_TMP/e.rules"
	expect_status "an empty table by that name is taken" 0 "$PINHOLE" apply -q "$NL_TMP/e.rules"
	expect "and marked as pinhole's" grep -q 'comment "managed by pinhole"' <(nft list table inet empty)
}

case_sets_only() {
	someone_elses
	cat >"$NL_TMP/s.rules" <<'RULES'
option mode sets-only
option table filter
set peers { 198.51.100.0/24 2001:db8::/48 }
RULES
	"$PINHOLE" apply -q "$NL_TMP/s.rules"
	expect "sets-only made peers_v4 in the user's table" nft list set inet filter peers_v4 >/dev/null
	expect "sets-only made no chains of its own" test "$(nft -j list chains inet | jq '[.nftables[] | select(.chain)] | length')" -eq 1
	nft add rule inet filter input ip saddr @peers_v4 accept comment '"users rule"'
	local before
	before=$(ruleset_json | jq -S '[.[] | select(.set.name? != "peers_v4" and .set.name? != "peers_v6")]')
	sed -i 's/198.51.100.0\/24/198.51.100.0\/25/' "$NL_TMP/s.rules"
	"$PINHOLE" apply -q "$NL_TMP/s.rules"
	expect "the changed set holds the new prefix" test "$(set_elems filter peers_v4 | cut -d' ' -f1)" = "198.51.100.0/25"
	expect "the user's set, chains and rules are identical" test "$before" = \
		"$(ruleset_json | jq -S '[.[] | select(.set.name? != "peers_v4" and .set.name? != "peers_v6")]')"
	expect "the user's own set keeps its elements" test "$(set_elems filter blocklist | wc -l)" -eq 2
	nft flush chain inet filter input
	nft add rule inet filter input tcp dport 22 accept
	"$PINHOLE" remove "$NL_TMP/s.rules" >/dev/null
	expect "remove took pinhole's sets out" test -z "$(nft list sets | grep -e peers_v4 -e peers_v6)"
	expect "remove left the user's set" nft list set inet filter blocklist >/dev/null
	expect "remove left the user's table and chain" nft list chain inet filter input >/dev/null
}

nl_main
