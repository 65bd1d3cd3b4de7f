#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The syscalls of the real agent's steady sweeps, counted by strace: no file is opened (the system's PSI files and
# kernel.bpf_stats_enabled stay open and are read again with pread), the drop counters come in one batch lookup
# (not one lookup a counter), and no BPF program's figures are asked for while kernel.bpf_stats_enabled is 0
# (they cannot move then). /metrics still shows the programs' figures on every
# turn, equal to the kernel's own (bpftool) once the stats are switched off again.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/agent.sh
B=${CGP_BUILD:-build}/cgpulse
tmp=$(mktemp -d)
agent= st= stats0=
cleanup() {
	[ -n "$st" ] && kill "$st" 2>/dev/null && wait "$st" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	[ -n "$stats0" ] && sysctl -qw kernel.bpf_stats_enabled="$stats0"
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/err" | tail -5; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }
command -v bpftool >/dev/null || { echo "SKIP: no bpftool"; exit 77; }
stats0=$(cat /proc/sys/kernel/bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=0

$B run --interval 0.2 --no-pin --http 127.0.0.1:0 >/dev/null 2>"$tmp/err" &
agent=$!
agent_wait_running "$tmp/err" || fail "the agent did not start"
sleep 1
sweeps() { agent_metric cgpulse_sweep_duration_seconds_count; }
s0=$(sweeps)
strace -f -qq -e trace=openat,open,bpf -p "$agent" -o "$tmp/strace" &
st=$!
sleep 2.5
kill -INT "$st"
wait "$st"
st=
s1=$(sweeps)
n=$((s1 - s0))
[ "$n" -ge 5 ] || fail "only $n sweeps in 2.5 s at 0.2 s"
opens=$(grep -cE '(openat|open)\(.*"/proc/(pressure/|sys/kernel/bpf_stats_enabled)' "$tmp/strace")
infos=$(grep -c 'BPF_OBJ_GET_INFO_BY_FD' "$tmp/strace")
elems=$(grep -c 'BPF_MAP_LOOKUP_ELEM' "$tmp/strace")
batches=$(grep -c 'BPF_MAP_LOOKUP_BATCH' "$tmp/strace")
echo "$n sweeps: $opens opens of /proc/pressure/* or bpf_stats_enabled, $infos BPF_OBJ_GET_INFO_BY_FD," \
	"$elems BPF_MAP_LOOKUP_ELEM, $batches BPF_MAP_LOOKUP_BATCH, $(grep -c 'openat(' "$tmp/strace") openat in all"
[ "$opens" -eq 0 ] || fail "$opens opens of the PSI or bpf_stats_enabled files in $n steady sweeps (want 0)"
[ "$elems" -eq 0 ] || fail "$elems BPF_MAP_LOOKUP_ELEM in $n steady sweeps (want 0: one batch lookup a sweep)"
[ "$batches" -ge $((n - 1)) ] && [ "$batches" -le $((n + 1)) ] || fail "$batches batch lookups in $n sweeps (want one a sweep)"
[ "$infos" -eq 0 ] || fail "$infos BPF_OBJ_GET_INFO_BY_FD in $n sweeps with kernel.bpf_stats_enabled=0 (want 0)"

# the programs' figures on /metrics at every turn, moving while the stats are on, the kernel's own once off
runs() { agent_metric 'cgpulse_bpf_prog_runs_total{prog="cgp_cg_stats"}'; }
r0=$(runs)
[ -n "$r0" ] || fail "/metrics has no cgpulse_bpf_prog_runs_total for cgp_cg_stats"
sysctl -qw kernel.bpf_stats_enabled=1
sleep 1
sysctl -qw kernel.bpf_stats_enabled=0
sleep 1 # the first sweep after reads them once more
r1=$(runs)
kernel=$(bpftool -j prog show name cgp_cg_stats | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(p.get("run_cnt", 0) for p in (j if isinstance(j, list) else [j])))')
[ "$(agent_metric cgpulse_bpf_stats_enabled)" = 0 ] || fail "cgpulse_bpf_stats_enabled is not 0"
[ "$r1" -gt "$r0" ] || fail "cgp_cg_stats runs did not move while the stats were on ($r0 -> $r1)"
[ "$r1" = "$kernel" ] || fail "cgp_cg_stats runs on /metrics $r1, the kernel's $kernel"
echo "ok: no file opened and no program info asked for in $n steady sweeps; cgp_cg_stats runs $r0 -> $r1 = the kernel's"
