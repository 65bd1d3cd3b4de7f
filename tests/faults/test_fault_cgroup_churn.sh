#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: cgroups created and removed at 10,000 per minute (at least 3,000 on a busy machine) while the agent
# samples every second (FAULTS_LONG=1: for 3 minutes, 30,000 cgroups; otherwise for 30 s). Each cgroup lives
# ~1.5 s, long enough to be sampled, and runs a process (one in ten burns ~20 ms of CPU, the others next to none), so
# each takes a slot that is then reused. Afterwards: the agent's RSS grew by a bounded amount, every slot handed
# out is either held by a live cgroup or back in free_slots (the maps do not grow with the churn), and no cgroup
# was charged with another's time: what the agent reported for each is at most what the kernel counted for it
# (cpu.stat usage_usec, read 0.1 s after its process was reaped, just before its removal; 200 µs of leeway), the
# burners' ~20 ms included.
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="agent.err churn.err"
. tests/lib/fault.sh
pins=/sys/fs/bpf/cgpulse-test-churn-$$
agent= churn=
duration=30
[ "${FAULTS_LONG:-0}" = 1 ] && duration=180
cleanup() {
	[ -n "$churn" ] && kill "$churn" 2>/dev/null && wait "$churn" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	"$B/cgpulse" cleanup --pin-dir "$pins" >/dev/null 2>&1
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v bpftool >/dev/null || { echo "SKIP: needs bpftool"; exit 77; }

cgt_make churn || fail "cgroup"
parent=$CGT_REL
"$B/cgpulse" run --json --interval 1 --pin-dir "$pins" --http off >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
sleep 3
rss0=$(agent_rss "$agent")

# the churn: mkdir in every hierarchy, a process inside, removal ~1.5 s later after reading the kernel's count
$PY - "$CGT_V2" "$CGT_MEM" "$parent" "$duration" "$tmp/churn.out" 2>"$tmp/churn.err" <<'PY' &
import os, sys, time, signal
v2, mem, parent, duration, out = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
rate, life = 10000 / 60.0, 1.5
dirs = [d for d in (v2, mem) if d]
log = open(out, "w")
alive = []  # (kill time, name, pid, inode)
dying = []  # (removal time, name, inode)
start, made, stop = time.time(), 0, [False]
signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))

# asleep and off its CPU (tests/lib/cgtest.c's off_cpu says why "S" alone is not enough): reading
# /proc/PID/syscall waits until the task's switch-out is done, and fails if it woke meanwhile
def off_cpu(pid):
    if open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "S":
        return False
    try:
        open("/proc/%d/syscall" % pid).read()
    except OSError:
        return False
    return True

# waitpid returns at exit_notify, before the dead task's last switch: the rest of its exit is charged then, by the
# kernel and by the agent alike, so the kernel's count is read a while later
def kill(when, name, pid, ino):
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    dying.append((when + 0.1, name, ino))

def remove(name, ino):
    usage = 0
    for l in open("%s%s/cpu.stat" % (v2, name)):
        if l.startswith("usage_usec"):
            usage = int(l.split()[1])
    for d in reversed(dirs):
        for _ in range(100):
            try:
                os.rmdir(d + name)
                break
            except OSError:
                time.sleep(0.01)
    log.write("%d %d\n" % (ino, usage))

while not stop[0] and time.time() - start < duration:
    now = time.time()
    while alive and alive[0][0] <= now:
        kill(now, *alive.pop(0)[1:])
    while dying and dying[0][0] <= now:
        remove(*dying.pop(0)[1:])
    if made < (now - start) * rate:
        name = "%s/c%06d" % (parent, made)
        for d in dirs:
            os.mkdir(d + name)
        burn = 20000 if made % 10 == 0 else 0
        # as a runtime does: the child is moved while it waits (blocked) for its parent; a task moved while it
        # runs is charged to its new cgroup for what it ran since it was last switched out (see README)
        r, w = os.pipe()
        pid = os.posix_spawn("/bin/sh", ["sh", "-c", "read go; i=0; while [ $i -lt %d ]; do i=$((i+1)); done; "
                                         "exec sleep 5" % burn], os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, r, 0), (os.POSIX_SPAWN_CLOSE, w)])
        os.close(r)
        while not off_cpu(pid):
            time.sleep(0.0002)
        for d in dirs:
            with open(d + name + "/cgroup.procs", "w") as f:
                f.write(str(pid))
        os.write(w, b"go\n")
        os.close(w)
        alive.append((now + life, name, pid, os.stat(v2 + name).st_ino))
        made += 1
    else:
        time.sleep(0.002)
for a in alive:
    kill(time.time(), *a[1:])
time.sleep(0.1)
for d in dying:
    remove(*d[1:])
log.close()
print("made %d" % made, file=sys.stderr)
PY
churn=$!
peak=$rss0
while kill -0 "$churn" 2>/dev/null; do
	r=$(agent_rss "$agent")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 1
done
wait "$churn" || fail "churn"
churn=
sleep 2.5 # two sweeps: every removal seen
rss1=$(agent_rss "$agent")
made=$(sed -n 's/^made //p' "$tmp/churn.err")
# bpftool prints a map with BTF as "formatted" beside the raw bytes
next=$(bpftool -j map dump pinned "$pins/slot_alloc" |
	$PY -c 'import json,sys; e = json.load(sys.stdin)[0]; print(e.get("formatted", e)["value"]["next_slot"])')
held=$(bpftool -j map dump pinned "$pins/cgroup_slot" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
free=$($PY - "$pins/free_slots" <<'PY'
# pops every slot from the pinned queue (the agent is about to stop) and counts them
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
path = ctypes.create_string_buffer(sys.argv[1].encode())
attr = (ctypes.c_uint64 * 4)(ctypes.addressof(path), 0, 0, 0)
fd = libc.syscall(321, 7, ctypes.byref(attr), 16)  # BPF_OBJ_GET
assert fd >= 0, ctypes.get_errno()
val = ctypes.c_uint32()
n = 0
while True:
    a = (ctypes.c_uint64 * 4)(fd, 0, ctypes.addressof(val), 0)
    if libc.syscall(321, 21, ctypes.byref(a), 32) != 0:  # BPF_MAP_LOOKUP_AND_DELETE_ELEM: pop
        break
    n += 1
print(n)
PY
)
kill -TERM "$agent"
wait "$agent" || fail "agent exit $?"
agent=

$PY - "$tmp" "$made" "$rss0" "$peak" "$rss1" "$next" "$held" "$free" "$duration" <<'PY' || fail "churn"
import json, sys
tmp, made, rss0, peak, rss1, nxt, held, free, duration = sys.argv[1], *map(int, sys.argv[2:])
kernel = dict(map(int, l.split()) for l in open(tmp + "/churn.out"))
seen = {}
for l in open(tmp + "/agent.out"):
    if '"type":"sample"' in l:
        j = json.loads(l)
        if j["cgroup_id"] in kernel:
            seen[j["cgroup_id"]] = max(seen.get(j["cgroup_id"], 0), j["cpu_ns_total"])
over = [(i, ns, kernel[i]) for i, ns in seen.items() if ns > kernel[i] * 1000 + 200000]
burners = [i for i in seen if kernel[i] > 10000]
print("cgroup churn, %d s: %d cgroups made and removed (%.0f per minute), %d of them sampled; agent RSS %d kB "
      "at start, peak %d kB (+%d), %d kB at the end; slots: %d handed out = %d held + %d free; charged more than "
      "the kernel counted: %d (burners among the sampled: %d)"
      % (duration, made, made * 60.0 / duration, len(seen), rss0, peak, peak - rss0, rss1, nxt, held, free,
         len(over), len(burners)))
# the rate is the load, not what is tested: a busy 2-core machine makes fewer than 10,000 a minute, and what
# is asserted below holds at any rate; under 3,000 a minute there is too little churn to show it
if made < 10000 * duration / 60 * 0.9:
    print("note: the machine made %.0f cgroups a minute, below the 10,000 aimed at" % (made * 60.0 / duration))
assert made >= 3000 * duration / 60, "churn too slow to test anything: %d cgroups in %d s" % (made, duration)
assert len(seen) > made / 3, "few cgroups sampled"
assert not over, "charged more than the kernel counted (inode, agent ns, kernel usage_usec): %s" % over[:5]
assert burners
assert nxt == held + free, "slots lost"
assert nxt < 1000, "slots not reused"
assert peak - rss0 < 8192, "RSS grew by %d kB" % (peak - rss0)
PY
echo "PASS"
