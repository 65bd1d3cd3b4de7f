#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# cgpulse benchmark: `make bench` (or tools/bench/run.sh BUILD_DIR) as root. Prints one table; asserts nothing.
#
# How to read the table
#   - Every figure is the median of repeated runs, with [min – max] beside it; the spread is part of the result
#     (this VM is shared: the load average printed at the top says how busy it was).
#   - Every ratio is against a baseline measured in this same run, never against a remembered number.
#   - Section 1, kernel cost: ns per event = Δrun_time_ns / Δrun_cnt of each program (kernel.bpf_stats_enabled=1,
#     read with `bpftool -j prog show`), under the same load: two processes ping-ponging over pipes on one CPU.
#     "× empty" is against an empty tp_btf sched_switch program (build/bench/empty_load) measured the same way;
#     bpftrace runs tools/bench/cgcpu.bt, the same per-cgroup CPU accounting in bpftrace. "end to end" is the
#     ping-pong's CPU time per switch with stats off, minus the same with nothing attached: what a switch pays
#     (trampoline and cache effects included, which run_time_ns leaves out).
#     The "made of" rows run the steps of tools/bench/ablate.bpf.c (cgp_switch's work built up piece by piece) the
#     same way: the difference between neighbouring steps is what that piece costs.
#   - Section 2, sweep: µs per cgroup for reading every figure of every cgroup (CPU time, user/system, throttling,
#     limits, memory, working set, anon/file, swap, memory.events, PSI), by one cgpulse sweep (cgroup iterators,
#     plus its per-sweep work: cgp_tick on each CPU, one root memory.stat read, one rstat flush, /proc/pressure)
#     vs open/read/close of the cgroupfs files that give the same figures (cpu.stat, the v1 cpu hierarchy's
#     cpu.stat and cfs quota/period or cpu.max, memory.stat, usage, limit, memory.events / oom_control, swap,
#     cpu/memory/io.pressure) vs one systemd-cgtop refresh (its user+sys CPU time), over the same tree. On a
#     hybrid host the bench's cgroups exist in cgroup2 and the v1 memory and cpu hierarchies, as a node's
#     containers do. "first" runs include cgpulse's one-time path resolution and the kernel's first
#     creation of the files' inodes. The agent re-checks a cgroup it has just met for container state for its first
#     30 s, so the main rows are taken after that (what an agent pays every interval on a settled node) and the
#     "new to the agent" row shows the first 30 s.
#   - Section 3, agent: `cgpulse run` with 1,000 cgroups each holding a sleeping process: CPU seconds per minute
#     (user+sys from /proc, after start-up and again after the first 30 s) and peak RSS (VmHWM); kernel memory of the maps (memlock, as
#     `bpftool map show` prints it) and the same worked out for 128 CPUs (per-CPU maps scale with CPUs); OOM kill
#     to its line on the agent's stdout (kernel timestamp of mark_victim → arrival at the reader), to its line at
#     the collector, and to the agent's receipt of the collector's Ack once the event is on disk (durable acks).
#   - Section 4: collector ingest (its own CPU time for 400,000 events from 4 simulated agents, a JSONL file, one
#     fdatasync per loop turn). Section 5: the agent's RSS against --spool-bytes with the collector away, over the
#     same agent's with a 64 KiB spool.
#     The cgp_switch row also gives each run's cgp_switch / empty ratio (paired, so load that moved between runs
#     cancels), the 1-minute load average over the runs, and says the section is too noisy to read when the
#     empty program's own cost moved by more than 20% between runs (it does the same work every time).
#   - Section 6, peers (tools/bench/peers.sh): on the same N cgroups (1,000 and 10,000), each holding a sleeper,
#     one after the other: `cgpulse run` at 1 s with a collector attached and /metrics scraped every 15 s, then
#     Debian's Netdata 1.37 with only its cgroups collector at 1 s and health on (installed if missing; run from a
#     temporary directory, stopped and removed after). CPU share and RSS over the same window after each settled,
#     how many of the N cgroups each reported (cgpulse's /metrics, Netdata's /api/v1/charts), cgpulse's sweep time
#     and OOM kill → collector latency with the N containers there.
#   Environment: BENCH_REPS (default 5), BENCH_ROUNDS (ping-pong round trips, default 100000), BENCH_QUICK=1
#   (fewer and shorter runs, for trying the harness out), BENCH_SECTIONS (default "kernel sweep oom ingest spool peers":
#   run some only, e.g. one per locked run on a shared machine), BENCH_PEER_WINDOW (seconds Netdata is measured, default 20), BENCH_CGPULSE_WINDOW
#   (seconds cgpulse is measured there, default 60: four whole scrape periods; its CPU from schedstat, in ns).
set -uo pipefail

OUT=${1:-build}
B=$OUT/bench
HERE=$(cd "$(dirname "$0")" && pwd)
REPS=${BENCH_REPS:-5}
ROUNDS=${BENCH_ROUNDS:-100000}
SIZES="1000 10000"
PEER_SIZES=${BENCH_PEER_SIZES:-"1000 10000"} # BENCH_PEER_SIZES: e.g. "1000" alone
# which sections run (each under ~10 minutes on its own, for a shared machine): kernel sweep oom ingest spool peers
SECTIONS=" ${BENCH_SECTIONS:-kernel sweep oom ingest spool peers} "
want() { [[ $SECTIONS == *" $1 "* ]]; }
FOOT_1S=30
FOOT_10S=40
OOM_KILLS=50
# the agent re-checks a cgroup it has just met for container state for 30 s (agent/names/cgroup_names.c
# NAMES_RETRY_NS); steady-state figures are taken after that
STEADY_AFTER=32
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	REPS=3 ROUNDS=50000 SIZES="1000" PEER_SIZES="1000" FOOT_1S=10 FOOT_10S=20 OOM_KILLS=10
	BENCH_PEER_WINDOW=${BENCH_PEER_WINDOW:-10} BENCH_CGPULSE_WINDOW=${BENCH_CGPULSE_WINDOW:-15}
fi
LOAD_CPU=$(($(nproc) > 1 ? 1 : 0)) # the ping-pong's CPU; the harness itself mostly runs on CPU 0

die() {
	echo "bench: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || die "needs root (BPF, cgroups, kernel.bpf_stats_enabled)"
for t in bpftool "$B/pingpong" "$B/calib" "$B/empty_load" "$B/cgpbench" "$OUT/cgpulse"; do
	command -v "$t" >/dev/null || [ -x "$t" ] || die "missing $t (run 'make bench')"
done

T=$(mktemp -d /tmp/cgpulse-bench.XXXXXX)
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
TRACEFS_MOUNTED="" # set when we mounted tracefs for bpftrace, unmounted at exit
PIDS=()        # every helper we start, stopped at exit
HELPER_CGS=()  # cgroup names our helpers and we made, removed at exit if a helper could not

# ---- clean-up: on success, failure and Ctrl-C alike ------------------------------------------------------

V2=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && V2=/sys/fs/cgroup
MEM=$V2
HYBRID=0
if [ "$V2" != /sys/fs/cgroup ] && [ -d /sys/fs/cgroup/memory ]; then
	MEM=/sys/fs/cgroup/memory
	HYBRID=1
fi
CPU= # the v1 cpu hierarchy of a hybrid host, when it is a mount of its own
[ "$HYBRID" = 1 ] && [ -d /sys/fs/cgroup/cpu ] && [ /sys/fs/cgroup/cpu != "$MEM" ] && CPU=/sys/fs/cgroup/cpu

rm_cgroup_tree() { # removes a cgroup directory and its children, killing what runs inside
	local d=$1 p
	[ -d "$d" ] || return 0
	find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do kill -9 "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$d" ] || return 0
		sleep 0.2
	done
	echo "bench: could not remove $d" >&2
}

cleanup() {
	trap - EXIT INT TERM
	local p n
	peers_cleanup
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		# the helpers remove their cgroups on SIGTERM; give them the time to
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for p in "${PIDS[@]}"; do HELPER_CGS+=("cgpulse-test-bench-$p" "cgpulse-test-bench-$p-churn"); done
	for n in "${HELPER_CGS[@]}"; do
		rm_cgroup_tree "$V2/$n"
		[ "$HYBRID" = 1 ] && rm_cgroup_tree "$MEM/$n"
		[ -n "$CPU" ] && rm_cgroup_tree "$CPU/$n"
	done
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	[ -n "$TRACEFS_MOUNTED" ] && umount "$TRACEFS_MOUNTED" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'echo "bench: interrupted, cleaning up" >&2; exit 130' INT TERM HUP

# A bench run killed outright (SIGKILL: no trap runs, in this shell or in its helpers) leaves its cgroups behind:
# every cgpulse-test-bench-PID tree whose PID is no longer alive is removed before this run makes its own.
reap_stale() {
	local d n pid
	for d in "$V2" "$MEM" ${CPU:+"$CPU"}; do
		for n in "$d"/cgpulse-test-bench-*; do
			[ -d "$n" ] || continue
			pid=${n##*/cgpulse-test-bench-}
			pid=${pid%%-*}
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
			echo "bench: removing $n, left by an earlier run that was killed" >&2
			rm_cgroup_tree "$n"
		done
	done
}
reap_stale

# ---- helpers ---------------------------------------------------------------------------------------------

# shellcheck source=tools/bench/peers.sh
. "$HERE/peers.sh"

stats_on() { sysctl -qw kernel.bpf_stats_enabled="$1"; }

prog_stats() { # ID -> "run_time_ns run_cnt"
	bpftool -j prog show id "$1" 2>/dev/null |
		sed -n 's/.*"run_time_ns":\([0-9]*\).*"run_cnt":\([0-9]*\).*/\1 \2/p' | grep . || echo "0 0"
}

ns_per_event() { # "ns0 cnt0" "ns1 cnt1" -> ns per event, or nothing when there was no event
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
		if (y[2] > x[2]) printf "%.1f\n", (y[1] - x[1]) / (y[2] - x[2]) }'
}

pingpong() { # prints the pair's CPU ns per switch (CPU time, so other work on the shared CPU is left out)
	"$B/pingpong" --rounds "$ROUNDS" --cpu "$LOAD_CPU" | sed -n 's/.*cpu_ns_per_switch=\([0-9.]*\).*/\1/p'
}

# median [min – max] of the numbers in file $1 (one per line); "n/a" when empty
summ() {
	sort -g "$1" 2>/dev/null | awk 'NF { v[n++] = $1 } END {
		if (!n) { print "n/a"; exit }
		m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		printf "%s [%s – %s]\n", fmt(m), fmt(v[0]), fmt(v[n - 1]) }
		function fmt(x,  a) { a = x < 0 ? -x : x; return a >= 100 ? sprintf("%.0f", x) : a >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x) }'
}
med() { sort -g "$1" 2>/dev/null | awk 'NF { v[n++] = $1 } END { if (n) print n % 2 ? v[(n-1)/2] : (v[n/2-1] + v[n/2]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && b > 0) printf "%.1f", a / b; else printf "n/a" }'; }

wait_line() { # FILE PATTERN SECONDS: wait until a line matches (or the time is up)
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# start_helper NAME CMD...: runs CMD in the background with stdin from a FIFO we hold open; sets HPID, HFD
start_helper() {
	local name=$1
	shift
	mkfifo "$T/$name.in"
	"$@" <"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	HPID=$!
	PIDS+=("$HPID")
	exec {HFD}>"$T/$name.in"
}
stop_helper() { # PID FD: EOF on its stdin, then wait for it to clean up
	eval "exec $2>&-"
	wait "$1" 2>/dev/null
}

# oom_lat_summary STAMPED OUT: arrival (stamp's CLOCK_REALTIME) minus the kernel's mark_victim time, which the
# event carries as ts_ns, for this run's OOM cgroup, in ms into OUT; prints "p50 X p99 Y [min – max]"
oom_lat_summary() {
	grep '"type": *"oom_kill"' "$1" | grep "$OOM_CG" |
		sed -n 's/^\([0-9]*\) .*"ts_ns": *\([0-9]*\).*/\1 \2/p' | awk '{ printf "%.3f\n", ($1 - $2) / 1e6 }' >"$2"
	local p99
	p99=$(sort -g "$2" | awk '{ v[n++] = $1 } END { if (n) { i = int(0.99 * n + 0.999) - 1; print v[i < 0 ? 0 : i] } }')
	echo "p50 $(summ "$2" | cut -d" " -f1) p99 ${p99:-n/a} [$(summ "$2" | sed 's/.*\[//; s/\]//')]"
}
oom_latency_row() { # STAMPED OUT LABEL NOTE: one row with p50 and p99
	local sum
	sum=$(oom_lat_summary "$1" "$2")
	row "$3" "$sum" "$(wc -l <"$2") events$4"
}
row() { printf '  %-44s %-32s %s\n' "$1" "$2" "$3"; }
section() { printf '\n%s\n' "$1"; }

# ---- header ----------------------------------------------------------------------------------------------

CPU_MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
printf 'cgpulse benchmark  %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf 'machine: %s, %s CPUs, %s MiB RAM; kernel %s\n' "${CPU_MODEL:-unknown CPU}" "$(nproc)" \
	"$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(uname -r)"
# the machine's speed at what the agent's CPU is made of (tools/bench/calib.c), and the mitigations that tax
# kernel entry and return: figures from two machines compare only beside these
mitigations() {
	local v f sep=''
	for f in spec_rstack_overflow retbleed spectre_v2; do
		v=$(cut -d';' -f1 "/sys/devices/system/cpu/vulnerabilities/$f" 2>/dev/null) || continue
		printf '%s%s: %s' "$sep" "$f" "$v"
		sep='; '
	done
}
printf 'machine speed, ns (medians of 5): %s; %s\n' "$("$B/calib" 2>/dev/null || echo 'not measured')" \
	"$(mitigations)"
printf 'tools: %s, %s, cgroups %s; load average at start %s\n' "$(bpftool version | head -1)" \
	"$(bpftrace --version 2>/dev/null || echo 'no bpftrace')" "$([ "$HYBRID" = 1 ] && echo 'v1/v2 hybrid' || echo v2)" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
others_progs() { # BPF programs not ours, loaded when asked (other tests on a shared machine skew the figures)
	bpftool prog show 2>/dev/null | sed -n 's/^[0-9]*: [a-z_]*  name \([^ ]*\) .*/\1/p' | sort | uniq -c |
		awk '{ printf "%s%s×%s", sep, $2, $1; sep = ", " }'
}
printf 'BPF programs loaded by others at start: %s\n' "$(others_progs | grep . || echo none)"
printf 'medians of %s runs [min – max]; ratios against baselines measured in this run\n' "$REPS"

# ---- 1. kernel cost per event ----------------------------------------------------------------------------

# Loads for the programs that sched_switch does not exercise: memcg reclaim (reading a file whose page
# cache does not fit a 32 MiB memory cgroup), OOM kills (a 20 MiB cgroup), cgroup removal (cgpbench churn).
RC_CG=cgpulse-test-bench-$$-reclaim
OOM_CG=cgpulse-test-bench-$$-oom
HELPER_CGS+=("$RC_CG" "$OOM_CG")
mk_limited() { # NAME BYTES
	mkdir -p "$V2/$1" "$MEM/$1" || return 1
	if [ "$HYBRID" = 1 ]; then echo "$2" >"$MEM/$1/memory.limit_in_bytes"; else echo "$2" >"$MEM/$1/memory.max"; fi
}
run_in() { # NAME CMD...: runs CMD inside the cgroup (v2 and memory), waits for it
	local cg=$1
	shift
	sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && shift 2 && exec "$@"' sh \
		"$V2/$cg" "$MEM/$cg" "$@"
}
oom_once() { run_in "$OOM_CG" tail /dev/zero 2>/dev/null; } # tail buffers an endless line: OOM-killed
reclaim_once() {
	dd if="$T/reclaim.dat" iflag=nocache count=0 status=none # drop the file's page cache first
	run_in "$RC_CG" dd if="$T/reclaim.dat" of=/dev/null bs=1M status=none
}
mk_limited "$RC_CG" $((32 << 20)) && mk_limited "$OOM_CG" $((20 << 20)) || echo "bench: cannot create test cgroups" >&2
dd if=/dev/zero of="$T/reclaim.dat" bs=1M count=128 conv=fsync status=none

if want kernel; then
	: >"$T/e2e_none"
	ABL="abl_storage abl_fields abl_percpu abl_full abl_nostate abl_nohelper" # the steps of tools/bench/ablate.bpf.c
	for cfg in empty cgpulse bpftrace $ABL; do : >"$T/ev_$cfg"; : >"$T/e2e_$cfg"; : >"$T/e2e_d_$cfg"; done
	for p in cgp_cg_stats cgp_oom_victim cgp_cg_rmdir cgp_reclaim_in cgp_reclaim_out; do : >"$T/ev_$p"; done
	BT_ERR=""

	attach() { # cfg -> sets IDS (name id lines in $T/ids) and HPID/HFD, or returns 1
		: >"$T/ids"
		case $1 in
		empty)
			start_helper empty "$B/empty_load"
			wait_line "$T/empty.out" bench_empty 10 || return 1
			cp "$T/empty.out" "$T/ids"
			;;
		abl_*)
			start_helper abl "$B/ablate_load" "$1"
			wait_line "$T/abl.out" "$1" 10 || return 1
			cp "$T/abl.out" "$T/ids"
			;;
		cgpulse)
			start_helper hold "$B/cgpbench" hold --max-cgroups 10000
			wait_line "$T/hold.out" '^ready' 20 || return 1
			awk '$1 == "prog" { print $2, $3 }' "$T/hold.out" >"$T/ids"
			;;
		bpftrace)
			command -v bpftrace >/dev/null || { BT_ERR="bpftrace not installed"; return 1; }
			tracefs_up || { BT_ERR="tracefs is not mounted and could not be mounted at /sys/kernel/tracing"; return 1; }
			bpftool prog show | sed -n 's/^\([0-9]*\): .*/\1/p' | sort >"$T/before"
			start_helper bt bpftrace "$HERE/cgcpu.bt"
			if ! wait_line "$T/bt.out" Attaching 30; then BT_ERR="bpftrace did not start: $(tail -1 "$T/bt.err")"; return 1; fi
			sleep 0.5
			# bpftrace names the program after the tracepoint: the new "sched_switch" program is ours
			bpftool prog show | sed -n 's/^\([0-9]*\): tracepoint  name sched_switch .*/\1/p' | sort |
				comm -13 "$T/before" - | head -1 | sed 's/^/bpftrace /' >"$T/ids"
			[ -s "$T/ids" ] || { BT_ERR="bpftrace's program not found"; return 1; }
			;;
		esac
	}
	detach() { # the helper's stdin EOF (empty_load, hold) or SIGINT (bpftrace) ends it
		[ "$1" = bpftrace ] && kill -INT "$HPID" 2>/dev/null
		eval "exec $HFD>&-"
		wait "$HPID" 2>/dev/null
		rm -f "$T"/*.in
	}
	# bpftrace finds tracepoints through tracefs, which a fresh machine may not have mounted (the agent itself needs
	# none: tp_btf and iterators go through BTF); mounted here as the agent mounts bpffs, and unmounted at exit
	tracefs_up() {
		[ -d /sys/kernel/tracing/events ] || [ -d /sys/kernel/debug/tracing/events ] && return 0
		mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || return 1
		TRACEFS_MOUNTED=/sys/kernel/tracing
	}
	id_of() { awk -v n="$1" '$1 == n { print $2 }' "$T/ids"; }

	: >"$T/load1"
	for ((rep = 1; rep <= REPS; rep++)); do
		cut -d' ' -f1 /proc/loadavg >>"$T/load1" # the machine's load beside each run's figures
		for cfg in empty cgpulse bpftrace $ABL; do
			if [ "$cfg" = "${cfg#abl_}" ]; then # its end-to-end baseline, right before: paired, so drift cancels
				stats_on 0
				base=$(pingpong)
				echo "$base" >>"$T/e2e_none"
			fi
			attach "$cfg" || { detach "$cfg"; continue; }
			case $cfg in empty) sw=$(id_of bench_empty) ;; cgpulse) sw=$(id_of cgp_switch) ;; *) sw=$(id_of "$cfg") ;; esac
			if [ "$cfg" = "${cfg#abl_}" ]; then # end to end only for the real configurations
				stats_on 0
				pingpong | tee -a "$T/e2e_$cfg" | awk -v b="$base" 'NF && b != "" { printf "%.1f\n", $1 - b }' >>"$T/e2e_d_$cfg"
			fi
			stats_on 1
			s0=$(prog_stats "$sw")
			pingpong >/dev/null
			s1=$(prog_stats "$sw")
			ns_per_event "$s0" "$s1" >>"$T/ev_$cfg"
			# the same run's figure next to the empty program's: the pair's ratio cancels load that moved between runs
			[ "$cfg" = cgpulse ] && awk -v a="$(ns_per_event "$s0" "$s1")" -v e="$(tail -1 "$T/ev_empty" 2>/dev/null)" \
				'BEGIN { if (a != "" && e > 0) printf "%.2f\n", a / e }' >>"$T/pair_cgpulse"
			if [ "$cfg" = cgpulse ]; then
				# the other programs, each under the load that fires it
				for p in cgp_cg_stats cgp_oom_victim cgp_cg_rmdir cgp_reclaim_in cgp_reclaim_out; do
					echo "$(prog_stats "$(id_of $p)")" >"$T/s0_$p"
				done
				for _ in 1 2 3 4 5; do echo sweep >&"$HFD"; done
				n=0
				while [ "$(grep -c swept "$T/hold.out")" -lt 5 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
				oom_once
				oom_once
				reclaim_once
				"$B/cgpbench" churn --n 100 >/dev/null 2>>"$T/churn.err" &
				PIDS+=($!)
				wait $!
				for p in cgp_cg_stats cgp_oom_victim cgp_cg_rmdir cgp_reclaim_in cgp_reclaim_out; do
					ns_per_event "$(cat "$T/s0_$p")" "$(prog_stats "$(id_of $p)")" >>"$T/ev_$p"
					echo "$(prog_stats "$(id_of $p)")" >"$T/s1_$p"
				done
			fi
			stats_on 0
			detach "$cfg"
		done
	done
	stats_on "$STATS_WAS"

	EMPTY=$(med "$T/ev_empty")
	CGPS=$(med "$T/ev_cgpulse")
	BTS=$(med "$T/ev_bpftrace")
	section "1. Kernel cost per event (bpf_stats; $ROUNDS ping-pong round trips on CPU $LOAD_CPU per run)"
	row "program" "ns/event median [min – max]" "vs baseline"
	row "empty tp_btf sched_switch (baseline)" "$(summ "$T/ev_empty")" "1.0× empty"
	row "cgp_switch (tp_btf sched_switch)" "$(summ "$T/ev_cgpulse")" "$(ratio "$CGPS" "$EMPTY")× empty (target ≤ 2×)"
	row "  same run's cgp_switch / empty, per run" "$(summ "$T/pair_cgpulse")" "load average (1 min) over the runs $(summ "$T/load1")"
	# a run is readable when the baseline held still: the empty program does the same work every time, so a spread
	# of its cost beyond 20% is the machine (other tenants, frequency, cache), not the code
	NOISE=$(sort -g "$T/ev_empty" | awk 'NF { v[n++] = $1 } END { if (n > 1 && v[0] > 0) printf "%.0f", (v[n - 1] - v[0]) / v[0] * 100 }')
	if [ -z "$NOISE" ]; then
		row "  noise" "n/a" "fewer than 2 runs of the empty program"
	elif [ "$NOISE" -gt 20 ]; then
		row "  noise: TOO NOISY TO READ" "empty program moved ${NOISE}%" "> 20% between runs: re-run on a quieter machine"
	else
		row "  noise: readable" "empty program moved ${NOISE}%" "≤ 20% between runs"
	fi
	if [ -s "$T/ev_bpftrace" ]; then
		row "bpftrace, same accounting (cgcpu.bt)" "$(summ "$T/ev_bpftrace")" \
			"$(ratio "$BTS" "$EMPTY")× empty; cgp_switch $(ratio "$BTS" "$CGPS")× cheaper (target ≥ 5×)"
	else
		row "bpftrace, same accounting (cgcpu.bt)" "n/a" "${BT_ERR:-no data}"
	fi
	row "what cgp_switch's cost is made of (ablate.bpf.c):" "" "step adds (medians)"
	prev=$EMPTY
	for cfg in $ABL; do
		m=$(med "$T/ev_$cfg")
		case $cfg in
		abl_storage) what="skip idle + task storage get" ;;
		abl_fields) what="+ read task counters, cgroup id" ;;
		abl_percpu) what="+ per-CPU array slot charge" ;;
		abl_full) what="+ run-queue histogram (= cgp_switch)" ;;
		abl_nostate) what="alternative: no task state, per-CPU hash" prev=$EMPTY ;;
		abl_nohelper) what="alternative: no task state, no helper" prev=$EMPTY ;;
		esac
		row "  $what" "$(summ "$T/ev_$cfg")" "$(awk -v a="$m" -v b="$prev" -v e="$EMPTY" 'BEGIN { if (a != "" && b != "" && e > 0) printf "%+.0f ns; %.1f× empty", a - b, a / e; else printf "n/a" }')"
		[ -n "$m" ] && prev=$m
	done
	row "cgp_cg_stats (iter/cgroup, per cgroup)" "$(summ "$T/ev_cgp_cg_stats")" "5 sweeps of this host's cgroups per run"
	row "cgp_oom_victim (tp_btf mark_victim)" "$(summ "$T/ev_cgp_oom_victim")" "2 OOM kills per run"
	row "cgp_cg_rmdir (tp_btf cgroup_rmdir)" "$(summ "$T/ev_cgp_cg_rmdir")" "100 v2 + 100 v1 rmdirs per run"
	row "cgp_reclaim_in (memcg_reclaim_begin)" "$(summ "$T/ev_cgp_reclaim_in")" "128 MiB read in a 32 MiB cgroup"
	row "cgp_reclaim_out (memcg_reclaim_end)" "$(summ "$T/ev_cgp_reclaim_out")" ""
	row "end to end, stats off: CPU ns per switch" "" ""
	row "  nothing attached" "$(summ "$T/e2e_none")" ""
	row "  + empty program" "$(summ "$T/e2e_empty")" "$(summ "$T/e2e_d_empty") ns more, paired"
	row "  + cgpulse (all programs attached)" "$(summ "$T/e2e_cgpulse")" "$(summ "$T/e2e_d_cgpulse") ns more, paired"
	[ -s "$T/e2e_bpftrace" ] && row "  + bpftrace" "$(summ "$T/e2e_bpftrace")" "$(summ "$T/e2e_d_bpftrace") ns more, paired"
fi

# ---- 2. sweep cost, 3. agent footprint ---------------------------------------------------------------------

val2() { sed -n "s/^$2 \([0-9.]*\)$/\1/p" "$1"; } # FILE KEY, "key value" lines
val() { sed -n "s/.*\b$2=\([0-9,]*\).*/\1/p" "$1" | head -1; } # FILE KEY
per_cg() { # FILE KEY NCG -> one µs-per-cgroup figure per line
	val "$1" "$2" | tr ',' '\n' | awk -v n="$3" 'NF && n > 0 { printf "%.3f\n", $1 / 1000 / n }'
}

footprint() { # INTERVAL SECONDS -> "young_cpu_s_per_min steady_cpu_s_per_min peak_rss_mib" of `cgpulse run`
	local iv=$1 secs=$2 pid t0 t1 t2 hz rss
	hz=$(getconf CLK_TCK)
	"$OUT/cgpulse" run --no-pin --interval "$iv" >/dev/null 2>"$T/agent.err" &
	pid=$!
	PIDS+=("$pid")
	cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null; }
	sleep 5 # attach and the first sweep (every path resolved) are start-up, not running cost
	t0=$(cpu_ticks)
	sleep $((STEADY_AFTER - 5)) # the cgroups are new to the agent until then
	t1=$(cpu_ticks)
	sleep "$secs"
	t2=$(cpu_ticks)
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	[ -n "$t0" ] && [ -n "$t1" ] && [ -n "$t2" ] && [ -n "$rss" ] || { echo "n/a n/a n/a"; return; }
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v hz="$hz" -v y=$((STEADY_AFTER - 5)) -v s="$secs" -v r="$rss" \
		'BEGIN { printf "%.3f %.3f %.1f\n", (b - a) / hz * 60 / y, (c - b) / hz * 60 / s, r / 1024 }'
}

if want sweep; then
	for N in $SIZES; do
		P=$((N < 1000 ? N : 1000))
		start_helper "pop$N" "$B/cgpbench" populate --n "$N" --procs "$P"
		POP_PID=$HPID POP_FD=$HFD
		if ! wait_line "$T/pop$N.out" '^ready' 300; then
			echo "bench: populating $N cgroups failed: $(tail -1 "$T/pop$N.err")" >&2
			stop_helper "$POP_PID" "$POP_FD"
			continue
		fi
		"$B/cgpbench" sweep --reps $((2 * REPS + 1)) --max-cgroups "$N" --steady-after "$STEADY_AFTER" >"$T/sweep$N" 2>"$T/sweep$N.err" &
		PIDS+=($!)
		wait $!
		"$B/cgpbench" cgtop --reps 3 --iters 2 >"$T/cgtop$N" 2>"$T/cgtop$N.err" &
		PIDS+=($!)
		wait $!
		if [ "$N" = 1000 ]; then
			FOOT1=$(footprint 1 "$FOOT_1S")
			FOOT10=$(footprint 10 "$FOOT_10S")
		fi
		stop_helper "$POP_PID" "$POP_FD"
	done

	section "2. One sweep of every figure of every cgroup (µs per cgroup)"
	row "tree" "µs/cgroup median [min – max]" "vs cgpulse"
	for N in $SIZES; do
		f=$T/sweep$N
		NCG=$(val "$f" cgroups)
		# steady state: the cgroups are older than the agent's container re-check window; without it, the young figures
		S=steady_
		grep -q '^steady_sweep_ns=[0-9]' "$f" 2>/dev/null || S=
		if [ -z "$NCG" ] || [ "$NCG" = 0 ]; then
			row "$N cgroups: cgpulse sweep" "FAILED" "$(grep -m1 -i error "$f.err" || tail -1 "$f.err")"
		else
			per_cg "$f" "${S}sweep_ns" "$NCG" >"$T/sw$N"
			per_cg "$f" sweep_ns "$NCG" >"$T/swy$N"
			per_cg "$f" first_sweep_ns "$NCG" >"$T/sw1$N"
		fi
		per_cg "$f" "${S}files_ns" "${NCG:-0}" >"$T/fl$N"
		per_cg "$f" files_first_ns "${NCG:-0}" >"$T/fl1$N"
		val "$T/cgtop$N" cgtop_refresh_us | tr ',' '\n' | awk -v n="${NCG:-$N}" 'NF { printf "%.3f\n", $1 / n }' >"$T/ct$N"
		[ -s "$T/sw$N" ] && row "$N + $((NCG - N)) host cgroups: cgpulse sweep" "$(summ "$T/sw$N")" \
			"1.0×${S:+ (cgroups > ${STEADY_AFTER} s old to the agent)}"
		[ -s "$T/fl$N" ] && row "  cgroupfs files, open/read/close" "$(summ "$T/fl$N")" \
			"$(ratio "$(med "$T/fl$N")" "$(med "$T/sw$N")")× cgpulse (target ≥ 30×)"
		if [ -s "$T/ct$N" ]; then
			row "  systemd-cgtop, one refresh (CPU time)" "$(summ "$T/ct$N")" \
				"$(ratio "$(med "$T/ct$N")" "$(med "$T/sw$N")")× cgpulse (target ≥ 90×)"
		else
			row "  systemd-cgtop, one refresh (CPU time)" "n/a" "$(tail -1 "$T/cgtop$N.err" 2>/dev/null)"
		fi
		[ -n "$S" ] && [ -s "$T/swy$N" ] && row "  cgpulse sweep, cgroups new to the agent" "$(summ "$T/swy$N")" \
			"$(ratio "$(med "$T/swy$N")" "$(med "$T/sw$N")")× steady (first ${STEADY_AFTER} s: container checks)"
		[ -s "$T/sw1$N" ] && row "  cgpulse first sweep (paths resolved)" "$(summ "$T/sw1$N")" "once per cgroup"
		[ -s "$T/fl1$N" ] && row "  cgroupfs files, first read" "$(summ "$T/fl1$N")" "once per cgroup"
		IT=$(val "$f" iter_run_ns) ITC=$(val "$f" iter_run_cnt)
		[ -n "$ITC" ] && [ "$ITC" != 0 ] && row "  cgp_cg_stats per cgroup visited (ns)" "$(ratio "$IT" "$ITC" | sed 's/\.\(.\).*/.\1/')" \
			"bpf_stats, 3 extra sweeps (one walk per hierarchy)"
	done

	section "3. Agent footprint and kernel memory"
	pct() { awk -v c="$1" 'BEGIN { if (c != "n/a" && c != "") printf "%.2f%% of one core", c / 60 * 100; else printf "n/a" }'; }
	if [ -n "${FOOT1:-}" ]; then
		read -r y1 c1 r1 <<<"$FOOT1"
		read -r y10 c10 r10 <<<"$FOOT10"
		row "cgpulse run, 1,000 cgroups, 1 s interval" "$c1 CPU s/min, peak RSS $r1 MiB" "$(pct "$c1") (target < 1%, < 16 MiB)"
		row "  same, first ${STEADY_AFTER} s (cgroups new to it)" "$y1 CPU s/min" "$(pct "$y1")"
		row "cgpulse run, 1,000 cgroups, 10 s interval" "$c10 CPU s/min, peak RSS $r10 MiB" "$(pct "$c10")"
		row "  same, first ${STEADY_AFTER} s (cgroups new to it)" "$y10 CPU s/min" "$(pct "$y10")"
		row "  (one ${FOOT_1S} s / ${FOOT_10S} s window each after the first ${STEADY_AFTER} s; text to /dev/null; no HTTP scrape or collector)" "" ""
	fi
	# kernel memory, from the sweep run with the largest tree
	LAST=$(echo "$SIZES" | awk '{ print $NF }')
	if grep -q '^map ' "$T/sweep$LAST" 2>/dev/null; then
		NCPU=$(val "$T/sweep$LAST" nr_cpus) MAXC=$(val "$T/sweep$LAST" max_cgroups)
		awk -v ncpu="$NCPU" -v maxc="$MAXC" '$1 == "map" {
			here += $3; at128 += $3 + $6 * (128 - ncpu)
			if ($6 > 0) pc = pc sprintf(" %s %d B/entry/CPU;", $2, $6 / $4)
		} END {
			printf "  %-44s %-32s %s\n", "maps, memlock (max_cgroups " maxc ")", sprintf("%.1f MiB here (%d CPUs)", here / 1048576, ncpu),
				sprintf("%.1f MiB at 128 CPUs (per-CPU:%s)", at128 / 1048576, pc)
		}' "$T/sweep$LAST"
	fi
fi

# ---- 3b. OOM kill → stdout latency ------------------------------------------------------------------------
if want oom; then
	mkfifo "$T/agent.pipe"
	"$B/cgpbench" stamp <"$T/agent.pipe" >"$T/agent.stamped" &
	STAMP_PID=$!
	PIDS+=("$STAMP_PID")
	"$OUT/cgpulse" run --no-pin --json --interval 3600 >"$T/agent.pipe" 2>"$T/agent_oom.err" &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	sleep 2 # attached; the first sample has been printed
	k0=$(sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.oom_control" 2>/dev/null || sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.events")
	for ((i = 0; i < OOM_KILLS; i++)); do oom_once; sleep 0.05; done
	sleep 0.5
	k1=$(sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.oom_control" 2>/dev/null || sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.events")
	kill -INT "$AGENT_PID"
	wait "$AGENT_PID" "$STAMP_PID" 2>/dev/null
	oom_latency_row "$T/agent.stamped" "$T/oomlat" "OOM kill → agent stdout (ms)" \
		" for $((${k1:-0} - ${k0:-0})) kernel kills (target p99 < 50 ms at the collector)"
	# ---- 3c. OOM kill → collector latency ---------------------------------------------------------------------

	# collector_oom_run COLL_OUT COLL_STDOUT AGENT_STDOUT AGENT_STDERR [AGENT_FLAGS...]: a collector storing to
	# COLL_OUT, an agent pushing to it, OOM_KILLS real OOM kills, then both stopped
	collector_oom_run() {
		local cout=$1 cstdout=$2 aout=$3 aerr=$4 cpid apid
		shift 4
		rm -f "$T/coll.port"
		"$OUT/cgpulse-collector" --listen 127.0.0.1:0 --port-file "$T/coll.port" --out "$cout" >"$cstdout" \
			2>>"$T/coll.err" &
		cpid=$!
		PIDS+=("$cpid")
		for _ in $(seq 50); do [ -s "$T/coll.port" ] && break; sleep 0.1; done
		"$OUT/cgpulse" run "$@" --no-pin --json --interval 3600 --http off --collector "127.0.0.1:$(cat "$T/coll.port")" \
			>"$aout" 2>"$aerr" &
		apid=$!
		PIDS+=("$apid")
		sleep 2
		for ((i = 0; i < OOM_KILLS; i++)); do oom_once; sleep 0.05; done
		sleep 1
		kill -INT "$apid"
		wait "$apid" 2>/dev/null
		kill -TERM "$cpid"
		wait "$cpid" 2>/dev/null
	}
	mkfifo "$T/coll.pipe"
	"$B/cgpbench" stamp <"$T/coll.pipe" >"$T/coll.stamped" &
	CSTAMP_PID=$!
	PIDS+=("$CSTAMP_PID")
	collector_oom_run - "$T/coll.pipe" /dev/null "$T/agent_coll.err"
	wait "$CSTAMP_PID" 2>/dev/null
	oom_latency_row "$T/coll.stamped" "$T/colllat" "OOM kill → line at the collector (ms)" " (target p99 < 50 ms)"

	# ---- 3d. OOM kill → acknowledged, durable at the collector --------------------------------------------------
	# The collector stores to a file (fdatasync before each Ack); the agent logs every Ack it gets (-v) and its stderr
	# is stamped on arrival: latency = the first Ack covering the OOM kill's seq - the kernel's mark_victim time.
	mkfifo "$T/ack.pipe"
	"$B/cgpbench" stamp <"$T/ack.pipe" >"$T/ack.stamped" &
	ASTAMP_PID=$!
	PIDS+=("$ASTAMP_PID")
	collector_oom_run "$T/durable.jsonl" /dev/null "$T/agent_ack.out" "$T/ack.pipe" -v
	wait "$ASTAMP_PID" 2>/dev/null
	/usr/bin/python3 - "$T/agent_ack.out" "$T/ack.stamped" "$OOM_CG" >"$T/acklat" <<-'PY'
	import json, re, sys
	ooms = [json.loads(l) for l in open(sys.argv[1]) if '"oom_kill"' in l and sys.argv[3] in l]
	acks = [(int(m.group(1)), int(m.group(2))) for m in (re.match(r"(\d+) .*: ack \S+ (\d+)$", l.strip())
	                                                     for l in open(sys.argv[2])) if m]
	for o in ooms:
	    t = next((ts for ts, seq in acks if seq >= o["seq"]), None)
	    if t:
	        print("%.3f" % ((t - o["ts_ns"]) / 1e6))
	PY
	p99=$(sort -g "$T/acklat" | awk '{ v[n++] = $1 } END { if (n) { i = int(0.99 * n + 0.999) - 1; print v[i < 0 ? 0 : i] } }')
	row "OOM kill → acknowledged, on disk (ms)" "p50 $(summ "$T/acklat" | cut -d" " -f1) p99 ${p99:-n/a}" \
		"$(wc -l <"$T/acklat") events; collector --out FILE, fdatasync before the Ack (target p99 < 50 ms)"
fi

# ---- 4. collector ingest, event size, playbook evaluation ------------------------------------------------
if want ingest; then
	section "4. Collector ingest, event size, playbook evaluation"
	for ((r = 0; r < REPS; r++)); do
		rm -f "$T/ing.port"
		taskset -c 0 "$OUT/cgpulse-collector" --listen 127.0.0.1:0 --port-file "$T/ing.port" --out "$T/ing.jsonl" \
			2>"$T/ing.err" &
		ING=$!
		for _ in $(seq 50); do [ -s "$T/ing.port" ] && break; sleep 0.1; done
		taskset -c 1 "$OUT/cgpulse-loadgen" --connect "127.0.0.1:$(cat "$T/ing.port")" --agents 4 --events 100000 \
			>"$T/ing.gen" 2>&1
		# the collector's own CPU time while it took 400,000 events (utime + stime, clock ticks)
		ticks=$(awk '{ print $14 + $15 }' "/proc/$ING/stat")
		kill -TERM "$ING"
		wait "$ING" 2>/dev/null
		stored=$(wc -l <"$T/ing.jsonl")
		awk -v n="$stored" -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (t > 0) printf "%.0f\n", n / (t / hz) }' >>"$T/ingest"
		rm -f "$T/ing.jsonl"
	done
	row "collector ingest, events per CPU second" "$(summ "$T/ingest")" "4 simulated agents, zlib batches, JSONL out, fdatasync per turn (target ≥ 200,000)"
	# the same work in instructions, which do not move with the machine (tools/bench/collector_cost.sh)
	row "collector, instructions an event" "$(tools/bench/collector_cost.sh "$OUT" 5000 2>&1 | sed -n 's/.*instructions\/event //p')" \
		"callgrind, 4 × 5,000 loadgen sample events to JSONL (45,800 before 2026-11-29)"
	# bytes per sample event on the wire, from a real agent's stream
	"$OUT/cgpulse" run --no-pin --interval 0.5 --iterations 4 --http 127.0.0.1:0 >/dev/null 2>"$T/sz.err" &
	SZ=$!
	for _ in $(seq 50); do grep -q 'http port [1-9]' "$T/sz.err" && break; sleep 0.1; done
	sleep 1.2
	timeout 1 curl -s -N "http://127.0.0.1:$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/sz.err")/v1/events?since=0" -o "$T/sz.pb"
	wait "$SZ" 2>/dev/null
	/usr/bin/python3 - "$T/sz.pb" <<-'PY' >"$T/sz.out" 2>/dev/null || echo "n/a" >"$T/sz.out"
	import sys
	data, pos, sizes = open(sys.argv[1], "rb").read(), 0, []
	while pos < len(data):
	    n, shift = 0, 0
	    while True:
	        b = data[pos]; pos += 1; n |= (b & 0x7f) << shift; shift += 7
	        if not b & 0x80: break
	    if pos + n > len(data): break
	    sizes.append(n); pos += n
	print("%.0f B per event (%d events of a real agent, protobuf, before zlib)" % (sum(sizes) / len(sizes), len(sizes)))
	PY
	row "encoded size of a sample event" "$(cat "$T/sz.out")" "every field set, attribution empty outside containers"
	for ((r = 0; r < REPS; r++)); do "$B/enginebench" 10000 60 >"$T/eng$r"; done
	for ((r = 0; r < REPS; r++)); do val2 "$T/eng$r" engine_ns_per_cgroup; done >"$T/eng_ns"
	for ((r = 0; r < REPS; r++)); do val2 "$T/eng$r" build_ns_per_cgroup; done >"$T/build_ns"
	row "playbook evaluation, 10,000 cgroups (ns/cgroup)" "$(summ "$T/eng_ns")" \
		"default playbook, rules pending/firing/resolving; baseline: building the sample's event $(summ "$T/build_ns" | cut -d' ' -f1) ns"
fi

# ---- 5. the spool's memory against its bound -----------------------------------------------------------------
# An agent with 1,000 cgroups sampling every 50 ms (~20,000 events a second) and its collector away. The base is
# the same agent with a 64 KiB spool after 8 s (an 8 MiB spool is full within 3 s); each size's RSS is taken once
# its spool has been full (RSS no longer growing) for 5 s.
if want spool; then
	section "5. Spool memory against --spool-bytes (collector away, 1,000 cgroups, 50 ms interval)"
	start_helper spop "$B/cgpbench" populate --n 1000 --procs 0
	wait_line "$T/spop.out" '^ready' 60 || echo "bench: populate did not finish" >&2
	spool_agent() { # BYTES: starts the agent, sets SP
		"$OUT/cgpulse" run --no-pin --interval 0.05 --http off --collector 127.0.0.1:9 --spool-bytes "$1" \
			>/dev/null 2>>"$T/spool.err" &
		SP=$!
		PIDS+=("$SP")
	}
	vmrss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
	spool_agent 65536
	sleep 8
	base=$(vmrss "$SP")
	kill -TERM "$SP"
	wait "$SP" 2>/dev/null
	SPOOL_SIZES="8 64 256"
	[ "${BENCH_QUICK:-0}" = 1 ] && SPOOL_SIZES="8 64"
	for mb in $SPOOL_SIZES; do
		spool_agent $((mb << 20))
		prev=0
		for ((i = 0; i < 600; i++)); do
			sleep 1
			cur=$(vmrss "$SP")
			[ "$cur" -le "$prev" ] && [ "$cur" -gt $((base + (mb << 10) * 9 / 10)) ] && break
			prev=$cur
		done
		sleep 5
		rss=$(vmrss "$SP")
		kill -TERM "$SP"
		wait "$SP" 2>/dev/null
		row "  --spool-bytes $mb MiB" "RSS $((rss / 1024)) MiB (base $((base / 1024)) MiB)" \
			"+$(awk -v d=$((rss - base)) -v b=$((mb << 10)) 'BEGIN { printf "%.1f MiB = %.3f× the bound", d / 1024, d / b }')"
	done
	stop_helper "$HPID" "$HFD"
fi

# ---- 6. peers: Netdata on the same cgroups (tools/bench/peers.sh) ----------------------------------------
if want peers; then
	peers_section
fi

section "6. Scrape cost at 1,000 containers: /metrics/cadvisor beside /metrics (tools/bench/scrape_cost.sh)"
SCRAPE_ROUNDS=$REPS "$HERE/scrape_cost.sh" "$OUT" 1000 | sed 's/^/  /'

printf '\nload average at end %s; BPF programs loaded by others at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$(others_progs | grep . || echo none)"
exit 0
