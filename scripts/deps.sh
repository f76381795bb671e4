#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what pinhole needs from Debian 12 packages (run as root).
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build and test dependencies (the real tools the tests use as judges)
#   scripts/deps.sh --package build dependencies and the Debian packaging tools (packaging/build-deb.sh)
#   scripts/deps.sh --fleet  what the fleet test and benchmark need (tests/fleet, bench/fleet.sh)
set -eu

BUILD="build-essential cmake pkg-config libnftnl-dev libmnl-dev libpcre2-dev
       libpsl-dev publicsuffix libidn2-dev libjansson-dev libpcap-dev
       libunistring-dev"   # Unicode scripts for the mixed-script warning (uc_script)
# libseccomp: the guard's system call allowlist once its sockets are open (matcher/guard_sandbox.c).
BUILD="$BUILD libseccomp-dev"
# ldns asks pinhole verify's DNS questions (CNAME, TXT, MX) and reports the AD bit.
BUILD="$BUILD libldns-dev"
TEST="libcriterion-dev nftables iprange aggregate util-linux iproute2"
TEST="$TEST systemd"   # systemd-analyze verify judges the units (tests/integration/systemd_units.sh)
# iptables, ipset and Squid judge the text backends (tests/integration/backends_*.sh); squid-openssl
# (not squid, which conflicts) because only the OpenSSL build knows ssl_bump and ssl::server_name.
TEST="$TEST iptables ipset squid-openssl openssl curl busybox"
# git makes the git:REV:PATH sources of pinhole diff; jq judges its JSON (tests/integration/diff_*.sh).
TEST="$TEST git jq"
# The matcher: tshark judges pinhole match on the captures; tcpdump, dnsmasq, dig, gnutls-cli and
# ethtool record them (tests/captures/make.sh); clang + libFuzzer run tests/fuzz; Hyperscan and
# time are what bench/match.sh measures against and with.
TEST="$TEST tshark tcpdump dnsmasq-base dnsutils gnutls-bin ethtool clang libclang-rt-14-dev libhyperscan-dev time"
# The guard's namespace tests (tests/integration/guard_*.sh) use dnsmasq and dig from the line
# above, openssl and curl, and setpriv (util-linux) to run it with CAP_NET_ADMIN only.
# pinhole verify's test (tests/integration/verify_dns.sh) serves its zones with dnsmasq-base and
# makes DKIM keys with openssl, both above.

# systemd gives systemd-analyze (unit checks); the rest build and check the .deb.
PACKAGE="debhelper dpkg-dev fakeroot lintian systemd"

# The fleet (tests/fleet/fleet.sh, bench/fleet.sh): debootstrap makes the gateways' Debian 12,
# systemd-container boots them (systemd-nspawn), ansible-core drives them over SSH (openssh-client,
# ssh-keygen) and ansible-lint checks the collection; ansible-lint brings Debian's ansible, whose
# ansible.posix gives the json and profile_tasks callbacks the test and benchmark read;
# openssh-server is the benchmark's sshd in plain namespaces; jq reads the results.
FLEET="debootstrap systemd-container ansible-core ansible-lint openssh-client openssh-server jq iproute2 nftables"

pkgs=$BUILD
[ "${1:-}" = "--test" ] && pkgs="$BUILD $TEST"
[ "${1:-}" = "--package" ] && pkgs="$BUILD $PACKAGE"
[ "${1:-}" = "--fleet" ] && pkgs="$FLEET"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
