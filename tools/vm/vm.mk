# SPDX-License-Identifier: GPL-2.0
# `make test-vm`: the kernel tests and a cgpulse smoke test on Debian's 6.1 and 6.12 cloud kernels under QEMU,
# pure cgroup v2 (see tools/vm/run.sh). Included by the Makefile after its own variables and rules.
#
# The guest runs the very binaries of the normal build, with the shared libraries they name copied in
# (mkinitramfs.sh). Static binaries are not to be had with Debian 12's archives: libmicrohttpd.a needs GnuTLS,
# whose static link needs libp11-kit.a, which Debian does not ship; and there is no libcmocka.a.

VM_OUT      ?= $(OUT)/vm
VM_KERNELS  ?= 6.1 6.12

.PHONY: test-vm

$(VM_OUT)/initramfs.cpio.gz: tools/vm/init tools/vm/mkinitramfs.sh $(OUT)/cgpulse $(KTEST_BINS)
	$(call msg,CPIO,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)tools/vm/mkinitramfs.sh $@ tools/vm/init $(OUT)/cgpulse $(KTEST_BINS)

test-vm: deps $(VM_OUT)/initramfs.cpio.gz
	$(Q)tools/vm/run.sh $(VM_OUT) $(VM_OUT)/initramfs.cpio.gz $(VM_KERNELS)
