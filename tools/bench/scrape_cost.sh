#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Scrape cost of /metrics/cadvisor beside /metrics, at N containers (default 1,000): the agent's CPU time per
# scrape (its own /proc/PID/schedstat, ns, around a batch of scrapes that falls between two sweeps) divided by
# the containers, and the size of one response, plain and gzip. The containers are empty cgroups named as
# containerd's CRI names them (cri-containerd-<64 hex>.scope), so they get the container label set; their
# runtime state is absent, so pod, namespace, container and image are "" (real ones add ~60 bytes a series).
# Each endpoint is measured plain and with Accept-Encoding: gzip (as Prometheus scrapes).
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/scrape_cost.sh [BUILD] [N]
set -u
B=${1:-build}
N=${2:-1000}
ROUNDS=${SCRAPE_ROUNDS:-5}
K=${SCRAPE_BATCH:-20} # scrapes per batch
T=$(mktemp -d)
PARENT=/cgpulse-test-bench-scrape-$$
hier=$(awk '$3 == "cgroup2" { print $2 } $3 == "cgroup" && $4 ~ /(^|,)(memory|cpu)(,|$)/ { print $2 }' /proc/self/mounts)
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	for h in $hier; do [ -d "$h$PARENT" ] && find "$h$PARENT" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for h in $hier; do
	mkdir -p "$h$PARENT" && (cd "$h$PARENT" && seq 1 "$N" | xargs printf 'cri-containerd-%064x.scope\n' | xargs mkdir) ||
		{ echo "mkdir under $h failed" >&2; exit 1; }
done
"$B/cgpulse" run --interval 10 --no-pin --http 127.0.0.1:0 >/dev/null 2>"$T/err" &
agent=$!
for _ in $(seq 100); do grep -q 'http port [1-9]' "$T/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/err")
[ -n "$port" ] || { echo "agent did not start" >&2; exit 1; }
U=http://127.0.0.1:$port
metric() { curl -sf "$U/metrics" | awk -v n="$1" '$1 == n { print $2; exit }'; }
for _ in $(seq 600); do [ "$(metric cgpulse_cadvisor_cgroups)" -ge "$N" ] 2>/dev/null && break; sleep 0.1; done
cpu_ns() { awk '{ print $1 }' "/proc/$agent/schedstat"; }
# one batch of K scrapes of PATH (curl options after it): the agent's CPU ns, or nothing when a sweep fell inside
batch() {
	local s0 s1 c0 c1 p=$1
	shift
	s0=$(metric cgpulse_sweep_duration_seconds_count)
	c0=$(cpu_ns)
	for _ in $(seq "$K"); do curl -sf -o /dev/null "$@" "$U$p"; done
	c1=$(cpu_ns)
	s1=$(metric cgpulse_sweep_duration_seconds_count)
	[ "$s0" = "$s1" ] && echo $((c1 - c0))
}
GZ='Accept-Encoding: gzip'
: >"$T/cadv" && : >"$T/metrics" && : >"$T/cadv.gz" && : >"$T/metrics.gz"
rounds() { for f in cadv metrics cadv.gz metrics.gz; do [ "$(wc -l <"$T/$f")" -lt "$ROUNDS" ] && return 0; done; return 1; }
while rounds; do
	batch /metrics/cadvisor >>"$T/cadv"
	batch /metrics >>"$T/metrics"
	batch /metrics/cadvisor -H "$GZ" >>"$T/cadv.gz"
	batch /metrics -H "$GZ" >>"$T/metrics.gz"
done
have=$(metric cgpulse_cadvisor_cgroups)
for f in cadv metrics cadv.gz metrics.gz; do
	p=/metrics/cadvisor
	case $f in metrics*) p=/metrics ;; esac
	case $f in *.gz) label="$p gzip" ;; *) label=$p ;; esac
	f=$T/$f
	plain=$(curl -sf "$U$p" | wc -c)
	gz=$(curl -sf -H 'Accept-Encoding: gzip' "$U$p" | wc -c)
	series=$(curl -sf "$U$p" | grep -vc '^#')
	sort -n "$f" | awk -v k="$K" -v n="$have" -v p="$label" -v plain="$plain" -v gz="$gz" -v s="$series" '
		{ v[NR] = $1 / k }
		END { printf "%-23s %d containers: %.1f us/container per scrape [%.1f-%.1f], %.1f ms a scrape; %d series, %d bytes (%.0f B/container), gzip %d bytes\n",
			p, n, v[int((NR + 1) / 2)] / n / 1000, v[1] / n / 1000, v[NR] / n / 1000, v[int((NR + 1) / 2)] / 1e6, s, plain, plain / n, gz }'
done
