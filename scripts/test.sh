#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the build and test dependencies, builds, and runs every test with ctest.
#   scripts/test.sh              the normal build, in build/
#   scripts/test.sh --sanitize   the same suite under AddressSanitizer + UBSan, in build-asan/
set -eu
cd "$(dirname "$0")/.."

dir=build
flags="-DPINHOLE_TESTS=ON"
if [ "${1:-}" = "--sanitize" ]; then
	dir=build-asan
	flags="$flags -DPINHOLE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug"
fi

scripts/deps.sh --test
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir "$dir" --output-on-failure
