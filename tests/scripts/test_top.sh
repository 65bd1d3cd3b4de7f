#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `cgpulse top` in a real terminal (tmux, 80×24), driven with send-keys and read with capture-pane, against the
# real agent and two real cgroups: one burning CPU under a 0.5-core limit, one holding memory near its 64 MiB
# limit with a playbook rule that fires on it. Both rows are there with figures within 10% of the kernel's own
# (CPU time over a window of the cgroup's cpu accounting; the working set, usage − inactive_file of memory.stat;
# THR% within 10 points of cpu.stat's nr_throttled / nr_periods over the same window); `m` sorts the
# memory one first; its row shows the firing rule; `q` exits 0 and gives the terminal back as it was (the screen
# before top, the tty in canonical mode with echo). --batch prints the same rows as a plain table.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/cgtest.sh
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
tmp=$(mktemp -d)
sess=cgpulse-test-top-$$
agent=
cleanup() {
	tmux kill-session -t "$sess" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -f "$tmp/screen" ] && sed 's/^/  screen: /' "$tmp/screen"
	[ -f "$tmp/err" ] && tail -5 "$tmp/err" | sed 's/^/  agent: /'
	exit 1
}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v tmux >/dev/null || { echo "SKIP: tmux not installed (make deps)"; exit 77; }

cgt_make top-cpu || fail "cgroup"
hot=$CGT_REL
cgt_set_cpu_limit "$hot" 50000 100000 || fail "cpu limit"
cgt_make top-mem || fail "cgroup"
mem=$CGT_REL
cgt_set_limit "$mem" $((64 << 20)) || fail "memory limit"
cat >"$tmp/pb.yaml" <<YAML
version: 1
rules:
  - name: mem_near
    metric: mem_pct
    above: 70
    for: 0s
    severity: critical
    select: "$mem"
YAML
$B run --json --interval 1 --no-pin --http 127.0.0.1:0 --playbook "$tmp/pb.yaml" >"$tmp/out" 2>"$tmp/err" &
agent=$!
for _ in $(seq 100); do grep -q 'http port [1-9]' "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$tmp/err")
[ -n "$port" ] || fail "agent did not start"

cgt_run "$hot" sh -c 'while :; do :; done' || fail "burner"
disown "$CGT_PID" # killed by cgt_cleanup through cgroup.procs; no "Killed" notice from this shell
cgt_run "$mem" "$PY" -c 'import time; b = bytearray(56 << 20); [b.__setitem__(i, 1) for i in range(0, len(b), 4096)]; time.sleep(600)' ||
	fail "memory holder"
disown "$CGT_PID"
for _ in $(seq 100); do grep -q '"rule":"mem_near".*"firing"\|"state":"firing".*"rule":"mem_near"' "$tmp/out" && break; sleep 0.1; done

# the terminal: a marker line, then top, then its exit status and the tty's modes once it is gone
tmux new-session -d -s "$sess" -x 80 -y 24 \
	"echo BEFORE-TOP; $B top --agent http://127.0.0.1:$port --all --filter cgpulse-test-top --sort name; echo top-exit=\$?; stty -a; sleep 60" ||
	fail "tmux"
screen() { tmux capture-pane -p -t "$sess" >"$tmp/screen"; }
row() { grep -m1 "$1" "$tmp/screen"; } # the line naming a cgroup
for _ in $(seq 100); do
	screen
	[ -n "$(row "top-cpu-$$")" ] && [ -n "$(row "top-mem-$$")" ] && grep -q mem_near "$tmp/screen" && break
	sleep 0.2
done
[ -n "$(row "top-cpu-$$")" ] && [ -n "$(row "top-mem-$$")" ] || fail "rows missing"

# the kernel's own figures at the same moment: CPU over a 3 s window, memory now
cpu_ns() {
	if [ -n "$CGT_CPU" ] && [ -f "$CGT_CPU$hot/cpuacct.usage" ]; then cat "$CGT_CPU$hot/cpuacct.usage"
	elif [ -f "/sys/fs/cgroup/cpuacct$hot/cpuacct.usage" ]; then cat "/sys/fs/cgroup/cpuacct$hot/cpuacct.usage"
	else awk '/^usage_usec/ { printf "%d\n", $2 * 1000 }' "$CGT_V2$hot/cpu.stat"; fi
}
cpu_stat() { # KEY: of the hierarchy carrying the cpu controller (throttling)
	local f=$CGT_V2$hot/cpu.stat
	[ -n "$CGT_CPU" ] && [ -f "$CGT_CPU$hot/cpu.stat" ] && f=$CGT_CPU$hot/cpu.stat
	awk -v k="$1" '$1 == k { print $2 }' "$f"
}
c0=$(cpu_ns) t0=$(date +%s%N) p0=$(cpu_stat nr_periods) h0=$(cpu_stat nr_throttled)
sleep 3
c1=$(cpu_ns) t1=$(date +%s%N) p1=$(cpu_stat nr_periods) h1=$(cpu_stat nr_throttled)
mdir=$(cgt_mem_dir "$mem")
kmem=$(cat "$mdir/memory.usage_in_bytes" 2>/dev/null || cat "$mdir/memory.current")
# MEM is the working set: usage − inactive file pages (v1 total_inactive_file), as the kubelet judges
kinact=$(awk '$1 == "total_inactive_file" { t = $2 } $1 == "inactive_file" { i = $2 } END { print t != "" ? t : i }' \
	"$mdir/memory.stat")
kws=$((kmem > kinact ? kmem - kinact : 0))
screen
cp "$tmp/screen" "$tmp/screen1"
$PY - "$tmp/screen1" "$$" "$c0" "$c1" "$t0" "$t1" "$kws" "$p0" "$p1" "$h0" "$h1" <<'PY' || fail "figures"
import sys
screen, pid = open(sys.argv[1]).read().splitlines(), sys.argv[2]
c0, c1, t0, t1, kmem, p0, p1, h0, h1 = (int(x) for x in sys.argv[3:12])
def cols(name):
    line = next(l for l in screen if name in l)
    return line.split()
def mib(s):
    unit = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[s[-1]]
    return float(s[:-1]) * unit
cpu = cols("top-cpu-" + pid)
k_cores = (c1 - c0) / (t1 - t0)
assert abs(float(cpu[1]) - k_cores) <= 0.1 * k_cores, "CPU %s cores on screen, kernel %.3f" % (cpu[1], k_cores)
assert abs(float(cpu[2].rstrip("n")) - 100.0 * float(cpu[1]) / 0.5) < 2, "CPU%% %s of the 0.5-core limit" % cpu[2]
# a burner wanting a whole core under a 0.5-core limit is throttled in most periods: THR% (the agent's last
# window) against the kernel's throttled share over the 3 s around it
k_thr = 100.0 * (h1 - h0) / (p1 - p0) if p1 > p0 else 0
assert k_thr > 0 and cpu[3] != "-", "THR%% %s on screen, kernel %.0f%%" % (cpu[3], k_thr)
assert abs(float(cpu[3]) - k_thr) <= 10, "THR%% %s on screen, kernel %.0f%%" % (cpu[3], k_thr)
m = cols("top-mem-" + pid)
assert abs(mib(m[4]) - kmem) <= 0.1 * kmem, "memory %s on screen, kernel's working set %d" % (m[4], kmem)
assert m[-1] == "mem_near", "the firing rule on the memory row: %s" % m
print("# top: cpu row %s cores (kernel %.3f), THR%% %s (kernel %.0f), mem row %s (kernel working set %.1f MiB), "
      "firing %s" % (cpu[1], k_cores, cpu[3], k_thr, m[4], kmem / 1048576, m[-1]))
PY

# sorted by memory: the memory cgroup first
tmux send-keys -t "$sess" m
for _ in $(seq 30); do
	screen
	grep -q 'sort MEM' "$tmp/screen" && break
	sleep 0.1
done
first=$(grep -m1 'cgpulse-test-top\|top-cpu\|top-mem' "$tmp/screen")
case $first in *top-mem-$$*) ;; *) fail "sorted by memory, the first row is: $first" ;; esac

# help and back, then quit: the screen before top comes back, top exits 0, the tty is as it was
tmux send-keys -t "$sess" '?'
sleep 0.3
screen
grep -q 'sort:' "$tmp/screen" || fail "no help on ?"
tmux send-keys -t "$sess" '?' q
for _ in $(seq 50); do
	screen
	grep -q 'top-exit=' "$tmp/screen" && break
	sleep 0.1
done
grep -q 'top-exit=0' "$tmp/screen" || fail "top did not exit 0 on q"
grep -q BEFORE-TOP "$tmp/screen" || fail "the screen before top was not given back"
grep -q 'top-mem' "$tmp/screen" && fail "top's table left on the screen"
grep -q ' icanon' "$tmp/screen" && grep -q ' echo ' "$tmp/screen" || fail "tty not restored (icanon, echo)"

# --batch: the same rows as plain lines, once a whole sweep has arrived
$B top --batch --agent "http://127.0.0.1:$port" --all --filter cgpulse-test-top --sort mem --width 100 >"$tmp/batch" ||
	fail "--batch"
[ "$(grep -c "top-\(cpu\|mem\)-$$" "$tmp/batch")" = 2 ] || fail "--batch rows: $(cat "$tmp/batch")"
sed -n 3p "$tmp/batch" | grep -q "top-mem-$$" || fail "--batch --sort mem: $(cat "$tmp/batch")"
echo "top: ok"
