# SPDX-License-Identifier: GPL-2.0
# Shared pieces of the script tests that run the agent: wait until it runs, read its /metrics, its RSS.
#   agent_wait_running ERRLOG        until the agent logged that it runs (10 s at most); sets AGENT_HTTP to its
#                                    HTTP port when it serves one; returns 1 when it did not start
#   agent_metric NAME                the value of one sample of /metrics (NAME with its labels) at $AGENT_HTTP
#   agent_rss PID                    VmRSS in kB
AGENT_HTTP=

agent_wait_running() {
	for _ in $(seq 100); do
		if grep -qs "running as node" "$1"; then # the agent may not have opened it yet
			AGENT_HTTP=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$1")
			return 0
		fi
		sleep 0.1
	done
	return 1
}

agent_metric() {
	curl -s "http://127.0.0.1:$AGENT_HTTP/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

agent_rss() {
	awk '/^VmRSS/ { print $2 }' "/proc/$1/status"
}
