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
#   make install [PREFIX=/usr/local] [DESTDIR=]   luoctl, its man page, bash
#                   completion and systemd unit, and the module's source for
#                   DKMS in /usr/src/liveupdate-VERSION (no kernel is built)
#   make uninstall [PREFIX=...] [DESTDIR=]
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
	test test-unit test-guest demo bench fuzz soak debian-rootfs print-kernel-src clean distclean \
	luoctl-tool man install install-dkms-src uninstall

# Where make install puts things. systemd also reads units from
# /usr/local/lib/systemd/system; with PREFIX=/usr they go to /lib/systemd/system,
# where Debian (bookworm) keeps them. DKMS only looks in /usr/src, whatever
# the prefix.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DKMSSRCDIR ?= /usr/src/liveupdate-$(VERSION)
# What DKMS needs to build liveupdate.ko: Kbuild and the sources it builds
# from (not the selftest modules). Found by name, not by git, so that a
# tarball without .git installs the same files.
DKMS_SOURCES = Kbuild VERSION $$(find module include uapi -type f \
	\( -name '*.[ch]' -o -name '*.[ch]pp' \) | LC_ALL=C sort)
MAN_PAGE := $(BUILD)/man/luoctl.8

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
	$(MAKE) -s luoctl-tool
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

# luoctl alone, without deps or a kernel: what make install and the Debian
# package build.
luoctl-tool:
	$(MAKE) -s -C tool OUT=$(BUILD)/tool

# luoctl(8) from its scdoc source.
man: $(MAN_PAGE)

$(MAN_PAGE): docs/luoctl.8.scd VERSION
	@command -v scdoc >/dev/null || { echo "man: scdoc is needed (apt-get install scdoc)" >&2; exit 1; }
	@mkdir -p $(@D)
	sed 's/@VERSION@/$(VERSION)/g' $< | scdoc >$@.tmp
	@mv $@.tmp $@

install: luoctl-tool man install-dkms-src
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BUILD)/tool/luoctl $(DESTDIR)$(SBINDIR)/luoctl
	install -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/man8/luoctl.8
	install -m 0644 dist/bash-completion/luoctl $(DESTDIR)$(BASHCOMPDIR)/luoctl
	install -m 0644 dist/systemd/luoctl-agent.service $(DESTDIR)$(SYSTEMDUNITDIR)/luoctl-agent.service

# The module's source as DKMS wants it: /usr/src/NAME-VERSION/dkms.conf.
install-dkms-src:
	install -d $(DESTDIR)$(DKMSSRCDIR)
	for f in $(DKMS_SOURCES); do install -D -m 0644 $$f $(DESTDIR)$(DKMSSRCDIR)/$$f || exit 1; done
	sed 's/@VERSION@/$(VERSION)/g' dist/dkms/dkms.conf >$(DESTDIR)$(DKMSSRCDIR)/dkms.conf
	@chmod 0644 $(DESTDIR)$(DKMSSRCDIR)/dkms.conf

# Removes what install put there (directories others may share stay).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/luoctl $(DESTDIR)$(MANDIR)/man8/luoctl.8 \
		$(DESTDIR)$(BASHCOMPDIR)/luoctl $(DESTDIR)$(SYSTEMDUNITDIR)/luoctl-agent.service
	rm -rf $(DESTDIR)$(DKMSSRCDIR)

print-kernel-src:
	@echo $(KERNEL_SRC)

clean:
	rm -rf $(BUILD)/module-* $(BUILD)/tool $(BUILD)/unit $(BUILD)/selftests \
		$(BUILD)/initramfs $(BUILD)/logs $(BUILD)/bench $(BUILD)/man $(BUILD)/deb \
		$(BUILD)/out-pkg

distclean:
	rm -rf $(BUILD)

endif
