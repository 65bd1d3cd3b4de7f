#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where the agent's CPU goes at N containers, kernel side included: perf is not on these VMs and callgrind sees
# only user space, so bpftrace samples the agent's kernel stacks at 997 Hz for W s (default 20) after WARM s
# (default 40: past the cgroups' first 30 s), on cgpbench populate's N cgroups each holding a sleeper, with the
# DaemonSet's output flags, a collector attached and /metrics scraped with gzip every 10 s. Prints the samples in
# user space, then the kernel's leaf functions and the functions anywhere on the stack, each as a share of all
# the agent's samples. A sample taken in an interrupt is charged to the agent as the kernel charges it.
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/agent_kstacks.sh N [BUILD]
set -u
N=${1:?N}
B=$(realpath "${2:-build}")
W=${W:-20}
WARM=${WARM:-40}
command -v bpftrace >/dev/null || { echo "agent_kstacks: needs bpftrace (apt-get install bpftrace)" >&2; exit 2; }
T=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
cleanup() {
	node_stop
	populate_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM PIPE

populate_start "$B/bench/cgpbench" "$T" "$N" || exit 1
node_start "$B" "$T"
sleep "$WARM"
kill -0 "$AGENT" 2>/dev/null || { echo "agent_kstacks: the agent stopped: $(tail -3 "$T/agent.err")" >&2; exit 1; }
(for _ in $(seq $((W / 10))); do
	curl -s --compressed http://127.0.0.1:24798/metrics -o /dev/null
	sleep 10
done) &
scrape=$!
# an empty kernel stack is a sample in user space
bpftrace -e "profile:hz:997 /pid == $AGENT/ { @[kstack(16)] = count(); } interval:s:$W { exit(); }" \
	>"$T/stacks" 2>"$T/bpftrace.err" || { echo "agent_kstacks: bpftrace failed: $(tail -3 "$T/bpftrace.err")" >&2; exit 1; }
wait "$scrape"
echo "agent kernel stacks at $N containers: $W s after $WARM s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$T/stacks" "$W" <<'PY'
import re, sys
from collections import Counter
stacks = re.findall(r"@\[(.*?)\]: (\d+)", open(sys.argv[1]).read(), re.S)
total = sum(int(c) for _, c in stacks)
if not total:
    sys.exit("no samples of the agent")
leaf, incl, user = Counter(), Counter(), 0
for s, c in stacks:
    frames = [l.strip().split("+")[0] for l in s.strip().splitlines() if l.strip()]
    if not frames:
        user += int(c)
        continue
    leaf[frames[0]] += int(c)
    for f in set(frames):
        incl[f] += int(c)
w = float(sys.argv[2])
print("%d samples (%.1f%% of a core): user space %.0f%%, kernel %.0f%%"
      % (total, total / w / 997 * 100, user * 100 / total, (total - user) * 100 / total))
print("\n%-58s %7s" % ("kernel, leaf function", "share"))
for f, c in leaf.most_common(15):
    print("%-58s %6.1f%%" % (f, c * 100 / total))
print("\n%-58s %7s" % ("kernel, anywhere on the stack", "share"))
for f, c in incl.most_common(25):
    print("%-58s %6.1f%%" % (f, c * 100 / total))
PY
