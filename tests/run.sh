#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every test binary of a build folder and every tests/scripts/test_*.sh, then prints one summary line.
# cmocka binaries report their own counts; a script counts as one test (exit 0 pass, 77 skip, else fail).
# `tests/run.sh BUILD faults` runs the fault suite instead (tests/faults/test_*.sh, `make test-faults`), each
# script bounded in time (FAULTS_LONG=1 runs the long variants and allows them longer).
set -u
out=${1:-build}
suite=${2:-all}
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
scripts=tests/scripts/test_*.sh
limit=
if [ "$suite" = faults ]; then
	scripts=tests/faults/test_*.sh
	limit=$([ "${FAULTS_LONG:-0}" = 1 ] && echo 900 || echo 300)
else
	for t in "$out"/tests/test_*; do
		[ -x "$t" ] || continue
		t0=$SECONDS
		CGP_BUILD="$out" "$t" 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		echo "[ TIME     ] $t $((SECONDS - t0)) s" # where the suite's minutes go
		p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		s=$(sed -n 's/.*\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
		# a binary that died before its summary still counts as a failure
		if [ "$rc" -ne 0 ] && [ -z "$f" ]; then fail=$((fail + 1)); fi
	done
fi
for s in $scripts; do
	[ -x "$s" ] || continue
	echo "[ SCRIPT   ] $s"
	t0=$SECONDS
	if [ -n "$limit" ]; then
		CGP_BUILD="$out" timeout -k 10 "$limit" "$s"
	else
		CGP_BUILD="$out" "$s"
	fi
	rc=$?
	echo "[ TIME     ] $s $((SECONDS - t0)) s"
	case $rc in
	0) pass=$((pass + 1)); echo "[       OK ] $s" ;;
	77) skip=$((skip + 1)); echo "[  SKIPPED ] $s" ;;
	124) fail=$((fail + 1)); echo "[  FAILED  ] $s (timed out after $limit s)" ;;
	*) fail=$((fail + 1)); echo "[  FAILED  ] $s (exit $rc)" ;;
	esac
done
echo "[ TIME     ] the whole suite $SECONDS s"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
