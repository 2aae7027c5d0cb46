# pvboot: build, test and run.  `make` builds build/pvboot; `make run` and
# `make check` install what they need first (scripts/deps).

BUILD   ?= build
CC      ?= gcc
SAN     ?=
OPT     ?= -O2
RESULTS ?= $(BUILD)/test-results
CACHE   ?= build/cache
export PVBOOT_CACHE := $(abspath $(CACHE))
.DEFAULT_GOAL := all

XENDEF   := -D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__
WARN     := -Wall -Wextra -Werror
CSTD     := -std=c11
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANFLAGS := $(if $(SAN),$(SANITIZE))
COMMON   := $(CSTD) $(OPT) -g $(WARN) $(SANFLAGS) $(XENDEF)

# src/core and src/boot are freestanding: no libc headers at all, only the
# compiler's own <stdint.h>, <stddef.h>, <stdbool.h>, <stdarg.h> and Xen's
# public ABI headers (reached through build/xeninc, a link to them).
XENINC     := $(BUILD)/xeninc
FREE_FLAGS := $(COMMON) -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -I$(XENINC)
HOST_FLAGS := $(COMMON) -D_GNU_SOURCE -Iinclude

LIBS := -lelf -lz -lbz2 -llzma -llzo2 -llz4 -lzstd -lm

# One static library per layer; a program links its own layer and the
# layers below it, no more, so that a test reaching above its layer fails
# to link (docs/README.md, "Layers"):
#
#   core     freestanding: layout engine, P2M tree and list, page tables
#   boot     freestanding: the boot sequence and the guest protocol
#   image    kernel images, ramdisks, memory images
#   util     host plumbing: JSON output, files, locks, child processes
#   sim      the simulated Xen, the boot path's host platform
#   harness  real boots under QEMU, one ops table per kind of guest
#   report   layouts and the harness's runs, as text, JSON and SVG
#   cli      the pvboot command
LAYERS       := core boot image util sim harness report cli
core_DEPS    :=
boot_DEPS    := core
image_DEPS   := core
util_DEPS    := core
sim_DEPS     := boot image util core
harness_DEPS := util boot image core
report_DEPS  := harness util boot image core
cli_DEPS     := report harness sim image util boot core
# Link order: every layer before the layers it uses.
LINK_ORDER   := cli report harness sim image util boot core

layer_src = $(filter-out src/cli/main.c,$(wildcard src/$(1)/*.c))
layer_lib = $(BUILD)/lib/libpv$(1).a
# The libraries a program of layers $(1) links, in link order.
libs_of = $(foreach L,$(LINK_ORDER),$(if $(filter $(L),$(1) $(foreach M,$(1),$($(M)_DEPS))),$(call layer_lib,$(L))))

FREE_SRC := $(call layer_src,core) $(call layer_src,boot)
HOST_SRC := $(foreach L,image util sim harness report,$(call layer_src,$(L)))
LIB_OBJ  := $(foreach L,$(LAYERS),$(patsubst %.c,$(BUILD)/%.o,$(call layer_src,$(L))))

# For tests/layers/layers_test.sh: the layers, and the libraries of $(LAYER).
layer-names:
	@echo $(LAYERS)
layer-libs:
	@echo $(call libs_of,$(LAYER))

define layer_rule
$(call layer_lib,$(1)): $(patsubst %.c,$(BUILD)/%.o,$(call layer_src,$(1)))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $(AR) rcs $$@ $$^
endef
$(foreach L,$(LAYERS),$(eval $(call layer_rule,$(L))))

# tests/real boots real Xen in QEMU: once, in its own stage, not under ASan.
TEST_SRC  := $(filter-out tests/real/%,$(wildcard tests/*/*_test.c))
REAL_SRC  := $(wildcard tests/real/*_test.c)
REAL_BIN  := $(REAL_SRC:%.c=$(BUILD)/%)
# The seed's 128 GiB guest on every release, dom0 and domU: minutes each,
# so `make real-seed` runs it, not make check.
SEED_REAL := tests/real/seed_releases.c
TEST_BIN  := $(TEST_SRC:%.c=$(BUILD)/%)
TEST_UTIL := $(wildcard tests/util/*.c)

.PHONY: layer-names layer-libs script-test all deps run check test unit-test san-test real-test real-seed fuzz fuzz-run bench clean format kernel
all: $(BUILD)/pvboot $(BUILD)/pvboot-kernel.elf $(BUILD)/pvboot-kernel-broken.elf \
	$(BUILD)/pvboot-kernel-seed.elf $(BUILD)/pvboot-kernel-initp2m.elf

deps:
	@./scripts/deps

$(XENINC)/xen:
	@mkdir -p $(XENINC)
	@test -f /usr/include/xen/xen.h || { echo "error: Xen public headers missing (run scripts/deps: libxen-dev)"; exit 1; }
	ln -sfn /usr/include/xen $(XENINC)/xen

$(BUILD)/src/core/%.o: src/core/%.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(FREE_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/src/boot/%.o: src/boot/%.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(FREE_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/src/%.o: src/%.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(HOST_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/pvboot: $(BUILD)/src/cli/main.o $(call libs_of,cli)
	$(CC) $(COMMON) $^ -o $@ $(LIBS)

# Headers by hand: -MMD -MP over two sources records only one's.
TEST_HDR := $(wildcard tests/*/*.h include/pvboot/*.h src/*/*.h)

# A test links the layer its directory is named after and those below it.
# tests/boot runs the boot path on a platform, the simulated one (src/sim);
# tests/real drives the whole pvboot command.  An integration test that
# needs more says so here, with why.
TEST_LAYERS_core    := core
TEST_LAYERS_boot    := boot sim
TEST_LAYERS_image   := image
TEST_LAYERS_sim     := sim
TEST_LAYERS_harness := harness
TEST_LAYERS_report  := report
TEST_LAYERS_cli     := cli
TEST_LAYERS_real    := cli
# p2m_read_test reads memory images that the simulation writes.
TEST_LAYERS_core/p2m_read_test := sim

test_dir = $(word 2,$(subst /, ,$(1)))
test_layers = $(TEST_LAYERS_$(call test_dir,$(1))) $(TEST_LAYERS_$(patsubst tests/%.c,%,$(1)))

define test_rule
$(patsubst %.c,$(BUILD)/%,$(1)): $(1) $(TEST_UTIL) $(TEST_HDR) $(call libs_of,$(call test_layers,$(1)))
	@mkdir -p $$(dir $$@)
	$(CC) $(HOST_FLAGS) -Itests -MMD -MP $(1) $(TEST_UTIL) $(call libs_of,$(call test_layers,$(1))) -o $$@ $(LIBS) -lcmocka
endef
$(foreach T,$(TEST_SRC) $(REAL_SRC) $(SEED_REAL),$(eval $(call test_rule,$(T))))

-include $(shell find $(BUILD)/src $(BUILD)/tests -name '*.d' 2>/dev/null)

# pvboot's PV kernel: kernel/ plus the same src/boot and the parts of
# src/core it uses, built again for ring-3 x86-64 PV (kernel code model, no
# red zone, no FPU/SSE), linked at __START_KERNEL_map (kernel/kernel.lds).
KERNEL      := $(BUILD)/pvboot-kernel.elf
KOBJDIR     := $(BUILD)/kernel-obj
KERNEL_CORE := src/core/p2m.c src/core/p2m_linear.c src/core/p2m_if.c src/core/pgtable.c \
	src/core/fmt.c src/core/error.c $(wildcard src/core/pvsum.c)
KERNEL_SRC  := $(wildcard kernel/*.c) $(wildcard kernel/platform/*.c) $(wildcard src/boot/*.c) \
	$(KERNEL_CORE)
KERNEL_ASM  := $(wildcard kernel/*.S)
KERNEL_OBJ  := $(KERNEL_SRC:%.c=$(KOBJDIR)/%.o) $(KERNEL_ASM:%.S=$(KOBJDIR)/%.o)
KFLAGS := -std=gnu11 -O2 -g $(WARN) $(XENDEF) -ffreestanding -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -I$(XENINC) \
	-fno-pic -fno-pie -mcmodel=kernel -mno-red-zone -mno-sse -mno-mmx -mno-80387 \
	-fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 --build-id=none --no-warn-rwx-segments

kernel: $(KERNEL)

$(KOBJDIR)/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(KFLAGS) -MMD -MP -c $< -o $@

$(KOBJDIR)/%.o: %.S | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(KFLAGS) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(KERNEL): $(KERNEL_OBJ) kernel/kernel.lds
	$(LD) $(KLDFLAGS) -T kernel/kernel.lds $(KERNEL_OBJ) -o $@

# The same kernel, broken on purpose (no xen_cleanhighmap after the
# revector): the real-boot tests show that their module check can fail.
KERNEL_BROKEN := $(BUILD)/pvboot-kernel-broken.elf

$(KOBJDIR)/broken/main.o: kernel/main.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(KFLAGS) -DPVBOOT_BROKEN_CLEANHIGHMAP -MMD -MP -c $< -o $@

$(KERNEL_BROKEN): $(filter-out $(KOBJDIR)/kernel/main.o,$(KERNEL_OBJ)) $(KOBJDIR)/broken/main.o kernel/kernel.lds
	$(LD) $(KLDFLAGS) -T kernel/kernel.lds $(filter %.o,$^) -o $@

# The same kernel with the INIT_P2M and MOD_START_PFN notes (docs/builders.md
# section 5.5): the P2M list at 0x8000000000, outside the initial mapping.
KERNEL_INITP2M := $(BUILD)/pvboot-kernel-initp2m.elf

$(KOBJDIR)/initp2m/notes.o: kernel/notes.S | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(CC) $(KFLAGS) -D__ASSEMBLY__ -DPVBOOT_INIT_P2M -MMD -MP -c $< -o $@

$(KERNEL_INITP2M): $(filter-out $(KOBJDIR)/kernel/notes.o,$(KERNEL_OBJ)) $(KOBJDIR)/initp2m/notes.o kernel/kernel.lds
	$(LD) $(KLDFLAGS) -T kernel/kernel.lds $(filter %.o,$^) -o $@

# The same kernel with the seed's extent (PV_SEED_KSTART-PV_SEED_KEND in
# include/pvboot/seed.h), so a builder prints the seed's own numbers for it
# (pvboot run --kernel-extent seed).
KERNEL_SEED := $(BUILD)/pvboot-kernel-seed.elf

# The bss grows by what the plain kernel lacks of that end (the arithmetic
# on the low 32 bits: sh's is signed 64-bit, and both are 0xffffffff8.......).
SEED_END := $(shell sed -n 's/^\#define PV_SEED_KEND[[:space:]]*\(0x[0-9a-f]*\)ULL.*/\1/p' include/pvboot/seed.h)

$(KERNEL_SEED): $(KERNEL) kernel/kernel.lds
	@end=$$(nm $(KERNEL) | awk '$$3 == "_end" { print $$1 }'); \
	case $$end in ffffffff8*) ;; *) echo "unexpected _end $$end"; exit 1 ;; esac; \
	pad=$$(( 0x$$(echo $(SEED_END) | cut -c11-) - 0x$${end#ffffffff} )); \
	test "$$pad" -ge 0 || { echo "the kernel ends past the seed's $(SEED_END)"; exit 1; }; \
	printf '\t.section .bss.seed_pad, "aw", @nobits\n\t.skip %d\n\t.section .note.GNU-stack, "", @progbits\n' \
		"$$pad" > $(KOBJDIR)/seed_pad.S
	$(CC) -c $(KOBJDIR)/seed_pad.S -o $(KOBJDIR)/seed_pad.o
	$(LD) $(KLDFLAGS) -T kernel/kernel.lds $(KERNEL_OBJ) $(KOBJDIR)/seed_pad.o -o $@

-include $(shell find $(KOBJDIR) -name '*.d' 2>/dev/null)

# The tests: unit tests and CLI tests (all cmocka), then the same under
# ASan+UBSan, then bounded fuzzing runs of the two file readers, then the real
# boots.  A stage that fails is named in the closing line, so a build error
# that leaves no test to count still shows.
check: deps
	rm -rf $(BUILD)/test-results $(CACHE)/scratch-*
	@rc=0; mkdir -p $(BUILD)/test-results/stages; \
	for stage in all unit-test script-test san-test fuzz-run real-test; do \
		$(MAKE) $$stage || { rc=1; echo "$$stage" >> $(BUILD)/test-results/stages/failed; }; \
	done; \
	./tests/summary.sh $(BUILD)/test-results || rc=1; \
	exit $$rc

unit-test: $(TEST_BIN) $(BUILD)/pvboot
	@PVBOOT=$(BUILD)/pvboot ./tests/run.sh $(RESULTS)/$(if $(SAN),san,plain) $(TEST_BIN)

test: unit-test

# Shell tests: the scripts' mirror and cache rules, and the layers as the
# build enforces them (after the libraries are built).
SCRIPT_TESTS := $(wildcard tests/scripts/*_test.sh) tests/layers/layers_test.sh tests/docs/citations_test.sh
script-test: $(foreach L,$(LAYERS),$(call layer_lib,$(L))) | $(XENINC)/xen
	@BUILD=$(BUILD) ./tests/run.sh $(RESULTS)/scripts $(SCRIPT_TESTS)

# Real boots under Xen 4.17 in QEMU (TCG), one after another; each boot has
# its own --timeout.  Xen comes from Debian into build/cache on first use.
real-test: $(REAL_BIN) $(BUILD)/pvboot $(KERNEL) $(KERNEL_BROKEN) $(KERNEL_SEED) $(KERNEL_INITP2M)
	@PVBOOT=$(BUILD)/pvboot ./tests/run.sh $(RESULTS)/real $(REAL_BIN)

# The seed's guest for real on Xen 4.14, 4.17 and 4.20, as domU and as dom0
# (measured: 8 min 20 s on 2 cores, 12 boots): not part of make check.
real-seed: deps
	$(MAKE) all $(SEED_REAL:%.c=$(BUILD)/%)
	@PVBOOT=$(BUILD)/pvboot ./tests/run.sh $(RESULTS)/real-seed $(SEED_REAL:%.c=$(BUILD)/%)

san-test:
	PVBOOT_KA_CASES=250 $(MAKE) BUILD=$(BUILD)/san SAN=1 OPT=-O1 unit-test RESULTS=$(BUILD)/test-results

# libFuzzer targets (clang), with ASan and UBSan: the kernel-image reader,
# and the memory-image reader with the P2M reader behind it.  The image
# reader's seeds are kernels in tests/fuzz/seeds; the memory images' are
# made by pvboot simulate --dump, so they follow the format.
FUZZ_SECONDS ?= 60
DUMP_FUZZ_SECONDS ?= 30
FUZZ_CC = clang $(CSTD) -g -O1 $(WARN) $(XENDEF) -D_GNU_SOURCE -Iinclude -Isrc -Itests -I$(XENINC) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BIN := $(BUILD)/fuzz/image_fuzz
DUMP_FUZZ_BIN := $(BUILD)/fuzz/dump_fuzz
DUMP_SEEDS := $(BUILD)/fuzz/dump-seeds
# Each target is built from its layers' sources: the readers it fuzzes are the image layer's.
FUZZ_SRC := $(foreach L,image $(image_DEPS),$(call layer_src,$(L)))
$(FUZZ_BIN): tests/fuzz/image_fuzz.c tests/fuzz/fuzz.h $(FUZZ_SRC) | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter %.c,$^) -o $@ $(LIBS)
$(DUMP_FUZZ_BIN): tests/fuzz/dump_fuzz.c tests/fuzz/fuzz.h $(FUZZ_SRC) | $(XENINC)/xen
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter %.c,$^) -o $@ $(LIBS)

# Two small domains' memory images: the 3-level tree, and the linear list with it.
$(DUMP_SEEDS)/stamp: $(BUILD)/pvboot
	@rm -rf $(DUMP_SEEDS) && mkdir -p $(DUMP_SEEDS)
	for m in revector linear; do \
		$(BUILD)/pvboot simulate --memory 24M --ramdisk-size 0 --mode $$m \
			--kernel-start 0xffffffff81000000 --kernel-end 0xffffffff81010000 \
			--dump $(DUMP_SEEDS)/$$m.img >/dev/null || exit 1; \
	done
	@touch $@

fuzz: $(FUZZ_BIN)
	@mkdir -p $(BUILD)/fuzz/corpus
	$(FUZZ_BIN) $(BUILD)/fuzz/corpus tests/fuzz/seeds

fuzz-run: $(FUZZ_BIN) $(DUMP_FUZZ_BIN) $(DUMP_SEEDS)/stamp
	@rc=0; \
	./tests/fuzz/run.sh $(FUZZ_BIN) $(FUZZ_SECONDS) tests/fuzz/seeds $(BUILD)/test-results/fuzz || rc=1; \
	./tests/fuzz/run.sh $(DUMP_FUZZ_BIN) $(DUMP_FUZZ_SECONDS) $(DUMP_SEEDS) $(BUILD)/test-results/fuzz || rc=1; \
	exit $$rc

# Speed targets, measured side by side and printed as ratios (not a test).
$(BUILD)/bench: bench/bench.c $(call libs_of,cli)
	$(CC) $(HOST_FLAGS) -MMD -MP $< $(call libs_of,cli) -o $@ $(LIBS)

bench: deps
	$(MAKE) all $(BUILD)/bench
	$(BUILD)/bench $(BUILD)/pvboot

run: deps
	$(MAKE) all
	./scripts/demo $(BUILD)/pvboot
	@echo
	@echo "== The seed's 128 GiB guest for real: Xen 4.17 in QEMU, pvboot's kernel as dom0 =="
	$(BUILD)/pvboot run
	@echo
	@echo "== The seed's own guest for real: a 128 GiB domU built by xl create (libxenguest 4.17) =="
	$(BUILD)/pvboot run --domu

clean:
	rm -rf $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
