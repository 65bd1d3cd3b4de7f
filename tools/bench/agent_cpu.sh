#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The agent's CPU at N containers, several builds side by side: for each round and each build, a fresh tree of N
# cgroups each holding a sleeper (cgpbench populate), the build's agent with the DaemonSet's output flags, a
# collector attached and /metrics scraped every 15 s with gzip; after WARM s (default 50: past the cgroups' first
# 30 s), utime + stime over W s (default 60) and bpf_stats of the sweep's programs. Builds alternate, ROUNDS times
# (default 2), so that the machine's hour falls on each alike: compare builds within one run, never across runs.
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/agent_cpu.sh N BUILD [BUILD...]
# (a BUILD without bench/cgpbench borrows the first build's).
set -u
N=${1:?N}
shift
[ $# -ge 1 ] || { echo "usage: $0 N BUILD [BUILD...]" >&2; exit 2; }
W=${W:-60}
WARM=${WARM:-50}
ROUNDS=${ROUNDS:-2}
POPB=$1
T=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
stop_all() {
	node_stop
	populate_stop
}
cleanup() {
	stop_all
	sysctl -qw kernel.bpf_stats_enabled=0
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM PIPE

one() { # BUILD: one measurement
	local b=$1 u0 s0 u1 s1 hz
	populate_start "$POPB/bench/cgpbench" "$T" "$N" || return 1
	node_start "$b" "$T"
	sleep "$WARM"
	sysctl -qw kernel.bpf_stats_enabled=1
	read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$AGENT/stat")
	bpftool -j prog show >"$T/p0.json"
	for _ in $(seq $((W / 15))); do
		curl -s --compressed http://127.0.0.1:24798/metrics -o /dev/null
		sleep 15
	done
	read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$AGENT/stat")
	bpftool -j prog show >"$T/p1.json"
	sysctl -qw kernel.bpf_stats_enabled=0
	hz=$(getconf CLK_TCK)
	printf '%-40s %6s%% of a core  user %3d ms/s  system %3d ms/s' "$b" \
		"$(awk -v a=$((u1 - u0 + s1 - s0)) -v h="$hz" -v w="$W" 'BEGIN { printf "%.2f", a / h / w * 100 }')" \
		$(((u1 - u0) * 1000 / hz / W)) $(((s1 - s0) * 1000 / hz / W))
	/usr/bin/python3 - "$T/p0.json" "$T/p1.json" "$W" <<'PY'
import json, sys
a = {p["id"]: p for p in json.load(open(sys.argv[1]))}
w = float(sys.argv[3])
for p in json.load(open(sys.argv[2])):
    q = a.get(p["id"])
    if not q or p.get("name") not in ("cgp_cg_stats", "cgp_flush_css", "cgp_flush_cgrp"):
        continue
    dt = p.get("run_time_ns", 0) - q.get("run_time_ns", 0)
    dc = p.get("run_cnt", 0) - q.get("run_cnt", 0)
    if p["name"] == "cgp_cg_stats":
        print(f"  sweep {dt / w / 1e6:.1f} ms/s ({dt / max(dc, 1):.0f} ns a record)", end="")
    else:
        print(f"  flush {dt / w / 1e6:.1f} ms/s", end="")
print()
PY
	stop_all
}

echo "agent CPU at $N containers: ${W} s after ${WARM} s, $ROUNDS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -x "$POPB/bench/calib" ] && echo "machine speed, ns (tools/bench/calib.c): $("$POPB/bench/calib")"
for ((r = 1; r <= ROUNDS; r++)); do
	for b in "$@"; do
		one "$b" || exit 1
	done
done
