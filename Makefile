# SPDX-License-Identifier: GPL-2.0
# cgpulse build. `make` builds build/cgpulse; `make test` runs every test; `make run` runs the agent.
# Shape follows libbpf-bootstrap examples/c/Makefile; header dependencies via -MMD -MP as bpftool does.

OUT      ?= build
ARCH     ?= $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
VMLINUX  := vmlinux/$(ARCH)/vmlinux.h

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -g -O2
ALL_CFLAGS = $(CFLAGS) $(WARN) -MMD -MP -D_GNU_SOURCE -Iagent -Ibpf -Itools -Itests/lib -I$(OUT) -I$(OUT)/proto
LDLIBS   := -lbpf -lelf -lz -lyaml -ljansson -lprotobuf-c -lmicrohttpd -lisal -lgnutls -lseccomp -lm
# BPF_EXTRA: defines for a bench's variant build (tools/bench/sweep_split.sh), empty otherwise
BPF_CFLAGS := $(BPF_EXTRA) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Ibpf $(WARN) \
	-Wno-unused-parameter -Wno-missing-field-initializers -MMD -MP

PROTO_SRCS := $(sort $(wildcard proto/cgpulse/v1/*.proto))
PROTO_C    := $(patsubst proto/%.proto,$(OUT)/proto/%.pb-c.c,$(PROTO_SRCS))
# agent/<stage>/ are the stages of the data's way (lib < collect < names < playbook < events < sinks); the
# command files in agent/ sit on top. tools/collector/ links only lib and events (the codec).
STAGES     := lib collect names playbook events sinks
AGENT_SRCS := $(filter-out agent/main.c,$(sort $(wildcard agent/*.c $(foreach s,$(STAGES),agent/$(s)/*.c))))
LIB_OBJS   := $(patsubst %.c,$(OUT)/%.o,$(AGENT_SRCS)) $(patsubst %.c,%.o,$(PROTO_C))
# cgpulse-top (agent/top/): a program of its own, so its libraries never weigh on the agent
TOP_SRCS   := $(sort $(wildcard agent/top/*.c))
TOP_LIB    := $(patsubst %.c,$(OUT)/%.o,$(filter-out agent/top/main.c,$(TOP_SRCS)))
TOP_LDLIBS := -lcurl -lncurses
COLL_SRCS  := $(sort $(wildcard tools/collector/*.c))
COLL_LIB   := $(patsubst %.c,$(OUT)/%.o,$(filter-out tools/collector/main.c,$(COLL_SRCS)))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
KTEST_SRCS := $(sort $(wildcard tests/kernel/test_*.c))
TLIB_SRCS  := $(sort $(wildcard tests/lib/*.c))
TOOL_SRCS  := $(sort $(wildcard tools/*.c))
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
KTEST_BINS := $(patsubst tests/kernel/%.c,$(OUT)/tests/%,$(KTEST_SRCS))
TOOL_BINS  := $(patsubst tools/%.c,$(OUT)/%,$(TOOL_SRCS)) $(OUT)/cgpulse-collector
TLIB_OBJS  := $(patsubst %.c,$(OUT)/%.o,$(TLIB_SRCS))
# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/NAME/), built with clang into their own folder
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_OUT   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

.PHONY: all deps run test test-unit test-kernel test-asan test-faults test-faults-long bench install clean lint fuzz fuzz-build
.DELETE_ON_ERROR:

all: $(OUT)/cgpulse $(OUT)/cgpulse-top $(TOOL_BINS)

deps:
	$(Q)tools/deps.sh

$(OUT)/bpf $(OUT)/tests $(OUT)/proto:
	$(Q)mkdir -p $@

# One object: bpf/cgpulse.bpf.c includes every program file, so all programs share one copy of each map.
$(OUT)/bpf/cgpulse.tmp.bpf.o: bpf/cgpulse.bpf.c $(VMLINUX) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/cgpulse.bpf.o: $(OUT)/bpf/cgpulse.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/cgpulse.skel.h: $(OUT)/cgpulse.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name cgpulse_bpf > $@

$(OUT)/proto/%.pb-c.c $(OUT)/proto/%.pb-c.h: proto/%.proto | $(OUT)/proto
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --proto_path=proto --c_out=$(OUT)/proto $<

$(OUT)/proto/%.pb-c.o: $(OUT)/proto/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Userspace objects wait for the skeleton and generated protobuf headers.
USER_OBJS := $(patsubst %.c,$(OUT)/%.o,$(AGENT_SRCS) agent/main.c $(TOP_SRCS) $(TOOL_SRCS) $(COLL_SRCS) $(UNIT_SRCS) $(KTEST_SRCS) \
	     $(TLIB_SRCS) $(FUZZ_SRCS))
$(USER_OBJS): | $(OUT)/cgpulse.skel.h $(PROTO_C)
$(OUT)/agent/playbook/default.o: agent/playbook/default.yaml
$(OUT)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/libcgpulse.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/cgpulse: $(OUT)/agent/main.o $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/libtop.a: $(TOP_LIB)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/cgpulse-top: $(OUT)/agent/top/main.o $(OUT)/libtop.a $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) $(TOP_LDLIBS) -o $@

$(OUT)/libcollector.a: $(COLL_LIB)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/cgpulse-collector: $(OUT)/tools/collector/main.o $(OUT)/libcollector.a $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/%: $(OUT)/tools/%.o $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/tests/%: $(OUT)/tests/unit/%.o $(TLIB_OBJS) $(OUT)/libcollector.a $(OUT)/libtop.a $(OUT)/libcgpulse.a | $(OUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(OUT)/tests/%: $(OUT)/tests/kernel/%.o $(TLIB_OBJS) $(OUT)/libcgpulse.a | $(OUT)/tests
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# Only meaningful with OUT=$(FUZZ_OUT) and the flags fuzz-build passes.
$(OUT)/fuzz/fuzz_%: $(OUT)/tests/fuzz/fuzz_%.o $(OUT)/libcgpulse.a
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) $^ $(LDLIBS) -o $@

tests-build: $(UNIT_BINS) $(KTEST_BINS) $(OUT)/cgpulse $(OUT)/cgpulse-top $(TOOL_BINS)

# `make test`: the plain build, the fault suite, then the same suite built with AddressSanitizer + UBSan.
test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run.sh $(OUT)
	$(Q)$(MAKE) --no-print-directory test-faults
	$(Q)$(MAKE) --no-print-directory test-asan
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20
	$(Q)$(MAKE) --no-print-directory test-vm

# The fault suite (tests/faults/): crashes, stops, a full disk, churn, a long outage; ~4 minutes, each script
# bounded at 5. test-faults-long runs the long variants (the issue's 3 minutes of churn), each bounded at 15.
test-faults: tests-build
	$(Q)tests/run.sh $(OUT) faults

test-faults-long: tests-build
	$(Q)FAULTS_LONG=1 tests/run.sh $(OUT) faults

test-asan:
	$(Q)$(MAKE) --no-print-directory OUT=build-asan \
		CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined,float-cast-overflow" tests-build
	$(Q)ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh build-asan

# `make fuzz FUZZ_SECONDS=N`: each harness N seconds (clang 14, libFuzzer + ASan + UBSan), starting from its
# seeds and regression cases in tests/fuzz/NAME/ (new inputs go to $(FUZZ_OUT)/corpus/NAME, never into the
# tree); a crash, leak, sanitizer report or a 10 s input fails it, the input saved as
# $(FUZZ_OUT)/artifacts/NAME-*. Add such an input to tests/fuzz/NAME/ as a regression case.
fuzz-build:
	$(Q)$(MAKE) --no-print-directory OUT=$(FUZZ_OUT) CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" $(patsubst %,$(FUZZ_OUT)/fuzz/fuzz_%,$(FUZZ_NAMES))

fuzz: fuzz-build
	$(Q)mkdir -p $(FUZZ_OUT)/artifacts
	$(Q)for n in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_OUT)/corpus/$$n; \
		echo "  FUZZ     $$n ($(FUZZ_SECONDS) s)"; \
		$(FUZZ_OUT)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_OUT)/artifacts/$$n- \
			$(FUZZ_OUT)/corpus/$$n tests/fuzz/$$n > $(FUZZ_OUT)/$$n.log 2>&1 || \
			{ tail -n 40 $(FUZZ_OUT)/$$n.log; echo "fuzz: $$n failed (log: $(FUZZ_OUT)/$$n.log)"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' $(FUZZ_OUT)/$$n.log | tail -n 2; \
	done

test-unit: $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

run: deps all
	$(OUT)/cgpulse run $(ARGS)

bench: deps all
	$(Q)tools/bench/run.sh $(OUT)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(OUT)/cgpulse $(DESTDIR)$(PREFIX)/bin/cgpulse
	install -m 0755 $(OUT)/cgpulse-top $(DESTDIR)$(PREFIX)/bin/cgpulse-top
	$(foreach t,$(TOOL_BINS),install -m 0755 $(t) $(DESTDIR)$(PREFIX)/bin/$(notdir $(t));)

lint:
	tools/check-layers.sh
	clang-format --dry-run --Werror agent/*.[ch] agent/*/*.[ch] bpf/*.[ch] tools/*.c tools/*/*.[ch] tests/*/*.[ch]
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance --inline-suppr -Iagent -Itools \
		--suppress='unknownMacro:*.bpf.c' agent tools

clean:
	rm -rf $(OUT) build-asan $(FUZZ_OUT)

-include tools/vm/vm.mk
-include tools/bench/bench.mk
-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
