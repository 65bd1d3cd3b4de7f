#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The agent's own work per cgroup per sweep, in instructions (callgrind: repeatable where CPU time is not): the
# real agent on 200 cgroups of its own (and whatever else the host has), one steady sweep from the kernel's ring
# records to each cgroup's sample (cgp_sampler_sweep + cgp_sampler_next, inclusive, per sample). Each ring
# record is unpacked once, into its cgroup's store (no copy of the whole record), its blocks copied inline, and
# the sample's metrics measured without clearing them twice. Here 1,704 instructions a sample before, 1,504 after
# (1,823 and 1,628 at 10,000 cgroups). MAX_PER_SAMPLE overrides the bound; AGENT=path measures another binary.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/cgtest.sh
B=${CGP_BUILD:-build}
A=${AGENT:-$B/cgpulse}
N=200
MAX=${MAX_PER_SAMPLE:-1600}
tmp=$(mktemp -d)
kids=()
cleanup() {
	for d in "${kids[@]}"; do rmdir "$d" 2>/dev/null; done
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -5 "$tmp/err"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed (make deps)"; exit 77; }
command -v callgrind_annotate >/dev/null || { echo "SKIP: no callgrind_annotate"; exit 77; }
# an AddressSanitizer build maps its shadow memory where valgrind cannot follow, and counts its own checks
grep -q __asan_init "$A" && { echo "SKIP: $A is an AddressSanitizer build (valgrind cannot run it)"; exit 77; }

cgt_make cost || fail "cannot make the test's cgroup"
for i in $(seq "$N"); do
	for h in "$CGT_V2" "$CGT_MEM" "$CGT_CPU"; do
		[ -n "$h" ] && [ -d "$h$CGT_REL" ] || continue
		mkdir "$h$CGT_REL/c$i" || fail "mkdir $h$CGT_REL/c$i"
		kids=("$h$CGT_REL/c$i" "${kids[@]}")
	done
done

# a dump before each sweep: part 5 holds the fourth sweep and its samples, the cgroups known since the first
valgrind --tool=callgrind --dump-before=cgp_sampler_sweep --callgrind-out-file="$tmp/cg.out" "$A" run --no-pin \
	--seccomp off --stdout none --interval 1 --iterations 6 >/dev/null 2>"$tmp/err" || fail "the agent failed"
[ -s "$tmp/cg.out.5" ] || fail "no dump of the fourth sweep"
callgrind_annotate --inclusive=yes --tree=calling --threshold=100 "$tmp/cg.out.5" 2>/dev/null | awk -v max="$MAX" '
	function num(s) { gsub(",", "", s); return s + 0 }
	/^ *[0-9,]+ \([ 0-9.]+%\)  \*  / { match($0, /:[^ :]+ \[/); cost[substr($0, RSTART + 1, RLENGTH - 3)] = num($1) }
	/>   .*:cgp_sampler_next \(/ { match($0, /\(([0-9,]+)x\)/); n = num(substr($0, RSTART + 1, RLENGTH - 3)) - 1 }
	END {
		if (n < 200) { print "FAIL: " n " samples in the sweep (want the test'"'"'s 200 at least)"; exit 1 }
		sweep = cost["cgp_sampler_sweep"] / n
		next_ = cost["cgp_sampler_next"] / n
		printf "%d samples: %.0f instructions a sample (sweep %.0f, samples %.0f); at most %d\n", n,
			sweep + next_, sweep, next_, max
		if (sweep + next_ > max) { print "FAIL: the sampler takes more than " max " instructions a sample"; exit 1 }
		print "ok"
	}'
