# SPDX-License-Identifier: GPL-2.0
# Shell twin of cgtest.c for script tests: cgroups named cgpulse-test-<name>-<pid> under a parent of the test's
# own cgroup in the v2 and memory hierarchies, removed by cgt_cleanup (call it from an EXIT trap).
CGT_V2=$(awk '$9 == "cgroup2" {print $5; exit}' FS=' ' /proc/self/mountinfo)
CGT_MEM=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
CGT_CPU=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
CGT_MADE=()

# common parent of the test's own v2 and memory cgroups
cgt_base() {
	local v2 mem
	v2=$(sed -n 's/^0:://p' /proc/self/cgroup)
	mem=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
	[ -n "$mem" ] || mem=$v2
	while [ "${mem#"$v2"}" = "$mem" ] || { [ "$v2" != / ] && [ -n "${mem#"$v2"}" ] && [ "${mem#"$v2"/}" = "$mem" ]; }; do
		v2=$(dirname "$v2")
	done
	[ "$v2" = / ] && v2=
	echo "$v2"
}

# cgt_make NAME → sets CGT_REL to the relative path; creates it in every hierarchy we read. Not to be called
# in $(...): the clean-up list must live in the test's own shell.
cgt_make() {
	local rel
	rel="$(cgt_base)/cgpulse-test-$1-$$"
	CGT_REL=$rel
	mkdir -p "$CGT_V2$rel" || return 1
	CGT_MADE+=("$CGT_V2$rel")
	if [ -n "$CGT_MEM" ]; then
		mkdir -p "$CGT_MEM$rel" || return 1
		CGT_MADE+=("$CGT_MEM$rel")
	else
		echo "+memory +cpu" > "$CGT_V2$(dirname "$rel")/cgroup.subtree_control" 2>/dev/null || true
	fi
	if [ -n "$CGT_CPU" ] && [ "$CGT_CPU" != "$CGT_MEM" ]; then
		mkdir -p "$CGT_CPU$rel" || return 1
		CGT_MADE+=("$CGT_CPU$rel")
	fi
}

# cgt_set_cpu_limit REL QUOTA_US PERIOD_US
cgt_set_cpu_limit() {
	if [ -n "$CGT_CPU" ]; then
		echo "$3" > "$CGT_CPU$1/cpu.cfs_period_us" && echo "$2" > "$CGT_CPU$1/cpu.cfs_quota_us"
	else
		echo "$2 $3" > "$CGT_V2$1/cpu.max"
	fi
}

cgt_mem_dir() { echo "${CGT_MEM:-$CGT_V2}$1"; }

cgt_set_limit() {
	if [ -n "$CGT_MEM" ]; then echo "$2" > "$CGT_MEM$1/memory.limit_in_bytes"; else echo "$2" > "$CGT_V2$1/memory.max"; fi
}

cgt_enter() { # REL PID
	echo "$2" > "$CGT_V2$1/cgroup.procs" && { [ -z "$CGT_MEM" ] || echo "$2" > "$CGT_MEM$1/cgroup.procs"; } &&
		{ [ -z "$CGT_CPU" ] || [ ! -d "$CGT_CPU$1" ] || echo "$2" > "$CGT_CPU$1/cgroup.procs"; }
}

# cgt_run REL CMD...: runs CMD inside the cgroup (every hierarchy) in the background; sets CGT_PID. The child
# waits for a flag file that is created only once it has been moved, so CMD never runs outside.
cgt_run() {
	local rel=$1 flag
	shift
	flag=$(mktemp -u /tmp/cgt-go.XXXXXX)
	sh -c 'while [ ! -e "$0" ]; do sleep 0.01; done; rm -f "$0"; exec "$@"' "$flag" "$@" &
	CGT_PID=$!
	cgt_enter "$rel" "$CGT_PID"
	touch "$flag"
}

cgt_cleanup() {
	local d p i
	for d in "${CGT_MADE[@]}"; do
		for i in $(seq 50); do
			p=$(cat "$d/cgroup.procs" 2>/dev/null)
			[ -z "$p" ] && break
			kill -9 $p 2>/dev/null
			sleep 0.02
		done
	done
	for d in "${CGT_MADE[@]}"; do
		for i in $(seq 50); do rmdir "$d" 2>/dev/null && break; [ -d "$d" ] || break; sleep 0.02; done
	done
	CGT_MADE=()
}

# cgt_oom_kill REL: one real OOM kill in the cgroup (a memory hog, alone, past the limit set with cgt_set_limit)
cgt_oom_kill() {
	cgt_run "$1" tail /dev/zero
	wait "$CGT_PID" 2>/dev/null
}

# cgt_oom_kills REL: the kernel's count of OOM kills in the cgroup (memory.oom_control or memory.events)
cgt_oom_kills() {
	sed -n 's/^oom_kill //p' "$(cgt_mem_dir "$1")/memory.oom_control" "$(cgt_mem_dir "$1")/memory.events" 2>/dev/null | head -1
}
