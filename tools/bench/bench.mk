# SPDX-License-Identifier: GPL-2.0
# Benchmark binaries (build/bench/), included from the top Makefile; `make bench` builds them and runs
# tools/bench/run.sh. Kept apart from `all` so a plain build does not pay for them.

BENCH_OUT  := $(OUT)/bench
# the top Makefile's full flag set (warnings as errors, -MMD, include paths), whichever name it has
BENCH_CFLAGS = $(if $(ALL_CFLAGS),$(ALL_CFLAGS),$(CFLAGS))
BENCH_BPF  := empty ablate
BENCH_BINS := $(BENCH_OUT)/pingpong $(BENCH_OUT)/calib $(BENCH_OUT)/empty_load $(BENCH_OUT)/ablate_load $(BENCH_OUT)/cgpbench \
	      $(BENCH_OUT)/enginebench $(BENCH_OUT)/renderbench

bench: $(BENCH_BINS)

$(BENCH_OUT):
	$(Q)mkdir -p $@

$(BENCH_OUT)/%.tmp.bpf.o: tools/bench/%.bpf.c $(VMLINUX) | $(BENCH_OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_OUT)/%.bpf.o: $(BENCH_OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BENCH_OUT)/%.skel.h: $(BENCH_OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# cgpbench links the agent library, so it waits for the same generated headers as the agent's objects.
$(BENCH_OUT)/%.o: tools/bench/%.c | $(patsubst %,$(BENCH_OUT)/%.skel.h,$(BENCH_BPF)) $(OUT)/cgpulse.skel.h $(PROTO_C)
	$(call msg,CC,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) -I$(BENCH_OUT) -c $< -o $@

$(BENCH_OUT)/pingpong $(BENCH_OUT)/calib: $(BENCH_OUT)/%: $(BENCH_OUT)/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) $^ -o $@

$(BENCH_OUT)/empty_load $(BENCH_OUT)/ablate_load: $(BENCH_OUT)/%: $(BENCH_OUT)/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) $^ -lbpf -lelf -lz -o $@

$(BENCH_OUT)/cgpbench $(BENCH_OUT)/enginebench $(BENCH_OUT)/renderbench: $(BENCH_OUT)/%: $(BENCH_OUT)/%.o $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(BENCH_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# keep the generated objects and skeletons (make would delete them as intermediates and rebuild every time)
.SECONDARY: $(foreach b,$(BENCH_BPF),$(BENCH_OUT)/$(b).tmp.bpf.o $(BENCH_OUT)/$(b).bpf.o $(BENCH_OUT)/$(b).skel.h)

# included before the top Makefile's first target, "bench" above would become the default goal: keep it `all`
ifeq ($(.DEFAULT_GOAL),bench)
.DEFAULT_GOAL := all
endif
