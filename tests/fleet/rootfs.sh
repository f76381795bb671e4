#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes (once) the Debian 12 root file system that every fleet gateway boots from, and prints
# its path. It lives outside the repository, in a cache keyed by the package list: a change to
# the list makes a new one. Gateways never write to it (each boots an overlay of it).
#   tests/fleet/rootfs.sh           make it if missing, print its path
#   PINHOLE_FLEET_CACHE=DIR         where the cache is (default /var/cache/pinhole-test)
set -euo pipefail

SUITE=bookworm
MIRROR=${PINHOLE_FLEET_MIRROR:-http://deb.debian.org/debian}
# systemd as PID 1 with sshd; python3 (+ apt) for Ansible's modules; ping for the rollout's
# reachability check; nftables to judge the kernel from inside; then the shared libraries the
# pinhole .deb depends on, since the gateways have no network to fetch them.
PACKAGES="systemd systemd-sysv dbus openssh-server python3 python3-apt procps iproute2
	iputils-ping nftables publicsuffix libnftnl11 libmnl0 libpcre2-8-0 libpsl5 libidn2-0
	libjansson4 libpcap0.8 libunistring2 libseccomp2 libldns3"

list=$(echo "$PACKAGES" | tr -s ' \t\n' '\n' | sed '/^$/d' | sort | paste -sd, -)
key=$(printf '%s %s %s\n' "$SUITE" "$MIRROR" "$list" | sha256sum | cut -c1-12)
cache=${PINHOLE_FLEET_CACHE:-/var/cache/pinhole-test}
root="$cache/fleet-rootfs-$key"

mkdir -p "$cache"
exec 9>"$cache/fleet-rootfs.lock"
flock 9	# a second run waits for the first instead of debootstrapping twice

if [ ! -e "$root/.complete" ]; then
	rm -rf "$root.tmp"
	debootstrap --variant=minbase --include="$list" "$SUITE" "$root.tmp" "$MIRROR" >&2
	# No apt sources inside: the gateways have no route out, and the role installs a local .deb.
	: >"$root.tmp/etc/apt/sources.list"
	# Password-less root is never needed: the test's key is placed per gateway.
	sed -i 's/^#\?PermitRootLogin.*/PermitRootLogin prohibit-password/' "$root.tmp/etc/ssh/sshd_config"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	touch "$root/.complete"
fi
echo "$root"
