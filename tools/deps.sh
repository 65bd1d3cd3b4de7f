#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Installs the Debian packages cgpulse needs that are missing; apt-get update runs once, only when needed.
set -euo pipefail
pkgs=(clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libisal-dev libmicrohttpd-dev libprotobuf-c-dev protobuf-c-compiler
      protobuf-compiler python3-protobuf libyaml-dev libjansson-dev libcmocka-dev libclang-rt-14-dev libseccomp-dev libgnutls28-dev
      openssl bpftrace runc containerd busybox-static prometheus prometheus-alertmanager curl libcurl4-openssl-dev
      libncurses-dev tmux util-linux libcap2-bin make gcc python3-yaml qemu-system-x86 valgrind)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (${missing[*]}); run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
