#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The real agent with --http-tls-cert/--http-tls-key, --http-token-file and --http-auth-metrics, read by curl:
# /healthz open; /v1/events and /metrics 401 without a token and 403 with a wrong one (both counted on
# /metrics); curl over TLS reads /v1/events, decoded by Google's protobuf runtime; plain HTTP gets nothing. The
# certificate and the token are then rotated as the kubelet rotates a mounted Secret (a new ..data symlink):
# new connections see the new certificate, a stream opened before keeps flowing, the old token is refused; a
# garbage certificate is refused (counted) and the one in force stays.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
tmp=$(mktemp -d)
agent= stream=
cleanup() {
	[ -n "$stream" ] && kill "$stream" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/err" | tail -5; exit 1; }
metric() { sed -n "s/^$1 \([0-9]*\)$/\1/p" "$tmp/m"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v openssl > /dev/null || { echo "SKIP: no openssl to make certificates"; exit 77; }

# a Secret's layout as the kubelet mounts it: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp dir>
mkcert() { # DIR CN
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$1/tls.key" -out "$1/tls.crt" 2> /dev/null ||
		fail "openssl req"
}
sec=$tmp/secret
mkcert "$sec/..v1" cgpulse-test-a
echo "token-one-$$" > "$sec/..v1/token"
ln -s ..v1 "$sec/..data"
for f in tls.crt tls.key token; do ln -s "..data/$f" "$sec/$f"; done
swap() { ln -s "$1" "$sec/..data.new" && mv -T "$sec/..data.new" "$sec/..data"; }

$B run --interval 0.2 --no-pin --http 127.0.0.1:0 --http-tls-cert "$sec/tls.crt" --http-tls-key "$sec/tls.key" \
	--http-token-file "$sec/token" --http-auth-metrics > /dev/null 2> "$tmp/err" &
agent=$!
for i in $(seq 100); do grep -q 'http port [1-9]' "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$tmp/err")
[ -n "$port" ] || fail "no http port"
url=https://127.0.0.1:$port
ca=(--cacert "$sec/tls.crt")
tok="Authorization: Bearer token-one-$$"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
sleep 1

[ "$(code "${ca[@]}" "$url/healthz")" = 200 ] || fail "/healthz over TLS without a token"
[ "$(code "http://127.0.0.1:$port/healthz")" = 000 ] || fail "plain HTTP answered on the TLS port"
want401=0 want403=0
for ep in /v1/events /metrics; do
	[ "$(code "${ca[@]}" "$url$ep")" = 401 ] || fail "$ep without a token is not 401"
	[ "$(code "${ca[@]}" -H 'Authorization: Bearer wrong' "$url$ep")" = 403 ] || fail "$ep with a wrong token is not 403"
	[ "$(code "${ca[@]}" -H 'Authorization: Basic dXNlcjpwYXNz' "$url$ep")" = 401 ] || fail "$ep with Basic is not 401"
	[ "$(code "${ca[@]}" -H "Authorization: Bearer token-one-$$"x "$url$ep")" = 403 ] || fail "$ep with a longer token"
	want401=$((want401 + 2)) want403=$((want403 + 2))
done
curl -s -D "$tmp/h401" -o /dev/null "${ca[@]}" "$url/v1/events"
want401=$((want401 + 1))
grep -qi '^WWW-Authenticate: Bearer' "$tmp/h401" || fail "401 without WWW-Authenticate"
curl -sf "${ca[@]}" -H "$tok" "$url/metrics" > "$tmp/m" || fail "/metrics with the token"
[ "$(metric 'cgpulse_http_auth_failures_total{status="401"}')" = "$want401" ] || fail "401s counted: $(grep auth_failures "$tmp/m")"
[ "$(metric 'cgpulse_http_auth_failures_total{status="403"}')" = "$want403" ] || fail "403s counted: $(grep auth_failures "$tmp/m")"
[ "$(metric cgpulse_http_tls)" = 1 ] || fail "cgpulse_http_tls"

# a TLS client reads /v1/events; a second stream stays open across the rotation below
protoc --proto_path=proto --python_out="$tmp" proto/cgpulse/v1/event.proto || fail "protoc"
timeout 2 curl -s -N "${ca[@]}" -H "$tok" "$url/v1/events?since=0" -o "$tmp/ev"
curl -s -N "${ca[@]}" -H "$tok" "$url/v1/events?since=0" -o "$tmp/long" &
stream=$!
$PY - "$tmp" "$PWD/tests/lib" <<'PY' || fail "events over TLS"
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from cgpulse.v1 import event_pb2
import delimited
ev = delimited.events(event_pb2, open(sys.argv[1] + "/ev", "rb").read(), partial=True)
assert len(ev) > 3 and ev[0].WhichOneof("body") == "agent_started", ev[:1]
assert [e.seq for e in ev] == list(range(1, len(ev) + 1))
print("# %d events over TLS" % len(ev))
PY

# rotation: a new certificate and token, as one atomic swap of ..data
mkcert "$sec/..v2" cgpulse-test-b
echo "token-two-$$" > "$sec/..v2/token"
cp "$sec/..v1/tls.crt" "$tmp/old.crt"
swap ..v2
for i in $(seq 50); do
	curl -s -o /dev/null --cacert "$sec/..v2/tls.crt" "$url/healthz" && break
	sleep 0.1
done
curl -sv -o /dev/null --cacert "$sec/..v2/tls.crt" "$url/healthz" 2> "$tmp/v" || fail "the new certificate is not served"
grep -q 'subject: CN=cgpulse-test-b' "$tmp/v" || fail "new connections do not see the new certificate"
[ "$(code --cacert "$tmp/old.crt" "$url/healthz")" = 000 ] || fail "the old certificate is still served"
tok2="Authorization: Bearer token-two-$$"
[ "$(code --cacert "$sec/tls.crt" -H "$tok" "$url/v1/events")" = 403 ] || fail "the old token still works"
size0=$(stat -c %s "$tmp/long")
sleep 1
[ "$(stat -c %s "$tmp/long")" -gt "$size0" ] || fail "the stream opened before the rotation stopped"

# garbage in the Secret: refused, the certificate in force stays
mkdir "$sec/..v3" && echo garbage > "$sec/..v3/tls.crt" && cp "$sec/..v2/tls.key" "$sec/..v2/token" "$sec/..v3/"
swap ..v3
sleep 1.5
curl -s --cacert "$sec/..v2/tls.crt" -H "$tok2" "$url/metrics" > "$tmp/m" || fail "/metrics after a bad certificate"
[ "$(metric 'cgpulse_http_credential_reloads_total{file="tls",result="ok"}')" = 1 ] || fail "tls reloads: $(grep reloads_total "$tmp/m")"
[ "$(metric 'cgpulse_http_credential_reloads_total{file="tls",result="refused"}')" = 1 ] || fail "tls refusals: $(grep reloads_total "$tmp/m")"
[ "$(metric 'cgpulse_http_credential_reloads_total{file="token",result="ok"}')" = 2 ] || fail "token reloads (a new file each swap)"
grep -q "new TLS files refused" "$tmp/err" || fail "the refusal is not logged"
kill -0 "$agent" || fail "agent died"
echo "http auth: ok"
