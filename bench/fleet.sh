#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible collection on a fleet of 20 gateways (issue 18's targets), in one run:
#  1. module overhead: a no-change run of pinhole.gateway.apply (path, no content) against an
#     ansible.builtin.command task running `pinhole apply` on the same fleet, alternated RUNS
#     times; the ratio of the two tasks' durations is the overhead per gateway;
#  2. a rollout of a 100,000-prefix policy with forks=10: the apply task with the policy as
#     content (moved to every gateway, written, applied), its wall time, and where a gateway's
#     time goes: moving the text (an ansible.builtin.command task given it on stdin), pinhole
#     apply itself (timed alone in one namespace), and what is left for the module.
# Gateways are plain network namespaces, each with an sshd of its own on 192.0.2.1N (the
# controller namespace holds the bridge, 192.0.2.1), sharing this machine's file system; each
# gateway's rules, state and run directory are its own. 20 nspawn containers would not fit
# on 2 cores next to the controller's 10 forks; tests/fleet/fleet.sh uses those.
#   bench/fleet.sh build/pinhole [GATEWAYS]     (root; scripts/deps.sh --fleet)
set -uo pipefail
PINHOLE=$(realpath "${1:?usage: bench/fleet.sh PATH_TO_PINHOLE [GATEWAYS]}")
N=${2:-20}
RUNS=${RUNS:-5}
PREFIXES=${PREFIXES:-100000}
for t in ansible-playbook jq /usr/sbin/sshd ssh-keygen; do
	command -v "$t" >/dev/null || { echo "needs $t (scripts/deps.sh --fleet)" >&2; exit 1; }
done
FLEET_TMP=$(mktemp -d /tmp/pinhole-bench-fleet.XXXXXX)
export FLEET_TMP FLEET_ID=phb
source "$(dirname "$0")/../tests/fleet/fleet_lib.bash"

# Gateway i without a container: its namespace and an sshd in it.
bench_gw_up() {
	local i=$1 d=$FLEET_TMP/gw$1
	fleet_gw_net "$i"
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ip netns exec "$FLEET_ID-gw$i" /usr/sbin/sshd -f /dev/null -h "$d/host_key" \
		-o "ListenAddress=$(fleet_addr "$i")" -o "PidFile=$d/sshd.pid" -o PermitRootLogin=prohibit-password \
		-o "AuthorizedKeysFile=$FLEET_TMP/id.pub" -o StrictModes=no -o UsePAM=no -o MaxStartups=100
}

bench_down() {
	local d
	for d in "$FLEET_TMP"/gw*; do
		[ -f "$d/sshd.pid" ] && kill "$(cat "$d/sshd.pid")" 2>/dev/null
	done
	fleet_down
	rm -rf "$FLEET_TMP"
}
trap bench_down EXIT
trap 'exit 1' INT TERM HUP

mkdir -p /run/sshd	# sshd's privilege separation directory
fleet_ssh_config "$N"
fleet_net_up
for i in $(seq "$N"); do bench_gw_up "$i"; done
FLEET_N=$N
fleet_wait_ssh "$N" || exit 1

fleet_inventory >"$FLEET_TMP/inventory.yml"
mkdir -p "$FLEET_TMP/host_vars"
for i in $(seq "$N"); do
	echo "gw_dir: $FLEET_TMP/gw$i" >"$FLEET_TMP/host_vars/gw$i.yml"
done
cat >"$FLEET_TMP/ansible.cfg" <<CFG
[defaults]
inventory = $FLEET_TMP/inventory.yml
collections_path = $FLEET_TMP/collections
forks = 10
[ssh_connection]
pipelining = True
CFG
export ANSIBLE_CONFIG=$FLEET_TMP/ansible.cfg ANSIBLE_NOCOLOR=1
ansible-galaxy collection build "$(dirname "$0")/../packaging/ansible" --output-path "$FLEET_TMP" >/dev/null &&
	ansible-galaxy collection install -p "$FLEET_TMP/collections" "$FLEET_TMP"/pinhole-gateway-*.tar.gz >/dev/null || exit 1

# The policy: PREFIXES /24s 1,024 addresses apart (nothing to aggregate), one name set.
awk -v n="$PREFIXES" 'BEGIN { print "set web { *.example.com }"; print "set big {"
	for (i = 0; i < n; i++) { a = 16777216 + i * 1024
		printf "\t%d.%d.%d.0/24\n", int(a / 16777216) % 256, int(a / 65536) % 256, int(a / 256) % 256 }
	print "}"; print "allow in from @big tcp port 25"; print "allow out to @web tcp port 443" }' >"$FLEET_TMP/big.rules"

# The same arguments in every playbook: the gateway's own rules file, state and run directory.
MOD_ARGS='executable: '"$PINHOLE"'
        path: "{{ gw_dir }}/pinhole.rules"
        state_dir: "{{ gw_dir }}/state"
        run_dir: "{{ gw_dir }}/run"'
playbook() {	# NAME TASK-YAML: a one-task play on every gateway
	cat >"$FLEET_TMP/$1.yml" <<PLAY
- name: $1
  hosts: gateways
  gather_facts: false
  tasks:
    - name: $1
$2
PLAY
}
playbook rollout "      pinhole.gateway.apply:
        content: \"{{ lookup('ansible.builtin.file', '$FLEET_TMP/big.rules') }}\"
        $MOD_ARGS"
playbook module "      pinhole.gateway.apply:
        $MOD_ARGS"
playbook command "      ansible.builtin.command:
        argv: [$PINHOLE, apply, -q, \"{{ gw_dir }}/pinhole.rules\"]
      environment:
        PINHOLE_STATE_DIR: \"{{ gw_dir }}/state\"
        PINHOLE_RUN_DIR: \"{{ gw_dir }}/run\"
      changed_when: false"
playbook transfer "      ansible.builtin.command:
        argv: [wc, -c]
        stdin: \"{{ lookup('ansible.builtin.file', '$FLEET_TMP/big.rules') }}\"
      changed_when: false"

# run NAME: wall seconds of the playbook, then the task's duration (the json callback's).
run() {
	local t0 t1
	t0=$(date +%s.%N)
	ANSIBLE_STDOUT_CALLBACK=ansible.posix.json fleet_ctl ansible-playbook "$FLEET_TMP/$1.yml" >"$FLEET_TMP/$1.json" 2>"$FLEET_TMP/$1.err" ||
		{ echo "$1 failed:" >&2; jq -c '.stats' "$FLEET_TMP/$1.json" >&2; tail -5 "$FLEET_TMP/$1.err" >&2; return 1; }
	t1=$(date +%s.%N)
	printf '%.2f %s\n' "$(echo "$t1 - $t0" | bc)" "$(jq -r '.plays[0].tasks[0].task.duration |
		((.end | sub("\\.[0-9]+Z$"; "Z") | fromdate) + (.end | capture("(?<f>\\.[0-9]+)Z$").f | tonumber)) -
		((.start | sub("\\.[0-9]+Z$"; "Z") | fromdate) + (.start | capture("(?<f>\\.[0-9]+)Z$").f | tonumber))' "$FLEET_TMP/$1.json")"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "fleet: $N gateways (network namespaces + sshd), forks 10, policy $PREFIXES prefixes; load $(cut -d' ' -f1 /proc/loadavg)"

# pinhole apply alone, in a namespace of its own: a first apply of the policy, and a no-change one.
ip netns add "$FLEET_ID-solo"
solo=$FLEET_TMP/solo
mkdir -p "$solo"
t_first=$( { /usr/bin/time -f %e env PINHOLE_STATE_DIR="$solo/s" PINHOLE_RUN_DIR="$solo/r" \
	ip netns exec "$FLEET_ID-solo" "$PINHOLE" apply -q "$FLEET_TMP/big.rules" >/dev/null; } 2>&1)
t_again=$( { /usr/bin/time -f %e env PINHOLE_STATE_DIR="$solo/s" PINHOLE_RUN_DIR="$solo/r" \
	ip netns exec "$FLEET_ID-solo" "$PINHOLE" apply -q "$FLEET_TMP/big.rules" >/dev/null; } 2>&1)
ip netns del "$FLEET_ID-solo"

read -r roll_wall roll_task < <(run rollout) || exit 1
jq -e '[.plays[0].tasks[0].hosts[] | select(.pinhole.committed)] | length == '"$N" "$FLEET_TMP/rollout.json" >/dev/null ||
	{ echo "the rollout did not commit on every gateway" >&2; exit 1; }
read -r xfer_wall xfer_task < <(run transfer) || exit 1

: >"$FLEET_TMP/m" && : >"$FLEET_TMP/c"
for r in $(seq "$RUNS"); do
	run module >>"$FLEET_TMP/m" || exit 1
	run command >>"$FLEET_TMP/c" || exit 1
done
jq -e '[.plays[0].tasks[0].hosts[] | select(.changed or .pinhole.batch != null)] | length == 0' "$FLEET_TMP/module.json" >/dev/null ||
	{ echo "the no-change module run changed something" >&2; exit 1; }
rounds=$(((N + 9) / 10))
m_task=$(cut -d' ' -f2 "$FLEET_TMP/m" | median) c_task=$(cut -d' ' -f2 "$FLEET_TMP/c" | median)
m_wall=$(cut -d' ' -f1 "$FLEET_TMP/m" | median) c_wall=$(cut -d' ' -f1 "$FLEET_TMP/c" | median)

echo
echo "no-change run, median of $RUNS alternated runs (task duration / whole playbook):"
printf '  pinhole.gateway.apply   %6.2f s / %6.2f s\n' "$m_task" "$m_wall"
printf '  command: pinhole apply  %6.2f s / %6.2f s\n' "$c_task" "$c_wall"
printf '  ratio module / command  %6.2f   / %6.2f   (target <= 1.5, task)\n' \
	"$(echo "$m_task / $c_task" | bc -l)" "$(echo "$m_wall / $c_wall" | bc -l)"
printf '  per gateway and round of up to 10 (task / rounds): module %.2f s, command %.2f s\n' \
	"$(echo "$m_task / $rounds" | bc -l)" "$(echo "$c_task / $rounds" | bc -l)"
echo
echo "rollout of $PREFIXES prefixes to $N gateways, forks 10 ($rounds rounds of up to 10):"
printf '  playbook wall time %.2f s; the apply task %.2f s\n' "$roll_wall" "$roll_task"
printf '  per gateway and round (task / rounds): %.2f s, of which\n' "$(echo "$roll_task / $rounds" | bc -l)"
printf '    moving the %s-byte text (command task with it on stdin, / rounds): %.2f s\n' \
	"$(wc -c <"$FLEET_TMP/big.rules")" "$(echo "$xfer_task / $rounds" | bc -l)"
printf '    pinhole apply alone (first apply, one namespace, nothing else running): %.2f s (no change: %.2f s)\n' \
	"$t_first" "$t_again"
printf '    the rest (the module, and 10 applies sharing 2 cores): %.2f s\n' \
	"$(echo "$roll_task / $rounds - $xfer_task / $rounds - $t_first" | bc -l)"
