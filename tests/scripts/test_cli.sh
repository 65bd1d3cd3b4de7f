#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The command line as a user meets it: --help, snapshot --json, run --json with a real OOM kill printed at
# once, and a clear one-line refusal without privileges.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/cgtest.sh
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
tmp=$(mktemp -d)
agent=
cleanup() { [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null; cgt_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

# --help names every flag
$B --help > "$tmp/help" || fail "--help exit $?"
for f in --window --interval --iterations --json --pin-dir --no-pin --keep-pins --max-cgroups --verbose --seccomp \
	--http-tls-cert --http-tls-key --http-token-file --http-auth-metrics --http-max-per-client --http-header-timeout; do
	grep -q -- "$f" "$tmp/help" || fail "--help does not document $f"
done

# snapshot --json: one object per line with the documented keys, the root cgroup among them
$B snapshot --json --window 0.3 > "$tmp/snap" || fail "snapshot exit $?"
$PY - "$tmp/snap" <<'PY' || fail "snapshot JSON"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
need = ["cgroup_id", "path", "cpu_ns_total", "cpu_ns_window", "cpu_cores", "runq_p50_us", "runq_p99_us",
        "mem_bytes", "mem_limit_bytes", "oom_kills"]
root = [r for r in rows if r["path"] == "/"]
assert root, "no root cgroup row"
for k in need:
    assert k in root[0], "missing " + k
assert all(r["type"] == "sample" for r in rows)
PY

# run --json: an OOM kill shows up as one oom_kill line with its cgroup's path, before the agent exits
cgt_make cli || fail "cgroup"
rel=$CGT_REL
cgt_set_limit "$rel" $((20 << 20))
$B run --json --interval 0.5 --no-pin --http 127.0.0.1:0 > "$tmp/run" 2> "$tmp/run.err" &
agent=$!
for i in $(seq 100); do grep -q '"type":"sample"' "$tmp/run" 2>/dev/null && break; sleep 0.1; done
# once attached, the agent keeps no capability (CAP_BPF, bit 39, only where the kernel wants it for bpf() on the
# fds it holds: before 5.19 with kernel.unprivileged_bpf_disabled, and it says so), nothing can give it more, and
# its syscalls are filtered (Seccomp 2)
want=0000000000000000
grep -q 'kept CAP_BPF' "$tmp/run.err" && want=0000008000000000
grep -q "^CapEff:[[:space:]]*$want\$" /proc/$agent/status || fail "capabilities not dropped: $(grep Cap /proc/$agent/status)"
grep -q "^CapPrm:[[:space:]]*$want\$" /proc/$agent/status || fail "permitted set not emptied"
grep -q "^CapBnd:[[:space:]]*$want\$" /proc/$agent/status || fail "bounding set not cleared"
grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$agent/status || fail "no_new_privs not set"
grep -q '^Seccomp:[[:space:]]*2$' /proc/$agent/status || fail "no syscall filter: $(grep Seccomp /proc/$agent/status)"
cgt_run "$rel" tail /dev/zero # one process, so one OOM kill; the kernel's count is checked below
wait "$CGT_PID" 2>/dev/null
for i in $(seq 50); do grep -q '"type":"oom_kill"' "$tmp/run" && break; sleep 0.1; done
kill -TERM "$agent"; wait "$agent"; rc=$?; agent=
[ "$rc" -eq 0 ] || fail "run exited $rc on SIGTERM: $(cat "$tmp/run.err")"
kills=$(sed -n 's/^oom_kill \([0-9]*\)/\1/p' "$(cgt_mem_dir "$rel")/memory.oom_control" "$(cgt_mem_dir "$rel")/memory.events" 2>/dev/null | head -1)
$PY - "$tmp/run" "$rel" "$kills" <<'PY' || fail "run JSON"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ooms = [r for r in rows if r["type"] == "oom_kill" and r["path"] == sys.argv[2]]
assert len(ooms) == int(sys.argv[3]) >= 1, "want %s oom_kill events for %s (the kernel's count), got %d" % (sys.argv[3], sys.argv[2], len(ooms))
assert ooms[0]["pid"] > 0 and ooms[0]["comm"], ooms[0]
first = rows[0]
assert first["type"] == "agent_started" and first["seq"] == 1, first
assert "cgp_switch" in first["programs_attached"] and "cgp_oom_victim" in first["programs_attached"], first
samples = [r for r in rows if r["type"] == "sample" and r["path"] == sys.argv[2]]
assert samples, "no sample of the test cgroup"
PY

# without privileges: one line naming the capability, non-zero exit, nothing pinned
rm -rf /sys/fs/bpf/cgpulse-test-nocap-$$
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	$B run --pin-dir /sys/fs/bpf/cgpulse-test-nocap-$$ > "$tmp/nocap.out" 2> "$tmp/nocap.err"
rc=$?
[ "$rc" -ne 0 ] || fail "unprivileged run exited 0"
[ "$(wc -l < "$tmp/nocap.err")" -eq 1 ] || fail "want one line, got: $(cat "$tmp/nocap.err")"
grep -q 'missing capability CAP_' "$tmp/nocap.err" || fail "no capability named: $(cat "$tmp/nocap.err")"
[ ! -e /sys/fs/bpf/cgpulse-test-nocap-$$ ] || fail "left a pin dir behind"
echo "cli: ok"
