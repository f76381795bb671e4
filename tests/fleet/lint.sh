#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ansible-lint on the pinhole.gateway collection, as `ansible-galaxy collection build` packs it
# and installed where Ansible finds it (so the modules' options are checked against their
# documentation), plus a Python syntax check of the modules on the controller's Python.
set -u
command -v ansible-lint >/dev/null && command -v ansible-galaxy >/dev/null ||
	{ echo "SKIP: needs ansible-lint and ansible-galaxy (scripts/deps.sh --fleet)"; exit 77; }
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ansible-galaxy collection build "$repo/packaging/ansible" --output-path "$tmp" >/dev/null &&
	ansible-galaxy collection install -p "$tmp/collections" "$tmp"/pinhole-gateway-*.tar.gz >/dev/null 2>&1
installed=$tmp/collections/ansible_collections/pinhole/gateway
if [ -f "$installed/galaxy.yml" ] || [ -f "$installed/MANIFEST.json" ]; then
	echo "PASS: the collection builds and installs"; pass=$((pass + 1))
else
	echo "FAIL: the collection does not build and install"; echo "0 passed, 1 failed"; exit 1
fi
# The source tree (galaxy.yml and all) where a collection lives, ansible_collections/NS/NAME,
# so that ansible-lint resolves pinhole.gateway.* to the modules being linted.
src=$tmp/src/ansible_collections/pinhole/gateway
mkdir -p "$src" && cp -r "$repo/packaging/ansible/." "$src"
if (cd "$src" && ANSIBLE_COLLECTIONS_PATH=$tmp/src NO_COLOR=1 ansible-lint --offline >"$tmp/lint.out" 2>&1); then
	echo "PASS: ansible-lint is clean"; pass=$((pass + 1))
else
	echo "FAIL: ansible-lint:"; cat "$tmp/lint.out"; fail=$((fail + 1))
fi
# ansible-lint 6.13 (Debian 12) cannot load the modules of the collection it lints (it logs
# "Unable to load module pinhole.gateway.apply ... for options validation"); the same check,
# options used against options documented against options taken, is check_docs.py's.
if /usr/bin/python3 "$repo/tests/fleet/check_docs.py" "$tmp/src" >"$tmp/docs.out" 2>&1; then
	echo "PASS: every module's options are documented as its code takes them"; pass=$((pass + 1))
else
	echo "FAIL: module documentation:"; cat "$tmp/docs.out"; fail=$((fail + 1))
fi
if /usr/bin/python3 -m py_compile "$repo"/packaging/ansible/plugins/modules/*.py "$repo"/packaging/ansible/plugins/module_utils/*.py; then
	echo "PASS: the modules compile"; pass=$((pass + 1))
else
	echo "FAIL: a module does not compile"; fail=$((fail + 1))
fi
find "$repo/packaging/ansible" -name __pycache__ -prune -exec rm -rf {} +
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
