#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commit confirmed: `apply --confirm SECONDS` puts the new rules in and restores the old
# ones unless `pinhole confirm` comes in time. Fresh network namespace per case; the
# rollback waiter is a child process that lives in that namespace.
CASES="rolls_back confirmed rolls_back_to_nothing refuses_unknown_state
	interleavings cancel waiter_killed_then_apply waiter_killed_then_confirm waiter_killed_late
	confirm_signals_nobody file_modes"
source "$(dirname "$0")/netlink_lib.bash"

changed() {
	sed 's/130.248.173.0\/24/130.248.174.0\/24/' rules/marketo.rules >"$NL_TMP/changed.rules"
}
# A third policy, different from both.
third() {
	sed 's/130.248.173.0\/24/130.248.175.0\/24/' rules/marketo.rules >"$NL_TMP/third.rules"
}
# The waiter's PID, from the pending file (for the test to kill it; pinhole itself never
# acts on it).
waiter_pid() {
	cut -d' ' -f1 "$PINHOLE_RUN_DIR/inet-pinhole.pending"
}
# Whether process $1 runs (a zombie does not: nobody here is the waiter's parent to reap it).
alive() {
	[ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}
# Waits up to 5 s for process $1 to end.
gone() {
	local i
	for i in $(seq 50); do alive "$1" || return 0; sleep 0.1; done
	return 1
}
# Kills the waiter as the OOM killer would, and waits until it is gone.
kill_waiter() {
	local pid
	pid=$(waiter_pid)
	kill -9 "$pid"
	gone "$pid"
}
# What systemd runs for `systemctl reload pinhole`, from the unit itself.
reload() {
	local cmd
	cmd=$(sed -n 's/^ExecReload=//p' packaging/systemd/pinhole.service)
	cmd=${cmd//\/usr\/sbin\/pinhole/$PINHOLE}
	cmd=${cmd//\/etc\/pinhole\/pinhole.rules/$NL_TMP/etc.rules}
	$cmd
}

# Waits up to 10 s for the rollback waiter (whose pending file is gone when it is done).
wait_rollback() {
	local i
	for i in $(seq 100); do
		[ -e "$PINHOLE_RUN_DIR/inet-pinhole.pending" ] || [ -e "$PINHOLE_RUN_DIR/inet-pinhole.pending.rolling-back" ] || return 0
		sleep 0.1
	done
	return 1
}

case_rolls_back() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	local old
	old=$(ruleset_json)
	"$PINHOLE" apply --confirm 2 "$NL_TMP/changed.rules" >"$NL_TMP/out"
	expect "apply --confirm exits 0" test $? -eq 0
	expect "apply --confirm says how to keep the rules" grep -q "run 'pinhole confirm' within 2 seconds" "$NL_TMP/out"
	expect "the new rules are in" test "$(ruleset_json)" != "$old"
	sleep 2.5
	wait_rollback
	expect "without confirm the old rules are back" test "$old" = "$(ruleset_json)"
	expect "the rollback says so in its log" grep -q 'the previous rules are back' "$PINHOLE_RUN_DIR/inet-pinhole.log"
	expect_status "confirm after the rollback has nothing to confirm" 1 "$PINHOLE" confirm 2>/dev/null
	expect "a re-apply of the old rules finds nothing to do" \
		test "$("$PINHOLE" apply rules/marketo.rules | tail -1)" = "no changes: the kernel already has what the rules want"
}

case_confirmed() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -q --confirm 2 "$NL_TMP/changed.rules"
	local new
	new=$(ruleset_json)
	expect_status "confirm in time exits 0" 0 "$PINHOLE" confirm
	sleep 3
	expect "the confirmed rules stay past the deadline" test "$new" = "$(ruleset_json)"
	expect "no rollback happened" test -z "$(grep 'not confirmed in time' "$PINHOLE_RUN_DIR/inet-pinhole.log" 2>/dev/null)"
	expect_status "a second confirm has nothing to confirm" 1 "$PINHOLE" confirm 2>/dev/null
	# the confirmed rules are now what a later --confirm restores
	"$PINHOLE" apply -q --confirm 1 rules/marketo.rules
	sleep 1.5
	wait_rollback
	expect "a later rollback restores the confirmed rules" test "$new" = "$(ruleset_json)"
}

case_rolls_back_to_nothing() {
	"$PINHOLE" apply -q --confirm 1 rules/marketo.rules
	expect "the rules are in" nft list table inet pinhole >/dev/null
	sleep 1.5
	wait_rollback
	expect "without confirm the table is gone again" test "$(ruleset_json)" = "[]"
}

case_refuses_unknown_state() {
	"$PINHOLE" apply -q rules/marketo.rules
	nft add element inet pinhole marketo_senders_v4 '{ 203.0.113.0/24 }'
	changed
	"$PINHOLE" apply --confirm 5 "$NL_TMP/changed.rules" >/dev/null 2>"$NL_TMP/err"
	expect "apply --confirm refuses when the kernel is not what pinhole applied" test $? -eq 1
	expect "and says why" grep -q 'needs a snapshot of what the kernel holds now' "$NL_TMP/err"
	expect "nothing was changed" test -n "$(set_elems pinhole marketo_senders_v4 | grep 203.0.113.0/24)"
}

# Every command that changes the kernel, run during a confirmation window: it refuses with
# a message naming the pending confirmation and how to confirm or cancel, the kernel keeps
# the pending rules, the rollback comes as announced; run again afterwards, it works and
# nothing undoes it. No apply is lost.
case_interleavings() {
	changed
	third
	cp "$NL_TMP/third.rules" "$NL_TMP/etc.rules"
	local op r0 r1 want
	"$PINHOLE" apply -q rules/marketo.rules
	r0=$(ruleset_json)
	for op in apply reload remove confirm_apply; do
		"$PINHOLE" apply -q --confirm 2 "$NL_TMP/changed.rules"
		r1=$(ruleset_json)
		case $op in
		apply) run_op() { "$PINHOLE" apply -q "$NL_TMP/third.rules"; } ;;
		reload) run_op() { reload; } ;;
		remove) run_op() { "$PINHOLE" remove; } ;;
		confirm_apply) run_op() { "$PINHOLE" apply -q --confirm 2 "$NL_TMP/third.rules"; } ;;
		esac
		run_op >"$NL_TMP/out" 2>"$NL_TMP/err"
		expect "$op during the window refuses" test $? -eq 1
		expect "$op says a confirmation is pending and how to end it" \
			grep -q "pending confirmation.*pinhole confirm -t pinhole.*pinhole confirm --cancel" "$NL_TMP/err"
		expect "$op changed nothing" test "$(ruleset_json)" = "$r1"
		sleep 2.5
		wait_rollback
		expect "$op: the announced rollback came" test "$(ruleset_json)" = "$r0"
		run_op >/dev/null 2>&1
		expect "$op after the window works" test $? -eq 0
		want=$(ruleset_json)
		[ "$op" = confirm_apply ] && { "$PINHOLE" confirm >/dev/null; want=$(ruleset_json); }
		sleep 2.5
		expect "$op after the window stays" test "$(ruleset_json)" = "$want"
		"$PINHOLE" apply -q rules/marketo.rules
	done
	# --dry-run changes nothing, so it is allowed during a window
	"$PINHOLE" apply -q --confirm 3 "$NL_TMP/changed.rules"
	expect_status "apply --dry-run during a window answers" 1 "$PINHOLE" apply -q --dry-run "$NL_TMP/third.rules"
	"$PINHOLE" confirm >/dev/null
	expect "after confirm a plain apply works" "$PINHOLE" apply -q "$NL_TMP/third.rules"
}

case_cancel() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	local old pid
	old=$(ruleset_json)
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	pid=$(waiter_pid)
	expect_status "confirm --cancel exits 0" 0 "$PINHOLE" confirm --cancel 2>"$NL_TMP/err"
	expect "the old rules are back at once" test "$old" = "$(ruleset_json)"
	expect "and it says so" grep -q 'cancelled: restoring' "$NL_TMP/err"
	expect "the waiter left by itself" gone "$pid"
	expect "nothing is left pending" test -z "$(ls "$PINHOLE_RUN_DIR" | grep -v '\.log$')"
	expect "a plain apply works again" "$PINHOLE" apply -q "$NL_TMP/changed.rules"
}

# kill -9 of the waiter: the next command that reads the pending state sees the lock gone,
# rolls back at once and says so, then does its own work.
case_waiter_killed_then_apply() {
	changed
	third
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	expect "the waiter is killed" kill_waiter
	"$PINHOLE" apply -q "$NL_TMP/third.rules" >"$NL_TMP/out" 2>"$NL_TMP/err"
	expect "the next apply works" test $? -eq 0
	expect "and reports the dead waiter and the rollback" grep -q 'rollback timer of table inet pinhole (pid [0-9]*) is gone' "$NL_TMP/err"
	expect "the rollback happened" grep -q 'the previous rules are back' "$NL_TMP/err"
	local want
	want=$(ruleset_json)
	expect "the kernel holds what that apply applied" test "$(set_elems pinhole marketo_web_v4 2>/dev/null | grep -c 130.248.175.0/24)$(nft list ruleset | grep -c 130.248.175.0/24)" != "00"
	expect "nothing is pending" test ! -e "$PINHOLE_RUN_DIR/inet-pinhole.pending"
	expect "a later --confirm is not refused" "$PINHOLE" apply -q --confirm 1 "$NL_TMP/changed.rules"
	sleep 1.5
	wait_rollback
	expect "and its rollback returns to what the plain apply applied" test "$(ruleset_json)" = "$want"
	# remove finds a dead waiter too
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	kill_waiter
	"$PINHOLE" remove >/dev/null 2>"$NL_TMP/err"
	expect "remove after a dead waiter works" test $? -eq 0
	expect "and reports the rollback first" grep -q 'is gone without a confirmation' "$NL_TMP/err"
	expect "the table is gone" test "$(ruleset_json)" = "[]"
}

case_waiter_killed_then_confirm() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	local new
	new=$(ruleset_json)
	kill_waiter
	expect_status "confirm before the deadline keeps the rules" 0 "$PINHOLE" confirm 2>"$NL_TMP/err" >/dev/null
	expect "and notes the timer had died" grep -q 'had died before the deadline' "$NL_TMP/err"
	expect "the new rules stay" test "$(ruleset_json)" = "$new"
}

case_waiter_killed_late() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	local old
	old=$(ruleset_json)
	"$PINHOLE" apply -q --confirm 1 "$NL_TMP/changed.rules"
	kill_waiter
	sleep 1.5
	expect "a dead waiter did not roll back by itself" test "$(ruleset_json)" != "$old"
	expect_status "confirm after the deadline refuses" 1 "$PINHOLE" confirm 2>"$NL_TMP/err" >/dev/null
	expect "and rolls back at once" test "$(ruleset_json)" = "$old"
	expect "saying so" grep -q 'the previous rules are back' "$NL_TMP/err"
}

# confirm never signals anybody: the PID in the pending file may belong to anyone by now.
# Kill the waiter, let an unrelated process stand where the record points, confirm.
case_confirm_signals_nobody() {
	changed
	"$PINHOLE" apply -q rules/marketo.rules
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	local rest stranger pid
	pid=$(waiter_pid)
	kill_waiter
	sleep 300 &
	stranger=$!
	rest=$(cut -d' ' -f2- "$PINHOLE_RUN_DIR/inet-pinhole.pending")
	echo "$stranger $rest" >"$PINHOLE_RUN_DIR/inet-pinhole.pending"
	expect_status "confirm with a dead waiter exits 0" 0 "$PINHOLE" confirm >/dev/null 2>&1
	expect "the process now holding the recorded PID lives on" kill -0 "$stranger"
	# and a live waiter leaves by itself once confirmed, without a signal
	"$PINHOLE" apply -q --confirm 30 rules/marketo.rules
	pid=$(waiter_pid)
	rest=$(cut -d' ' -f2- "$PINHOLE_RUN_DIR/inet-pinhole.pending")
	echo "$stranger $rest" >"$PINHOLE_RUN_DIR/inet-pinhole.pending"
	expect_status "confirm with a live waiter exits 0" 0 "$PINHOLE" confirm >/dev/null 2>&1
	expect "the stranger still lives" kill -0 "$stranger"
	expect "the waiter has left" gone "$pid"
	kill "$stranger"
}

# (That the confirmation is claimed before apply --confirm reads the ruleset, so that a
# second apply meanwhile refuses, is tests/unit/test_apply.c's claim_holds_while_applying.)
case_file_modes() {
	changed
	"$PINHOLE" apply -q --confirm 30 "$NL_TMP/changed.rules"
	expect "the state directory is made 0700" test "$(stat -c %a "$PINHOLE_STATE_DIR")" = 700
	expect "the run directory is made 0700" test "$(stat -c %a "$PINHOLE_RUN_DIR")" = 700
	local f bad=
	for f in "$PINHOLE_STATE_DIR"/* "$PINHOLE_RUN_DIR"/*; do
		[ "$(stat -c %a "$f")" = 600 ] || bad="$bad $f"
	done
	expect "every state and run file is 0600 (${bad:-all})" test -z "$bad"
	expect "the pending file, snapshot and log are there" test -e "$PINHOLE_RUN_DIR/inet-pinhole.pending" -a \
		-e "$PINHOLE_RUN_DIR/inet-pinhole.rollback" -a -e "$PINHOLE_RUN_DIR/inet-pinhole.log"
	"$PINHOLE" confirm --cancel >/dev/null 2>&1
}

nl_main
