# SPDX-License-Identifier: GPL-2.0
# The fault suite's common start (tests/faults/test_*.sh), sourced from the repository's root: sets B (the build),
# PY (Google's protobuf runtime lives with /usr/bin/python3) and tmp (the script's temporary directory, which its
# cleanup removes), loads the shared helpers (cgtest.sh, collector.sh, agent.sh), and defines
#   fail MESSAGE...   prints FAIL: MESSAGE and the last lines of each log of $tmp named in FAULT_LOGS, exits 1
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
tmp=$(mktemp -d)
. tests/lib/cgtest.sh
. tests/lib/collector.sh
. tests/lib/agent.sh

fail() {
	local f
	echo "FAIL: $*"
	for f in ${FAULT_LOGS:-}; do sed "s/^/  $f: /" "$tmp/$f" 2>/dev/null | tail -6; done
	exit 1
}
