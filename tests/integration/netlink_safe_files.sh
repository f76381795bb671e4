#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Files root writes never follow a planted link. A local user (nobody) plants symbolic links
# to root's files in a state or run directory that anyone may write to; root's apply,
# apply --confirm, remove, diff --live and guard refuse with a clear error before the
# kernel or the victims are touched. Inside a directory that passes the checks, a link left
# there is replaced or refused, never followed. Fresh network namespace per case.
CASES="world_writable_state_dir sticky_state_dir symlinked_state_dir foreign_state_dir
	world_writable_run_dir links_in_a_good_dir guard_dirs"
source "$(dirname "$0")/netlink_lib.bash"

command -v setpriv >/dev/null || nl_skip "needs setpriv (util-linux)"

# Root's files that the planted links point at, with what they must keep.
victims() {
	local v
	chmod 755 "$NL_TMP"	# nobody must reach the directories it plants in
	for v in 1 2 3 4; do echo "root's file $v" >"$NL_TMP/victim$v"; chmod 600 "$NL_TMP/victim$v"; done
}
victims_untouched() {
	local v
	for v in 1 2 3 4; do [ "$(cat "$NL_TMP/victim$v")" = "root's file $v" ] || return 1; done
}
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}
# Plants links named $2... in directory $1 (as nobody), to the victims in turn.
plant() {
	local dir=$1 n=1 name
	shift
	for name in "$@"; do
		as_nobody ln -sf "$NL_TMP/victim$n" "$dir/$name" || return 1
		n=$((n % 4 + 1))
	done
}

# $1: what the error must say; the rest: the command. It must fail, say so, and leave the
# victims and the kernel as they were.
refuses() {
	local what=$1
	shift
	"$@" >/dev/null 2>"$NL_TMP/err"
	local st=$?
	expect "'$*' refuses (exit $st)" test "$st" -ne 0
	expect "'$*' says: $what" grep -q -- "$what" "$NL_TMP/err"
	expect "'$*' left the victims alone" victims_untouched
	expect "'$*' left the kernel alone" test "$(ruleset_json)" = "[]"
}

case_world_writable_state_dir() {
	victims
	mkdir -m 0777 "$PINHOLE_STATE_DIR"
	chmod 0777 "$PINHOLE_STATE_DIR"
	plant "$PINHOLE_STATE_DIR" inet-pinhole.state inet-pinhole.state.tmp inet-pinhole.applied inet-pinhole.applied.tmp
	local msg="$PINHOLE_STATE_DIR can be written by group or others (mode 0777)"
	refuses "$msg" "$PINHOLE" apply rules/marketo.rules
	refuses "$msg" "$PINHOLE" apply --dry-run rules/marketo.rules
	refuses "$msg" "$PINHOLE" apply --confirm 5 rules/marketo.rules
	refuses "$msg" "$PINHOLE" diff --live rules/marketo.rules
	refuses "$msg" "$PINHOLE" remove
	expect "the message says where the rule is written down" grep -q 'see pinhole(8) FILES' "$NL_TMP/err"
}

case_sticky_state_dir() {
	victims
	mkdir -m 1777 "$PINHOLE_STATE_DIR"
	chmod 1777 "$PINHOLE_STATE_DIR"
	plant "$PINHOLE_STATE_DIR" inet-pinhole.state inet-pinhole.applied
	refuses "(mode 1777)" "$PINHOLE" apply rules/marketo.rules
}

case_symlinked_state_dir() {
	victims
	# the state directory is configured under a parent anyone may write to, and nobody
	# got there first with a link to a directory of its own
	mkdir -m 0777 "$NL_TMP/pub-$NL_CASE"
	chmod 0777 "$NL_TMP/pub-$NL_CASE"
	export PINHOLE_STATE_DIR=$NL_TMP/pub-$NL_CASE/state
	as_nobody mkdir "$NL_TMP/pub-$NL_CASE/mine"
	as_nobody ln -s "$NL_TMP/pub-$NL_CASE/mine" "$PINHOLE_STATE_DIR"
	refuses "$PINHOLE_STATE_DIR is a symbolic link" "$PINHOLE" apply rules/marketo.rules
}

case_foreign_state_dir() {
	victims
	install -d -o 65534 -g 65534 -m 0700 "$PINHOLE_STATE_DIR"
	plant "$PINHOLE_STATE_DIR" inet-pinhole.state inet-pinhole.applied
	refuses "$PINHOLE_STATE_DIR belongs to uid 65534" "$PINHOLE" apply rules/marketo.rules
}

case_world_writable_run_dir() {
	victims
	mkdir -m 0777 "$PINHOLE_RUN_DIR"
	chmod 0777 "$PINHOLE_RUN_DIR"
	plant "$PINHOLE_RUN_DIR" inet-pinhole.pending inet-pinhole.rollback inet-pinhole.log inet-pinhole.rolling-back
	local msg="$PINHOLE_RUN_DIR can be written by group or others (mode 0777)"
	refuses "$msg" "$PINHOLE" apply --confirm 5 rules/marketo.rules
	refuses "$msg" "$PINHOLE" apply rules/marketo.rules
	refuses "$msg" "$PINHOLE" confirm
	refuses "$msg" "$PINHOLE" confirm --cancel -t pinhole
}

# Links that got into a directory that passes the checks (made before it was fixed, or by
# root by mistake): apply replaces them, the waiter does not log through one, the readers
# refuse them.
case_links_in_a_good_dir() {
	victims
	mkdir -m 0700 "$PINHOLE_STATE_DIR" "$PINHOLE_RUN_DIR"
	ln -s "$NL_TMP/victim1" "$PINHOLE_STATE_DIR/inet-pinhole.applied"
	ln -s "$NL_TMP/victim2" "$PINHOLE_STATE_DIR/inet-pinhole.state"
	ln -s "$NL_TMP/victim3" "$PINHOLE_RUN_DIR/inet-pinhole.log"
	"$PINHOLE" apply -q rules/marketo.rules 2>"$NL_TMP/err"
	expect "apply works" test $? -eq 0
	expect "the applied snapshot is a file of its own now" test -f "$PINHOLE_STATE_DIR/inet-pinhole.applied" -a \
		! -L "$PINHOLE_STATE_DIR/inet-pinhole.applied"
	expect "the state is a file of its own now" test ! -L "$PINHOLE_STATE_DIR/inet-pinhole.state"
	expect "the victims are untouched" victims_untouched
	"$PINHOLE" apply -q --confirm 1 rules/marketo.rules
	sleep 1.5
	local i
	for i in $(seq 50); do [ -e "$PINHOLE_RUN_DIR/inet-pinhole.pending" ] || break; sleep 0.1; done
	expect "the waiter did not log through the link" victims_untouched
	# a snapshot that is a link is not read (it would be applied as rules)
	mv "$PINHOLE_STATE_DIR/inet-pinhole.applied" "$NL_TMP/real.applied"
	ln -s "$NL_TMP/real.applied" "$PINHOLE_STATE_DIR/inet-pinhole.applied"
	"$PINHOLE" remove >/dev/null 2>"$NL_TMP/err"
	expect "remove does not read a snapshot through a link" grep -q 'inet-pinhole.applied is a symbolic link' "$NL_TMP/err"
}

case_guard_dirs() {
	victims
	mkdir -m 0777 "$NL_TMP/ww-$NL_CASE"
	chmod 0777 "$NL_TMP/ww-$NL_CASE"
	plant "$NL_TMP/ww-$NL_CASE" guard.stats guard.stats.tmp guard.state guard.state.tmp
	timeout 5 "$PINHOLE" guard --rules rules/marketo.rules --stats-file "$NL_TMP/ww-$NL_CASE/guard.stats" \
		>/dev/null 2>"$NL_TMP/err"
	local st=$?
	expect "the guard refuses a run directory others can write to (exit $st)" test "$st" -eq 1
	expect "and says why" grep -q "ww-$NL_CASE can be written by group or others" "$NL_TMP/err"
	expect "the victims are untouched" victims_untouched
	# a missing run directory is made 0700; the learnt state is 0600
	"$PINHOLE" apply -q rules/marketo.rules
	timeout -s TERM 3 "$PINHOLE" guard --rules rules/marketo.rules --stats-file "$NL_TMP/run-$NL_CASE-g/guard.stats" \
		>/dev/null 2>&1
	expect "the guard makes its run directory 0700" test "$(stat -c %a "$NL_TMP/run-$NL_CASE-g")" = 700
	expect "guard.state is 0600" test "$(stat -c %a "$NL_TMP/run-$NL_CASE-g/guard.state")" = 600
}

nl_main
