#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The push over TLS, end to end: a collector with --tls-cert/--tls-key (a CA and a server certificate made here
# with openssl) and --token-file; the real agent with --collector-tls-ca, --collector-tls-server-name and the token
# has its events stored. Python's ssl module (OpenSSL: an independent TLS implementation) with the token is
# acknowledged; a client speaking plain TCP and the agent's client code trusting another CA are refused, nothing
# of theirs stored.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/coll_test.sh
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
coll_test_protoc

# a CA, a server certificate for collector.cgpulse.test signed by it, and another CA nobody signed with
(
	cd "$tmp" || exit 1
	for ca in ca other; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=cgpulse test $ca" \
			-keyout $ca.key -out $ca.pem || exit 1
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=collector.cgpulse.test" \
		-keyout server.key -out server.csr || exit 1
	printf 'subjectAltName=DNS:collector.cgpulse.test\n' >ext.cnf
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf \
		-out server.pem || exit 1
) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log"; fail "openssl"; }
printf 'tls-test-token-42\n' >"$tmp/token"

COLL_OUT=$tmp/events.jsonl
coll_start coll.log 0 --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" --token-file "$tmp/token" ||
	fail "collector did not start"
grep -q "TLS, token" "$tmp/coll.log" || fail "collector does not say it wants TLS and a token"

"$B/cgpulse" run --json --interval 0.3 --no-pin --http 127.0.0.1:0 --collector "127.0.0.1:$COLL_PORT" \
	--collector-tls-ca "$tmp/ca.pem" --collector-tls-server-name collector.cgpulse.test \
	--collector-token-file "$tmp/token" >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
for _ in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"sample"' "$tmp/events.jsonl" || fail "nothing the agent sent over TLS was stored"

# the agent's client code trusting another CA: the certificate does not verify, nothing is sent
timeout 30 "$B/cgpulse-loadgen" --connect "127.0.0.1:$COLL_PORT" --events 50 --timeout 3 --instance-prefix other-ca \
	--tls-ca "$tmp/other.pem" --tls-server-name collector.cgpulse.test --token-file "$tmp/token" \
	>"$tmp/gen.out" 2>"$tmp/gen.err"
[ $? -ne 0 ] || fail "a client trusting another CA was acknowledged"
grep -q "does not verify" "$tmp/gen.err" || { cat "$tmp/gen.err"; fail "no verification error logged by the client"; }

PYTHONPATH="$tmp/py:tests/lib" timeout 60 $PY - "$COLL_PORT" "$tmp/ca.pem" <<'PY' || fail "python peers"
import socket, ssl, sys
from cgpulse.v1 import event_pb2 as pb
from collector_peer import Peer
port, ca = int(sys.argv[1]), sys.argv[2]

# plain TCP to a TLS collector: refused
p = Peer(pb, port)
p.hello("tls-test-token-42")
p.batch("plain-tcp", [p.event("tls-node", "plain-tcp", 1)], base_seq=1)
acks, closed = p.acks(until_closed=True, timeout=10)
assert closed and not acks, "plain TCP acknowledged: %s" % acks

# OpenSSL, verifying the collector's certificate by name, with the token: acknowledged
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection(("127.0.0.1", port), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="collector.cgpulse.test")
p = Peer(pb, port, sock=s)
p.hello("tls-test-token-42")
p.batch("python-tls", [p.event("tls-node", "python-tls", 1), p.event("tls-node", "python-tls", 2)], base_seq=1)
acks, closed = p.acks(want=1)
assert acks and acks[0].acked_seq == 2 and acks[0].instance_id == "python-tls", acks
print("plain TCP refused; OpenSSL client (%s, %s) acknowledged" % (s.version(), s.cipher()[0]))
PY

n0=$(grep -c '"type":"sample"' "$tmp/events.jsonl")
sleep 1
n1=$(grep -c '"type":"sample"' "$tmp/events.jsonl")
[ "$n1" -gt "$n0" ] || fail "the agent's events stopped arriving"
kill -TERM "$agent"
wait "$agent"
agent=
kill -USR1 "$COLL_PID"
sleep 0.3
coll_stop || fail "collector exit $?"
tls=$(coll_counter refused_tls coll.log)
echo "# refused_tls=$tls"
[ "${tls:-0}" -ge 2 ] || fail "refused_tls=$tls: want the plain TCP client and the other CA's"
grep -q '"instance_id":"python-tls"' "$tmp/events.jsonl" || fail "python's batch not stored"
for inst in plain-tcp other-ca; do
	grep -q "\"instance_id\":\"$inst" "$tmp/events.jsonl" && fail "events of $inst stored"
done
# every seq the agent published over TLS is stored once
coll_test_stored_once "over TLS"
echo PASS
