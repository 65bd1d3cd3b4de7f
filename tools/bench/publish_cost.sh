#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Instructions per sample from the sweep's record to the collector's socket, per stage: the agent under callgrind
# (instruction counts are repeatable where CPU time is not) at N cgroups each holding a sleeper (default 1,000),
# 1 s interval, collector attached, --stdout none, ITER intervals (default 12); inclusive instructions of each
# stage's function divided by the samples published. --seccomp off: valgrind's own syscalls are not on the list.
# Run as root under the kernel lock: flock /tmp/cgpulse-kernel.lock tools/bench/publish_cost.sh [BUILD] [N] [ITER]
# (AGENT=path/to/cgpulse measures another binary, e.g. main's, with this BUILD's cgpbench and collector).
set -u
B=${1:-build}
N=${2:-1000}
IT=${3:-12}
A=${AGENT:-$B/cgpulse}
T=$(mktemp -d)
. "$(dirname "$0")/lib.sh"
CP=""
cleanup() {
	[ -n "$CP" ] && kill "$CP" 2>/dev/null && wait "$CP" 2>/dev/null
	populate_stop
	rm -rf "$T"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "publish_cost: valgrind is not installed" >&2; exit 77; }
populate_start "$B/bench/cgpbench" "$T" "$N" || exit 1
"$B/cgpulse-collector" --listen 127.0.0.1:24897 --out "$T/coll.jsonl" >"$T/coll.log" 2>&1 &
CP=$!
sleep 0.5
valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" "$A" run --no-pin --http 127.0.0.1:24896 \
	--collector 127.0.0.1:24897 --seccomp off --stdout none --iterations "$IT" >/dev/null 2>"$T/agent.err" ||
	{ tail -5 "$T/agent.err" >&2; exit 1; }
callgrind_annotate --inclusive=yes --tree=calling --threshold=100 "$T/cg.out" 2>/dev/null | awk '
	function num(s) { gsub(",", "", s); return s + 0 }
	/^ *[0-9,]+ \([ 0-9.]+%\)  \*  / { match($0, /:[^ :]+ \[/); cost[substr($0, RSTART + 1, RLENGTH - 3)] = num($1) }
	/>   .*:cgp_pub_sample \(/ { match($0, /\(([0-9,]+)x\)/); n = num(substr($0, RSTART + 1, RLENGTH - 3)) }
	END {
		if (!n) { print "publish_cost: no sample was published" > "/dev/stderr"; exit 1 }
		cc = cost["cgp_cc_kick"] + cost["cgp_cc_tick"] + cost["cgp_cc_handle"]
		printf "samples %d; instructions per sample:\n", n
		ms = cost["cgp_measure_sample"] + cost["cgp_measure_zeroed"] # the window measures through cgp_measure_zeroed
		printf "  measure (cgp_measure_sample)           %7.0f\n", ms / n
		printf "  publish (cgp_pub_sample)               %7.0f\n", cost["cgp_pub_sample"] / n
		printf "    build (cgp_event_build_sample)       %7.0f\n", cost["cgp_event_build_sample"] / n
		# a Sample is packed by cgp_sample_pack; before, cgp_event_pack called it (inclusive costs: count it once)
		# the publisher packs through cgp_sample_pack_head, which cgp_sample_pack calls: the larger, not the sum
		sp = cost["cgp_sample_pack_head"] > cost["cgp_sample_pack"] ? cost["cgp_sample_pack_head"] : cost["cgp_sample_pack"]
		pk = cost["cgp_event_pack"] >= sp ? cost["cgp_event_pack"] : cost["cgp_event_pack"] + sp
		printf "    pack (cgp_sample_pack, cgp_event_pack)%6.0f\n", pk / n
		printf "    spool push                           %7.0f\n", cost["cgp_spool_push"] / n
		printf "    HTTP ring push                       %7.0f\n", cost["cgp_event_ring_push"] / n
		printf "  collector client (kick, tick, handle)  %7.0f\n", cc / n
		# batches compress through cgp_zlib_compress_keep (cgp_zlib_compress calls it): the larger, not the sum
		z = cost["cgp_zlib_compress_keep"] > cost["cgp_zlib_compress"] ? cost["cgp_zlib_compress_keep"] : cost["cgp_zlib_compress"]
		printf "    compression (cgp_zlib_compress)      %7.0f\n", z / n
		printf "  measure -> socket                      %7.0f\n", (ms + cost["cgp_pub_sample"] + cc) / n
	}'
