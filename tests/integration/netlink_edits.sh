#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The edits people make to a rules file, applied through netlink: lines deleted and
# inserted (every line below moves), a comment at the top, the file under another path or
# name, a rule's own comment. Each must send exactly the prefixes it changed — an element
# in the policy before and after is never deleted and added again. Counted two ways: from
# the batch (apply's plan: elements to add and delete), and from the kernel's own
# notifications with nft monitor for the small changes (tens of events, far below what
# its socket buffer holds); an edit that changes nothing must leave the generation id as
# it was (the kernel was not asked to commit at all).
# And the last-applied state under attack: a grafted or loosened cache makes apply dump.
# Every case runs in a fresh network namespace (see netlink_lib.bash).
CASES="unseen_changes sets_only_declared sets_only_refused churn_shifted comment_top other_path rule_comment grafted_cache cache_key_private refresh_after_foreign"
. "$(dirname "$0")/netlink_lib.bash"

# 2,000 /24s, every fourth one (no two merge); CHURN deletes every 100th line and inserts
# a new prefix after every 100th, in sorted order: 20 out, 20 in, every line in between moved.
gen_set() {
	awk -v churn="$1" 'function line(a) { printf "\t10.%d.%d.0/24\n", int(a / 256), a % 256 }
		BEGIN { print "set big {"
		for (i = 0; i < 2000; i++) {
			if (!churn || i % 100 != 99)
				line(4 * i)
			if (churn && i % 100 == 49)
				line(4 * i + 2)
		}
		print "}"; print "allow in from @big tcp port 25 comment \"mail\"" }'
}

generation() { "$PINHOLE" show -t no_such_table --format json | jq .generation; }

# Runs apply of $1 with nft monitor listening; leaves the plan in out, events in mon.
apply_watched() {
	nft monitor >"$NL_TMP/mon" 2>&1 &
	local mon=$!
	sleep 0.3
	"$PINHOLE" apply "$@" >"$NL_TMP/out" 2>"$NL_TMP/err"
	local st=$?
	sleep 0.3
	kill "$mon"
	wait "$mon" 2>/dev/null
	return $st
}

events() { grep "^$1 element" "$NL_TMP/mon" | grep -o '[0-9.]*/24' | wc -l; }

same_as_reference() {
	if diff <(ruleset_json) <(reference_json "$1") >"$NL_TMP/diff"; then
		pass "$2"
	else
		fail "$2:"
		head -20 "$NL_TMP/diff"
	fi
}

case_churn_shifted() {
	local rules=$NL_TMP/big.rules
	gen_set 0 >"$rules"
	"$PINHOLE" apply -q "$rules" || fail "first apply"
	gen_set 1 >"$rules"
	apply_watched "$rules" || fail "apply of the edit"
	expect "the batch adds 20 and deletes 20 elements" grep -q '20 elements to add, 20 to delete' "$NL_TMP/out"
	expect "the plan says +20 -20" grep -q 'set big_v4: +20 -20 prefixes' "$NL_TMP/out"
	expect "the kernel announced 20 new prefixes (nft monitor: $(events create))" test "$(events create)" -eq 20
	expect "the kernel announced 20 deleted prefixes (nft monitor: $(events delete))" test "$(events delete)" -eq 20
	expect "nothing but elements changed" \
		test "$(grep -vc -e '^create element' -e '^delete element' -e '^# new generation' "$NL_TMP/mon")" -eq 0
	same_as_reference "$rules" "the kernel holds what nft -f of the edited script makes"
	# the other way round, from the kernel's elements: the same 40, nothing else
	gen_set 0 >"$rules"
	"$PINHOLE" apply --no-cache "$rules" >"$NL_TMP/out"
	expect "back again, read from the kernel: +20 -20" grep -q '20 elements to add, 20 to delete' "$NL_TMP/out"
}

case_comment_top() {
	local rules=$NL_TMP/big.rules g0
	gen_set 0 >"$rules"
	"$PINHOLE" apply -q "$rules" || fail "first apply"
	{ echo "# reviewed 2026-12-04"; echo; cat "$rules"; } >"$rules.new" && mv "$rules.new" "$rules"
	g0=$(generation)
	apply_watched "$rules"
	expect "a comment at the top changes nothing" grep -q '^no changes' "$NL_TMP/out"
	expect "the kernel was not asked to commit (generation $g0 → $(generation))" test "$(generation)" = "$g0"
	expect "and nft monitor saw nothing" test ! -s "$NL_TMP/mon"
	"$PINHOLE" apply --no-cache "$rules" >"$NL_TMP/out"
	expect "nor when the elements are read from the kernel" grep -q '^no changes' "$NL_TMP/out"
	expect_status "diff --live agrees (exit 0)" 0 "$PINHOLE" diff --live "$rules"
	expect_status "so does apply --dry-run (exit 0)" 0 "$PINHOLE" apply --dry-run -q "$rules"
	"$PINHOLE" show --format json >"$NL_TMP/show.json"
	expect "show names the new lines, from the applied state (line 4 is the first prefix now)" \
		test "$(jq -r ".sets[0].elements[0].comment" "$NL_TMP/show.json")" = "$rules:4"
}

case_other_path() {
	local g0
	mkdir -p "$NL_TMP/a" "$NL_TMP/b"
	gen_set 0 >"$NL_TMP/a/gw.rules"
	"$PINHOLE" apply -q "$NL_TMP/a/gw.rules" || fail "first apply"
	cp "$NL_TMP/a/gw.rules" "$NL_TMP/b/gw.rules"
	g0=$(generation)
	apply_watched "$NL_TMP/b/gw.rules"
	expect "the same file from another directory changes nothing" grep -q '^no changes' "$NL_TMP/out"
	expect "no commit (generation $g0 → $(generation))" test "$(generation)" = "$g0"
	expect_status "diff --live agrees (exit 0)" 0 "$PINHOLE" diff --live "$NL_TMP/b/gw.rules"
	expect_status "apply --dry-run agrees (exit 0)" 0 "$PINHOLE" apply --dry-run -q "$NL_TMP/b/gw.rules"
	cp "$NL_TMP/a/gw.rules" "$NL_TMP/b/renamed.rules"
	apply_watched "$NL_TMP/b/renamed.rules"
	expect "another file name: no changes" grep -q '^no changes' "$NL_TMP/out"
	expect "the plan says the set's comment still names the old file" \
		grep -q 'set big_v4: its comment is "set big, gw.rules"' "$NL_TMP/out"
	expect "no commit (generation $g0 → $(generation))" test "$(generation)" = "$g0"
	expect_status "diff --live agrees (exit 0)" 0 "$PINHOLE" diff --live "$NL_TMP/b/renamed.rules"
	expect_status "apply --dry-run agrees (exit 0)" 0 "$PINHOLE" apply --dry-run -q "$NL_TMP/b/renamed.rules"
	expect_status "diff --live --format json agrees (exit 0)" 0 \
		"$PINHOLE" diff --live --format json "$NL_TMP/b/renamed.rules"
	expect_status "diff --live --format markdown agrees (exit 0)" 0 \
		"$PINHOLE" diff --live --format markdown "$NL_TMP/b/renamed.rules"
}

case_rule_comment() {
	local rules=$NL_TMP/big.rules
	gen_set 0 >"$rules"
	"$PINHOLE" apply -q "$rules" || fail "first apply"
	expect "the rule's kernel comment is its own, without file or line" \
		nft list chain inet pinhole input | grep -q 'accept comment "mail"$'
	sed -i 's/comment "mail"/comment "inbound mail"/' "$rules"
	apply_watched "$rules"
	expect "a rule's new comment rewrites the chains" grep -q 'chain input: 1 rules replace 1' "$NL_TMP/out"
	expect "and sends no element" grep -q '0 elements to add, 0 to delete' "$NL_TMP/out"
	expect "nft monitor saw no element" test "$(grep -c 'element' "$NL_TMP/mon")" -eq 0
	for fmt in text markdown json; do
		sed -i 's/port 25 /port { 25, 587 } /' "$rules"
		expect_status "diff --live --format $fmt of a change exits 1" 1 "$PINHOLE" diff --live --format "$fmt" "$rules"
		expect_status "apply --dry-run of it exits 1" 1 "$PINHOLE" apply --dry-run -q "$rules"
		sed -i 's/port { 25, 587 } /port 25 /' "$rules"
		expect_status "diff --live --format $fmt of no change exits 0" 0 "$PINHOLE" diff --live --format "$fmt" "$rules"
	done
	expect_status "diff --live of a file with an error exits 2" 2 "$PINHOLE" diff --live /nonexistent.rules
	expect_status "apply --dry-run of it exits 2" 2 "$PINHOLE" apply --dry-run /nonexistent.rules
}

# The review's attack: the cache says the wanted policy is in the kernel at the current
# generation, while a prefix is missing. Patching the generation (what a graft must do)
# breaks the MAC, which cannot be made again without the root-only key.
case_grafted_cache() {
	local st=$PINHOLE_STATE_DIR/inet-pinhole.state g
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" apply -q "$NL_TMP/m.rules" || fail "first apply"
	cp "$st" "$NL_TMP/saved.state"
	nft delete element inet pinhole marketo_senders_v4 '{ 192.28.144.0/20 }'
	g=$(generation)
	cp "$NL_TMP/saved.state" "$st"
	# the generation is the u32 after the magic (8), the boot id (40) and the cookie (8)
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((g & 255)) $((g >> 8 & 255)) $((g >> 16 & 255)) $((g >> 24)))" |
		dd of="$st" bs=1 seek=56 conv=notrunc status=none
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out"
	expect "a grafted cache does not make apply say no changes" test -z "$(grep '^no changes\|no changes:' "$NL_TMP/out")"
	expect "apply read the kernel instead" grep -q 'elements read from the kernel' "$NL_TMP/out"
	expect "and put the missing prefix back" grep -q '192.28.144.0/20' <(set_elems pinhole marketo_senders_v4)
	# a cache made under another key (another machine, another state directory)
	nft delete element inet pinhole marketo_senders_v4 '{ 192.28.144.0/20 }'
	PINHOLE_STATE_DIR=$NL_TMP/elsewhere "$PINHOLE" apply -q --no-cache "$NL_TMP/m.rules"
	nft delete element inet pinhole marketo_senders_v4 '{ 192.28.144.0/20 }'
	PINHOLE_STATE_DIR=$NL_TMP/elsewhere2 "$PINHOLE" apply -q --no-cache "$NL_TMP/m.rules"
	cp "$NL_TMP/elsewhere2/inet-pinhole.state" "$st"
	nft delete element inet pinhole marketo_senders_v4 '{ 192.28.144.0/20 }'
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out"
	expect "a cache from another key is not believed either" grep -q 'elements read from the kernel' "$NL_TMP/out"
	expect "and the prefix is back" grep -q '192.28.144.0/20' <(set_elems pinhole marketo_senders_v4)
}

case_cache_key_private() {
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" apply -q "$NL_TMP/m.rules" || fail "first apply"
	expect "the key is 0600" test "$(stat -c %a "$PINHOLE_STATE_DIR/cache.key")" = 600
	chmod 0644 "$PINHOLE_STATE_DIR/cache.key"
	echo "# other text" >>"$NL_TMP/m.rules"
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out" 2>"$NL_TMP/err"
	expect "a key others can read is not used: apply reads the kernel" grep -q 'elements read from the kernel' "$NL_TMP/out"
	expect "and says the state cannot be saved" grep -q 'cannot save the last-applied state' "$NL_TMP/err"
	rm "$PINHOLE_STATE_DIR/cache.key"
	ln -s /etc/hostname "$PINHOLE_STATE_DIR/cache.key"
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out" 2>&1
	expect "a key that is a symbolic link is not followed" grep -q 'elements read from the kernel' "$NL_TMP/out"
}

# Someone else commits (another table): the generation moves, apply reads the kernel once,
# finds nothing to do and remembers that, so the next apply needs no dump.
case_refresh_after_foreign() {
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" apply -q "$NL_TMP/m.rules" || fail "first apply"
	nft add table inet someone_else
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out1"
	expect "after a foreign commit apply reads the kernel" grep -q 'elements read from the kernel' "$NL_TMP/out1"
	expect "and finds nothing to do" grep -q '^no changes' "$NL_TMP/out1"
	"$PINHOLE" apply "$NL_TMP/m.rules" >"$NL_TMP/out2"
	expect "the next apply answers from the refreshed state" grep -q 'is what pinhole applied last' "$NL_TMP/out2"
}

# A difference packets do not see (a rule pinhole did not write, in its chain): the review
# diff has nothing to say about the policy, but apply would change the kernel. Every
# format's verdict says so, and agrees with the exit status and apply --dry-run.
case_unseen_changes() {
	cp rules/marketo.rules "$NL_TMP/m.rules"
	"$PINHOLE" apply -q "$NL_TMP/m.rules" || fail "first apply"
	nft add rule inet pinhole input counter
	expect_status "apply --dry-run plans a change (exit 1)" 1 "$PINHOLE" apply --dry-run -q "$NL_TMP/m.rules"
	"$PINHOLE" diff --live "$NL_TMP/m.rules" >"$NL_TMP/out" 2>/dev/null
	expect "diff --live exits 1" test $? -eq 1
	expect "and its text says apply would still change the kernel" grep -q 'but apply would still make 1 changes' "$NL_TMP/out"
	"$PINHOLE" diff --live --format markdown "$NL_TMP/m.rules" >"$NL_TMP/out" 2>/dev/null
	expect "markdown exits 1" test $? -eq 1
	expect "and says so" grep -q 'but apply would still make' "$NL_TMP/out"
	"$PINHOLE" diff --live --format json "$NL_TMP/m.rules" >"$NL_TMP/out.json" 2>/dev/null
	expect "json exits 1" test $? -eq 1
	expect "and says changed, with the kernel's count" \
		test "$(jq -c '[.changed, .kernel_changes]' "$NL_TMP/out.json")" = "[true,1]"
	"$PINHOLE" diff --live --exit-zero "$NL_TMP/m.rules" >/dev/null 2>&1
	expect "--exit-zero exits 0" test $? -eq 0
	"$PINHOLE" apply -q "$NL_TMP/m.rules"
	"$PINHOLE" diff --live --format json "$NL_TMP/m.rules" >"$NL_TMP/out.json"
	expect "after apply: json says unchanged, exit 0" test "$?$(jq -c .changed "$NL_TMP/out.json")" = 0false
}

# sets-only mode with the sets declared in the user's own nft file (the only way a file
# whose rules use them loads): adopted, filled, then changed by the delta only.
user_table() {
	nft -f - <<'EOF2'
table inet gw {
	set senders_v4 { type ipv4_addr; flags interval; }
	set web_dns_v4 { type ipv4_addr; flags timeout; }
	chain input { type filter hook input priority 0; policy accept; ip saddr @senders_v4 tcp dport 25 accept; }
	chain output { type filter hook output priority 0; policy accept; ip daddr @web_dns_v4 tcp dport 443 accept; }
}
EOF2
}

case_sets_only_declared() {
	local r=$NL_TMP/so.rules
	user_table
	printf 'option mode sets-only\noption table gw\nset senders { 192.0.2.0/24 198.51.100.0/24 }\nset web { *.example.com }\n' >"$r"
	expect_status "diff --live before the first apply: changes (exit 1)" 1 "$PINHOLE" diff --live "$r"
	"$PINHOLE" apply "$r" >"$NL_TMP/out" 2>&1
	expect "the first apply adopts the declared sets and fills them: $(head -1 "$NL_TMP/out")" \
		grep -q '2 sets declared by you, filled by pinhole' "$NL_TMP/out"
	expect "with the 2 prefixes" test "$(set_elems gw senders_v4 | wc -l)" -eq 2
	echo "# a comment" >>"$r"
	"$PINHOLE" apply "$r" >"$NL_TMP/out" 2>&1
	expect "the second apply finds nothing to do (no 'already there'): $(tail -1 "$NL_TMP/out")" \
		grep -q '^no changes' "$NL_TMP/out"
	sed -i 's/198.51.100.0/203.0.113.0/' "$r"
	apply_watched "$r"
	expect "a change sends only its delta" grep -q '1 elements to add, 1 to delete' "$NL_TMP/out"
	expect "nft monitor: 1 prefix in, 1 out" test "$(events create)$(events delete)" = 11
	nft add table inet someone_else
	"$PINHOLE" apply --no-cache "$r" >"$NL_TMP/out" 2>&1
	expect "read from the kernel, still nothing to do: $(tail -1 "$NL_TMP/out")" grep -q '^no changes' "$NL_TMP/out"
	"$PINHOLE" show "$r" >"$NL_TMP/show"
	expect "show lists the adopted static set" grep -q 'set senders_v4: 2 prefixes' "$NL_TMP/show"
	expect "and the adopted learnt set" grep -q 'set web_dns_v4: 0 addresses' "$NL_TMP/show"
	"$PINHOLE" show -t gw --sets-only >"$NL_TMP/show"
	expect "show -t knows the adopted static set from the last-applied state" grep -q 'set senders_v4' "$NL_TMP/show"
	expect_status "diff --live: no changes (exit 0), not 'added'" 0 "$PINHOLE" diff --live "$r"
	expect_status "apply --dry-run agrees (exit 0)" 0 "$PINHOLE" apply --dry-run -q "$r"
	expect "the user's rules and sets are still there" nft list chain inet gw input
	printf 'option mode sets-only\noption table gw\nset web { *.example.com }\n' >"$r"
	"$PINHOLE" apply "$r" >"$NL_TMP/out" 2>&1
	expect "a declared set no longer in the rules is emptied, not deleted" \
		test "$(nft list set inet gw senders_v4 >/dev/null && set_elems gw senders_v4 | wc -l)" -eq 0
}

case_sets_only_refused() {
	local r=$NL_TMP/so.rules before
	user_table
	nft add element inet gw senders_v4 '{ 10.0.0.0/8 }'
	nft add set inet gw web_dns_v6 '{ type ipv4_addr; }'
	printf 'option mode sets-only\noption table gw\nset senders { 192.0.2.0/24 }\n' >"$r"
	before=$(nft list ruleset)
	expect_status "a declared set holding someone's elements is refused (exit 1)" 1 "$PINHOLE" apply -q "$r"
	expect "nothing was changed" test "$before" = "$(nft list ruleset)"
	"$PINHOLE" apply -q "$r" 2>"$NL_TMP/err"
	expect "the error names the set and why" grep -q 'set senders_v4 .* holds elements pinhole did not put there' "$NL_TMP/err"
	expect_status "diff --live says error (exit 2)" 2 "$PINHOLE" diff --live "$r"
	expect_status "apply --dry-run says error (exit 2)" 2 "$PINHOLE" apply --dry-run -q "$r"
	nft flush set inet gw senders_v4
	printf 'option mode sets-only\noption table gw\nset senders { 192.0.2.0/24 }\nset web { *.example.com 2001:db8::1 }\n' >"$r"
	"$PINHOLE" apply -q "$r" 2>"$NL_TMP/err"
	expect "a declared set of another type is refused" grep -q 'set web_dns_v6 .* another type' "$NL_TMP/err"
	expect "and nothing was applied" test "$(set_elems gw senders_v4 | wc -l)" -eq 0
}

nl_main
