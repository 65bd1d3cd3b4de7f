# SPDX-License-Identifier: GPL-2.0
# Real containers for tests, sourced by tests/scripts/*.sh: a busybox-static rootfs, runc bundles, a private
# containerd with a hand-built OCI image (no registry), and the cgroups they run in. Everything started or made
# here is undone when the sourcing script exits, pass, fail or signal (cgp_defer stack, run newest first).
#
#   cgp_need_containers              skip (exit 77) unless root with runc, containerd, ctr and busybox-static
#   cgp_init                         temp dir $CGP_TMP, exit trap
#   cgp_rootfs                       $CGP_ROOTFS: busybox and its applets
#   cgp_cgroup_parent NAME           $CGP_CGROUP_PARENT=/cgpulse-test-NAME-$$, removed at exit in every hierarchy
#   cgp_runc_start [-a k=v]... ID CGPATH MEM_BYTES CMD...      sets $CGP_PID
#   cgp_containerd_start             $CGP_CTR (ctr with socket and namespace), $CGP_CONTAINERD_STATE
#   cgp_oci_image REF                imports $CGP_ROOTFS as image REF into that containerd
#   cgp_ctr_start [-a k=v]... ID CGPATH MEM_BYTES REF CMD...   sets $CGP_PID
#
# CGPATH is the container's full cgroup path (e.g. $CGP_CGROUP_PARENT/ID): a child of "/", the one cgroup that
# is a parent of the test's own in every hierarchy on a host whose v1 memory cgroup is nested and others are "/".

CGP_CLEANUP=()
CGP_TIMEOUT=${CGP_TIMEOUT:-20}

cgp_skip() {
	echo "SKIP: $*" >&2
	exit 77
}

cgp_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Runs at exit, newest first; an undo step that fails must not stop the others.
cgp_defer() {
	CGP_CLEANUP+=("$1")
}

cgp_cleanup() {
	local i
	for ((i = ${#CGP_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CGP_CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	CGP_CLEANUP=()
}

cgp_exit() {
	trap - EXIT
	cgp_cleanup
	exit "$1"
}

cgp_need_containers() {
	[ "$(id -u)" -eq 0 ] || cgp_skip "needs root to run containers"
	local t
	for t in runc containerd ctr busybox sha256sum timeout; do
		command -v "$t" >/dev/null || cgp_skip "$t not installed (make deps)"
	done
	busybox --list >/dev/null 2>&1 || cgp_skip "busybox has no applet list"
	# the rootfs has no libc: a dynamic busybox names its loader
	grep -qa '/ld-linux' "$(command -v busybox)" && cgp_skip "busybox is not static (install busybox-static)"
	return 0
}

cgp_init() {
	CGP_TMP=$(mktemp -d /tmp/cgpulse-test-XXXXXX) || cgp_fail "mktemp"
	trap 'cgp_exit $?' EXIT
	trap 'exit 130' INT TERM HUP
	cgp_defer "rm -rf '$CGP_TMP'"
	# containerd leaves overlay mounts under its state if it dies mid-way: unmount before removing
	cgp_defer "cgp_umount_under '$CGP_TMP'"
}

cgp_umount_under() {
	local m
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

cgp_rootfs() {
	CGP_ROOTFS=$CGP_TMP/rootfs
	mkdir -p "$CGP_ROOTFS"/{bin,proc,sys,dev,tmp,etc}
	cp "$(command -v busybox)" "$CGP_ROOTFS/bin/busybox"
	# one perl (Debian's essential perl-base) instead of ~270 ln processes; a "busybox" applet link would point
	# at itself (ELOOP)
	busybox --list | grep -vx busybox |
		perl -e '$d = shift; chomp, symlink("busybox", "$d/$_") || die "$d/$_: $!" while <STDIN>' \
			"$CGP_ROOTFS/bin" || return 1
	echo 'root:x:0:0:root:/:/bin/sh' >"$CGP_ROOTFS/etc/passwd"
}

# Every mounted hierarchy, v1 controllers and cgroup2.
cgp_cgroup_roots() {
	awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

cgp_cgroup_parent() {
	CGP_CGROUP_PARENT=/cgpulse-test-$1-$$
	cgp_defer "cgp_cgroup_remove '$CGP_CGROUP_PARENT'"
}

# Kills what is left in a test cgroup tree (only our containers can be there) and removes it, deepest first.
cgp_cgroup_remove() {
	local root d p
	case $1 in /cgpulse-test-*) ;; *) return 1 ;; esac
	for root in $(cgp_cgroup_roots); do
		d=$root$1
		[ -d "$d" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do
			kill -9 "$p" 2>/dev/null
		done
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
	done
}

cgp_json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# Parses leading "-a key=value" options into CGP_ANN (array) and the JSON object CGP_ANN_JSON.
cgp_take_annotations() {
	CGP_ANN=()
	CGP_ANN_JSON=
	CGP_ANN_SHIFT=0
	while [ "${1:-}" = -a ]; do
		CGP_ANN+=("$2")
		CGP_ANN_JSON+="${CGP_ANN_JSON:+, }$(cgp_json_str "${2%%=*}"): $(cgp_json_str "${2#*=}")"
		shift 2
		CGP_ANN_SHIFT=$((CGP_ANN_SHIFT + 2))
	done
}

# A bundle in the shape `runc spec` writes, trimmed to what a busybox payload needs, with our cgroup, memory
# limit and annotations.
cgp_runc_bundle() {
	local bundle=$1 cgpath=$2 mem=$3 args="" a
	shift 3
	for a in "$@"; do
		args+="${args:+, }$(cgp_json_str "$a")"
	done
	mkdir -p "$bundle"
	cat >"$bundle/config.json" <<EOF
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": false,
		"user": {"uid": 0, "gid": 0},
		"args": [$args],
		"env": ["PATH=/bin"],
		"cwd": "/",
		"capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
		"noNewPrivileges": true
	},
	"root": {"path": "$CGP_ROOTFS", "readonly": true},
	"hostname": "cgpulse-test",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=1024k"]},
		{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=65536k"]}
	],
	"annotations": {$CGP_ANN_JSON},
	"linux": {
		"cgroupsPath": "$cgpath",
		"resources": {"devices": [{"allow": false, "access": "rwm"}], "memory": {"limit": $mem}},
		"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
	}
}
EOF
}

cgp_runc_start() {
	cgp_take_annotations "$@"
	shift "$CGP_ANN_SHIFT"
	local id=$1 cgpath=$2 mem=$3
	shift 3
	CGP_RUNC_ROOT=$CGP_TMP/runc
	cgp_runc_bundle "$CGP_TMP/bundles/$id" "$cgpath" "$mem" "$@"
	cgp_defer "runc --root '$CGP_RUNC_ROOT' delete -f '$id'"
	timeout "$CGP_TIMEOUT" runc --root "$CGP_RUNC_ROOT" run -d --bundle "$CGP_TMP/bundles/$id" "$id" \
		</dev/null >"$CGP_TMP/runc-$id.log" 2>&1 || { cat "$CGP_TMP/runc-$id.log" >&2; return 1; }
	CGP_PID=$(runc --root "$CGP_RUNC_ROOT" state "$id" | sed -n 's/^ *"pid": *\([0-9]*\),*$/\1/p')
	[ -n "$CGP_PID" ] && [ "$CGP_PID" -gt 0 ]
}

# containerd with its root, state and sockets under $CGP_TMP and the CRI plugin off; stopped at exit.
cgp_containerd_start() {
	local d=$CGP_TMP/containerd i
	mkdir -p "$d"
	CGP_CONTAINERD_STATE=$d/state
	CGP_CTR_NS=cgpulse-test
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$CGP_CONTAINERD_STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
EOF
	# the shims put their sockets in /run/containerd/s: remove what we created there, and only that
	[ -d /run/containerd ] || cgp_defer "rmdir /run/containerd/s /run/containerd"
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	CGP_CONTAINERD_PID=$!
	cgp_defer "cgp_containerd_stop $CGP_CONTAINERD_PID"
	CGP_CTR="timeout $CGP_TIMEOUT ctr -a $d/containerd.sock -n $CGP_CTR_NS"
	for i in $(seq 100); do
		$CGP_CTR version >/dev/null 2>&1 && return 0
		kill -0 "$CGP_CONTAINERD_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -20 "$d/log" >&2
	return 1
}

cgp_containerd_stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$1"
}

# Moves a file into the layout's blobs under its digest; prints "<digest> <size>".
cgp_blob() {
	local blobs=$1 f=$2 digest size
	digest=$(sha256sum "$f" | cut -d' ' -f1) || return 1
	size=$(stat -c %s "$f") || return 1
	mv "$f" "$blobs/$digest" && echo "$digest $size"
}

# An OCI image layout written by hand (one uncompressed layer of $CGP_ROOTFS) and `ctr images import`ed.
cgp_oci_image() {
	local ref=$1 img=$CGP_TMP/image arch
	local blobs=$img/blobs/sha256 layer cfg man layer_size cfg_size man_size
	case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
	mkdir -p "$blobs"
	tar -C "$CGP_ROOTFS" -cf "$img/layer" . || return 1
	read -r layer layer_size < <(cgp_blob "$blobs" "$img/layer") || return 1
	printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$arch" "$layer" >"$img/cfg"
	read -r cfg cfg_size < <(cgp_blob "$blobs" "$img/cfg") || return 1
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
		"$cfg" "$cfg_size" "$layer" "$layer_size" >"$img/man"
	read -r man man_size < <(cgp_blob "$blobs" "$img/man") || return 1
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"$man" "$man_size" "$ref" >"$img/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$img/oci-layout"
	tar -C "$img" -cf "$CGP_TMP/image.tar" oci-layout index.json blobs || return 1
	$CGP_CTR images import --base-name "${ref%:*}" "$CGP_TMP/image.tar" >/dev/null
}

cgp_ctr_start() {
	cgp_take_annotations "$@"
	shift "$CGP_ANN_SHIFT"
	local id=$1 cgpath=$2 mem=$3 ref=$4 a flags=()
	shift 4
	for a in "${CGP_ANN[@]}"; do
		flags+=(--annotation "$a")
	done
	cgp_defer "$CGP_CTR container delete '$id'"
	cgp_defer "$CGP_CTR task delete -f '$id'"
	$CGP_CTR run -d --null-io --memory-limit "$mem" --cgroup "$cgpath" --runc-root "$CGP_TMP/ctr-runc" \
		"${flags[@]}" "$ref" "$id" "$@" >"$CGP_TMP/ctr-$id.log" 2>&1 || { cat "$CGP_TMP/ctr-$id.log" >&2; return 1; }
	CGP_PID=$(cat "$CGP_CONTAINERD_STATE/io.containerd.runtime.v2.task/$CGP_CTR_NS/$id/init.pid" 2>/dev/null)
	[ -n "$CGP_PID" ] && [ "$CGP_PID" -gt 0 ]
}

# The v1 memory limit (or v2 memory.max) of the cgroup at path, as the kernel applied it.
cgp_memory_limit() {
	local root
	for root in $(cgp_cgroup_roots); do
		[ -f "$root$1/memory.limit_in_bytes" ] && { cat "$root$1/memory.limit_in_bytes"; return; }
		[ -f "$root$1/memory.max" ] && { cat "$root$1/memory.max"; return; }
	done
}
