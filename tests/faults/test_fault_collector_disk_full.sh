#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the collector's disk fills up (its file is on a 32 MiB tmpfs, 30 MiB of it taken; once space returns
# it holds all 10,000 events at ~1.7 KB a JSON line) while two senders (cgpulse-loadgen: the agent's own spool and client) stream samples and OOM kills. While it is full: the collector
# logs and counts the failed writes, acknowledges nothing it did not write (every acknowledgement a sender saw is
# covered by what the file holds), and keeps serving. Once space returns: every event is stored, exactly once.
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="coll.err gen.err"
. tests/lib/fault.sh
gen=
cleanup() {
	[ -n "$gen" ] && kill "$gen" 2>/dev/null && wait "$gen" 2>/dev/null
	coll_cleanup
	mountpoint -q "$tmp/disk" && umount "$tmp/disk"
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (mount)"; exit 77; }

mkdir "$tmp/disk"
mount -t tmpfs -o size=32m,mode=0700 cgpulse-test-disk "$tmp/disk" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
dd if=/dev/zero of="$tmp/disk/filler" bs=1M count=30 status=none || fail "filler"
COLL_OUT=$tmp/disk/events.jsonl
coll_start coll.err || fail "collector did not start"
timeout 90 "$B/cgpulse-loadgen" --connect "127.0.0.1:$COLL_PORT" --agents 2 --events 5000 --rate 1000 --batch 100 \
	--oom-every 97 --progress 0.2 --instance-prefix diskfull >"$tmp/gen.out" 2>"$tmp/gen.err" &
gen=$!
for _ in $(seq 200); do grep -q "cannot store" "$tmp/coll.err" && break; sleep 0.1; done
grep -q "cannot store" "$tmp/coll.err" || fail "the disk never filled up"
check_acks() { # every acknowledgement printed so far is covered by what the file holds now
	$PY - "$tmp/gen.out" "$COLL_OUT" <<'PY'
import sys
sys.path.insert(0, "tests/lib")
import delivery
acked = {}
for l in open(sys.argv[1]):
    if l.startswith("progress "):
        _, _, _, inst, _, seq = l.split()
        acked[inst] = max(acked.get(inst, 0), int(seq))
got = delivery.scan(sys.argv[2])
for inst, a in acked.items():
    c = got.count.get(inst, {})
    contiguous = next(s for s in range(1, a + 2) if s not in c) - 1
    assert a <= contiguous, "%s: acknowledged %d, the file holds 1..%d" % (inst, a, contiguous)
print(" ".join("%s acked %d" % (i[-1], a) for i, a in sorted(acked.items())))
PY
}
for round in 1 2 3; do
	sleep 1
	held=$(check_acks) || fail "an acknowledgement for what is not on disk"
	kill -0 "$COLL_PID" || fail "the collector died"
done
kill -USR1 "$COLL_PID"
sleep 0.2
failed=$(coll_counter failed_groups coll.err)
unstored=$(coll_counter closed_unstored coll.err)
rm "$tmp/disk/filler" # space returns
wait "$gen"
rc=$?
gen=
[ $rc -eq 0 ] || fail "loadgen exit $rc (not every event was acknowledged)"
coll_stop || fail "collector exit $?"

$PY - "$tmp/gen.out" "$COLL_OUT" "$failed" "$unstored" "$(coll_counter failed_events coll.err)" "$held" <<'PY' || fail "stored events"
import sys
sys.path.insert(0, "tests/lib")
import delivery
want = {l.split()[1]: int(l.split()[3]) for l in open(sys.argv[1]) if l.startswith("instance ")}
got = delivery.scan(sys.argv[2])
dups = delivery.duplicates(got)
missing = {i: delivery.missing(got, i, n) for i, n in want.items()}
ooms = len(delivery.of_type(got, "oom_kill"))
print("collector disk full: %s groups failed (%s events taken back, not acknowledged; %s connections closed "
      "unstored); while full the senders held %s; after space returned: %d events stored, duplicates %d, "
      "missing %d, OOM kills %d"
      % (sys.argv[3], sys.argv[5], sys.argv[4], sys.argv[6], sum(len(c) for c in got.count.values()), len(dups),
         sum(len(m) for m in missing.values()), ooms))
assert int(sys.argv[3]) > 0 and int(sys.argv[4]) > 0
assert not dups, dups[:5]
assert not any(missing.values()), {i: m[:5] for i, m in missing.items()}
assert ooms == sum(n // 97 for n in want.values())
PY
echo "PASS"
