# SPDX-License-Identifier: GPL-2.0-only
#
# dm-replica top-level Makefile.
#
#   make                     build dm-replica.ko (+ userspace/ when present)
#   make W=1 | C=1           extra warnings | run sparse (passed to kbuild;
#                            C=2 checks every file; WERROR=1 makes compiler
#                            and sparse warnings fatal)
#   make KERNEL=6.12         pick the newest installed 6.12 generic kernel
#   make KVER=<release>      pick an exact kernel release (its headers tree)
#   make KDIR=<dir>          build against an arbitrary headers/build tree
#   make check [T=name]      host unit tests + selftests in a VM (6.1 default)
#   make check DEBUG_KERNEL=1  the same on a debug kernel (KASAN, lockdep,
#                            kmemleak, ...) built once under build/debug-kernel
#   make demo                deps + build + boot the VM + run selftests/demo.sh
#   make deps                install build/test dependencies (Debian, root)
#   make bench               run scripts/bench when it exists
#   make clean
#
# kbuild writes objects next to the sources, so each kernel gets its own
# tree of symlinks under build/<kver>/src and the module ends up in
# build/<kver>/dm-replica.ko.  Nothing is ever built in the source tree.

SHELL := /bin/bash
TOPDIR := $(CURDIR)
BUILD := $(TOPDIR)/build

# Newest installed Debian kernel of a series (generic amd64 flavour) that
# has both an image in /boot and a headers tree.
kver_of = $(shell $(TOPDIR)/scripts/kver $(1))

# DEBUG_KERNEL=1: the debug kernel built from Debian's linux-source-6.1 by
# scripts/debug-kernel (KASAN, lockdep, kmemleak, ...), cached under
# build/debug-kernel/; the module is built against its output tree.
ifeq ($(DEBUG_KERNEL),1)
  KVER := $(shell $(TOPDIR)/scripts/debug-kernel --kver)
  KDIR := $(BUILD)/debug-kernel/obj
  DEBUG_KERNEL_DEP := debug-kernel
endif

ifneq ($(KERNEL),)
  KVER := $(call kver_of,$(KERNEL))
  ifeq ($(KVER),)
    KVER := no-kernel-matches-KERNEL=$(KERNEL)
  endif
endif

ifeq ($(KVER),)
  ifneq ($(KDIR),)
    KVER := $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
  endif
endif

# `make check` / `make demo` boot a VM: default to Debian's 6.1 generic
# kernel there even when the host's running kernel has a build tree.
ifneq ($(filter check _check vm-check demo _demo,$(MAKECMDGOALS)),)
  ifeq ($(KVER),)
    KVER := $(call kver_of,6.1)
  endif
endif

ifeq ($(KVER),)
  ifneq ($(wildcard /lib/modules/$(shell uname -r)/build/Makefile),)
    KVER := $(shell uname -r)
  else
    KVER := $(call kver_of,6.1)
  endif
endif

KDIR ?= $(firstword $(wildcard /lib/modules/$(KVER)/build /usr/src/linux-headers-$(KVER)))
CHECK ?= sparse

OBJDIR := $(BUILD)/$(KVER)
SRCLINKS := $(OBJDIR)/src
MODULE := $(OBJDIR)/dm-replica.ko

ifneq ($(WERROR),)
  CHECK += -Wsparse-error
endif
KBUILD_ARGS := -C $(KDIR) M=$(SRCLINKS) 'CHECK=$(CHECK)'
ifneq ($(W),)
  KBUILD_ARGS += W=$(W)
endif
ifneq ($(C),)
  KBUILD_ARGS += C=$(C)
endif
ifneq ($(V),)
  KBUILD_ARGS += V=$(V)
endif
ifneq ($(WERROR),)
  KBUILD_ARGS += KCFLAGS=-Werror
endif

HAVE_USERSPACE := $(wildcard $(TOPDIR)/userspace/Makefile)

.PHONY: all module userspace check _check unit-test vm-check demo _demo deps \
	bench clean help kver debug-kernel FORCE

all: module userspace

help:
	@sed -n '3,20p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

kver:
	@echo $(KVER)

# build (first time: about an hour on 2 cores) or reuse the debug kernel
debug-kernel:
	@$(TOPDIR)/scripts/debug-kernel --build >/dev/null

module: $(DEBUG_KERNEL_DEP) FORCE
	@if [ -z "$(KVER)" ] || [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel headers for KVER='$(KVER)' KDIR='$(KDIR)' (run: sudo scripts/deps)" >&2; \
		exit 1; fi
	@$(TOPDIR)/scripts/linkfarm $(TOPDIR) $(SRCLINKS)
	$(MAKE) $(KBUILD_ARGS) modules
	@cmp -s $(SRCLINKS)/dm-replica.ko $(MODULE) || cp $(SRCLINKS)/dm-replica.ko $(MODULE)
	@echo "  MODULE  $(patsubst $(TOPDIR)/%,%,$(MODULE))"

userspace: FORCE
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C userspace
endif

# make check / make demo first make sure the dependencies are installed
# (scripts/deps is a no-op taking well under a second when they are), then
# re-run make so the kernel version is resolved after any installation.
check: deps
	@$(MAKE) --no-print-directory _check

# Host unit tests + VM selftests; the last line is "N passed, N failed".
_check: all
	@$(TOPDIR)/scripts/check --kver $(KVER) $(if $(T),--filter '$(T)')

# VM part only (no deps step, no userspace unit tests).
vm-check: module
	@$(TOPDIR)/scripts/check --kver $(KVER) --no-unit $(if $(T),--filter '$(T)')

unit-test: userspace
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C userspace test
endif

demo: deps
	@$(MAKE) --no-print-directory _demo

_demo: all
	@$(TOPDIR)/scripts/vm-run --kver $(KVER) --name demo -- selftests/demo.sh

deps:
	@$(TOPDIR)/scripts/deps

bench: all
	@if [ -x $(TOPDIR)/scripts/bench ]; then $(TOPDIR)/scripts/bench; \
	else echo "bench: scripts/bench does not exist yet"; fi

clean:
	rm -rf $(BUILD)
ifneq ($(HAVE_USERSPACE),)
	$(MAKE) -C userspace clean
endif

FORCE:
