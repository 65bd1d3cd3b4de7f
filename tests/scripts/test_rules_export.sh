#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `cgpulse playbook export --prometheus-rules` of the default playbook and of a custom one passes
# `promtool check rules`, and `promtool test rules` on synthetic cAdvisor series shows each rule firing after its
# for: and not before: CPU and working set against the limits, the OOM counter at once, throttling and pressure
# from a custom playbook whose glob select picks one cgroup and not another; a firing CPU rule stays firing above
# its resolve_below and resolves under it (hysteresis). No kernel, no agent run: pure rule text through promtool.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
command -v promtool >/dev/null || { echo "SKIP: promtool not installed (make deps)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

"$B" playbook export >/dev/null 2>"$T/err" && fail "export without a format accepted"
grep -q -- "--prometheus-rules" "$T/err" || fail "no hint at --prometheus-rules: $(cat "$T/err")"
"$B" playbook export --prometheus-rules --rate-window 1x >/dev/null 2>"$T/err" && fail "--rate-window 1x accepted"
"$B" playbook export --prometheus-rules >"$T/default.yml" || fail "export of the default playbook"
promtool check rules "$T/default.yml" >"$T/check" 2>&1 || { cat "$T/check"; fail "promtool check rules (default)"; }
grep -q "SUCCESS: 5 rules found" "$T/check" || fail "$(cat "$T/check")"

cat >"$T/custom.yaml" <<'EOF'
version: 1
rules:
  - name: throttled
    metric: cpu_throttled_pct
    above: 50
    for: 3m
    severity: warning
    select: "/kubepods/*/pod*/web-*"
    action: "Raise the CPU limit: the container is held back in most periods"
    runbook: "https://runbooks.example/throttling"
  - name: memory_pressure
    metric: psi_memory_some_pct
    above: 20
    for: 1m
    severity: critical
    select: all
    action: "Memory pressure: raise the limit"
EOF
"$B" playbook check "$T/custom.yaml" >/dev/null || fail "custom playbook refused"
"$B" playbook export --prometheus-rules --playbook "$T/custom.yaml" >"$T/custom.yml" || fail "export of the custom playbook"
promtool check rules "$T/custom.yml" >"$T/check" 2>&1 || { cat "$T/check"; fail "promtool check rules (custom)"; }
grep -q "SUCCESS: 2 rules found" "$T/check" || fail "$(cat "$T/check")"

# cAdvisor series of one node as the kubelet job has them; L NAME: a container's labels
L() { echo "container=\"$1\",id=\"/kubepods/burstable/podu1/$1-c\",image=\"img\",name=\"$1-c\",namespace=\"ns\",pod=\"p\",job=\"kubelet\",instance=\"n1\""; }
E() { echo "{container: $1, id: /kubepods/burstable/podu1/$1-c, image: img, name: $1-c, namespace: ns, pod: p, job: kubelet, instance: n1, severity: $2}"; }
# an alert's annotations: ID-SUFFIX METRIC VALUE RULE CONDITION ACTION
A() {
	printf '{summary: "/kubepods/burstable/podu1/%s-c (ns/p %s): %s %s, playbook rule %s: %s", action: "%s"}' \
		"$1" "$1" "$2" "$3" "$4" "$5" "$6"
}
CPU_C="Scale up CPU: raise the limit (for example 1.0 -> 2.0 cores) or add replicas"
CPU_H="Run the tuner and raise the CPU limit moderately (for example 1.0 -> 1.5 cores)"
MEM_C="Raise the memory limit or restart the container; look for a leak"
MEM_H="Look for a leak; raise the memory limit moderately"
OOM="A process was OOM-killed: restart the container and raise its memory limit"
# Rates over 1m are whole from the 1 min point on (rate() reads low over a window that reaches before the first
# sample): CPU rules are pending from 1m, gauges from 0, the OOM counter's step at 5m15s fires at once.
cat >"$T/default.test.yml" <<EOF
rule_files: [default.yml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      # hot: 0.98 of its 1-core limit for 10 min, then 0.8 (above resolve_below 70) for 5 min, then 0.5
      - series: 'container_cpu_usage_seconds_total{$(L hot),cpu="total"}'
        values: '0+14.7x40 600+12x19 835.5+7.5x40'
      - series: 'container_spec_cpu_quota{$(L hot)}'
        values: '100000x100'
      - series: 'container_spec_cpu_period{$(L hot)}'
        values: '100000x100'
      # warm: 0.45 cores of 0.5: the warning band
      - series: 'container_cpu_usage_seconds_total{$(L warm),cpu="total"}'
        values: '0+6.75x100'
      - series: 'container_spec_cpu_quota{$(L warm)}'
        values: '50000x100'
      - series: 'container_spec_cpu_period{$(L warm)}'
        values: '100000x100'
      # full: working set 97% of 100 MiB; half: 85%
      - series: 'container_memory_working_set_bytes{$(L full)}'
        values: '101711872x100'
      - series: 'container_spec_memory_limit_bytes{$(L full)}'
        values: '104857600x100'
      - series: 'container_memory_working_set_bytes{$(L half)}'
        values: '89128960x100'
      - series: 'container_spec_memory_limit_bytes{$(L half)}'
        values: '104857600x100'
      # oom: one kill, seen at 5m15s
      - series: 'container_oom_events_total{$(L oom)}'
        values: '0x20 1x80'
    alert_rule_test:
      - {eval_time: 5m45s, alertname: cpu_critical, exp_alerts: []}
      - eval_time: 6m15s
        alertname: cpu_critical
        exp_alerts:
          - exp_labels: $(E hot critical)
            exp_annotations: $(A hot cpu_pct 98 cpu_critical "cpu_pct above 95 for 5m, resolves below 70" "$CPU_C")
      - eval_time: 14m
        alertname: cpu_critical
        exp_alerts:
          - exp_labels: $(E hot critical)
            exp_annotations: $(A hot cpu_pct 80 cpu_critical "cpu_pct above 95 for 5m, resolves below 70" "$CPU_C")
      - {eval_time: 17m, alertname: cpu_critical, exp_alerts: []}
      - {eval_time: 2m45s, alertname: cpu_high, exp_alerts: []}
      - eval_time: 3m15s
        alertname: cpu_high
        exp_alerts:
          - exp_labels: $(E warm warning)
            exp_annotations: $(A warm cpu_pct 90 cpu_high "cpu_pct between 80 and 95 for 2m, resolves below 70" "$CPU_H")
      - {eval_time: 4m45s, alertname: memory_critical, exp_alerts: []}
      - eval_time: 5m15s
        alertname: memory_critical
        exp_alerts:
          - exp_labels: $(E full critical)
            exp_annotations: $(A full mem_working_set_pct 97 memory_critical "mem_working_set_pct above 95 for 5m" "$MEM_C")
      - {eval_time: 1m45s, alertname: memory_high, exp_alerts: []}
      - eval_time: 2m15s
        alertname: memory_high
        exp_alerts:
          - exp_labels: $(E half warning)
            exp_annotations: $(A half mem_working_set_pct 85 memory_high "mem_working_set_pct between 80 and 95 for 2m" "$MEM_H")
      - {eval_time: 5m, alertname: oom_kill, exp_alerts: []}
      - eval_time: 5m15s
        alertname: oom_kill
        exp_alerts:
          - exp_labels: $(E oom critical)
            exp_annotations: $(A oom oom_kills 1 oom_kill "oom_kills above 0" "$OOM")
EOF
# the glob picks web-* under a pod and not api-*; 60 of every 100 periods throttled; memory some 30% for all
cat >"$T/custom.test.yml" <<EOF
rule_files: [custom.yml]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'container_cpu_cfs_periods_total{$(L web)}'
        values: '0+150x40'
      - series: 'container_cpu_cfs_throttled_periods_total{$(L web)}'
        values: '0+90x40'
      - series: 'container_cpu_cfs_periods_total{$(L api)}'
        values: '0+150x40'
      - series: 'container_cpu_cfs_throttled_periods_total{$(L api)}'
        values: '0+90x40'
      - series: 'container_pressure_memory_waiting_seconds_total{$(L api)}'
        values: '0+4.5x40'
    alert_rule_test:
      - {eval_time: 2m45s, alertname: throttled, exp_alerts: []}
      - eval_time: 3m45s
        alertname: throttled
        exp_alerts:
          - exp_labels: $(E web warning)
            exp_annotations:
              summary: "/kubepods/burstable/podu1/web-c (ns/p web): cpu_throttled_pct 60, playbook rule throttled: cpu_throttled_pct above 50 for 3m"
              action: "Raise the CPU limit: the container is held back in most periods"
              runbook_url: "https://runbooks.example/throttling"
      - {eval_time: 45s, alertname: memory_pressure, exp_alerts: []}
      - eval_time: 1m45s
        alertname: memory_pressure
        exp_alerts:
          - exp_labels: $(E api critical)
            exp_annotations: $(A api psi_memory_some_pct 30 memory_pressure "psi_memory_some_pct above 20 for 1m" "Memory pressure: raise the limit")
EOF
sed -i 's/{container: web-c/{container: web/' "$T/custom.test.yml"
(cd "$T" && promtool test rules default.test.yml custom.test.yml) >"$T/test" 2>&1 || { cat "$T/test"; fail "promtool test rules"; }
echo "ok: default and custom playbooks export to rules promtool checks; each rule fires after its for: and not before; hysteresis holds above resolve_below"
