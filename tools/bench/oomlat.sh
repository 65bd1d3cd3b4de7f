#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# OOM kill → line at the collector, with N containers running (the peers section's row, alone, with more kills):
#   flock /tmp/cgpulse-kernel.lock tools/bench/oomlat.sh N KILLS SPACING_S BUILD_DIR...
# N cgroups each holding a sleeper (cgpbench populate; N = 0: none), a collector writing to a stamped pipe, the
# agent at 1 s pushing to it (--http on, not scraped), KILLS real OOM kills SPACING_S apart once the agent has run
# its cgroups' first 30 s; each BUILD_DIR's agent in turn on the same cgroups (before and after). Prints p50, p99
# and max of the kernel's mark_victim time → the line's arrival, and how many kills the kernel counted (p99 of
# fewer than 100 kills is their maximum).
set -uo pipefail
N=${1:?containers}
KILLS=${2:?kills}
SPACING=${3:?seconds between kills}
shift 3
[ $# -gt 0 ] || { echo "oomlat: no build dir" >&2; exit 1; }
SETTLE=${OOMLAT_SETTLE:-35}
B=$1/bench
[ "$(id -u)" -eq 0 ] || { echo "oomlat: needs root" >&2; exit 1; }
T=$(mktemp -d /tmp/cgpulse-oomlat.XXXXXX)
V2=/sys/fs/cgroup/unified
[ -f /sys/fs/cgroup/cgroup.controllers ] && V2=/sys/fs/cgroup
MEM=$V2
HYBRID=0
if [ "$V2" != /sys/fs/cgroup ] && [ -d /sys/fs/cgroup/memory ]; then MEM=/sys/fs/cgroup/memory HYBRID=1; fi
OOM_CG=cgpulse-test-oomlat-$$-oom
PIDS=()
POP="" POPFD=""
cleanup() {
	trap - EXIT INT TERM
	local p
	[ -n "$POPFD" ] && eval "exec $POPFD>&-" && wait "$POP" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for d in "$V2/$OOM_CG" "$MEM/$OOM_CG"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
mkdir -p "$V2/$OOM_CG" "$MEM/$OOM_CG"
if [ "$HYBRID" = 1 ]; then echo $((20 << 20)) >"$MEM/$OOM_CG/memory.limit_in_bytes"; else echo $((20 << 20)) >"$MEM/$OOM_CG/memory.max"; fi
oom_once() {
	sh -c 'echo $$ >"$1/cgroup.procs" && echo $$ >"$2/cgroup.procs" && exec tail /dev/zero' sh \
		"$V2/$OOM_CG" "$MEM/$OOM_CG" 2>/dev/null
}
kills() { sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.oom_control" 2>/dev/null || sed -n 's/^oom_kill //p' "$MEM/$OOM_CG/memory.events"; }

if [ "$N" -gt 0 ]; then
	mkfifo "$T/pop.in"
	"$B/cgpbench" populate --n "$N" --procs "$N" <"$T/pop.in" >"$T/pop.out" 2>"$T/pop.err" &
	POP=$!
	exec {POPFD}>"$T/pop.in"
	for ((i = 0; i < 12000; i++)); do grep -q '^ready' "$T/pop.out" && break; sleep 0.05; done
	grep -q '^ready' "$T/pop.out" || { echo "oomlat: populate failed: $(tail -1 "$T/pop.err")" >&2; exit 1; }
	sleep 2
fi
one() { # OUT: one agent's run, its collector, the kills, the figures
	local OUT=$1
	PIDS=()
	rm -f "$T"/c.*
	mkfifo "$T/c.pipe"
	"$B/cgpbench" stamp <"$T/c.pipe" >"$T/c.stamped" &
	PIDS+=($!)
	"$OUT/cgpulse-collector" --listen 127.0.0.1:0 --port-file "$T/c.port" --out - >"$T/c.pipe" 2>"$T/c.err" &
	CPID=$!
	PIDS+=($CPID)
	for _ in $(seq 50); do [ -s "$T/c.port" ] && break; sleep 0.1; done
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$OUT/cgpulse" run --no-pin --json --interval 1 --max-cgroups $((N + 2000)) \
		--http "127.0.0.1:$port" --collector "127.0.0.1:$(cat "$T/c.port")" >/dev/null 2>"$T/agent.err" &
	APID=$!
	PIDS+=($APID)
	sleep "$SETTLE"
	k0=$(kills)
	(for ((i = 0; i < KILLS; i++)); do oom_once; sleep "$SPACING"; done) 2>/dev/null
	sleep 1.5
	k1=$(kills)
	kill -INT "$APID"
	wait "$APID" 2>/dev/null
	kill -TERM "$CPID"
	wait "${PIDS[@]}" 2>/dev/null
	/usr/bin/python3 - "$T/c.stamped" "$T/agent.err" "$OOM_CG" "$N" "$((k1 - k0))" <<-'PY'
	import json, re, sys
	stamped, err, cg, n, kk = sys.argv[1:]
	arr = {}
	for l in open(stamped):
	    if '"oom_kill"' in l and cg in l:
	        t, js = l.split(" ", 1)
	        e = json.loads(js)
	        arr[e["seq"]] = (int(t), e["ts_ns"])
	def pct(v, p):
	    v = sorted(v)
	    if not v:
	        return float("nan")
	    i = int(p * len(v) + 0.999) - 1
	    return v[max(i, 0)]
	lat = [(t - k) / 1e6 for t, k in arr.values()]
	print("N=%s: %d events at the collector for %s kernel kills; OOM kill -> collector ms: p50 %.1f p99 %.1f max %.1f"
	      % (n, len(lat), kk, pct(lat, .5), pct(lat, .99), max(lat) if lat else float("nan")))
	PY
}
for b in "$@"; do
	echo "== $b"
	one "$b"
done
