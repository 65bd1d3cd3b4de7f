#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Instructions the collector spends on one event: cgpulse-collector under callgrind (instruction counts are
# repeatable where CPU time is not) taking 4 × N sample events from cgpulse-loadgen (default N 10,000) to a JSONL
# file; prints "events E instructions/event I", and with TOP=1 the functions that take them (inclusive).
# No kernel work: needs no lock. tools/bench/collector_cost.sh [BUILD] [N]
set -u
B=${1:-build}
N=${2:-10000}
T=$(mktemp -d)
C=""
cleanup() {
	[ -n "$C" ] && kill "$C" 2>/dev/null && wait "$C" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
command -v valgrind >/dev/null || { echo "collector_cost: valgrind is not installed" >&2; exit 77; }
valgrind --tool=callgrind --callgrind-out-file="$T/cg.out" "$B/cgpulse-collector" --listen 127.0.0.1:0 \
	--port-file "$T/port" --out "$T/out.jsonl" 2>"$T/valgrind.err" &
C=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.2; done
[ -s "$T/port" ] || { echo "collector_cost: the collector did not start: $(tail -1 "$T/valgrind.err")" >&2; exit 1; }
"$B/cgpulse-loadgen" --connect "127.0.0.1:$(cat "$T/port")" --agents 4 --events "$N" >"$T/gen.out" 2>&1
kill -TERM "$C"
wait "$C" 2>/dev/null
C=""
events=$(wc -l <"$T/out.jsonl")
total=$(callgrind_annotate "$T/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
[ "${events:-0}" -gt 0 ] && [ -n "$total" ] || { echo "collector_cost: no events stored" >&2; exit 1; }
echo "events $events instructions/event $((total / events))"
if [ "${TOP:-0}" = 1 ]; then
	callgrind_annotate --inclusive=yes "$T/cg.out" 2>/dev/null |
		grep -E "cgp_wire_decode \[|cgp_event_json_append \[|cgp_zlib_inflate \[|cgp_pb_unpack \[|protobuf_c_message_unpack \[" |
		awk -v n="$events" '{ x = $1; gsub(",", "", x); printf "  %-8d %s\n", x / n, $NF == "" ? $0 : $3 }'
fi
