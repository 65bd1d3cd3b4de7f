# SPDX-License-Identifier: GPL-2.0
# Shared pieces of the script tests that run a collector: start it (on a new port, or on the same one again after
# a kill, to the same file), kill it, stop it, and clean up. Source it after setting B (build dir) and tmp (the
# test's temporary directory); call coll_cleanup from the EXIT trap.
#   coll_start LOG [PORT [ARGS...]]  starts build/cgpulse-collector --listen 127.0.0.1:PORT (0: any) storing to
#                                    $COLL_OUT (default $tmp/events.jsonl), stderr appended to $tmp/LOG; sets
#                                    COLL_PID and COLL_PORT; returns 1 when it did not come up; with COLL_NOFILE
#                                    set, under that fd limit (ulimit -n)
#   coll_kill                        SIGKILL, as a crash would
#   coll_stop                        SIGTERM; returns the collector's exit status
#   coll_counter NAME LOG            the last value of counter NAME the collector printed (SIGUSR1 or exit) in LOG
COLL_PID= COLL_PORT=

coll_start() {
	local log=$1 port=${2:-0}
	shift $(($# < 2 ? $# : 2))
	rm -f "$tmp/coll.port"
	(
		[ -z "${COLL_NOFILE:-}" ] || ulimit -n "$COLL_NOFILE" || exit 1
		exec "$B/cgpulse-collector" --listen "127.0.0.1:$port" --port-file "$tmp/coll.port" \
			--out "${COLL_OUT:-$tmp/events.jsonl}" "$@" 2>>"$tmp/$log"
	) &
	COLL_PID=$!
	for _ in $(seq 100); do
		[ -s "$tmp/coll.port" ] && break
		kill -0 "$COLL_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$tmp/coll.port" ] || return 1
	COLL_PORT=$(cat "$tmp/coll.port")
}

coll_kill() {
	[ -n "$COLL_PID" ] || return 0
	kill -KILL "$COLL_PID" 2>/dev/null
	wait "$COLL_PID" 2>/dev/null
	COLL_PID=
}

coll_stop() {
	local rc
	[ -n "$COLL_PID" ] || return 0
	kill -TERM "$COLL_PID"
	wait "$COLL_PID"
	rc=$?
	COLL_PID=
	return $rc
}

coll_counter() {
	grep -o "$1=[0-9]*" "$tmp/$2" | tail -1 | cut -d= -f2
}

coll_cleanup() {
	[ -n "$COLL_PID" ] && kill "$COLL_PID" 2>/dev/null && wait "$COLL_PID" 2>/dev/null
	COLL_PID=
}
