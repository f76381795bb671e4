# SPDX-License-Identifier: GPL-2.0-or-later
# fleet_lib.bash — a fleet of Debian 12 gateways on this machine, for tests/fleet/fleet.sh and
# bench/fleet.sh (sourced, not run). Each gateway boots systemd as PID 1 with systemd-nspawn
# from an overlay of the cached root file system (tests/fleet/rootfs.sh), in a network
# namespace of its own whose eth0 sits on a bridge inside the controller's namespace. Every
# address is in 192.0.2.0/24 and no namespace has a route out: the controller (ansible) runs
# inside the controller namespace and reaches the gateways over SSH with a key made here.
#
#   fleet_up N        boot gw1..gwN (192.0.2.11..) and wait for their sshd
#   fleet_down        stop and delete everything fleet_up made (also after a partial start)
#   fleet_ctl CMD...  run CMD in the controller namespace
#   fleet_ssh I CMD   run CMD as root on gateway I
#   fleet_inventory   print an Ansible inventory of the fleet (YAML)
set -u

FLEET_TMP=${FLEET_TMP:?set FLEET_TMP to a scratch directory}
FLEET_ID=${FLEET_ID:-phf}		# prefix of every namespace, link and machine name
FLEET_CTL=$FLEET_ID-ctl
FLEET_BRIDGE=${FLEET_ID}br0
FLEET_N=0

fleet_log() { echo "fleet: $*" >&2; }

fleet_addr() { echo "192.0.2.$((10 + $1))"; }

fleet_ctl() { ip netns exec "$FLEET_CTL" "$@"; }

fleet_ssh() {
	local i=$1
	shift
	fleet_ctl ssh -F "$FLEET_TMP/ssh_config" "gw$i" "$@"
}

# The controller's namespace: the bridge with 192.0.2.1, nothing else.
fleet_net_up() {
	ip netns add "$FLEET_CTL"
	fleet_ctl ip link set lo up
	fleet_ctl ip link add "$FLEET_BRIDGE" type bridge
	fleet_ctl ip addr add 192.0.2.1/24 dev "$FLEET_BRIDGE"
	fleet_ctl ip link set "$FLEET_BRIDGE" up
}

# Gateway i's namespace: eth0 (192.0.2.1i) whose peer is on the bridge.
fleet_gw_net() {
	local i=$1 ns=$FLEET_ID-gw$1
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	ip link add "${FLEET_ID}v$i" netns "$FLEET_CTL" type veth peer name eth0 netns "$ns"
	fleet_ctl ip link set "${FLEET_ID}v$i" master "$FLEET_BRIDGE" up
	ip netns exec "$ns" ip addr add "$(fleet_addr "$i")/24" dev eth0
	ip netns exec "$ns" ip link set eth0 up
}

# Gateway i's root: an overlay whose upper layer holds what differs (hostname, the key).
fleet_gw_root() {
	local i=$1 d=$FLEET_TMP/gw$1
	mkdir -p "$d/upper" "$d/work" "$d/root"
	mount -t overlay "$FLEET_ID-gw$i" -o "lowerdir=$FLEET_ROOTFS,upperdir=$d/upper,workdir=$d/work" "$d/root"
	echo "gw$i" >"$d/root/etc/hostname"
	# the controller, not this machine's resolvers: nothing may look for a way out
	rm -f "$d/root/etc/resolv.conf"
	echo "nameserver 192.0.2.1" >"$d/root/etc/resolv.conf"
	install -d -m 700 "$d/root/root/.ssh"
	install -m 600 "$FLEET_TMP/id.pub" "$d/root/root/.ssh/authorized_keys"
}

fleet_gw_boot() {
	local i=$1 d=$FLEET_TMP/gw$1
	systemd-nspawn -D "$d/root" --boot --register=no --keep-unit --console=passive --private-network --resolv-conf=off \
		--machine="$FLEET_ID-gw$i" --network-namespace-path="/run/netns/$FLEET_ID-gw$i" \
		</dev/null >"$d/console.log" 2>&1 &
	echo $! >"$d/nspawn.pid"
}

fleet_ssh_config() {
	local i
	ssh-keygen -q -t ed25519 -N '' -C pinhole-fleet-test -f "$FLEET_TMP/id"
	: >"$FLEET_TMP/ssh_config"
	for i in $(seq "$1"); do
		cat >>"$FLEET_TMP/ssh_config" <<CONF
Host gw$i
	HostName $(fleet_addr "$i")
CONF
	done
	cat >>"$FLEET_TMP/ssh_config" <<CONF
Host *
	User root
	IdentityFile $FLEET_TMP/id
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	LogLevel ERROR
	ConnectTimeout 5
	BatchMode yes
CONF
}

# Waits (bounded) until every gateway's sshd answers.
fleet_wait_ssh() {
	local i t
	for i in $(seq "$1"); do
		for t in $(seq 120); do
			fleet_ssh "$i" true 2>/dev/null && break
			[ "$t" = 120 ] && { fleet_log "gw$i: no sshd after 120 s"; tail -20 "$FLEET_TMP/gw$i/console.log" >&2; return 1; }
			sleep 1
		done
	done
}

fleet_up() {
	local n=$1 i
	FLEET_ROOTFS=$("$(dirname "${BASH_SOURCE[0]}")/rootfs.sh") || return 1
	FLEET_N=$n
	fleet_ssh_config "$n"
	fleet_net_up
	for i in $(seq "$n"); do
		fleet_gw_net "$i"
		fleet_gw_root "$i"
		fleet_gw_boot "$i"
	done
	fleet_wait_ssh "$n"
}

# Stops gateway i's container: poweroff through nspawn's SIGTERM, killed after 20 s.
fleet_gw_stop() {
	local d=$FLEET_TMP/gw$1 pid t
	[ -f "$d/nspawn.pid" ] || return 0
	pid=$(cat "$d/nspawn.pid")
	kill -TERM "$pid" 2>/dev/null
	for t in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "$d/nspawn.pid"
}

fleet_down() {
	local i d
	for d in "$FLEET_TMP"/gw*; do
		[ -d "$d" ] || continue
		i=${d##*/gw}
		fleet_gw_stop "$i"
		mountpoint -q "$d/root" && umount "$d/root"
		ip netns del "$FLEET_ID-gw$i" 2>/dev/null
	done
	ip netns del "$FLEET_CTL" 2>/dev/null	# takes the bridge and the veth ends with it
	return 0
}

fleet_inventory() {
	local i
	echo "gateways:"
	echo "  vars:"
	echo "    ansible_user: root"
	echo "    ansible_python_interpreter: /usr/bin/python3"
	echo "    ansible_ssh_common_args: -F $FLEET_TMP/ssh_config"
	echo "    pinhole_probe_address: 192.0.2.1"
	echo "  hosts:"
	for i in $(seq "$FLEET_N"); do
		echo "    gw$i:"
		echo "      ansible_host: gw$i"
	done
}
