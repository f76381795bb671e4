#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet end to end: five Debian 12 gateways booted with systemd-nspawn (tests/fleet/
# fleet_lib.bash), managed by ansible-playbook over SSH with the pinhole.gateway collection as
# `ansible-galaxy collection build` packs it, installing the .deb that packaging/build-deb.sh made.
# It shows, judged by nft inside each gateway's namespace and by Ansible's own JSON results:
#   check mode changes no kernel and reports changed on all 5;
#   the first run applies on all 5 and starts pinhole.service and pinhole-guard.service;
#   a second run reports changed=0 and sends nothing (the ruleset generation stays);
#   --check --diff after a rules edit prints the review diff of each gateway;
#   a rolling rollout whose second wave has a gateway failing its reachability check stops;
#     that wave is back on the old rules after its confirm timeout, the first wave keeps the
#     new ones, the last wave is never touched;
#   state=absent removes exactly what pinhole owns (a table of someone else's stays).
#   tests/fleet/fleet.sh PINHOLE_DEB      (root; scripts/deps.sh --fleet)
# Everything it starts is stopped and deleted on exit, also on failure or a signal.
set -u
DEB=${1:-${PINHOLE_FLEET_DEB:-}}
[ -n "$DEB" ] || { echo "SKIP: no .deb (tests/fleet/fleet.sh PINHOLE_DEB, or PINHOLE_FLEET_DEB)"; exit 77; }
DEB=$(realpath "$DEB")
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
for tool in systemd-nspawn debootstrap ansible-playbook ansible-galaxy jq ssh-keygen; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool (scripts/deps.sh --fleet)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }

FLEET_TMP=$(mktemp -d /tmp/pinhole-fleet.XXXXXX)
export FLEET_TMP
source "$HERE/fleet_lib.bash"
trap 'fleet_down; rm -rf "$FLEET_TMP"' EXIT
trap 'exit 1' INT TERM HUP
N=5
pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}
t0=$SECONDS
step() { echo "--- $* ($((SECONDS - t0)) s)"; }

# ---- the fleet and the controller ----

step "booting $N gateways"
fleet_up "$N" || { bad "the fleet did not come up"; echo "$pass passed, $fail failed"; exit 1; }
fleet_inventory >"$FLEET_TMP/inventory.yml"
mkdir -p "$FLEET_TMP/host_vars"
echo "pinhole_probe_address: 192.0.2.99" >"$FLEET_TMP/host_vars/gw3.yml"	# nobody there
cat >"$FLEET_TMP/ansible.cfg" <<CFG
[defaults]
collections_path = $FLEET_TMP/collections
inventory = $FLEET_TMP/inventory.yml
forks = 10
timeout = 30
[ssh_connection]
pipelining = True
CFG
export ANSIBLE_CONFIG=$FLEET_TMP/ansible.cfg ANSIBLE_NOCOLOR=1
ansible-galaxy collection build "$REPO/packaging/ansible" --output-path "$FLEET_TMP" >/dev/null &&
	ansible-galaxy collection install -p "$FLEET_TMP/collections" "$FLEET_TMP"/pinhole-gateway-*.tar.gz >/dev/null ||
	{ bad "the collection does not build and install"; exit 1; }
printf 'set ctl { 192.0.2.1 }\nset web { *.example.com 203.0.113.0/25 }\nallow out to @web tcp port 443\nallow out to @ctl udp port 53\n' >"$FLEET_TMP/v1.rules"
sed 's|203.0.113.0/25|203.0.113.0/25 198.51.100.0/28|' "$FLEET_TMP/v1.rules" >"$FLEET_TMP/v2.rules"

# play NAME PLAYBOOK ARGS...: ansible-playbook with JSON results in NAME.json (bounded in time).
play() {
	local name=$1
	shift
	ANSIBLE_STDOUT_CALLBACK=ansible.posix.json timeout 600 ip netns exec "$FLEET_CTL" \
		ansible-playbook "$@" -e "pinhole_deb=$DEB" >"$FLEET_TMP/$name.json" 2>"$FLEET_TMP/$name.err"
}
# hosts_where NAME TASK FILTER: the hosts whose result of TASK in NAME.json passes FILTER.
hosts_where() {
	jq -r --arg t "$2" "[.plays[].tasks[] | select(.task.name == \$t or (.task.name | endswith(\" : \" + \$t))) | .hosts | to_entries[] |
		select(.value | $3) | .key] | unique | join(\" \")" "$FLEET_TMP/$1.json"
}
stat_sum() { jq "[.stats[] | .$2] | add" "$FLEET_TMP/$1.json"; }
all_hosts=$(seq -f 'gw%g' -s ' ' "$N")
ruleset() { ip netns exec "$FLEET_ID-gw$1" nft -j list ruleset | jq -c '[.nftables[] | select(has("metainfo") | not)]'; }
generation() { fleet_ssh "$1" pinhole show -f json 2>/dev/null | jq '.generation // 0'; }
has_v2() { ip netns exec "$FLEET_ID-gw$1" nft list set inet pinhole web_v4 2>/dev/null | grep -qF '198.51.100.0/28'; }
has_v1() { ip netns exec "$FLEET_ID-gw$1" nft list set inet pinhole web_v4 2>/dev/null | grep -q '203.0.113.0/25' && ! has_v2 "$1"; }
# each FUNC: FUNC holds for gateways 1..N (FUNC I).
each() {
	local i
	for i in $(seq "$N"); do "$1" "$i" || return 1; done
}
runs_pinhole() { fleet_ssh "$1" pinhole --version >/dev/null; }
untouched() { ! fleet_ssh "$1" 'grep -q 203.0.113.0/25 /etc/pinhole/pinhole.rules || systemctl -q is-active pinhole.service'; }
units_up() { fleet_ssh "$1" 'systemctl -q is-active pinhole.service pinhole-guard.service && systemctl -q is-enabled pinhole.service pinhole-guard.service'; }
units_down() { ! fleet_ssh "$1" 'systemctl -q is-active pinhole.service || systemctl -q is-active pinhole-guard.service || systemctl -q is-enabled pinhole.service'; }
steered() { ip netns exec "$FLEET_ID-gw$1" nft list table inet pinhole 2>/dev/null | grep -q queue; }
same_generation() { [ "$(generation "$1")" = "$(cat "$FLEET_TMP/gen.$1")" ]; }
pinhole_gone() { ! ip netns exec "$FLEET_ID-gw$1" nft list table inet pinhole >/dev/null 2>&1; }
theirs_kept() { [ "$(theirs "$1")" = "$theirs_before" ]; }
new_file() { fleet_ssh "$1" grep -q 198.51.100.0/28 /etc/pinhole/pinhole.rules; }

# Someone else's table on every gateway: nothing pinhole does may touch it.
for i in $(seq "$N"); do
	ip netns exec "$FLEET_ID-gw$i" nft -f - <<'NFT'
table inet theirs {
	chain input {
		type filter hook input priority 10; policy accept;
	}
}
NFT
done
theirs() { ip netns exec "$FLEET_ID-gw$1" nft -j list table inet theirs 2>/dev/null | jq -c '[.nftables[] | select(has("metainfo") | not)]'; }
theirs_before=$(theirs 1)

# ---- the package ----

step "check mode before anything is installed"
play precheck pinhole.gateway.site --check -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "check mode on bare gateways: would install and apply on all $N, installs nothing" eval \
	'[ "$(hosts_where precheck "Apply the rules" ".changed and .msg == \"pinhole is not installed (yet)\"")" = "$all_hosts" ] &&
	 ! fleet_ssh 1 test -e /usr/sbin/pinhole'

step "installing the package with the role"
play install pinhole.gateway.site --tags pinhole_install -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "the role installs the package on all $N" test "$(hosts_where install 'Install the package' '.changed')" = "$all_hosts"
check "pinhole runs on every gateway" each runs_pinhole

# ---- check mode ----

step "check mode"
for i in $(seq "$N"); do ruleset "$i" >"$FLEET_TMP/before.$i"; done
play check pinhole.gateway.site --check -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "check mode: ansible-playbook succeeds" test "$(stat_sum check failures)" = 0
check "check mode reports the apply as changed on all $N" test "$(hosts_where check 'Apply the rules' '.changed')" = "$all_hosts"
check "and a dry run that commits nothing on each" \
	test "$(hosts_where check 'Apply the rules' '.pinhole.dry_run and .pinhole.changed and (.pinhole.committed | not)')" = "$all_hosts"
changed_kernel=""
for i in $(seq "$N"); do ruleset "$i" | cmp -s - "$FLEET_TMP/before.$i" || changed_kernel="$changed_kernel gw$i"; done
check "check mode changed no kernel${changed_kernel:+ (changed:$changed_kernel)}" test -z "$changed_kernel"
check "nor the rules file, nor the units" each untouched

# ---- first run, second run ----

step "first run"
play first pinhole.gateway.site -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "first run: ansible-playbook succeeds" test "$(stat_sum first failures)" = 0
check "it applies and commits on all $N" test "$(hosts_where first 'Apply the rules' '.changed and .pinhole.committed')" = "$all_hosts"
check "each kernel holds the rules" each has_v1
check "pinhole.service and pinhole-guard.service are enabled and active on all $N" each units_up
check "the guard runs on pinhole's table (its steering rules are there)" each steered

step "second run"
for i in $(seq "$N"); do generation "$i" >"$FLEET_TMP/gen.$i"; done
play second pinhole.gateway.site -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "second run: changed=0 on every gateway" test "$(stat_sum second changed)" = 0
check "and the apply sent no batch anywhere" test "$(hosts_where second 'Apply the rules' '.pinhole.batch == null and (.pinhole.committed | not)')" = "$all_hosts"
same_gen=""
for i in $(seq "$N"); do [ "$(generation "$i")" = "$(cat "$FLEET_TMP/gen.$i")" ] || same_gen="$same_gen gw$i"; done
check "no gateway's ruleset generation moved${same_gen:+ (moved:$same_gen)}" test -z "$same_gen"

# ---- --check --diff after an edit ----

step "--check --diff of an edit"
ANSIBLE_STDOUT_CALLBACK=default timeout 600 ip netns exec "$FLEET_CTL" ansible-playbook pinhole.gateway.site \
	--check --diff -e "pinhole_deb=$DEB" -e "pinhole_rules_src=$FLEET_TMP/v2.rules" >"$FLEET_TMP/diff.out" 2>&1
check "the review diff of every gateway is printed (WIDENING, the new prefix)" \
	test "$(grep -c '^WIDENING: set web: +16 IPv4 addresses' "$FLEET_TMP/diff.out")" = "$N" -a \
	"$(grep -c '^  + 198.51.100.0/28  16 addresses  /etc/pinhole/pinhole.rules:2' "$FLEET_TMP/diff.out")" = "$N"
check "each one followed by its gateway's changed line" test "$(grep -A1 '^WIDENING' "$FLEET_TMP/diff.out" |
	grep -oE '^changed: \[gw[0-9]+\]' | sort | tr '\n' ' ')" = "$(seq -f 'changed: [gw%g]' "$N" | sort | tr '\n' ' ')"
check "the diff changed no kernel" each same_generation

# ---- the rolling rollout with a failing wave ----

step "rolling rollout, waves of 2, 2, 1, gw3's check failing"
play rollout pinhole.gateway.rollout -e "pinhole_rules_src=$FLEET_TMP/v2.rules" \
	-e '{"pinhole_serial": [2, 2, 1]}' -e pinhole_rollout_confirm=30
rollout_rc=$?
check "the rollout fails" test "$rollout_rc" -ne 0
check "gw3's reachability check is what failed" test "$(hosts_where rollout 'Reach the probe address from the gateway' '.failed')" = "gw3"
check "gw1 and gw2 (the first wave) were confirmed, and nobody else" test "$(hosts_where rollout 'Keep the new rules' '.changed')" = "gw1 gw2"
check "gw5 (after the failing wave) was never touched" test "$(hosts_where rollout 'Apply the rules' 'true')" = "gw1 gw2 gw3 gw4"
deadline=$(jq -r '[.plays[].tasks[] | select(.task.name | endswith(" : Apply the rules")) | .hosts.gw3.confirm.deadline // empty][0]' "$FLEET_TMP/rollout.json")
check "gw3 and gw4 hold the new rules while their timer runs" eval 'has_v2 3 && has_v2 4'
wait_s=$(($(date -ud "$deadline" +%s) - $(date -u +%s) + 8))
step "waiting ${wait_s} s for the confirm deadline ($deadline)"
[ "$wait_s" -gt 0 ] && [ "$wait_s" -lt 120 ] && sleep "$wait_s"
check "gw1 and gw2 keep the new rules" eval 'has_v2 1 && has_v2 2'
check "gw3 and gw4 are back on the old rules" eval 'has_v1 3 && has_v1 4'
check "gw5 still has the old rules, at the same generation" eval 'has_v1 5 && same_generation 5'
check "the confirmed gateways' rules file is the new one; the others' the old one (a reboot keeps it so)" eval \
	'new_file 1 && new_file 2 && ! new_file 3 && ! new_file 4'
check "the rolled-back gateways say why in pinhole's log" eval \
	'fleet_ssh 3 "grep -q \"previous rules are back\" /run/pinhole/inet-pinhole.log"'

check "gw3 still has the new text staged (never confirmed)" fleet_ssh 3 test -e /etc/pinhole/pinhole.rules.pending
play again3 pinhole.gateway.site --limit gw3 -e "pinhole_rules_src=$FLEET_TMP/v1.rules"
check "applying the old rules again there drops the stale staged text, so no later confirm installs it" \
	eval '[ "$(stat_sum again3 failures)" = 0 ] && ! fleet_ssh 3 test -e /etc/pinhole/pinhole.rules.pending && has_v1 3'

# ---- facts ----

step "facts"
ANSIBLE_LOAD_CALLBACK_PLUGINS=1 ANSIBLE_STDOUT_CALLBACK=ansible.posix.json timeout 300 ip netns exec "$FLEET_CTL" ansible gateways -m pinhole.gateway.facts \
	>"$FLEET_TMP/facts.json" 2>"$FLEET_TMP/facts.err"
check "facts: show and guard --stats of every gateway" test "$(jq -r '[.plays[].tasks[].hosts | to_entries[] |
	select(.value.ansible_facts.pinhole.show.table == "pinhole" and .value.ansible_facts.pinhole.guard_stats != null) | .key] |
	sort | join(" ")' "$FLEET_TMP/facts.json")" = "$all_hosts"

# ---- state: absent ----

step "state: absent"
play absent pinhole.gateway.site -e pinhole_state=absent
check "absent: ansible-playbook succeeds" test "$(stat_sum absent failures)" = 0
check "pinhole's table is removed on all $N" test "$(hosts_where absent 'Remove what pinhole owns in the kernel' '.changed and .counts.tables_deleted == 1')" = "$all_hosts"
check "no gateway has anything of pinhole's left in the kernel" each pinhole_gone
check "someone else's table is untouched" each theirs_kept
check "and the units are stopped and disabled" each units_down

step "done"
if [ "$fail" -gt 0 ]; then
	for f in "$FLEET_TMP"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
