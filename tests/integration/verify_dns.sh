#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# verify_dns.sh — pinhole verify against a real DNS server: dnsmasq on 127.0.0.1:53 in a
# private network namespace (lo only, no route out) serving the zone of
# tests/verify/vendor.rules correctly, then broken in each way rollouts break. Every broken
# zone must give exit 1 and name the record and its rules line; the correct one exit 0.
#   bash tests/integration/verify_dns.sh build/pinhole
set -u
PINHOLE=$(realpath "$1")
cd "$(dirname "$0")/../.."
RULES=tests/verify/vendor.rules

if [ -z "${VERIFY_IN_NETNS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace"; exit 77; }
	for t in unshare ip dnsmasq openssl base64; do
		command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/deps.sh --test)"; exit 77; }
	done
	unshare -n true 2>/dev/null || { echo "SKIP: cannot make a network namespace"; exit 77; }
	VERIFY_IN_NETNS=1 exec unshare -n bash "$0" "$1"
fi

ip link set lo up
T=$(mktemp -d)
DNS_PID=""
trap '[ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

key() { openssl genrsa "$1" 2>/dev/null | openssl rsa -pubout -outform DER 2>/dev/null | base64 -w0; }
KEY=$(key 1024)
OTHER_KEY=$(key 2048)
DKIM="v=DKIM1; k=rsa; p=$KEY"
line_of() { grep -n "$1" "$RULES" | head -1 | cut -d: -f1; }
L_LP=$(line_of "record cname lp")
L_PAGES=$(line_of "record cname pages")
L_SPF=$(line_of "record spf")
L_DKIM=$(line_of "record dkim")
L_MX=$(line_of "record mx")

# The correct zone, as dnsmasq options; a broken zone drops some (by pattern) and adds others.
correct_zone() {
	cat <<EOF
--host-record=acct1.web.vendor.example.net,192.0.2.10
--cname=lp.customer.example.com,acct1.web.vendor.example.net
--host-record=trk.vendor.example.net,192.0.2.11
--cname=pages.customer.example.com,trk.vendor.example.net
--txt-record=customer.example.com,v=spf1 mx include:mail.vendor.example.net ~all
--txt-record=mail.vendor.example.net,v=spf1 ip4:192.0.2.0/24 -all
--txt-record=m1._domainkey.customer.example.com,v=DKIM1; k=rsa; ,p=$KEY
--mx-host=customer.example.com,mx.customer.example.com,10
--host-record=mx.customer.example.com,192.0.2.25
--host-record=h.example.org,192.0.2.30
EOF
}

# serve DROP_PATTERN [EXTRA_OPTION...]: restarts dnsmasq with the zone
serve() {
	local drop=$1
	shift
	[ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null && wait "$DNS_PID" 2>/dev/null
	rm -f "$T/dnsmasq.pid"
	mapfile -t zone < <(correct_zone | grep -v -e "${drop:-^$}")
	dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
		--port=53 --user=root --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log" \
		--local=/example.com/ --local=/example.net/ --local=/example.org/ "${zone[@]}" "$@" &
	DNS_PID=$!
	for _ in $(seq 50); do [ -s "$T/dnsmasq.pid" ] && return 0; sleep 0.1; done
	echo "dnsmasq did not start"; cat "$T/dnsmasq.log"; exit 1
}

verify() {
	"$PINHOLE" verify --server 127.0.0.1 -D tracking=trk.vendor.example.net -D account=acct1 \
		-D dkim_value="$DKIM" "$@" "$RULES" >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}

# expect_wrong NAME LINE KIND WHAT...: exit 1, "RULES:LINE: KIND NAME: WRONG", each WHAT in the output
expect_wrong() {
	local name=$1 line=$2 kind=$3 case=$4 rc before=$fails
	shift 4
	rc=$(cat "$T/rc")
	[ "$rc" = 1 ] || fail "$case: exit $rc, want 1"
	grep -qF "$RULES:$line: $kind $name: WRONG" "$T/out" || fail "$case: no '$RULES:$line: $kind $name: WRONG'"
	for w in "$@"; do grep -qF -- "$w" "$T/out" || fail "$case: no '$w' in the report"; done
	local n
	n=$(grep -c ": WRONG$" "$T/out")
	[ "$n" = 1 ] || fail "$case: $n records judged wrong, want 1"
	[ "$fails" = "$before" ] || cat "$T/out" "$T/err"
}

# -- the correct zone passes
serve ""
verify
[ "$(cat "$T/rc")" = 0 ] || { fail "correct zone: exit $(cat "$T/rc")"; cat "$T/out" "$T/err"; }
grep -q "key:      rsa, 1024 bits" "$T/out" || fail "correct zone: DKIM key size not reported"
grep -q "counted:  2 DNS lookups of 10, 0 void lookups of 2" "$T/out" || fail "correct zone: SPF count"
grep -q "lp.customer.example.com CNAME acct1.web.vendor.example.net" "$T/out" || fail "correct zone: chain not shown"
verify --format json
jq -e '.wrong == 0 and (.checks | length) == 5 and .checks[0].line == '"$L_LP"' and .checks[3].key_bits == 1024' \
	"$T/out" >/dev/null || fail "correct zone: json"

# -- the broken zones, one mistake each
serve "^--cname=lp"
verify
expect_wrong lp.customer.example.com "$L_LP" cname "missing CNAME" "does not exist" \
	"create: lp.customer.example.com. IN CNAME acct1.web.vendor.example.net"

serve "^--cname=lp" --host-record=acct2.web.vendor.example.net,192.0.2.12 \
	--cname=lp.customer.example.com,acct2.web.vendor.example.net
verify
expect_wrong lp.customer.example.com "$L_LP" cname "wrong account" "ends at acct2.web.vendor.example.net" \
	"point the CNAME of lp.customer.example.com at acct1.web.vendor.example.net"

serve "^--cname=pages" --host-record=pages.customer.example.com,192.0.2.11
verify
expect_wrong pages.customer.example.com "$L_PAGES" cname "A instead of CNAME" "has an A record, not a CNAME" \
	"pages.customer.example.com A 192.0.2.11"

serve "" --txt-record=customer.example.com,"v=spf1 -all"
verify
expect_wrong customer.example.com "$L_SPF" spf "two SPF records" "has two SPF records" "merge the SPF records"

serve "^--txt-record=customer.example.com" \
	--txt-record=customer.example.com,"v=spf1 mx include:mail.vendor.example.net include:n1.example.org ~all" \
	--txt-record=n1.example.org,"v=spf1 a:h.example.org a:h.example.org a:h.example.org include:n2.example.org -all" \
	--txt-record=n2.example.org,"v=spf1 a:h.example.org a:h.example.org a:h.example.org a:h.example.org -all"
verify
expect_wrong customer.example.com "$L_SPF" spf "SPF over 10 lookups" "11 DNS lookups" "limit of 10" \
	"n2.example.org TXT"

serve "^--txt-record=customer.example.com" \
	--txt-record=customer.example.com,"v=spf1 mx include:mail.vendor.example.net include:loop1.example.org ~all" \
	--txt-record=loop1.example.org,"v=spf1 a:gone1.example.org include:loop2.example.org -all" \
	--txt-record=loop2.example.org,"v=spf1 a:gone2.example.org a:gone3.example.org include:loop1.example.org -all"
verify
expect_wrong customer.example.com "$L_SPF" spf "void-lookup loop" "3 void lookups" "limit of 2" "a loop"

serve "^--txt-record=customer.example.com" --txt-record=customer.example.com,"v=spf1 mx +all"
verify
expect_wrong customer.example.com "$L_SPF" spf "+all, no include" "'+all'" "does not include mail.vendor.example.net"

serve "^--txt-record=m1" --txt-record=m1._domainkey.customer.example.com,"v=DKIM1; k=rsa; p=$OTHER_KEY"
verify
expect_wrong m1._domainkey.customer.example.com "$L_DKIM" dkim "DKIM wrong key" "not the value marketing sent" \
	"key:      rsa, 2048 bits"

serve "^--mx-host"
verify
expect_wrong customer.example.com "$L_MX" mx "no MX" "has no MX record" "IN MX 10"

# -- errors: exit 2
"$PINHOLE" verify --server 127.0.0.1 "$RULES" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 2 ] && grep -q "parameter 'tracking'" "$T/err" || fail "unset parameters: exit $rc, $(cat "$T/err")"
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null; DNS_PID=""
verify
[ "$(cat "$T/rc")" = 2 ] && grep -q ": ERROR" "$T/out" || fail "no server: exit $(cat "$T/rc")"

# -- parameters from an included local file (next to the rules) count as set
cp "$RULES" "$T/vendor.rules"
printf 'define tracking = trk.vendor.example.net\ndefine account = acct1\ndefine dkim_value = "%s"\n' "$DKIM" \
	>"$T/vendor.local.rules"
"$PINHOLE" check "$T/vendor.rules" >"$T/out" 2>&1 || fail "include: check failed"
grep -q "not set" "$T/out" && fail "include: parameters still reported unset"
# apply (in this namespace's own kernel tables) takes them from there; editing the included
# file is a change, not "what pinhole applied last"
if command -v nft >/dev/null; then
	mkdir -m 700 "$T/state" "$T/run"
	export PINHOLE_STATE_DIR=$T/state PINHOLE_RUN_DIR=$T/run
	"$PINHOLE" apply -q "$T/vendor.rules" >"$T/out" 2>&1 || fail "apply with an included file: $(cat "$T/out")"
	"$PINHOLE" apply "$T/vendor.rules" >"$T/out" 2>&1
	grep -q "is what pinhole applied last" "$T/out" || fail "re-apply: $(cat "$T/out")"
	sed -i 's/^define tracking = .*/define tracking = trk2.vendor.example.net/' "$T/vendor.local.rules"
	"$PINHOLE" apply "$T/vendor.rules" >"$T/out" 2>&1
	grep -q "is what pinhole applied last" "$T/out" && fail "an edited included file was not noticed"
	"$PINHOLE" remove >/dev/null 2>&1
	unset PINHOLE_STATE_DIR PINHOLE_RUN_DIR
fi

# -- the declared aliases are allowed wherever their targets are (no DNS needed)
D=(-D tracking=trk.vendor.example.net -D account=acct1 -D "dkim_value=$DKIM")
"$PINHOLE" match --rules "$RULES" "${D[@]}" pages.customer.example.com lp.customer.example.com \
	other.customer.example.com >"$T/out" 2>"$T/err"
grep -qP "^pages.customer.example.com\tallow\t$RULES:$L_PAGES$" "$T/out" &&
	grep -qP "^lp.customer.example.com\tallow\t$RULES:$L_LP$" "$T/out" &&
	grep -qP "^other.customer.example.com\tdeny" "$T/out" || fail "match: $(cat "$T/out" "$T/err")"
"$PINHOLE" compile -b squid "${D[@]}" "$RULES" >"$T/out" 2>"$T/err"
grep -q "dstdomain -n pages.customer.example.com$" "$T/out" &&
	grep -q "dstdomain -n lp.customer.example.com$" "$T/out" || fail "squid: aliases missing"  # ssl::server_name only with option squid_tls_cert
"$PINHOLE" explain "${D[@]}" "$RULES" pages.customer.example.com:443 >"$T/out" 2>&1
grep -q "via pages.customer.example.com (your CNAME alias of trk.vendor.example.net) in set vendor_tracking  $RULES:$L_PAGES" \
	"$T/out" || fail "explain: $(cat "$T/out")"
sed "s/^record mx .*/&\nrecord cname new.customer.example.com to \$tracking/" "$RULES" >"$T/added.rules"
"$PINHOLE" diff "${D[@]}" "$RULES" "$T/added.rules" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && grep -q "^set vendor_tracking changed \[widens\]" "$T/out" &&
	grep -q "^  + new.customer.example.com " "$T/out" && grep -q "^WIDENING" "$T/out" ||
	fail "diff of an added alias: exit $rc, $(cat "$T/out")"
"$PINHOLE" diff "${D[@]}" "$T/added.rules" "$RULES" >"$T/out" 2>"$T/err"
grep -q "^  - new.customer.example.com " "$T/out" && ! grep -q WIDENING "$T/out" ||
	fail "diff of a removed alias: $(cat "$T/out")"

# -- apply and guard refuse while a parameter is not set (before touching the kernel)
for cmd in "apply --dry-run" "guard --rules"; do
	# shellcheck disable=SC2086
	"$PINHOLE" $cmd "$RULES" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" != 0 ] && grep -q "$RULES:5: error: parameter 'tracking'" "$T/err" &&
		grep -q "refusing to run on the vendor document's example values" "$T/err" ||
		fail "$cmd with parameters unset: exit $rc, $(cat "$T/err")"
done

[ "$fails" = 0 ] && echo "verify_dns: ok"
[ "$fails" = 0 ]
