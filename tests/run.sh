#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every test binary of a build folder and every tests/scripts/test_*.sh, then prints one summary line.
# cmocka binaries report their own counts; a script counts as one test (exit 0 pass, 77 skip, else fail).
set -u
out=${1:-build}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	CGP_BUILD="$out" "$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	s=$(sed -n 's/.*\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
	# a binary that died before its summary still counts as a failure
	if [ "$rc" -ne 0 ] && [ -z "$f" ]; then fail=$((fail + 1)); fi
done
for s in tests/scripts/test_*.sh; do
	[ -x "$s" ] || continue
	echo "[ SCRIPT   ] $s"
	CGP_BUILD="$out" "$s"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); echo "[       OK ] $s" ;;
	77) skip=$((skip + 1)); echo "[  SKIPPED ] $s" ;;
	*) fail=$((fail + 1)); echo "[  FAILED  ] $s (exit $rc)" ;;
	esac
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
