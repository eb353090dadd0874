# dbgkvm: top-level make. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := module

KERNEL ?= 6.12
VM ?= qemu-svm
TARGET ?= dbgkvm
ROOT := $(abspath .)
BUILD := $(ROOT)/build
CXX := g++-12
CC := gcc-12

# KDIR: the kernel build tree. Default: Debian's headers for KERNEL, resolved from apt-cache.
KDIR ?= $(shell $(ROOT)/scripts/kernel-pkg.sh headers-dir $(KERNEL) 2>/dev/null)
KOUT := $(BUILD)/kmod-$(KERNEL)

# The C++ objects use the compiler's freestanding headers only: -nostdinc, then exactly
# libstdc++'s header dirs and GCC's own include dir (for <stdint.h> in freestanding mode).
CXX_SYS_INC := $(shell echo | $(CXX) -xc++ -E -v - 2>&1 | \
	sed -n '/^#include <...> search/,/^End of/p' | grep -E '/c\+\+/|/gcc/' | \
	sed 's/^ */-isystem /' | tr '\n' ' ')

.PHONY: help setup module module-all sparse unit fuzz-unit fuzz-unit-replay selftests bpf testbins vmtest bench \
	demo fuzz check clean format dkms-install dkms-remove dkms-check deb deb-check

help:
	@echo "make setup                 install every package (Debian + bookworm-backports)"
	@echo "make [KERNEL=6.1|6.12|debug] build dbgkvm.ko into build/kmod-KERNEL/ (KDIR=... for any tree;"
	@echo "                           debug: the debug kernel, built once and cached, scripts/debug-kernel.sh)"
	@echo "make module-all            build against both 6.1 and 6.12"
	@echo "make sparse KERNEL=..      sparse (C=2) over the C glue"
	@echo "make unit                  host unit tests (GoogleTest/CTest)"
	@echo "make fuzz-unit             libFuzzer+ASan+UBSan on the pure C++, FUZZ_UNIT_SECONDS (30) each"
	@echo "make fuzz-unit-replay      the fuzzers over their seed corpus only (tests/fuzz/corpus)"
	@echo "make selftests             build the selftests (static)"
	@echo "make vmtest VM=qemu-svm|bochs-vmx KERNEL=6.1|6.12|debug TARGET=dbgkvm|kvm [ONLY=a,b]"
	@echo "make bench KERNEL=..       exit costs under -icount, dbgkvm beside Debian's KVM"
	@echo "make demo                  boot QEMU, load dbgkvm, run a guest, show what happened"
	@echo "make fuzz [KERNEL=6.12|debug] [TARGET=dbgkvm|kvm] [FUZZ_MINUTES=10] [FUZZ_SEED=S]"
	@echo "                           fuzz_test in qemu-svm for FUZZ_MINUTES"
	@echo "make dkms-install [KERNELVER=..] dbgkvm into the host's DKMS (/usr/src/dbgkvm-VERSION), built"
	@echo "                           and installed for KERNELVER (default: the running kernel)"
	@echo "make dkms-remove           dkms remove --all of every dbgkvm version (not the .deb's) and its source"
	@echo "make dkms-check            dkms build for Debian's 6.1 and 6.12 in a throw-away DKMS tree"
	@echo "make deb                   the Debian package dbgkvm-dkms into build/deb/"
	@echo "make deb-check             make deb, unpack it into a throw-away root, check its files, lintian"
	@echo "make check                 setup, unit tests, then every vmtest"

setup:
	@bash $(ROOT)/scripts/setup-host.sh

# A symlink tree per kernel keeps the objects of 6.1 and 6.12 apart.
module:
	@if [ "$(KERNEL)" = debug ]; then bash $(ROOT)/scripts/debug-kernel.sh build; fi
	@test -n "$(KDIR)" -a -d "$(KDIR)" || { echo "no kernel tree for KERNEL=$(KERNEL): run make setup or pass KDIR=" >&2; exit 1; }
	@mkdir -p $(KOUT)/include && cp -asf $(ROOT)/kmod/. $(KOUT)/ && cp -asf $(ROOT)/include/. $(KOUT)/include/
	@find -L $(KOUT) -type l -delete 2>/dev/null || true
	@bash $(ROOT)/scripts/uapi-headers.sh $(KDIR) $(KOUT)/uapi-include
	$(MAKE) -C $(KDIR) M=$(KOUT) CC=$(CC) CXX=$(CXX) \
		DBGKVM_CXX_INCLUDES="-nostdinc $(CXX_SYS_INC) -isystem $(KOUT)/uapi-include" \
		$(KMAKEFLAGS) modules

module-all:
	$(MAKE) module KERNEL=6.1
	$(MAKE) module KERNEL=6.12

sparse:
	$(MAKE) module KMAKEFLAGS="C=2 W=1"

unit:
	cmake -S tests/unit -B $(BUILD)/unit -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD)/unit -j2
	cd $(BUILD)/unit && ctest --output-on-failure

# tests/fuzz: one libFuzzer harness per pure target (decoder, page walker, memslots, debug
# registers), built with clang-14 under ASan+UBSan into build/fuzz-unit/ (scripts/fuzz-unit.sh).
FUZZ_UNIT_SECONDS ?= 30
fuzz-unit:
	FUZZ_UNIT_SECONDS=$(FUZZ_UNIT_SECONDS) bash scripts/fuzz-unit.sh run

fuzz-unit-replay:
	bash scripts/fuzz-unit.sh replay

selftests:
	$(MAKE) -C selftests O=$(BUILD)/selftests

bpf:
	$(MAKE) -C tools/bpf O=$(BUILD)/bpf

# Everything the test machines run, in one directory: the selftests and drwatch_test.
testbins: selftests bpf
	@rm -rf $(BUILD)/tests && mkdir -p $(BUILD)/tests
	@cp $(BUILD)/selftests/bin/* $(BUILD)/bpf/tests/* $(BUILD)/tests/

vmtest: testbins
	@if [ "$(TARGET)" = dbgkvm ]; then $(MAKE) module KERNEL=$(KERNEL); fi
	bash scripts/vmtest.sh --vm $(VM) --kernel $(KERNEL) --target $(TARGET) \
		--module $(KOUT)/dbgkvm.ko --tests $(BUILD)/tests $(if $(ONLY),--only $(ONLY))

# Exit costs under QEMU's -icount shift=0 (1 ns = 1 instruction: repeatable), dbgkvm
# beside Debian's KVM in the same machine, one boot each (scripts/bench.sh; the guest clock
# counts both vCPUs' instructions, so the boots pass cryptomgr.notests: 6.12's RSA
# self-test would run on the other vCPU during the measurement). Then
# scripts/bench-guard.sh prints the table, writes build/bench/$(KERNEL).txt and fails
# when any dbgkvm figure is above KVM's, or is missing.
bench: testbins
	$(MAKE) module KERNEL=$(KERNEL)
	bash scripts/bench.sh --kernel $(KERNEL) --module $(KOUT)/dbgkvm.ko --tests $(BUILD)/tests

demo: setup selftests
	$(MAKE) module KERNEL=$(KERNEL)
	bash scripts/vmtest.sh --vm qemu-svm --kernel $(KERNEL) --target dbgkvm --demo \
		--module $(KOUT)/dbgkvm.ko --tests $(BUILD)/selftests/bin

# The fuzzer (selftests/fuzz) in qemu-svm for FUZZ_MINUTES, seeded by FUZZ_SEED (else from
# the clock; the run prints its seed). Prints the fuzzer's summary line and the machine's
# kernel complaints; fails when a test, a complaint or the run failed. A failure prints the
# seed, the iteration's sub-seed and the line that replays it alone.
FUZZ_MINUTES ?= 10
FUZZ_SEED ?=
FUZZ_OUT := $(BUILD)/vmtest/fuzz-$(KERNEL)-$(TARGET)
fuzz: testbins
	@if [ "$(TARGET)" = dbgkvm ]; then $(MAKE) module KERNEL=$(KERNEL); fi
	@mkdir -p $(BUILD)/vmtest; s=$$(( $(FUZZ_MINUTES) * 60 )); rc=0; \
	bash scripts/vmtest.sh --vm qemu-svm --kernel $(KERNEL) --target $(TARGET) \
		--module $(KOUT)/dbgkvm.ko --tests $(BUILD)/tests --only fuzz_test \
		--out $(FUZZ_OUT) --test-timeout $$(( s + 600 )) \
		--append "fuzz.seconds=$$s$(if $(FUZZ_SEED), fuzz.seed=$(FUZZ_SEED))" \
		>$(FUZZ_OUT).log 2>&1 || rc=$$?; \
	grep -E '^(fuzz_test: )?not ok|^fuzz_test: # fuzz:|^complaint: ' $(FUZZ_OUT).log | sed 's/^fuzz_test: //'; \
	tail -n 1 $(FUZZ_OUT).log; echo "log: $(FUZZ_OUT).log, console: $(FUZZ_OUT)/serial.log"; \
	exit $$rc

# DKMS and the Debian package (packaging/). The DKMS source tree is scripts/dkms-src.sh's:
# this Makefile, kmod/, include/, scripts/uapi-headers.sh and packaging/dkms.conf, whose
# MAKE line is `make module KERNEL=$kernelver KDIR=$kernel_source_dir`.
KERNELVER ?= $(shell uname -r)
dkms-install:
	bash scripts/dkms.sh install $(KERNELVER)

dkms-remove:
	bash scripts/dkms.sh remove

dkms-check:
	bash scripts/dkms-check.sh

deb:
	bash scripts/deb.sh

deb-check:
	bash scripts/deb-check.sh

check: setup
	bash scripts/check.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD)
