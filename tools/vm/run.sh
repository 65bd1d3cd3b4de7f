#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Usage: run.sh VM_OUT INITRAMFS SERIES...  (SERIES: 6.1, 6.12)
# Boots each Debian cloud kernel with the test initramfs under QEMU, pure cgroup v2, with a time limit; reads the
# guest's "CGPVM:" lines from the serial console; prints one line per kernel and "N passed, N failed" overall.
# A kernel that cannot be fetched, does not boot, or does not finish in time counts as a failure.
set -u
vm=$1 initrd=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# a hang guard, not a speed bound (init's own watch reports a test stuck past 150 s): 6.12 under TCG took 286 s
# of the old 300 on CI's 2-core machine, its suite having grown
timeout_s=${CGP_VM_TIMEOUT:-600}
mkdir -p "$vm/kernels" "$vm/logs"
# KVM only where a KVM module is really loaded: on these machines /dev/kvm can exist with no usable KVM behind it
# (QEMU aborts or crawls on a stock kernel), and TCG is proven to work everywhere.
# TCG in one thread for both vCPUs: with a thread each (MTTCG, QEMU 7.2), a vCPU now and then kept running a
# translation of kernel text another vCPU had just patched (a tracepoint attached or detached: text_poke_bp). It
# looped on a stale int3 in __schedule with interrupts off, the int3 handler finding the int3 gone and sending
# it back to the same instruction, while the patching vCPU waited for it in on_each_cpu: a soft lockup in the
# test that attached (Debian 6.1; the one "Oops: int3" in __schedule seen on 6.12 looks the same).
accel=tcg,thread=single
if [ -w /dev/kvm ] && { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; }; then
	accel=kvm
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "test-vm: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2
	exit 1
fi

# a hang leaves a trace in the kernel's log: every CPU's backtrace with a soft lockup, a hung task reported after
# 60 s (not 120: the timeout would come first); init's hang watch asks for them when a test runs too long
# CGP_VM_APPEND: more of the guest's command line, e.g. "CGP_VM_TESTS=test_sweep_passes,test_pressure
# CGP_VM_REPEAT=8" (tools/vm/init)
watchdog="sysctl.kernel.softlockup_all_cpu_backtrace=1 sysctl.kernel.hung_task_timeout_secs=60"

# Fetch every kernel first (apt, one at a time), then boot them side by side: each QEMU runs its vCPUs in one
# host thread, so two kernels on a 2-core machine take about as long as one (the suite's longest step before).
# Each writes its report to its own file; they are printed in SERIES order when all are done.
fetched=
for series in "$@"; do
	if kernel=$("$here/fetch-kernel.sh" "$series" "$vm/kernels"); then
		fetched="$fetched $series=$kernel"
	else
		echo "test-vm: $series: FAILED: could not fetch the kernel (see above)" >"$vm/logs/$series.report"
		echo "result 0 1 0" >>"$vm/logs/$series.report"
	fi
done

boot() { # SERIES KERNEL: boots one kernel, writes its report lines and a last "result P F S"
	series=$1 kernel=$2
	log=$vm/logs/$series.log klog=$vm/logs/$series.kernel.log # init's lines (ttyS1), the kernel's (ttyS0)
	scratch=$vm/scratch-$series.img
	start=$(date +%s)
	# a blank disk for tests that need real page cache (the guest's root is tmpfs, whose pages are shmem): NVMe,
	# because Debian's cloud kernels build its driver in (virtio-blk is a module there)
	rm -f "$scratch" && truncate -s 320M "$scratch"
	# cgroup_no_v1=all + unified_cgroup_hierarchy: the pure v2 node most clusters run; panic=-1 and -no-reboot
	# turn a guest crash into a QEMU exit instead of a hang until the timeout
	timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu max -m 1G -smp 2 -kernel "$kernel" -initrd "$initrd" \
		-drive "file=$scratch,format=raw,if=none,id=scratch" -device nvme,drive=scratch,serial=cgpscratch \
		-append "console=ttyS0 quiet panic=-1 systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all $watchdog ${CGP_VM_APPEND:-}" \
		-nographic -no-reboot -nic none -serial stdio -serial "file:$log" -monitor none -display none \
		</dev/null >"$klog" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	rm -f "$scratch"
	tr -d '\r' <"$log" | grep -a '^CGPVM: test' | sed "s/^CGPVM: test/  $series:/"
	# which programs the agent attached and which it skipped, and why, on this kernel
	tr -d '\r' <"$log" | grep -a '^cgpulse: .*\(attached\|skipped\):' | sed "s/^cgpulse: [a-z]*: /  $series: agent /"
	sum=$(tr -d '\r' <"$log" | grep -a '^CGPVM: summary' | tail -n 1)
	if [ -z "$sum" ]; then
		why="no summary from the guest"
		[ "$rc" -eq 124 ] && why="timed out after ${timeout_s}s"
		echo "test-vm: $series ($(basename "$kernel")): FAILED: $why (qemu exit $rc), logs: $log $klog"
		tail -n 30 "$log" | tr -d '\r' | sed 's/^/    /'
		# where the kernel says it was stuck: the first report with its stack
		tr -d '\r' <"$klog" |
			grep -a -m 1 -A 60 -E 'soft lockup|blocked for more than|stalls? on CPU|NMI backtrace|BUG:|Oops' |
			sed 's/^/    kernel: /'
		echo "result 0 1 0"
		return
	fi
	p=$(echo "$sum" | sed -n 's/.* passed=\([0-9]*\).*/\1/p')
	f=$(echo "$sum" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
	s=$(echo "$sum" | sed -n 's/.* skipped=\([0-9]*\).*/\1/p')
	echo "test-vm: ${sum#CGPVM: summary } (${secs}s, console log: $log)"
	# a failed test's own lines (its figures and the assertion that failed), so that a CI log says which
	[ "$f" -eq 0 ] || tr -d '\r' <"$log" | awk '
		/^\[ RUN      \]/ { n = 0 }
		{ if (n < 40) buf[n++] = $0 }
		/^\[  FAILED  \] test_/ && buf[0] ~ /^\[ RUN/ { for (i = 0; i < n; i++) print "    " buf[i]; buf[0] = "" }'
	echo "result $p $f $s"
}

# An interrupted run takes its boots with it: a script's background jobs ignore SIGINT, and each timeout (a child
# of its boot) is in a process group of its own, so it is told by name; it passes the TERM on to its QEMU.
boots=
trap 'trap - INT TERM; for b in $boots; do pkill -TERM -P "$b"; done; kill 0' INT TERM
echo "test-vm: booting$fetched (side by side; progress in $vm/logs/SERIES.log)" | sed 's/=[^ ]*//g'
for sk in $fetched; do
	boot "${sk%%=*}" "${sk#*=}" >"$vm/logs/${sk%%=*}.report" 2>&1 &
	boots="$boots $!"
done
wait
trap - INT TERM

pass=0 fail=0 skip=0
for series in "$@"; do
	report=$vm/logs/$series.report
	grep -v '^result ' "$report"
	set -- $(sed -n 's/^result //p' "$report" | tail -n 1)
	[ $# -eq 3 ] || set -- 0 1 0 # a runner that died without its result line
	pass=$((pass + $1)) fail=$((fail + $2)) skip=$((skip + $3))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
