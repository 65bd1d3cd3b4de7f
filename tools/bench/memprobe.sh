#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where the agent's steady RSS goes at N containers (default 1,000) on the realistic node: `cgpbench populate`'s
# N cgroups each holding a sleeper, the agent at 1 s with a cgpulse-collector attached, /metrics and
# /metrics/cadvisor scraped every 15 s (three times). Prints VmRSS/RssAnon/RssFile/RssShmem after start and
# after the scrapes, smaps_rollup, every mapping over MINKB (default 40) kB, RSS by file; with GDB=1 malloc's
# own malloc_stats (gdb calls it in the agent), with TRIM=1 the RSS after one malloc_trim(0) (both after the
# figures above, so they do not change them).
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/memprobe.sh [BUILD] [N]
set -u
B=${1:-build}
N=${2:-1000}
T=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
agent= coll=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	[ -n "$coll" ] && kill "$coll" 2>/dev/null && wait "$coll" 2>/dev/null
	populate_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM PIPE
mem() { grep -E "${2:-VmHWM|VmRSS|RssAnon|RssFile|RssShmem}" /proc/$1/status | tr -s ' \n' ' '; }
populate_start "$B/bench/cgpbench" "$T" "$N" || exit 1
"$B/cgpulse-collector" --listen 127.0.0.1:24799 --out "$T/coll.jsonl" >"$T/coll.log" 2>&1 &
coll=$!
sleep 0.5
"$B/cgpulse" run --no-pin --http 127.0.0.1:24798 --collector 127.0.0.1:24799 >/dev/null 2>"$T/agent.err" &
agent=$!
sleep 5
echo "start: $(mem $agent)"
for _ in 1 2 3; do
	curl -s http://127.0.0.1:24798/metrics -o "$T/m.txt"
	curl -s http://127.0.0.1:24798/metrics/cadvisor -o /dev/null
	sleep 15
done
echo "metrics bytes $(wc -c <"$T/m.txt")"
echo "after: $(mem $agent)"
grep -E '^(Rss|Pss|Shared|Private|Anonymous)' /proc/$agent/smaps_rollup | tr -s ' \n' ' '
echo
echo "--- mappings with Rss > ${MINKB:-40} kB (kB, perm, range, name)"
awk -v min="${MINKB:-40}" '/^[0-9a-f]+-/ {name=$6; range=$1; perm=$2} /^Rss:/ { if ($2 > min) print $2, perm, range, name }' \
	/proc/$agent/smaps | sort -rn
echo "--- Rss by file (kB)"
awk '/^[0-9a-f]+-/ {name=$6; if (name=="") name="[anon]"} /^Rss:/ { s[name]+=$2 } END { for (n in s) print s[n], n }' \
	/proc/$agent/smaps | sort -rn
if [ -n "${GDB:-}" ]; then
	gdb -p "$agent" -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1
	sleep 0.2
	echo "--- malloc_stats"
	sed -n '/^Arena 0:/,$p' "$T/agent.err"
fi
if [ -n "${TRIM:-}" ]; then
	gdb -p "$agent" -batch -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1
	echo "after one malloc_trim(0): $(mem $agent 'VmRSS|RssAnon')"
fi
echo "agent.err lines with error/fail: $(grep -ciE 'error|fail' "$T/agent.err")"
