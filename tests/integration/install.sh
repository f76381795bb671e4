#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The CMake install rules, run into a temporary DESTDIR (never onto this machine): exactly the
# expected files, in the Debian layout when the build is configured with the prefix /usr (as
# the package build is) and relocated by `cmake --install --prefix` otherwise. The example
# /etc/pinhole/pinhole.rules is the header plus the shipped Marketo policy, and compiles; the
# units name the configured binary and configuration.
set -u
PINHOLE=${1:?usage: install.sh PATH_TO_PINHOLE}
build=$(dirname "$(realpath "$PINHOLE")")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { # check MESSAGE COMMAND...: passes when COMMAND succeeds
	local msg=$1
	shift
	if "$@"; then pass=$((pass + 1)); else echo "FAIL: $msg"; fail=$((fail + 1)); fi
}
quiet() { "$@" >/dev/null 2>&1; }

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ "$prefix" = /usr ]; then
	# The package's layout; systemd.pc may say /lib/systemd/system or /usr/lib/systemd/system.
	DESTDIR=$tmp/d cmake --install "$build" >"$tmp/log" 2>&1
	check "cmake --install failed: $(cat "$tmp/log")" test $? -eq 0
	root=$tmp/d bin=usr/sbin share=usr/share etc=etc units=lib/systemd/system
	sbindir=/usr/sbin sysconfdir=/etc
	installed=$(cd "$tmp/d" && find . -type f | sed 's#^\./##; s#^usr/lib/systemd/#lib/systemd/#' | sort)
else
	DESTDIR=$tmp/d cmake --install "$build" --prefix /opt/pinhole >"$tmp/log" 2>&1
	check "cmake --install --prefix failed: $(cat "$tmp/log")" test $? -eq 0
	root=$tmp/d/opt/pinhole bin=sbin share=share etc=etc units=lib/systemd/system
	sbindir=$prefix/sbin sysconfdir=$prefix/etc
	# Relative destinations follow --prefix: nothing may land outside it.
	installed=$(cd "$tmp/d" && find . -type f | sed 's#^\./##' | sort)
	outside=$(grep -v '^opt/pinhole/' <<<"$installed")
	check "installed outside --prefix: $outside" test -z "$outside"
	installed=$(sed 's#^opt/pinhole/##' <<<"$installed")
fi
want=$(printf '%s\n' "$bin/pinhole" "$share/man/man8/pinhole.8" "$share/man/man5/pinhole.rules.5" \
	"$etc/pinhole/pinhole.rules" "$units/pinhole.service" "$units/pinhole-guard.service" \
	"$share/bash-completion/completions/pinhole" |
	cat - <(cd rules && ls ./*.rules | sed "s#^\./#$share/pinhole/#") | sort)
check "installed files differ (< wanted, > installed): $(diff <(echo "$want") <(echo "$installed"))" \
	test "$want" = "$installed"

unit() { find "$tmp/d" -path "*/systemd/system/$1" -print -quit; }
check "example config is not the header + rules/marketo.rules" \
	cmp -s <(cat packaging/pinhole.rules.header rules/marketo.rules) "$root/$etc/pinhole/pinhole.rules"
# it compiles, naming each parameter the customer must still set (pinhole.rules(5), PARAMETERS)
check "installed example config does not compile" \
	quiet "$root/$bin/pinhole" check "$root/$etc/pinhole/pinhole.rules"
check "installed example config does not ask for its parameters" \
	sh -c "'$root/$bin/pinhole' check '$root/$etc/pinhole/pinhole.rules' 2>&1 | grep -q \"parameter 'tracking'.* is not set\""
check "installed marketo.rules differs" cmp -s rules/marketo.rules "$root/$share/pinhole/marketo.rules"
check "installed completion differs" \
	cmp -s packaging/completion/pinhole.bash "$root/$share/bash-completion/completions/pinhole"
check "installed binary does not run" quiet "$root/$bin/pinhole" --version
check "pinhole.service does not apply $sysconfdir/pinhole/pinhole.rules with $sbindir/pinhole" \
	grep -qx "ExecStart=$sbindir/pinhole apply $sysconfdir/pinhole/pinhole.rules" "$(unit pinhole.service)"
check "pinhole-guard.service does not run $sbindir/pinhole guard" \
	grep -qx "ExecStart=$sbindir/pinhole guard --rules $sysconfdir/pinhole/pinhole.rules" \
	"$(unit pinhole-guard.service)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
