#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole diff with git:REV:PATH sources, in a temporary repository this test makes:
# files at a revision, the index (git::PATH), a revision that lacks the file, a path outside
# any repository, and names that a shell would have mangled (no shell is involved).
set -u
PINHOLE=${1:?usage: diff_git.sh PATH_TO_PINHOLE}
command -v git >/dev/null || { echo "SKIP: git not installed (scripts/deps.sh --test)"; exit 77; }
case "$PINHOLE" in /*) ;; *) PINHOLE=$PWD/$PINHOLE ;; esac
src=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect_status() { if [ "$2" = "$3" ]; then ok; else bad "$1 exited $3, expected $2"; fi; }

repo=$tmp/repo
mkdir -p "$repo/rules"
cd "$repo" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME=$tmp GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com \
	GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
git init -q .
cp "$src/rules/marketo.rules" rules/marketo.rules
cp "$src/rules/marketo.rules" 'rules/odd $(name) ;.rules'
git add rules && git commit -qm first
cp "$src/tests/diff/range_widened.rules" rules/marketo.rules
git commit -qam widened
# The working tree only: the ports change on top of the widened range.
sed -i 's|tcp port { 80, 443 } comment "Marketo web|tcp port { 443, 8443 } comment "Marketo web|' rules/marketo.rules

# The working tree against HEAD: the ports change; against HEAD~1: both changes.
"$PINHOLE" diff git:HEAD:rules/marketo.rules rules/marketo.rules >"$tmp/out" 2>"$tmp/err"
expect_status "diff git:HEAD:... worktree" 1 "$?"
grep -Eq "^  - allow out to @marketo_web tcp port \{ 80, 443 \} +git:HEAD:rules/marketo.rules:40$" "$tmp/out" && ok ||
	bad "old source not labelled git:HEAD:...: $(cat "$tmp/out" "$tmp/err")"
grep -q "marketo_senders" "$tmp/out" && bad "HEAD already had the widened range: $(cat "$tmp/out")" || ok
"$PINHOLE" diff git:HEAD~1:rules/marketo.rules rules/marketo.rules >"$tmp/out" 2>"$tmp/err"
expect_status "diff git:HEAD~1:... worktree" 1 "$?"
grep -q "^WIDENING: set marketo_senders: +1,024 IPv4 addresses; 1 rule changed$" "$tmp/out" && ok ||
	bad "HEAD~1 summary: $(cat "$tmp/out" "$tmp/err")"
"$PINHOLE" diff git:HEAD~1:rules/marketo.rules git:HEAD:rules/marketo.rules >"$tmp/out" 2>"$tmp/err"
expect_status "diff git:HEAD~1 git:HEAD" 1 "$?"
grep -q "^  + 185.28.192.0/22  1,024 addresses  git:HEAD:rules/marketo.rules:26$" "$tmp/out" && ok ||
	bad "git to git: $(cat "$tmp/out" "$tmp/err")"
# git::PATH is the index, which still holds HEAD's file.
"$PINHOLE" diff git:HEAD:rules/marketo.rules git::rules/marketo.rules >"$tmp/out" 2>"$tmp/err"
expect_status "diff git:HEAD git::(index)" 0 "$?"
# A name with shell metacharacters reaches git untouched.
"$PINHOLE" diff 'git:HEAD:rules/odd $(name) ;.rules' "$src/rules/marketo.rules" >"$tmp/out" 2>"$tmp/err"
expect_status "diff of a file with shell metacharacters in its name" 0 "$?"

# Failures: exit 2 and git's own reason.
"$PINHOLE" diff git:HEAD:rules/nope.rules rules/marketo.rules >"$tmp/out" 2>"$tmp/err"
expect_status "diff of a path missing at HEAD" 2 "$?"
grep -q "git:HEAD:rules/nope.rules: error: cannot read: 'git show HEAD:rules/nope.rules' failed: fatal: path 'rules/nope.rules' does not exist in 'HEAD'" "$tmp/err" &&
	ok || bad "missing path message: $(cat "$tmp/err")"
"$PINHOLE" diff git:no-such-rev:rules/marketo.rules rules/marketo.rules >/dev/null 2>"$tmp/err"
expect_status "diff of an unknown revision" 2 "$?"
grep -q "'git show no-such-rev:rules/marketo.rules' failed: fatal: " "$tmp/err" && ok || bad "bad revision message: $(cat "$tmp/err")"
"$PINHOLE" diff git:HEAD rules/marketo.rules >/dev/null 2>"$tmp/err"
expect_status "diff git:REV without a path" 2 "$?"
grep -q "a git source is git:REV:PATH" "$tmp/err" && ok || bad "no-path message: $(cat "$tmp/err")"
mkdir "$tmp/not-a-repo" && cd "$tmp/not-a-repo" || exit 1
GIT_CEILING_DIRECTORIES=$tmp "$PINHOLE" diff git:HEAD:x.rules "$src/rules/marketo.rules" >/dev/null 2>"$tmp/err"
expect_status "diff outside a repository" 2 "$?"
grep -q "failed: fatal: not a git repository" "$tmp/err" && ok || bad "outside a repository: $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
