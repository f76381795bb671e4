#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# When the kernel rejects a batch midway, nothing of it happens (the ruleset stays
# byte-identical) and pinhole names the element and the rules-file line that caused it;
# --dry-run reports the same rejection with exit 2. (A lost answer, which apply settles by
# asking the kernel, is lost on purpose in tests/unit/test_apply.c, through apply/'s test
# hooks.) Fresh network namespace per case.
CASES="rejected_midway dry_run_rejected remove_refused"
source "$(dirname "$0")/netlink_lib.bash"

# The user's table with a set pinhole's sets-only policy fills, limited to 2 elements by
# the user (the kernel counts interval starts), so the third prefix overflows.
user_table() {
	nft -f - <<'NFT'
table inet filter {
	set small_v4 {
		type ipv4_addr
		flags interval
		size 2
	}
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @small_v4 counter accept
	}
}
NFT
}

policy() {
	cat >"$NL_TMP/p.rules" <<'RULES'
option mode sets-only
option table filter
set other { 198.51.100.0/24 }
set small {
	192.0.2.0/28
	192.0.2.64/28
	192.0.2.128/28
}
RULES
}

case_rejected_midway() {
	user_table
	policy
	local before_text before_json
	before_text=$(nft list ruleset)
	before_json=$(ruleset_json)
	"$PINHOLE" apply "$NL_TMP/p.rules" >"$NL_TMP/out" 2>"$NL_TMP/err"
	expect "apply of a rejected batch exits 1" test $? -eq 1
	expect "the ruleset is byte-identical after the rejected batch (nft list)" test "$before_text" = "$(nft list ruleset)"
	expect "the ruleset is identical after the rejected batch (nft -j)" test "$before_json" = "$(ruleset_json)"
	expect "the set created earlier in the same batch is not there" test -z "$(nft list sets 2>/dev/null | grep other_v4)"
	expect "the error names the element and its rules-file line" \
		grep -q "p.rules:7:.*error: the kernel refused adding element 192.0.2.128/28 of set small_v4" "$NL_TMP/err"
	expect "the error says nothing was applied" grep -q 'nothing was applied' "$NL_TMP/err"
}

case_dry_run_rejected() {
	user_table
	policy
	local before
	before=$(nft list ruleset)
	"$PINHOLE" apply --dry-run "$NL_TMP/p.rules" >"$NL_TMP/out" 2>"$NL_TMP/err"
	expect "dry run of a batch the kernel rejects exits 2" test $? -eq 2
	expect "the dry run names the element" grep -q "element 192.0.2.128/28 of set small_v4" "$NL_TMP/err"
	expect "the dry run left the ruleset byte-identical" test "$before" = "$(nft list ruleset)"
}

# sets-only: a set the user's rules still use cannot go; the kernel says so, pinhole says
# which set, and everything stays.
case_remove_refused() {
	nft add table inet filter
	nft add chain inet filter input '{ type filter hook input priority 0; }'
	cat >"$NL_TMP/s.rules" <<'RULES'
option mode sets-only
option table filter
set peers { 203.0.113.0/24 }
RULES
	"$PINHOLE" apply -q "$NL_TMP/s.rules" || fail "apply sets-only"
	nft add rule inet filter input ip saddr @peers_v4 accept
	local before
	before=$(nft list ruleset)
	"$PINHOLE" remove "$NL_TMP/s.rules" 2>"$NL_TMP/err"
	expect "remove of a set in use exits 1" test $? -eq 1
	expect "the error names the set" grep -q 'deleting set peers_v4' "$NL_TMP/err"
	expect "nothing was removed" test "$before" = "$(nft list ruleset)"
	nft flush chain inet filter input
	expect_status "remove works once the user's rule is gone" 0 "$PINHOLE" remove "$NL_TMP/s.rules" >/dev/null
	expect "the user's table and chain stay" nft list chain inet filter input >/dev/null
	expect "pinhole's set is gone" test -z "$(nft list sets | grep peers_v4)"
}

nl_main
