#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Usage: mkinitramfs.sh OUT.cpio.gz INIT CGPULSE TEST_BIN...
# Builds the test-vm guest's root: busybox-static with its applet links, /init, cgpulse, the test binaries under
# /tests, and bpftool (test_lifecycle reads the pinned maps with it); the shared libraries ldd names for them
# (and the dynamic loader) are copied in at the paths ldd resolved them to.
set -eu
out=$1 init=$2 agent=$3
shift 3
bb=/bin/busybox
if ! "$bb" --list >/dev/null 2>&1 || ldd "$bb" >/dev/null 2>&1; then
	echo "mkinitramfs: $bb is not busybox-static (apt-get install busybox-static)" >&2
	exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/bin "$root"/usr/sbin "$root"/tests "$root"/dev "$root"/proc "$root"/sys "$root"/tmp
cp "$bb" "$root/bin/busybox"
# `busybox` itself is in the list: a bin/busybox -> busybox link would replace the binary and loop (ELOOP)
for a in $("$bb" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
install -m 0755 "$init" "$root/init"
install -m 0755 "$agent" "$root/bin/cgpulse"
for t in "$@"; do
	install -m 0755 "$t" "$root/tests/"
done
bpftool=$(command -v bpftool || true)
[ -n "$bpftool" ] && install -m 0755 "$bpftool" "$root/usr/sbin/bpftool"
for f in "$root"/bin/cgpulse "$root"/tests/* "$root"/usr/sbin/*; do
	[ -e "$f" ] || continue
	ldd "$f" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# the kernel opens /dev/console for /init before anything is mounted; /init then mounts devtmpfs over /dev
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
(cd "$root" && find . | "$bb" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
