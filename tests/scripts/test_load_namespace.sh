#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The slim kernel BTF is shown to libbpf in a mount namespace of the agent's own, for the load only: afterwards the
# agent is back in the node's mount namespace (or it would never see a mount made later: propagation is off in
# its private one) and in the directory it was started from (setns moves to the namespace's root), so a relative
# --playbook is read again on SIGHUP. A mount made after the start is seen by the agent.
set -u
cd "$(dirname "$0")/../.."
B=$(cd "${CGP_BUILD:-build}" && pwd)
tmp=$(mktemp -d)
. tests/lib/agent.sh
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	mountpoint -q "$tmp/late" && umount "$tmp/late"
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/agent.err" 2>/dev/null | tail -8; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

"$B/cgpulse" playbook show >"$tmp/playbook.yaml" || fail "playbook show"
mkdir "$tmp/late"
(cd "$tmp" && exec "$B/cgpulse" run --no-pin --http 127.0.0.1:0 --interval 0.5 --playbook playbook.yaml \
	>/dev/null 2>"$tmp/agent.err") &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
grep -q "whole kernel BTF" "$tmp/agent.err" && fail "the agent did not load against the slim BTF"

[ "$(readlink /proc/$agent/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ] ||
	fail "the agent stayed in mount namespace $(readlink /proc/$agent/ns/mnt), not the node's $(readlink /proc/self/ns/mnt)"
[ "$(readlink /proc/$agent/cwd)" = "$tmp" ] || fail "the agent's directory is $(readlink /proc/$agent/cwd), not $tmp"
[ -e /sys/kernel/btf/vmlinux ] && [ "$(stat -f -c %T /sys/kernel/btf)" != tmpfs ] || fail "the slim BTF's tmpfs is left on /sys/kernel/btf"

# a mount made now is the agent's to see
mount -t tmpfs cgpulse-test-late "$tmp/late" || fail "mount"
grep -q " $tmp/late " "/proc/$agent/mounts" || fail "a mount made after the start is not in the agent's view"

kill -HUP "$agent"
for _ in $(seq 50); do grep -q "playbook playbook.yaml reloaded" "$tmp/agent.err" && break; sleep 0.1; done
grep -q "playbook playbook.yaml reloaded" "$tmp/agent.err" || fail "the relative --playbook was not read again on SIGHUP"
echo PASS
