#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short, bounded libFuzzer run of the TLS, DNS and rules parsers, the pcap/pcapng reader,
# the last-applied state cache reader, the guard's state file loader and aggregate's input
# (tests/fuzz), seeded from tests/fuzz/corpus (payloads and cut-down files from
# tests/captures, hand-written state files) and the repository's rules files. Any crash,
# leak or sanitizer report fails the test; inputs that once failed live in tests/fuzz/regress
# as NAME.TARGET and must stay clean. Needs clang with libFuzzer; the run
# happens once, in the normal build's test pass (the fuzzers carry their own sanitizers).
#   FUZZ_SECONDS=N   seconds per fuzzer (default 20)
set -u
PINHOLE=${1:?usage: fuzz_short.sh PATH_TO_PINHOLE}
command -v clang >/dev/null || { echo "clang not installed: skipped"; exit 77; }
if nm "$PINHOLE" 2>/dev/null | grep -q __asan_init; then
	echo "sanitizer build: the fuzzers run in the normal build's pass; skipped"
	exit 77
fi
seconds=${FUZZ_SECONDS:-20}
build=$(cd "$(dirname "$PINHOLE")" && pwd)/fuzz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

if ! { CC=clang cmake -S . -B "$build" -DPINHOLE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$tmp/log" 2>&1 &&
	cmake --build "$build" --target fuzzers -j"$(nproc)" >>"$tmp/log" 2>&1; }; then
	if grep -q "libclang_rt.fuzzer\|cannot find.*fuzzer" "$tmp/log"; then
		echo "clang has no libFuzzer runtime (libclang-rt-dev): skipped"
		exit 77
	fi
	tail -30 "$tmp/log"
	echo "0 passed, 1 failed"
	exit 1
fi

mkdir -p "$tmp/rules"
cp rules/*.rules tests/golden/*.rules tests/bad/*.rules "$tmp/rules/" 2>/dev/null
targets="tls dns rules pcap cache state aggregate"
# Inputs the fuzzers once failed on stay as regression tests (and, for rules, seeds): each
# must run clean through the fuzzer its extension names.
for input in tests/fuzz/regress/*; do
	[ -e "$input" ] || continue
	target=${input##*.}
	[ "$target" = rules ] && cp "$input" "$tmp/rules/"
	if "$build/tests/fuzz/fuzz_$target" "$input" >"$tmp/regress.log" 2>&1; then
		pass=$((pass + 1))
	else
		echo "FAIL: fuzz regression input $input:"
		grep -E "runtime error|SUMMARY" "$tmp/regress.log" | head -3
		fail=$((fail + 1))
	fi
done
for target in $targets; do
	seeds=tests/fuzz/corpus/$target
	[ "$target" = rules ] && seeds=$tmp/rules
	mkdir -p "$tmp/corpus-$target"
	# -rss_limit_mb bounds memory; leaks are reported by LeakSanitizer (detect_leaks).
	if ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" \
		-rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$tmp/" "$tmp/corpus-$target" "$seeds" \
		>"$tmp/$target.log" 2>&1; then
		echo "fuzz_$target: $(grep -o 'Done [0-9]* runs' "$tmp/$target.log" | tail -1), clean"
		pass=$((pass + 1))
	else
		echo "FAIL: fuzz_$target found a problem:"
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$tmp/$target.log" | head -20
		for crash in "$tmp"/crash-* "$tmp"/leak-*; do
			[ -e "$crash" ] && { echo "input (base64):"; base64 "$crash" | head -20; }
		done
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
