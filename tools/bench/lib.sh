# SPDX-License-Identifier: GPL-2.0
# Sourced by the bench scripts that need a tree of cgroups held while they measure.

# populate_start CGPBENCH DIR N [populate's options]: cgpbench populate's N cgroups each holding a sleeper, kept
# until populate_stop; sets POP (its pid) and POP_FD (its stdin, which holds it). Returns 1, with populate's own
# words, when it did not get ready (it may take minutes at 10,000 cgroups).
populate_start() {
	local bin=$1 dir=$2 n=$3
	shift 3
	rm -f "$dir/pop.in" "$dir/pop.out"
	mkfifo "$dir/pop.in"
	"$bin" populate --n "$n" --procs "$n" "$@" <"$dir/pop.in" >"$dir/pop.out" 2>&1 &
	POP=$!
	exec {POP_FD}>"$dir/pop.in"
	for _ in $(seq 600); do
		grep -q ready "$dir/pop.out" && return 0
		kill -0 "$POP" 2>/dev/null || break
		sleep 1
	done
	echo "populate did not get ready: $(cat "$dir/pop.out")" >&2
	return 1
}

# populate_stop: populate removes its cgroups when its stdin closes; waits until it has
populate_stop() {
	[ -n "${POP_FD:-}" ] && exec {POP_FD}>&-
	[ -n "${POP:-}" ] && wait "$POP" 2>/dev/null
	POP="" POP_FD=""
}

# node_start BUILD DIR: what a DaemonSet's agent has around it, from BUILD: its collector on 127.0.0.1:24799
# and its agent with the DaemonSet's output flags (events as JSON lines on stdout, thrown away here; /metrics on
# 127.0.0.1:24798); sets AGENT and COLL
node_start() {
	local b=$1 dir=$2
	"$b/cgpulse-collector" --listen 127.0.0.1:24799 --out "$dir/coll.jsonl" >"$dir/coll.log" 2>&1 &
	COLL=$!
	sleep 0.5
	"$b/cgpulse" run --no-pin --json --stdout=events --http 127.0.0.1:24798 --collector 127.0.0.1:24799 \
		>/dev/null 2>"$dir/agent.err" &
	AGENT=$!
}

# node_stop: stops what node_start started
node_stop() {
	[ -n "${AGENT:-}" ] && kill "$AGENT" 2>/dev/null && wait "$AGENT" 2>/dev/null
	[ -n "${COLL:-}" ] && kill "$COLL" 2>/dev/null && wait "$COLL" 2>/dev/null
	AGENT="" COLL=""
}
