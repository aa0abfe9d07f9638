# SPDX-License-Identifier: GPL-2.0
# liveupdate: everything is built from here.
#
#   make            build the guest kernel, the module and luoctl (default flavor)
#   make demo       the main job: boot the guest and run a live update
#   make test       unit tests, then guest tests (default, upstream and debug flavors)
#   make bench      our module against the in-kernel LUO (RUNS=N, medians)
#   make soak       guest tests too long for make test (SOAK_FLAVORS headers)
#   make debian-rootfs   the Debian/systemd guest's root file system
#   make kernel FLAVOR=upstream|debug   other guest kernels
#   make print-kernel-src
#
# The kernel's own build system (Kbuild) takes over when this file is read
# from inside it.
ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

TOP := $(CURDIR)
BUILD := $(TOP)/build
KERNEL_PKG ?= linux-source-7.3
KERNEL_SRC := $(BUILD)/src/linux
FLAVOR ?= default
VERSION := $(shell cat $(TOP)/VERSION)

flavor-out = $(if $(filter default,$(1)),$(BUILD)/out,$(BUILD)/out-$(1))
# systemd.config: what the Debian guest's systemd needs (not on debug).
flavor-fragments = qemu/config/guest.config $(if $(filter debug,$(1)),,qemu/config/systemd.config) \
	$(if $(filter default,$(1)),,qemu/config/$(1).config)
OUT := $(call flavor-out,$(FLAVOR))
KBUILD_DIR := $(BUILD)/kernel-$(FLAVOR)
MODULE_BUILD := $(BUILD)/module-$(FLAVOR)
# Two make runs building one flavor's modules at once would share kbuild's
# temporary files; the second waits.
MODULE_LOCK = flock $(MODULE_BUILD)/.lu-lock

ifeq ($(filter $(FLAVOR),default upstream debug),)
$(error FLAVOR must be default, upstream or debug)
endif

.PHONY: all artifacts deps kernel-src kernel module luoctl selftests unit \
	test test-unit test-guest demo bench fuzz soak debian-rootfs print-kernel-src clean distclean

all: artifacts

deps:
	@scripts/install-deps.sh

kernel-src: deps
	@scripts/fetch-kernel-source.sh $(KERNEL_PKG) $(BUILD)/src

kernel: kernel-src
	@scripts/build-kernel.sh $(KERNEL_SRC) $(KBUILD_DIR) $(OUT) $(call flavor-fragments,$(FLAVOR))

# The module is ours only on kernels without the in-kernel LUO.
module: kernel
ifeq ($(FLAVOR),upstream)
	@echo "module: not built for FLAVOR=upstream (the in-kernel LUO owns /dev/liveupdate)"
else
	@mkdir -p $(MODULE_BUILD)
	$(MODULE_LOCK) $(MAKE) -s -C $(KBUILD_DIR) M=$(TOP) MO=$(MODULE_BUILD) modules
	@cp $(MODULE_BUILD)/liveupdate.ko $(OUT)/liveupdate.ko
	@mkdir -p $(MODULE_BUILD)/testmod
	$(MODULE_LOCK) $(MAKE) -s -C $(KBUILD_DIR) M=$(TOP)/selftests/testmod \
		MO=$(MODULE_BUILD)/testmod KBUILD_EXTRA_SYMBOLS=$(MODULE_BUILD)/Module.symvers modules
	@cp $(MODULE_BUILD)/testmod/lutest.ko $(OUT)/lutest.ko
	@mkdir -p $(MODULE_BUILD)/corruptmod
	$(MODULE_LOCK) $(MAKE) -s -C $(KBUILD_DIR) M=$(TOP)/selftests/corruptmod \
		MO=$(MODULE_BUILD)/corruptmod modules
	@cp $(MODULE_BUILD)/corruptmod/lucorrupt.ko $(OUT)/lucorrupt.ko
endif

luoctl: deps
	$(MAKE) -s -C tool OUT=$(BUILD)/tool
	@mkdir -p $(OUT)
	@cp $(BUILD)/tool/luoctl $(OUT)/luoctl

selftests: kernel
	$(MAKE) -s -C selftests FLAVOR=$(FLAVOR) OUT=$(BUILD)/selftests/$(FLAVOR) \
		KHDR=$(OUT)/include

artifacts: kernel module luoctl selftests

# The Debian guest's root file system (the systemd_* tests): Debian sid with
# systemd, cached in build/debian and rebuilt when sid's versions change.
debian-rootfs: deps
	@scripts/build-debian-rootfs.sh $(BUILD)/debian

unit: deps
	$(MAKE) -s -C unit OUT=$(BUILD)/unit

test: deps
	@scripts/run-all-tests.sh

demo: deps
	@scripts/demo.sh

# Side by side with the in-kernel LUO; a benchmark, not a test (make test
# never runs it). RUNS=N boot chains per flavor, medians.
RUNS ?= 3
bench: deps
	@RUNS=$(RUNS) scripts/bench.sh

# The ioctl fuzzer, longer than make test runs it: SEEDS=N boot chains per
# flavor, OPS=N operations per boot, SEED=S to run one seed again (the
# variables are scripts/fuzz.sh's). Not part of make test.
fuzz: deps
	@scripts/fuzz.sh

soak: deps
	@scripts/soak.sh

print-kernel-src:
	@echo $(KERNEL_SRC)

clean:
	rm -rf $(BUILD)/module-* $(BUILD)/tool $(BUILD)/unit $(BUILD)/selftests \
		$(BUILD)/initramfs $(BUILD)/logs $(BUILD)/bench

distclean:
	rm -rf $(BUILD)

endif
