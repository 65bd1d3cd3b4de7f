#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# /metrics/cadvisor as a kubelet's: a real Prometheus (Debian's, on loopback, temporary TSDB, 1 s scrapes,
# relabelled job="kubelet", metrics_path="/metrics/cadvisor" as README's scrape config) scrapes the real agent
# while a runc container with Kubernetes annotations, a 0.2-core limit and 24 MiB of tmpfs burns CPU. Through
# Prometheus's HTTP API the community rules' selectors find it by namespace/pod/container: its CPU rate is 0.2
# cores within 10%, more than a quarter of its CFS periods are throttled, its working set is within 10% of the
# kernel's usage - inactive_file, and its counters agree with cpu.stat. `promtool check metrics` passes on the
# endpoint, and every family name, type and label set is checked against the table below (a rename fails).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
. "$here/../lib/cgtest.sh"
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
PROM=/usr/bin/prometheus
cgp_need_containers
[ -x "$PROM" ] || cgp_skip "no $PROM (make deps installs prometheus)"
for t in curl promtool; do command -v $t >/dev/null || cgp_skip "no $t (make deps)"; done
cgp_init
T=$CGP_TMP
fail() {
	echo "FAIL: $*"
	for f in "$T"/agent.err "$T"/prom.log; do [ -f "$f" ] && tail -15 "$f" | sed "s|^|  $(basename "$f"): |"; done
	exit 1
}
cgp_rootfs || fail "rootfs"
cgp_cgroup_parent cadv
CGP_RUNC_ROOT=$T/runc
mkdir -p "$CGP_RUNC_ROOT"
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the agent
"$B" run --interval 0.5 --no-pin --http 127.0.0.1:0 --runc-root "$CGP_RUNC_ROOT" >"$T/agent.out" 2>"$T/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for _ in $(seq 100); do grep -q 'http port [1-9]' "$T/agent.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/agent.err")
[ -n "$port" ] || fail "agent did not start"

# --- the container: 0.2 cores, 24 MiB in its tmpfs (anon-LRU pages: working set), then a busy loop
burn=cgp-cadv-$$
rel=$CGP_CGROUP_PARENT/$burn
cgp_runc_start -a io.kubernetes.pod.name=burner-6b7c -a io.kubernetes.pod.namespace=shop \
	-a io.kubernetes.container.name=burn -a io.kubernetes.cri.image-name=registry.example/burner:1.0 \
	"$burn" "$rel" $((64 << 20)) sh -c 'dd if=/dev/zero of=/tmp/fill bs=1M count=24 2>/dev/null; while :; do :; done' ||
	fail "runc $burn"
cgt_set_cpu_limit "$rel" 20000 100000 || fail "cpu limit"
SEL="namespace=\"shop\",pod=\"burner-6b7c\",container=\"burn\""
# half the default weight; the kernel's, in cpu.shares units: v1 cpu.shares, v2 cpu.weight x 1024 / 100
if [ -n "$CGT_CPU" ]; then
	echo 512 >"$CGT_CPU$rel/cpu.shares" || fail "cpu.shares"
	k_shares=$(cat "$CGT_CPU$rel/cpu.shares")
else
	echo 50 >"$CGT_V2$rel/cpu.weight" || fail "cpu.weight"
	k_shares=$((($(cat "$CGT_V2$rel/cpu.weight") * 1024 + 50) / 100))
fi

# --- the endpoint: promtool, and the family table
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/metrics/cadvisor" >"$T/cadvisor" && grep -q "pod=\"burner-6b7c\"" "$T/cadvisor" &&
		grep -q "^container_spec_cpu_quota{.*pod=\"burner-6b7c\".* 20000$" "$T/cadvisor" &&
		grep -q "^container_spec_cpu_shares{.*pod=\"burner-6b7c\".* $k_shares$" "$T/cadvisor" && break
	sleep 0.1
done
grep -q "pod=\"burner-6b7c\"" "$T/cadvisor" || fail "the container has no series on /metrics/cadvisor"
grep -q "^container_spec_cpu_shares{.*pod=\"burner-6b7c\".* $k_shares$" "$T/cadvisor" ||
	fail "container_spec_cpu_shares is not the kernel's $k_shares: $(grep '^container_spec_cpu_shares{.*burner' "$T/cadvisor")"
promtool check metrics <"$T/cadvisor" >"$T/promtool" 2>&1 || { cat "$T/promtool"; fail "promtool check metrics"; }
$PY - "$T/cadvisor" "$rel" <<'PY' || fail "family table"
import re, sys
# cAdvisor's families as the kubelet serves them: name -> (type, labels beyond the kubelet's six). A rename,
# a changed type or a changed label set fails here.
BASE = {"container", "id", "image", "name", "namespace", "pod"}
TABLE = {
    "container_cpu_usage_seconds_total": ("counter", {"cpu"}),
    "container_cpu_user_seconds_total": ("counter", set()),
    "container_cpu_system_seconds_total": ("counter", set()),
    "container_cpu_cfs_periods_total": ("counter", set()),
    "container_cpu_cfs_throttled_periods_total": ("counter", set()),
    "container_cpu_cfs_throttled_seconds_total": ("counter", set()),
    "container_memory_usage_bytes": ("gauge", set()),
    "container_memory_working_set_bytes": ("gauge", set()),
    "container_memory_rss": ("gauge", set()),
    "container_memory_cache": ("gauge", set()),
    "container_memory_swap": ("gauge", set()),
    "container_memory_max_usage_bytes": ("gauge", set()),
    "container_oom_events_total": ("counter", set()),
    "container_spec_cpu_quota": ("gauge", set()),
    "container_spec_cpu_period": ("gauge", set()),
    "container_spec_cpu_shares": ("gauge", set()),
    "container_spec_memory_limit_bytes": ("gauge", set()),
    "container_pressure_cpu_stalled_seconds_total": ("counter", set()),
    "container_pressure_cpu_waiting_seconds_total": ("counter", set()),
    "container_pressure_memory_stalled_seconds_total": ("counter", set()),
    "container_pressure_memory_waiting_seconds_total": ("counter", set()),
    "container_pressure_io_stalled_seconds_total": ("counter", set()),
    "container_pressure_io_waiting_seconds_total": ("counter", set()),
    "container_start_time_seconds": ("gauge", set()),
    "container_last_seen": ("gauge", set()),
}
# what the kernel gives for any container with a memory and a CPU limit (swap and PSI depend on the kernel)
REQUIRED = set(TABLE) - {n for n in TABLE if n.startswith("container_pressure_")} - {"container_memory_swap"}
text, rel = open(sys.argv[1]).read(), sys.argv[2]
types, seen = {}, {}
for line in text.splitlines():
    m = re.match(r"# TYPE (\S+) (\S+)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    if line.startswith("#") or not line or line == "container_scrape_error 0":
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$", line)
    assert m, "unparsed line: " + line
    name, labels = m.group(1), dict(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', m.group(2)))
    assert name in TABLE, "family not in the table: " + name
    assert types.get(name) == TABLE[name][0], (name, types.get(name))
    assert set(labels) == BASE | TABLE[name][1], (name, sorted(labels))
    if labels["id"] == rel:
        assert labels == dict(labels, container="burn", pod="burner-6b7c", namespace="shop",
                              image="registry.example/burner:1.0"), labels
        assert labels["name"] == rel.rsplit("/", 1)[1], labels
        seen[name] = float(m.group(3))
assert any(l.startswith('container_memory_usage_bytes{container="",id="/",') for l in text.splitlines()), "no root"
missing = REQUIRED - set(seen)
assert not missing, "the container lacks " + ", ".join(sorted(missing))
assert seen["container_spec_cpu_quota"] == 20000 and seen["container_spec_cpu_period"] == 100000, seen
assert seen["container_spec_memory_limit_bytes"] == 64 << 20, seen
print("ok: /metrics/cadvisor passes promtool; %d families, names, types and labels as the table" % len(types))
PY

# --- Prometheus, scraping the agent as the kubelet's cAdvisor endpoint
pport=$(free_port)
cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: kubelet
    metrics_path: /metrics/cadvisor
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$port"]
    relabel_configs:
      - source_labels: [__metrics_path__]
        target_label: metrics_path
EOF
promtool check config "$T/prom.yml" >/dev/null || fail "promtool check config"
"$PROM" --config.file "$T/prom.yml" --storage.tsdb.path "$T/tsdb" --web.listen-address "127.0.0.1:$pport" \
	>"$T/prom.log" 2>&1 &
prom=$!
cgp_defer "kill $prom 2>/dev/null; wait $prom 2>/dev/null"
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null || fail "prometheus not ready"
# query EXPR: the first result's value, "" when none
query() {
	curl -sf --data-urlencode "query=$1" "http://127.0.0.1:$pport/api/v1/query" |
		$PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
K="job=\"kubelet\",metrics_path=\"/metrics/cadvisor\""
# wait until Prometheus holds more than the 30 s the rates look at: 34 scrapes 1 s apart at least span 33 s (a
# window reaching before the first scrape would make rate() read low; this counts scrapes, it times nothing)
for _ in $(seq 1200); do
	n=$(query "count_over_time(container_cpu_usage_seconds_total{$K,$SEL}[40s])")
	[ "${n:-0}" -ge 34 ] 2>/dev/null && break
	sleep 0.2
done
[ "${n:-0}" -ge 34 ] 2>/dev/null || fail "Prometheus has $n scrapes of the container"

# the community rules' expressions (kubernetes-mixin: image!="", by namespace/pod/container)
cpu=$(query "sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{$K,image!=\"\",$SEL}[30s]))")
thr=$(query "sum by (namespace, pod, container) (increase(container_cpu_cfs_throttled_periods_total{$K,$SEL}[30s])) / sum by (namespace, pod, container) (increase(container_cpu_cfs_periods_total{$K,$SEL}[30s]))")
ws=$(query "container_memory_working_set_bytes{$K,image!=\"\",$SEL}")
mem_dir=$(cgt_mem_dir "$rel")
if [ -n "$CGT_MEM" ]; then
	usage=$(cat "$mem_dir/memory.usage_in_bytes")
	inact=$(awk '$1 == "total_inactive_file" { print $2 }' "$mem_dir/memory.stat")
else
	usage=$(cat "$mem_dir/memory.current")
	inact=$(awk '$1 == "inactive_file" { print $2 }' "$mem_dir/memory.stat")
fi
cpu_stat=${CGT_CPU:-$CGT_V2}$rel/cpu.stat
k_thr=$(awk '$1 == "nr_throttled" { print $2 }' "$cpu_stat")
p_thr=$(query "container_cpu_cfs_throttled_periods_total{$K,$SEL}")
k_use=$(awk '$1 == "usage_usec" { print $2 }' "$CGT_V2$rel/cpu.stat")
p_use=$(query "container_cpu_usage_seconds_total{$K,$SEL}")
echo "cpu rate $cpu cores; throttled share $thr; working set $ws (kernel $usage - $inact);" \
	"nr_throttled $p_thr (kernel $k_thr); usage $p_use s (kernel ${k_use} us)"
$PY - "$cpu" "$thr" "$ws" "$usage" "$inact" "$p_thr" "$k_thr" "$p_use" "$k_use" <<'PY' || fail "figures through Prometheus"
import sys
cpu, thr, ws, usage, inact, p_thr, k_thr, p_use, k_use = (float(x) for x in sys.argv[1:])
assert abs(cpu - 0.2) <= 0.02, "CPU rate %.4f cores, limit 0.2" % cpu
assert thr > 0.25, "throttled share %.3f" % thr
k_ws = max(usage - inact, 0)
assert abs(ws - k_ws) <= 0.1 * k_ws, "working set %d, kernel %d" % (ws, k_ws)
assert ws >= 24 << 20, "working set %d below the 24 MiB held" % ws
# the series is at most a scrape and a sweep older than the kernel's figure read after it: ~10 periods/s, 0.2 s/s
assert 0 <= k_thr - p_thr <= 40, "nr_throttled %d, kernel %d" % (p_thr, k_thr)
assert -0.05 <= k_use / 1e6 - p_use <= 1.0, "usage %.3f s, kernel %.3f s" % (p_use, k_use / 1e6)
PY
echo "ok: Prometheus finds the container by namespace/pod/container: CPU, throttling and working set as the kernel's"
