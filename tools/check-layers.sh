#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make lint`: no agent file includes a header from a stage above its own. The stages, lowest first, are the
# folders of agent/: lib < collect < names < playbook < events < sinks, with the commands (agent/*.c) on top.
# The collector (tools/collector/) links only the library and the codec (lib, events). bpf/cgpulse.h is the record
# both sides share; the BPF skeleton belongs to collect alone, the generated protobuf code to events and above.
# Prints every offending include as file:line: reason and exits 1 when there is one.
set -u
cd "$(dirname "$0")/.."
rank() {
	case $1 in
	lib) echo 0 ;; collect) echo 1 ;; names) echo 2 ;; playbook) echo 3 ;; events) echo 4 ;; sinks) echo 5 ;;
	top) echo 6 ;; *) echo -1 ;;
	esac
}
allowed() { # own stage, highest stage allowed, stage of the included header
	case $3 in
	collect-only) return 1 ;;
	collector) [ "$1" = collector ] ;;
	*) [ "$1" != collector ] || [ "$3" = lib ] || [ "$3" = events ] || return 1
	   [ "$(rank "$3")" -ge 0 ] && [ "$(rank "$3")" -le "$(rank "$2")" ] ;;
	esac
}
bad=0
check() { # file, its stage, the highest stage it may include
	local f=$1 own=$2 max=$3 line inc stage
	while IFS=: read -r line inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		case $inc in
		cgpulse.skel.h) [ "$own" = collect ] && continue; stage=collect-only ;;
		cgpulse/v1/*) [ "$(rank "$max")" -ge 4 ] && continue; stage=events ;;
		cgpulse.h) [ "$own" != lib ] && continue; stage=collect ;;
		*/*) stage=${inc%%/*} ;;
		*) continue ;; # a header beside the file (tools, tests) or a system header
		esac
		if ! allowed "$own" "$max" "$stage"; then
			echo "$f:$line: includes \"$inc\" ($stage) from $own: a stage may use only the stages below it"
			bad=1
		fi
	done < <(grep -n '^#include "' "$f")
}
for f in agent/*/*.[ch]; do
	s=${f#agent/}
	s=${s%%/*}
	check "$f" "$s" "$s"
done
for f in agent/*.[ch]; do check "$f" top top; done
for f in tools/collector/*.[ch]; do check "$f" collector events; done
exit $bad
