#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What each of a sweep record's figures costs in the kernel: the sweep's iterator program built again with one
# piece left out at a time (bpf/sweep.bpf.c, CGP_SWEEP_LEAVE_OUT), each variant's run time per record measured
# by bpf_stats (cgpbench sweep --iter-only) on one tree of N cgroups each holding a sleeper (default 10,000: the
# figures are cache misses, which a small tree hides; a run is 3 sweeps, so at 1,000 ask for more ROUNDS),
# variants alternating ROUNDS times (default 5). A piece's cost is the whole program's time per record less the
# variant's. On a hybrid host a cgroup gives a cgroup2 record (CPU, user/system, pressure) and a v1 memory record
# (memory) a sweep, so a piece's cost in the records that carry it is about twice its share of the average. Builds
# the variants under BUILD/split (~15 minutes on 2 cores: each is a whole build, the skeleton being in the agent's
# library).
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/sweep_split.sh [BUILD] [N]
set -u
B=$(realpath -m "${1:-build}") # absolute: the variants are built from the top folder (make -C)
N=${2:-10000}
ROUNDS=${ROUNDS:-5}
# name and CGP_SWEEP_LEAVE_OUT mask (bpf/sweep.bpf.c's CGP_LEAVE_*)
VARIANTS="whole:0 pressure:1 cpu_maps:2 user_system:4 mem_events_stat:8 memory:16 cpu_limit:32 all:63"
T=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
cleanup() {
	populate_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM PIPE

here=$(cd "$(dirname "$0")/../.." && pwd)
for v in $VARIANTS; do
	name=${v%%:*} mask=${v#*:}
	echo "building the variant \"$name\" (CGP_SWEEP_LEAVE_OUT=$mask) in $B/split/$name" >&2
	make -C "$here" --no-print-directory -j2 OUT="$B/split/$name" BPF_EXTRA="-DCGP_SWEEP_LEAVE_OUT=$mask" \
		"$B/split/$name/bench/cgpbench" >"$T/build-$name.log" 2>&1 ||
		{ tail -20 "$T/build-$name.log" >&2; exit 1; }
done

populate_start "$B/split/whole/bench/cgpbench" "$T" "$N" || exit 1
# starting 10,000 sleepers leaves the machine busy for a while: their first wake-ups, the cgroups' creation
sleep "${SETTLE:-30}"

echo "sweep record cost by piece at $N cgroups, each with a sleeper; $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x "$B/bench/calib" ] && echo "machine speed, ns (tools/bench/calib.c): $("$B/bench/calib")"
for ((r = 1; r <= ROUNDS; r++)); do
	for v in $VARIANTS; do
		name=${v%%:*}
		"$B/split/$name/bench/cgpbench" sweep --iter-only 1 --max-cgroups $((N + 2000)) >"$T/out" 2>&1 ||
			{ cat "$T/out" >&2; exit 1; }
		awk -v n="$name" '/^iter_run_ns=/ {
			split($1, a, "="); split($3, c, "=")
			if (c[2] > 0) printf "%s %.1f %d\n", n, a[2] / c[2], c[2] }' "$T/out" >>"$T/res"
	done
done
# the median over rounds of each variant's ns a record, and the difference from the whole program
awk -v rounds="$ROUNDS" -v order="$VARIANTS" '
	{ ns[$1, ++k[$1]] = $2; recs[$1] = $3 }
	function median(name,   i, j, t, m, v) {
		m = k[name]
		for (i = 1; i <= m; i++) v[i] = ns[name, i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}
	END {
		split(order, o, " ")
		split(o[1], f, ":"); whole = median(f[1])
		printf "%-28s %14s %16s  %s\n", "left out", "ns a record", "its cost", "runs"
		for (i = 1; i in o; i++) {
			split(o[i], f, ":")
			runs = ""
			for (j = 1; j <= k[f[1]]; j++) runs = runs sprintf("%s%.0f", j > 1 ? " " : "", ns[f[1], j])
			m = median(f[1])
			printf "%-28s %14.0f %16s  [%s]\n", i == 1 ? "nothing (the program as built)" : f[1], m,
				i == 1 ? "" : sprintf("%.0f", whole - m), runs
		}
		printf "records a sweep: %d (3 sweeps counted)\n", recs[f[1]] / 3
	}' "$T/res"
