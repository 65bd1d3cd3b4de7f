# SPDX-License-Identifier: GPL-2.0
# Sourced by tools/bench/run.sh (uses its T, PIDS, OUT, B, helpers and clean-up): the peers section.
# On the same N cgroups, each holding a sleeping process, one after the other in the same run:
#   - cgpulse run at 1 s, as a node runs it: deploy/daemonset.yaml's output flags, a collector attached, /metrics
#     scraped every 15 s, gzip as Prometheus asks for it;
#   - Netdata (Debian's 1.37), only its cgroups collector, at 1 s, health checks on, its own web API on loopback.
# For each: CPU share over a window after both have settled, peak and current RSS, and how many of the N cgroups
# it actually reported (cgpulse: its /metrics; Netdata: /api/v1/charts), so a peer that is misconfigured and
# does nothing cannot win. cgpulse's run also gives the scale row: its sweep time (from its own /metrics) and OOM
# kill → collector latency with N containers on the node.

PEER_WINDOW=${BENCH_PEER_WINDOW:-20} # seconds of steady state measured for Netdata
# seconds measured for cgpulse: whole 15 s scrape periods (a 20 s window held one scrape in 20 s, not 1 in 15)
CGP_WINDOW=${BENCH_CGPULSE_WINDOW:-60}
ND=""                                # Netdata's pid while it runs (stopped by peers_cleanup)

peers_cleanup() { # from run.sh's clean-up: Netdata's children and files go with it (its files live under $T)
	[ -n "$ND" ] || return 0
	kill -TERM "$ND" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$ND" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$ND" 2>/dev/null
	pkill -KILL -P "$ND" 2>/dev/null
	ND=""
}

# Netdata from Debian, installed here when missing (not by tools/deps.sh: the package would start a daemon
# beside the test suite)
netdata_ready() {
	command -v netdata >/dev/null && return 0
	[ -x /usr/sbin/netdata ] && return 0
	# the package would start Netdata as a system service: forbid service starts during the install (Debian's
	# policy-rc.d), so that the only Netdata is the bench's own
	local made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netdata-core >/dev/null 2>&1
	[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ -x /usr/sbin/netdata ]
}

# utime + stime + the children it waited for, in clock ticks (Netdata runs helper scripts as children)
proc_ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null; }
# CPU time of all of a process's threads in ns (schedstat's run time: exact, where utime + stime come in 10 ms
# ticks, ±0.05% of a core over a 20 s window, a tenth of the 1,000-container target)
proc_run_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { if (NR) print s }'; }
now_ns() { date +%s%N; }
proc_kib() { awk -v k="$2" '$1 == k ":" { print $2 }' "/proc/$1/status" 2>/dev/null; } # PID VmHWM|VmRSS

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# netdata_conf DIR PORT MAXCG: only the cgroups collector, 1 s, health on, everything under DIR, loopback only
netdata_conf() {
	mkdir -p "$1/etc" "$1/cache" "$1/lib" "$1/log" "$1/run"
	# no anonymous statistics, no cloud: nothing leaves the machine
	: >"$1/etc/.opt-out-from-anonymous-statistics"
	cat >"$1/etc/netdata.conf" <<EOF
[global]
	run as user = root
	update every = 1
	hostname = cgpulse-bench
[db]
	update every = 1
	mode = dbengine
[directories]
	config = $1/etc
	stock config = /usr/lib/netdata/conf.d
	log = $1/log
	cache = $1/cache
	lib = $1/lib
	home = $1
	lock = $1/lib/lock
	health config = $1/etc/health.d
	stock health config = /usr/lib/netdata/conf.d/health.d
[logs]
	debug = /dev/null
	error = $1/log/error.log
	access = none
[web]
	bind to = 127.0.0.1:$2
	web files owner = root
	web files group = root
[registry]
	enabled = no
[cloud]
	enabled = no
[ml]
	enabled = no
[health]
	enabled = yes
	script to execute on alarm = /bin/true
[statsd]
	enabled = no
[plugins]
	enable running new plugins = no
	cgroups = yes
	proc = no
	diskspace = no
	tc = no
	idlejitter = no
	timex = no
	checks = no
	netdata monitoring = no
	apps = no
	charts.d = no
	python.d = no
	go.d = no
	ebpf = no
	perf = no
	slabinfo = no
	fping = no
	ioping = no
	nfacct = no
	cups = no
[plugin:cgroups]
	update every = 1
	check for new cgroups every = 10
	max cgroups to allow = $3
	script to get cgroup names = /bin/true
EOF
}

# how many of the bench's cgroups (cgNNNNN under the populate helper's parent) Netdata has charts for
netdata_count() { # PORT PARENT_PID
	curl -s --max-time 20 "http://127.0.0.1:$1/api/v1/charts" 2>/dev/null | /usr/bin/python3 -c '
import json, re, sys
try:
    charts = json.load(sys.stdin).get("charts", {})
except ValueError:
    print(0); sys.exit()
pat = re.compile(r"cgpulse.test.bench." + sys.argv[1] + r".cg\d{5}$")
print(len({c.get("type", "") for c in charts.values() if pat.search(c.get("type", ""))}))' "$2"
}
netdata_alarms() { # PORT: health alarms loaded for the bench's cgroups (health on, and applied)
	curl -s --max-time 20 "http://127.0.0.1:$1/api/v1/alarms?all" 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
try:
    print(sum(1 for a in json.load(sys.stdin).get("alarms", {}).values() if "cgpulse" in a.get("chart", "")))
except ValueError:
    print(0)'
}

# how many of the bench's cgroups cgpulse reports on /metrics
cgpulse_count() { # METRICS_FILE PARENT_PID
	grep '^cgpulse_cgroup_memory_bytes{' "$1" 2>/dev/null | grep -o "cgpulse-test-bench-$2/cg[0-9]*" | sort -u | wc -l
}
metric() { awk -v k="$2" '$1 == k { print $2 }' "$1"; } # FILE NAME (no labels)

# stamped_collector NAME: a cgpulse-collector on a loopback port ($T/NAME.port) whose every output line is
# stamped with its arrival time ($T/NAME.stamped); sets SC_COLL and SC_STAMP (both in PIDS)
stamped_collector() {
	rm -f "$T/$1.port" "$T/$1.pipe"
	mkfifo "$T/$1.pipe"
	"$B/cgpbench" stamp <"$T/$1.pipe" >"$T/$1.stamped" &
	SC_STAMP=$!
	PIDS+=("$SC_STAMP")
	"$OUT/cgpulse-collector" --listen 127.0.0.1:0 --port-file "$T/$1.port" --out - >"$T/$1.pipe" 2>"$T/$1.err" &
	SC_COLL=$!
	PIDS+=("$SC_COLL")
	for _ in $(seq 50); do [ -s "$T/$1.port" ] && break; sleep 0.1; done
}

# peer_cgpulse N POP_PID: cgpulse run at 1 s with a collector and a scrape every 15 s; writes
# "cpu_share_pct hwm_mib rss_mib reported sweep_ms" to $T/pc_res$N and the collector's stamped lines to
# $T/big_stamped$N (run in this shell, not $(...), so that its processes are in PIDS for the clean-up)
peer_cgpulse() {
	local n=$1 pp=$2 port agent coll cst t1 t2 w1 w2 i s0 c0 s1 c1 hwm rss
	stamped_collector pc
	coll=$SC_COLL cst=$SC_STAMP
	port=$(free_port)
	# the output flags deploy/daemonset.yaml gives it: a JSON log of the events, samples only to the collector
	# and /metrics (stdout is /dev/null here, which the agent does not format for anyway)
	"$OUT/cgpulse" run --no-pin --json --stdout=events --interval 1 --max-cgroups $((n + 2000)) \
		--http "127.0.0.1:$port" --collector "127.0.0.1:$(cat "$T/pc.port")" >/dev/null 2>"$T/pc.agent.err" &
	agent=$!
	PIDS+=("$agent")
	sleep "$STEADY_AFTER" # start-up and the cgroups' first 30 s (container re-checks) are not the running cost
	curl -s --max-time 10 "http://127.0.0.1:$port/metrics" -o "$T/pc.m0"
	t1=$(proc_run_ns "$agent") w1=$(now_ns)
	for ((i = 0; i < CGP_WINDOW; i++)); do
		sleep 1
		((i % 15 == 14)) && curl -s --compressed --max-time 10 "http://127.0.0.1:$port/metrics" -o /dev/null
	done
	t2=$(proc_run_ns "$agent") w2=$(now_ns) # the window as it passed: a scrape lengthens the loop
	curl -s --max-time 10 "http://127.0.0.1:$port/metrics" -o "$T/pc.m1"
	# OOM kills in the OOM cgroup while the N containers are there: kernel's mark_victim → line at the collector
	for ((i = 0; i < OOM_KILLS / 2; i++)); do oom_once; sleep 0.1; done
	sleep 1
	hwm=$(proc_kib "$agent" VmHWM) rss=$(proc_kib "$agent" VmRSS)
	kill -INT "$agent"
	wait "$agent" 2>/dev/null
	kill -TERM "$coll"
	wait "$coll" "$cst" 2>/dev/null
	cp "$T/pc.stamped" "$T/big_stamped$n"
	s0=$(metric "$T/pc.m0" cgpulse_sweep_duration_seconds_sum) c0=$(metric "$T/pc.m0" cgpulse_sweep_duration_seconds_count)
	s1=$(metric "$T/pc.m1" cgpulse_sweep_duration_seconds_sum) c1=$(metric "$T/pc.m1" cgpulse_sweep_duration_seconds_count)
	[ -n "$t1" ] && [ -n "$t2" ] && [ -n "$hwm" ] || { echo "n/a n/a n/a 0 n/a" >"$T/pc_res$n"; return; }
	awk -v a="$t1" -v b="$t2" -v w1="$w1" -v w2="$w2" -v h="$hwm" -v r="$rss" -v k="$(cgpulse_count "$T/pc.m1" "$pp")" \
		-v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" 'BEGIN {
		sw = (c1 > c0) ? sprintf("%.1f", (s1 - s0) / (c1 - c0) * 1000) : "n/a"
		printf "%.2f %.1f %.1f %d %s\n", (b - a) / (w2 - w1) * 100, h / 1024, r / 1024, k, sw }' >"$T/pc_res$n"
}

# peer_netdata N POP_PID: writes "cpu_share_pct hwm_mib rss_mib reported alarms settle_s" to $T/nd_res$N
peer_netdata() {
	local n=$1 pp=$2 port d t1 t2 hz i k=0 settle alarms hwm rss pid_nd
	hz=$(getconf CLK_TCK)
	d=$T/netdata
	rm -rf "$d"
	port=$(free_port)
	netdata_conf "$d" "$port" $((n + 500)) # its default cap would hide the 10,000 case: raised, and stated
	DO_NOT_TRACK=1 DISABLE_TELEMETRY=1 /usr/sbin/netdata -D -c "$d/etc/netdata.conf" -P "$d/run/netdata.pid" \
		>"$T/netdata.out" 2>&1 &
	ND=$!
	pid_nd=$ND
	PIDS+=("$ND")
	# settled: every cgroup has charts (it finds new cgroups every 10 s and builds their charts in batches)
	settle=$SECONDS
	for ((i = 0; i < ${BENCH_NETDATA_SETTLE:-180}; i += 5)); do
		sleep 5
		kill -0 "$ND" 2>/dev/null || break
		k=$(netdata_count "$port" "$pp")
		[ "${k:-0}" -ge "$n" ] && break
	done
	settle=$((SECONDS - settle))
	sleep 10 # past its first charts' creation
	t1=$(proc_ticks "$ND")
	sleep "$PEER_WINDOW"
	t2=$(proc_ticks "$ND")
	k=$(netdata_count "$port" "$pp")
	alarms=$(netdata_alarms "$port")
	hwm=$(proc_kib "$ND" VmHWM) rss=$(proc_kib "$ND" VmRSS)
	peers_cleanup
	wait "$pid_nd" 2>/dev/null
	rm -rf "$d"
	[ -n "$t1" ] && [ -n "$t2" ] && [ -n "$hwm" ] || { echo "n/a n/a n/a ${k:-0} ${alarms:-0} $settle" >"$T/nd_res$n"; return; }
	awk -v a="$t1" -v b="$t2" -v hz="$hz" -v w="$PEER_WINDOW" -v h="$hwm" -v r="$rss" -v k="$k" -v al="$alarms" \
		-v s="$settle" 'BEGIN { printf "%.2f %.1f %.1f %d %d %d\n", (b - a) / hz / w * 100, h / 1024, r / 1024, k, al, s }' >"$T/nd_res$n"
}

# Netdata 1.37's own cap on cgroups: "max cgroups to allow" in [plugin:cgroups], default 1000 (collectors/
# cgroups.plugin/sys_fs_cgroup.c, cgroup_root_max); past it, new cgroups are not charted.
NETDATA_DEFAULT_CAP=1000

peers_section() {
	local n pp c_cpu c_hwm c_rss c_k c_sw n_cpu n_hwm n_rss n_k n_al n_settle
	section "6. Peers: the same N cgroups, each holding a sleeper; cgpulse (${CGP_WINDOW} s), then Netdata (${PEER_WINDOW} s), windows after settling"
	row "what" "cgpulse | Netdata 1.37 (cgroups only, 1 s, health on)" "cgpulse cheaper by"
	if ! netdata_ready; then
		row "Netdata" "n/a" "not installed and apt-get install netdata-core failed"
		return
	fi
	# a Netdata that is not ours (a system service) would share the CPU and the cgroups: named, not hidden
	local others
	others=$(pgrep -x netdata | tr '\n' ' ')
	[ -n "$others" ] && row "  WARNING" "a Netdata not started by the bench runs" "pid $others: figures skewed"
	for n in $PEER_SIZES; do
		start_helper "peer$n" "$B/cgpbench" populate --n "$n" --procs "$n"
		pp=$HPID
		if ! wait_line "$T/peer$n.out" '^ready' 600; then
			row "$n cgroups" "FAILED" "populating: $(tail -1 "$T/peer$n.err")"
			stop_helper "$HPID" "$HFD"
			continue
		fi
		sleep 2
		peer_cgpulse "$n" "$pp"
		peer_netdata "$n" "$pp"
		read -r c_cpu c_hwm c_rss c_k c_sw <"$T/pc_res$n"
		read -r n_cpu n_hwm n_rss n_k n_al n_settle <"$T/nd_res$n"
		row "$n cgroups: CPU, % of one core" "$c_cpu | $n_cpu" "$(ratio "$n_cpu" "$c_cpu")×"
		row "  RSS now, MiB" "$c_rss | $n_rss" "$(ratio "$n_rss" "$c_rss")×"
		row "  peak RSS (VmHWM), MiB" "$c_hwm | $n_hwm" "$(ratio "$n_hwm" "$c_hwm")×"
		row "  bench cgroups reported (of $n)" "$c_k | $n_k" "cgpulse: /metrics; Netdata: /api/v1/charts"
		# a peer that has not reported every cgroup was measured doing less (or still discovering): say so
		[ "${c_k:-0}" -lt "$n" ] && row "  NOT COMPARABLE" "cgpulse reported $c_k of $n" "its figures are for less work"
		[ "${n_k:-0}" -lt "$n" ] && row "  NOT COMPARABLE" "Netdata reported ${n_k:-0} of $n" \
			"not settled in ${BENCH_NETDATA_SETTLE:-180} s (BENCH_NETDATA_SETTLE): its figures are its discovery"
		row "  Netdata: alarms on them (?all); time to chart all" "${n_al} alarms; ${n_settle} s" \
			"its cap \"max cgroups to allow\" (default $NETDATA_DEFAULT_CAP) raised to $((n + 500))"
		row "  cgpulse: sweep time; OOM kill → collector" "$c_sw ms per sweep" \
			"$(oom_lat_summary "$T/big_stamped$n" "$T/big_lat$n") ($((OOM_KILLS / 2)) kills, the N containers running)"
		stop_helper "$pp" "$HFD"
	done
}
