#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Usage: fetch-kernel.sh SERIES CACHE_DIR — prints the path of a Debian cloud kernel of SERIES (6.1, 6.12).
# The package is only downloaded and unpacked (apt-get download + dpkg -x), never installed: the host kernel
# stays as it is. A kernel already unpacked under CACHE_DIR/SERIES is reused, so later runs need no network.
set -eu
series=$1
cache=$2/$series
first_kernel() {
	for k in "$cache"/boot/vmlinuz-*; do
		[ -f "$k" ] && echo "$k" && return 0
	done
	return 1
}
first_kernel && exit 0
# Debian names the newest kernel of a series only through a meta-package (6.1 is bookworm's own kernel, 6.12
# comes from bookworm's updates); its dependency is the versioned image package.
case $series in
6.1) meta=linux-image-cloud-amd64 ;;
*) meta=linux-image-${series}-cloud-amd64 ;;
esac
resolve() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n "s/^ *Depends: \(linux-image-${series}[.0-9+a-z-]*-cloud-amd64\)\$/\1/p" | head -n 1
}
pkg=$(resolve)
if [ -z "$pkg" ]; then # apt's package lists may be missing or stale on a fresh machine
	apt-get update -qq >&2 || true
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	echo "fetch-kernel: no Debian package for kernel $series ($meta not found by apt-cache; is Debian's mirror reachable?)" >&2
	exit 1
fi
tmp=$(mktemp -d "$2/.fetch-$series.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# The -unsigned image is the same kernel without the Secure Boot signature QEMU has no use for. As root, apt
# would drop to its _apt user to download, which cannot write into our private temp dir.
get() { (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$1" >&2); }
if ! get "$pkg-unsigned" && ! get "$pkg"; then
	echo "fetch-kernel: apt-get download $pkg-unsigned (or $pkg) failed: no kernel $series" >&2
	exit 1
fi
mkdir -p "$tmp/x"
dpkg -x "$tmp"/*.deb "$tmp/x"
rm -rf "$cache" && mkdir -p "$cache/boot"
cp "$tmp"/x/boot/vmlinuz-* "$tmp"/x/boot/config-* "$cache/boot/"
first_kernel
