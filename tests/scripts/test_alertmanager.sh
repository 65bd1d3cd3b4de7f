#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Playbook alerts into real Alertmanagers (Debian's prometheus-alertmanager): two instances on loopback forming a
# cluster, one plain HTTP and one HTTPS with basic auth, each notifying a webhook this test serves. Real runc
# containers with Kubernetes names: a burner limited to 0.5 cores fires a CPU rule and a real OOM kill fires the
# OOM rule; both alerts are in GET /api/v2/alerts of both instances with their labels and reach the webhook
# grouped by the route; the firing alert outlives Alertmanager's resolve_timeout (re-sent); one instance killed
# and restarted while it fires has it again within one re-send; the burner stops and the alert resolves (endsAt,
# a resolved notification). The agent's counters on /metrics pass promtool and say what happened.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
. "$here/../lib/cgtest.sh"
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
AM=/usr/bin/prometheus-alertmanager
RESEND=2          # the agent's re-send period, seconds
RESOLVE_TIMEOUT=3 # Alertmanager's: an alert not re-sent within it resolves by itself
cgp_need_containers
[ -x "$AM" ] || cgp_skip "no $AM (make deps installs prometheus-alertmanager)"
for t in openssl curl promtool; do command -v $t >/dev/null || cgp_skip "no $t (make deps)"; done
cgp_init
T=$CGP_TMP
fail() {
	echo "FAIL: $*"
	for f in "$T"/agent.err "$T"/am-*.log; do [ -f "$f" ] && tail -15 "$f" | sed "s|^|  $(basename "$f"): |"; done
	exit 1
}
cgp_rootfs || fail "rootfs"
cgp_cgroup_parent am
CGP_RUNC_ROOT=$T/runc
mkdir -p "$CGP_RUNC_ROOT"

# --- the webhook: every notification, as one JSON line with the path it came to (/a or /b)
cat >"$T/hook.py" <<'PY'
import http.server, json, sys
out = open(sys.argv[1], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out.write(json.dumps({"path": self.path, "body": body}) + "\n")
        out.flush()
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
$PY "$T/hook.py" "$T/hook.jsonl" "$T/hook.port" &
cgp_defer "kill $!"
for i in $(seq 50); do [ -s "$T/hook.port" ] && break; sleep 0.1; done
HOOK=$(cat "$T/hook.port") || fail "webhook did not start"

# --- TLS and basic auth for instance b: a CA of our own, a server certificate for 127.0.0.1, a bcrypt password
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=cgpulse-test-ca \
	-keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null || fail "CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=127.0.0.1 -keyout "$T/srv.key" \
	-out "$T/srv.csr" 2>/dev/null || fail "CSR"
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 1 -extfile "$T/san" \
	-out "$T/srv.crt" 2>/dev/null || fail "certificate"
printf 's3cret-%s\n' $$ >"$T/password"
hash=$($PY -W ignore -c 'import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
	"s3cret-$$") || fail "bcrypt"
cat >"$T/web-b.yml" <<EOF
tls_server_config:
  cert_file: $T/srv.crt
  key_file: $T/srv.key
basic_auth_users:
  cgpulse: '$hash'
EOF

# --- two Alertmanagers, a cluster pair, each notifying the webhook (group_by alertname)
read -r WA CA WB CB < <($PY -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
URL_A=http://127.0.0.1:$WA
URL_B=https://127.0.0.1:$WB
GET_A=(curl -sf "$URL_A/api/v2")
GET_B=(curl -sf --cacert "$T/ca.crt" -u "cgpulse:s3cret-$$" "$URL_B/api/v2")
for x in a b; do
	cat >"$T/am-$x.yml" <<EOF
global:
  resolve_timeout: ${RESOLVE_TIMEOUT}s
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$HOOK/$x
        send_resolved: true
EOF
done
am_start() { # a|b
	local web=$WA cl=$CA peer=$CB extra=()
	[ "$1" = b ] && { web=$WB; cl=$CB; peer=$CA; extra=(--web.config.file="$T/web-b.yml"); }
	mkdir -p "$T/am-$1"
	$AM --config.file="$T/am-$1.yml" --storage.path="$T/am-$1" --web.listen-address="127.0.0.1:$web" \
		--cluster.listen-address="127.0.0.1:$cl" --cluster.advertise-address="127.0.0.1:$cl" \
		--cluster.peer="127.0.0.1:$peer" --cluster.gossip-interval=100ms --cluster.peer-timeout=2s \
		"${extra[@]}" >>"$T/am-$1.log" 2>&1 &
	eval "AM_$1=$!"
	cgp_defer "kill -9 $! 2>/dev/null"
}
am_ready() { # a|b
	local i get
	for i in $(seq 100); do
		if [ "$1" = a ]; then "${GET_A[@]}/status" >"$T/status-$1" 2>/dev/null && break
		else "${GET_B[@]}/status" >"$T/status-$1" 2>/dev/null && break; fi
		sleep 0.1
	done
	[ -s "$T/status-$1" ]
}
am_start a # first, so that b finds it when it starts (a failed join is retried only every 10 s)
am_ready a || fail "alertmanager a did not start"
am_start b
am_ready b || fail "alertmanager b (TLS, basic auth) did not start"
curl -sf "$URL_B/api/v2/status" >/dev/null && fail "alertmanager b answers without TLS"
curl -s --cacert "$T/ca.crt" -o /dev/null -w '%{http_code}' "$URL_B/api/v2/status" | grep -qx 401 ||
	fail "alertmanager b answers without a password"
for i in $(seq 100); do
	$PY -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["cluster"]["peers"]) != 2)' "$T/status-a" && break
	sleep 0.1
	"${GET_A[@]}/status" >"$T/status-a"
done
$PY -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["cluster"]["peers"]) != 2)' "$T/status-a" ||
	fail "the two alertmanagers did not form a cluster"

# --- the agent
burn=cgp-burn-$$
oom=cgp-oom-$$
cat >"$T/pb.yaml" <<YAML
version: 1
rules:
  - name: cpu_hot
    metric: cpu_pct
    above: 80
    for: 1s
    severity: critical
    resolve_below: 40
    select: "$CGP_CGROUP_PARENT/$burn"
    action: "Scale up CPU"
    runbook: "https://runbooks.example/cpu"
  - name: oom_now
    metric: oom_kills
    above: 0
    for: 0s
    severity: critical
    select: "$CGP_CGROUP_PARENT/$oom"
    action: "Raise the memory limit"
YAML
node=cgpulse-test-node-$$
"$B" run --json --interval 0.5 --no-pin --http 127.0.0.1:0 --node "$node" --playbook "$T/pb.yaml" \
	--runc-root "$CGP_RUNC_ROOT" --alertmanager "$URL_A" --alertmanager "$URL_B/" --alertmanager-ca "$T/ca.crt" \
	--alertmanager-user cgpulse --alertmanager-password-file "$T/password" --alertmanager-resend $RESEND \
	--alertmanager-min-firing 4 >"$T/agent.out" 2>"$T/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for i in $(seq 100); do grep -q 'http port [1-9]' "$T/agent.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/agent.err")
[ -n "$port" ] || fail "agent did not start"
metric() { # NAME LABELS-SUBSTRING: the value of one series of the agent's /metrics
	curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$1" -v l="$2" 'index($0, n "{") == 1 && index($0, l) { print $NF; exit }'
}
alerts() { # a|b NAME: that alert's JSON from GET /api/v2/alerts, "" when not there
	local g
	if [ "$1" = a ]; then g=("${GET_A[@]}"); else g=("${GET_B[@]}"); fi
	"${g[@]}/alerts?filter=alertname%3D%22$2%22" 2>/dev/null | $PY -c 'import json,sys; a=json.load(sys.stdin); sys.stdout.write(json.dumps(a[0]) if a else "")' 2>/dev/null
}
wait_alert() { # a|b NAME FILE: until the alert is in the instance (saved to FILE)
	local i
	for i in $(seq 150); do
		alerts "$1" "$2" >"$3"
		[ -s "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- a burner limited to 0.5 cores fires cpu_hot; a real OOM kill fires oom_now
cgp_runc_start -a io.kubernetes.pod.name=checkout-7f9c -a io.kubernetes.pod.namespace=shop \
	-a io.kubernetes.container.name=api "$burn" "$CGP_CGROUP_PARENT/$burn" $((32 << 20)) sh -c 'while :; do :; done' ||
	fail "runc $burn"
cgt_set_cpu_limit "$CGP_CGROUP_PARENT/$burn" 50000 100000 || fail "cpu limit"
wait_alert a cpu_hot "$T/hot-a" || fail "cpu_hot never reached alertmanager a"
wait_alert b cpu_hot "$T/hot-b" || fail "cpu_hot never reached alertmanager b"
cgp_runc_start -a io.kubernetes.pod.name=cart-5d8f7 -a io.kubernetes.pod.namespace=shop \
	-a io.kubernetes.container.name=cart "$oom" "$CGP_CGROUP_PARENT/$oom" $((16 << 20)) tail /dev/zero ||
	fail "runc $oom"
wait_alert a oom_now "$T/oom-a" || fail "oom_now never reached alertmanager a"
wait_alert b oom_now "$T/oom-b" || fail "oom_now never reached alertmanager b"
$PY - "$T" "$node" "$CGP_CGROUP_PARENT" "$burn" "$oom" "$port" <<'PY' || fail "alerts in Alertmanager"
import json, sys
T, node, parent, burn, oom, port = sys.argv[1:7]
for name, path, pod, ctr in (("hot", burn, "checkout-7f9c", "api"), ("oom", oom, "cart-5d8f7", "cart")):
    a, b = (json.load(open("%s/%s-%s" % (T, name, x))) for x in "ab")
    want = {"alertname": "cpu_hot" if name == "hot" else "oom_now", "severity": "critical", "node": node,
            "namespace": "shop", "pod": pod, "container": ctr, "cgroup": parent + "/" + path}
    for x in (a, b):
        assert x["labels"] == want, (x["labels"], want)
        assert x["status"]["state"] == "active", x["status"]
        assert x["generatorURL"] == "http://%s:%s/metrics" % (node, port), x["generatorURL"]
        ann = x["annotations"]
        for k in ("summary", "description", "action", "evidence", "recommended_limit"):
            assert ann.get(k), (k, ann)
    assert a["startsAt"] == b["startsAt"] and a["annotations"] == b["annotations"], (a, b)
    print("# %s: %s | %s | recommended %s" % (want["alertname"], a["annotations"]["summary"],
          a["annotations"]["description"], a["annotations"]["recommended_limit"]))
hot = json.load(open(T + "/hot-a"))
assert hot["annotations"]["runbook_url"] == "https://runbooks.example/cpu", hot["annotations"]
assert "judged against 0.5 cores, the cgroup's own limit" in hot["annotations"]["description"], hot["annotations"]
assert hot["annotations"]["recommended_limit"] == "1 core", hot["annotations"]
assert "16 MiB" in json.load(open(T + "/oom-a"))["annotations"]["description"]
PY

# --- oom_now resolves (the container's next samples count no kill; held until it was active 4 s)
for i in $(seq 150); do
	[ -z "$(alerts a oom_now)" ] && [ -z "$(alerts b oom_now)" ] && break
	sleep 0.1
done
[ -z "$(alerts a oom_now)" ] && [ -z "$(alerts b oom_now)" ] || fail "oom_now did not resolve in both"
for x in "$WA" "$WB"; do
	[ "$(metric cgpulse_alertmanager_alerts_sent_total "$x\",state=\"resolved")" -ge 1 ] || fail "resolve not counted"
done

# --- alertmanager a killed and restarted while cpu_hot fires: it has it again within one re-send period
# (down for 5 failed posts: a backoff that doubled past the period unchecked would now wait 8 s or more)
{ kill -9 "$AM_a" && wait "$AM_a"; } 2>/dev/null # (bash's "Killed" notice included)
for i in $(seq 150); do
	[ "$(metric cgpulse_alertmanager_posts_total "$WA\",result=\"failed")" -ge 5 ] && break
	sleep 0.1
done
[ "$(metric cgpulse_alertmanager_posts_total "$WA\",result=\"failed")" -ge 5 ] ||
	fail "posts to a dead alertmanager not counted as failed"
am_start a
am_ready a || fail "alertmanager a did not start again"
posts_b0=$(metric cgpulse_alertmanager_posts_total "$WB\",result=\"ok")
wait_alert a cpu_hot "$T/hot-a2" || fail "restarted alertmanager a never got cpu_hot again"
posts_b1=$(metric cgpulse_alertmanager_posts_total "$WB\",result=\"ok")
# b gets cpu_hot once a period: its posts meanwhile count the periods that passed (at most 2 within one)
[ $((posts_b1 - posts_b0)) -le 2 ] || fail "a had cpu_hot again only after $((posts_b1 - posts_b0)) re-sends to b"
$PY -c 'import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:]); assert a["startsAt"]==b["startsAt"], (a,b)' \
	"$T/hot-a" "$T/hot-a2" || fail "cpu_hot came back to a with another startsAt"
[ "$(metric cgpulse_alertmanager_retries_total "$WA")" -ge 1 ] || fail "no retry counted"
grep -q "alertmanager $URL_A: .*retrying with backoff" "$T/agent.err" || fail "no log of the failing alertmanager"
grep -q "alertmanager $URL_A: delivering again" "$T/agent.err" || fail "no log of its recovery"

# --- re-sent, cpu_hot outlives resolve_timeout in b (by b's own account of it), then the burner stops
age() { # FILE: seconds between the alert's startsAt and its last update in Alertmanager
	$PY - "$1" <<'PY'
import json, sys
from datetime import datetime
def t(s):
    d, f = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    return datetime.fromisoformat(d).timestamp() + float("0." + f)
a = json.load(open(sys.argv[1]))
print(int(t(a["updatedAt"]) - t(a["startsAt"])))
PY
}
for i in $(seq 150); do
	alerts b cpu_hot >"$T/hot-b2"
	[ -s "$T/hot-b2" ] || fail "cpu_hot timed out in alertmanager b while it fired"
	[ "$(age "$T/hot-b2")" -gt $((RESOLVE_TIMEOUT + RESEND)) ] && break
	sleep 0.1
done
[ "$(age "$T/hot-b2")" -gt $((RESOLVE_TIMEOUT + RESEND)) ] || fail "cpu_hot was not kept up in alertmanager b"
runc --root "$CGP_RUNC_ROOT" kill "$burn" KILL
for i in $(seq 150); do
	[ -z "$(alerts a cpu_hot)" ] && [ -z "$(alerts b cpu_hot)" ] && break
	sleep 0.1
done
[ -z "$(alerts a cpu_hot)" ] && [ -z "$(alerts b cpu_hot)" ] || fail "cpu_hot did not resolve in both"
for i in $(seq 100); do grep -q '"status": "resolved".*cpu_hot' "$T/hook.jsonl" 2>/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/metrics" >"$T/metrics" || fail "/metrics"
promtool check metrics <"$T/metrics" || fail "promtool check metrics"
kill -TERM "$agent"
wait "$agent"
rc=$?
[ "$rc" -eq 0 ] || fail "agent exit $rc"

$PY - "$T" "$node" "$WA" "$WB" <<'PY' || fail "webhook notifications and counters"
import json, re, sys
T, node, wa, wb = sys.argv[1:5]
notes = [json.loads(l) for l in open(T + "/hook.jsonl")]
def notes_of(name, status):
    return [n for n in notes if n["body"]["groupLabels"] == {"alertname": name} and n["body"]["status"] == status]
for name in ("cpu_hot", "oom_now"):
    fired = notes_of(name, "firing")
    assert fired, "no firing notification of %s: %s" % (name, notes)
    n = fired[0]["body"]
    assert n["receiver"] == "hook" and fired[0]["path"] in ("/a", "/b"), n
    assert n["commonLabels"]["node"] == node and n["commonLabels"]["alertname"] == name, n
    assert len(n["alerts"]) == 1 and n["alerts"][0]["labels"]["namespace"] == "shop", n
resolved = notes_of("cpu_hot", "resolved")
assert resolved, "no resolved notification of cpu_hot"
a = resolved[-1]["body"]["alerts"][0]
assert a["status"] == "resolved" and a["endsAt"] > a["startsAt"], a
assert not a["endsAt"].startswith("0001"), a
firing_before = [n for n in notes[:notes.index(resolved[0])] if n["body"]["groupLabels"] == {"alertname": "cpu_hot"}]
assert all(n["body"]["status"] == "firing" for n in firing_before), "cpu_hot resolved early"
m = {}
for line in open(T + "/metrics"):
    if line.startswith("cgpulse_alertmanager"):
        k, v = line.rsplit(" ", 1)
        m[k] = float(v)
def get(name, url, extra=""):
    return m['%s{alertmanager="%s"%s}' % (name, url, extra)]
ua, ub = "http://127.0.0.1:" + wa, "https://127.0.0.1:" + wb
for u in (ua, ub):
    assert get("cgpulse_alertmanager_up", u) == 1
    assert get("cgpulse_alertmanager_alerts_sent_total", u, ',state="resolved"') >= 2, u  # cpu_hot, oom_now
    assert get("cgpulse_alertmanager_posts_total", u, ',result="rejected"') == 0
assert get("cgpulse_alertmanager_posts_total", ub, ',result="failed"') == 0
assert get("cgpulse_alertmanager_posts_total", ua, ',result="failed"') >= 1
assert m["cgpulse_alertmanager_alerts_dropped_total"] == 0
print("# a: %d posts ok, %d failed, %d retries; b: %d ok; %d resolved sent to each" % (
    get("cgpulse_alertmanager_posts_total", ua, ',result="ok"'),
    get("cgpulse_alertmanager_posts_total", ua, ',result="failed"'), get("cgpulse_alertmanager_retries_total", ua),
    get("cgpulse_alertmanager_posts_total", ub, ',result="ok"'),
    get("cgpulse_alertmanager_alerts_sent_total", ub, ',state="resolved"')))
PY
echo "alertmanager: ok"
