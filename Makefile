# countly-sync - one Makefile for every profile.
#
#   make              native binary            build/native/bin/countly-sync
#   make test         unit + integration tests (sanitizer build), fuzz corpora, lint
#   make static       fully static x86_64 binary built with musl-gcc
#   make cross        ARCH=aarch64|armhf: fully static ARM binary (musl, Debian cross gcc)
#   make test-cross   ARCH=...: end-to-end subset under qemu-user, CSV compared with x86_64
#   make footprint    docs/footprint.md: sizes, RAM, arena peaks, stack (all measured)
#   make bench        benchmarks (figures, not pass/fail)
#   make install      the static stripped binary, man page, completion, units,
#                     example configuration and docs: DESTDIR, PREFIX=/usr/local,
#                     SYSCONFDIR=/etc, UNITDIR=$(PREFIX)/lib/systemd/system
#   make uninstall    removes exactly those (same variables)
#   make deb          ARCH=x86_64|aarch64|armhf: dist/countly-sync_VERSION_DEBARCH.deb
#   make release      dist/countly-sync-VERSION-ARCH.tar.gz (three ARCHs), dist/SHA256SUMS
#   make test-package install/uninstall, deb (lintian, dpkg --root) and release checks
#   make deps         install missing Debian packages (as root) or say which
#   make clean
#
# Only make deps, make demo and make test install Debian packages; every other
# target checks and names what is missing (scripts/deps.sh --check).
#
# Variables: CC, CFLAGS, LDFLAGS, CROSS_COMPILE, PREFIX, DESTDIR, SYSCONFDIR,
# UNITDIR, BUILD_DIR, ARCH (cross, deb), SIZE=1 (static and cross: -Os),
# SMALL=1 (static and cross: the PROFILE_SMALL memory budget), DIST_DIR (deb,
# release: dist), SOURCE_DATE_EPOCH (their file times: the last commit's),
# DEB_MAINTAINER ("Name <address>": the last commit's author).
# Offline builds: MBEDTLS_SRC (an mbedTLS 3.6 tree), ZLIB_SRC (a zlib tree),
# MUSL_SRC (a musl tree, for the cross builds) are used instead of fetching.
#
# Every profile builds mbedTLS 3.6 from source with the project's config
# (port/mbedtls/), in its own copy of the tree under $(BUILD_DIR)/deps.

BUILD_DIR ?= build
V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
CROSS_COMPILE ?=
PROFILE ?= native
MBEDTLS_SRC ?=

ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
AR := $(CROSS_COMPILE)ar
STRIP := $(CROSS_COMPILE)strip

TOP := $(abspath .)
OUT := $(BUILD_DIR)/$(PROFILE)
DEPS := $(abspath $(BUILD_DIR))/deps
# jsmn is header-only (libjsmn-dev); musl-gcc and cross compilers do not
# search /usr/include, so every profile reads a copy from the build folder.
# (Defined before the rules that name it: prerequisites expand when read.)
JSMN_HEADER := $(DEPS)/include/jsmn.h

# The mbedTLS copy used by this profile (sanitizer builds link the native one).
MBEDTLS_PROFILE ?= $(PROFILE)
MBEDTLS_DIR := $(DEPS)/mbedtls-$(MBEDTLS_PROFILE)
MBEDTLS_STAMP := $(MBEDTLS_DIR)/.built
MBEDTLS_LIBS := $(MBEDTLS_DIR)/library/libmbedtls.a $(MBEDTLS_DIR)/library/libmbedx509.a \
                $(MBEDTLS_DIR)/library/libmbedcrypto.a
MBEDTLS_CONFIG := -DMBEDTLS_CONFIG_FILE='<countly_sync_mbedtls_config.h>'
# The ALT primitives of port/mbedtls (chacha20_alt.c) are compiled with the
# library's own flags (and our warnings) and added to its libmbedcrypto.a, so
# every program that links mbedTLS gets them (their names are in the flags
# stamp below).
MBEDTLS_ALT := chacha20_alt
MBEDTLS_OPT ?= -O2
MBEDTLS_CFLAGS ?= $(MBEDTLS_OPT)
# On x86_64 let mbedTLS use AES-NI/PCLMUL intrinsics (still runtime-detected):
# the assembly fallback runs AES-GCM at about a third of the speed.
ifneq ($(findstring x86_64,$(shell $(CC) -dumpmachine 2>/dev/null)),)
MBEDTLS_CFLAGS += -maes -mpclmul -msse2
endif

# zlib (gzip on the wire): built from the distribution's source like mbedTLS,
# per profile, with that profile's compiler; inflate only needs what the
# agent gives it (-DZ_SOLO: no allocator of zlib's own). Z_SOLO also turns
# off what zlib learns from <limits.h> and <string.h>, so the build names it:
# the word types of its braided CRC-32 (without them crc32_z goes a byte at a
# time, a fifth of a gzip sync's CPU) and the C library's memcpy (without it
# a byte loop copies every inflated byte into the window).
ZLIB_DEFS := -DZ_SOLO -DZ_U4=unsigned "-DZ_U8=unsigned long long"
ZLIB_BUILD_DEFS := $(ZLIB_DEFS) -DHAVE_MEMCPY -include string.h
ZLIB_SRC ?=
ZLIB_DIR := $(DEPS)/zlib-$(MBEDTLS_PROFILE)
ZLIB_LIB := $(ZLIB_DIR)/libz.a
ZLIB_STAMP := $(ZLIB_DIR)/.built
ZLIB_OBJS := adler32 crc32 deflate inffast inflate inftrees trees zutil

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion \
            -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef
OPT ?= -O2 -g
CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE $(OPT) $(WARNINGS) -MMD -MP \
              -I$(TOP)/include -I$(TOP)/port/mbedtls -isystem $(MBEDTLS_DIR)/include \
              -isystem $(ZLIB_DIR) $(ZLIB_DEFS) \
              -I$(DEPS)/include $(MBEDTLS_CONFIG) $(PROFILE_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(ZLIB_LIB) $(PROFILE_LDFLAGS) $(LDFLAGS)

SRC := $(wildcard src/*.c)
PORT_SRC := $(wildcard port/posix/*.c)
CORE_SRC := $(filter-out src/main.c,$(SRC)) $(PORT_SRC)
CORE_OBJ := $(CORE_SRC:%.c=$(OUT)/obj/%.o)
MAIN_OBJ := $(OUT)/obj/src/main.o
BIN := $(OUT)/bin/countly-sync
HOOKS_BIN := $(OUT)/bin/countly-sync-hooks
HOOKS_PORT_OBJ := $(PORT_SRC:%.c=$(OUT)/obj-hooks/%.o)
HOOKS_CORE_OBJ := $(filter-out $(PORT_SRC:%.c=$(OUT)/obj/%.o),$(CORE_OBJ)) $(HOOKS_PORT_OBJ)
HOOKS_UNIT_BIN := $(OUT)/tests/test_port_hooks

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(OUT)/tests/%)

# Objects depend on the flags they were built with: a changed CC or CFLAGS
# rebuilds the profile.
FLAGS_STAMP := $(OUT)/.flags
FLAGS_LINE := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
ifneq ($(file < $(FLAGS_STAMP)),$(FLAGS_LINE))
$(shell mkdir -p $(OUT))
$(file > $(FLAGS_STAMP),$(FLAGS_LINE))
endif

# The same for the profile's own mbedTLS copy (its config may be changed by
# PROFILE_CFLAGS, e.g. SMALL=1): kept outside the copy, which a rebuild
# deletes. Profiles that borrow another's copy (asan) leave it alone.
MBEDTLS_FLAGS_STAMP := $(DEPS)/.mbedtls-$(MBEDTLS_PROFILE).flags
ifeq ($(MBEDTLS_PROFILE),$(PROFILE))
MBEDTLS_FLAGS_LINE := $(CC) $(MBEDTLS_CFLAGS) $(PROFILE_CFLAGS) alt: $(MBEDTLS_ALT)
ifneq ($(file < $(MBEDTLS_FLAGS_STAMP)),$(MBEDTLS_FLAGS_LINE))
$(shell mkdir -p $(DEPS))
$(file > $(MBEDTLS_FLAGS_STAMP),$(MBEDTLS_FLAGS_LINE))
endif
ZLIB_FLAGS_STAMP := $(DEPS)/.zlib-$(MBEDTLS_PROFILE).flags
ZLIB_FLAGS_LINE := $(CC) $(MBEDTLS_OPT) $(PROFILE_CFLAGS) $(ZLIB_BUILD_DEFS)
ifneq ($(file < $(ZLIB_FLAGS_STAMP)),$(ZLIB_FLAGS_LINE))
$(file > $(ZLIB_FLAGS_STAMP),$(ZLIB_FLAGS_LINE))
endif
endif

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD_DIR)/fuzz/%)
FUZZ_SAN := address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -g -O1 -I$(TOP)/include -I$(TOP)/port/mbedtls \
               -isystem $(MBEDTLS_DIR)/include -I$(DEPS)/include -isystem $(ZLIB_DIR) $(ZLIB_DEFS) \
               $(MBEDTLS_CONFIG)
# The core is compiled once for every target (instrumented, no fuzzer main).
FUZZ_CORE_OBJ := $(CORE_SRC:%.c=$(BUILD_DIR)/fuzz/obj/%.o)
FUZZ_CORE_LIB := $(BUILD_DIR)/fuzz/libcore.a
FUZZ_SECONDS ?= 300

.PHONY: test-valgrind demo all bin tests tools hooks static test lint format bench install clean distclean deps \
        mbedtls asan-tests fuzz fuzz-build
.DEFAULT_GOAL := all

all: deps-build
	@$(MAKE) --no-print-directory PROFILE=native bin

# ---- one profile -------------------------------------------------------------

bin: $(BIN)
tests: $(UNIT_BIN) $(TOOL_BIN)
tools: $(TOOL_BIN)

$(BIN): $(MAIN_OBJ) $(CORE_OBJ) $(MBEDTLS_STAMP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(MAIN_OBJ) $(CORE_OBJ) $(MBEDTLS_LIBS) $(ALL_LDFLAGS)

$(OUT)/obj/%.o: %.c $(MBEDTLS_STAMP) $(ZLIB_STAMP) $(FLAGS_STAMP) $(JSMN_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      $<  [$(PROFILE)]"
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(CORE_OBJ) $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(CORE_OBJ) $(MBEDTLS_LIBS) \
	    $(ALL_LDFLAGS) -lcmocka

$(OUT)/tests/%: tests/tools/%.c $(CORE_OBJ) $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(CORE_OBJ) $(MBEDTLS_LIBS) $(ALL_LDFLAGS)

# The test binary: the profile's objects with its POSIX port compiled once
# more with -DPORT_TEST_HOOKS (crash points, torn writes, fake sleep, clock
# steps: port/posix/port_posix_hooks.h). Only the tests run it; `bin` has no hook.
# The hooks' own unit test (tests/unit/hooks_port_posix.c) links the same objects.
hooks: $(HOOKS_BIN) $(HOOKS_UNIT_BIN)

$(HOOKS_BIN): $(MAIN_OBJ) $(HOOKS_CORE_OBJ) $(MBEDTLS_STAMP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(MAIN_OBJ) $(HOOKS_CORE_OBJ) $(MBEDTLS_LIBS) $(ALL_LDFLAGS)

$(HOOKS_UNIT_BIN): tests/unit/hooks_port_posix.c $(HOOKS_CORE_OBJ) $(MBEDTLS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(HOOKS_CORE_OBJ) $(MBEDTLS_LIBS) \
	    $(ALL_LDFLAGS) -lcmocka

$(OUT)/obj-hooks/%.o: %.c $(MBEDTLS_STAMP) $(ZLIB_STAMP) $(FLAGS_STAMP) $(JSMN_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      $<  [$(PROFILE), test hooks]"
	$(Q)$(CC) $(ALL_CFLAGS) -DPORT_TEST_HOOKS -c $< -o $@

# ---- mbedTLS from source -------------------------------------------------------

mbedtls: $(MBEDTLS_STAMP) $(ZLIB_STAMP)

MBEDTLS_ALT_CFLAGS = $(MBEDTLS_CFLAGS) $(PROFILE_CFLAGS) -I$(TOP)/port/mbedtls $(MBEDTLS_CONFIG)

$(MBEDTLS_STAMP): port/mbedtls/countly_sync_mbedtls_config.h scripts/fetch-mbedtls.sh \
                 $(MBEDTLS_ALT:%=port/mbedtls/%.c) $(MBEDTLS_ALT:%=port/mbedtls/%.h) \
                 $(wildcard $(MBEDTLS_FLAGS_STAMP))
	@rm -rf $(MBEDTLS_DIR)
	@src="$(MBEDTLS_SRC)"; \
	if [ -z "$$src" ]; then src=$$(sh scripts/fetch-mbedtls.sh $(DEPS)) || exit 1; fi; \
	echo "mbedtls: $$src -> $(MBEDTLS_DIR) (CC=$(CC))"; \
	mkdir -p $(MBEDTLS_DIR) && cp -a "$$src"/. $(MBEDTLS_DIR)/
	$(MAKE) --no-print-directory -s -C $(MBEDTLS_DIR)/library CC="$(CC)" AR="$(AR)" \
	    CFLAGS="$(MBEDTLS_ALT_CFLAGS)" static
	$(Q)cd $(MBEDTLS_DIR)/library && for f in $(MBEDTLS_ALT); do \
	    $(CC) $(MBEDTLS_ALT_CFLAGS) $(WARNINGS) -isystem ../include \
	        -c $(TOP)/port/mbedtls/$$f.c -o $$f.o || exit 1; \
	done && $(AR) rs libmbedcrypto.a $(MBEDTLS_ALT:=.o)
	@touch $@

# zlib: the sources copied into the profile's folder and compiled there.
$(ZLIB_STAMP): scripts/fetch-zlib.sh $(wildcard $(MBEDTLS_FLAGS_STAMP) $(ZLIB_FLAGS_STAMP))
	@rm -rf $(ZLIB_DIR) && mkdir -p $(ZLIB_DIR)
	@src="$(ZLIB_SRC)"; \
	if [ -z "$$src" ]; then src=$$(sh scripts/fetch-zlib.sh $(DEPS)) || exit 1; fi; \
	echo "zlib: $$src -> $(ZLIB_DIR) (CC=$(CC))"; \
	cp "$$src"/*.c "$$src"/*.h $(ZLIB_DIR)/
	$(Q)cd $(ZLIB_DIR) && for f in $(ZLIB_OBJS); do \
	    $(CC) $(MBEDTLS_OPT) $(PROFILE_CFLAGS) $(ZLIB_BUILD_DEFS) -c $$f.c -o $$f.o || exit 1; \
	done && $(AR) rcs libz.a $(ZLIB_OBJS:=.o)
	@touch $@

$(JSMN_HEADER): /usr/include/jsmn.h
	@mkdir -p $(dir $@) && cp -f $< $@

# ---- profiles --------------------------------------------------------------------

# Fully static x86_64 binary on musl (strip it for the shipped size). Unused
# functions of mbedTLS and ours are dropped by the linker.
STATIC_CFLAGS := -ffunction-sections -fdata-sections
STATIC_LDFLAGS := -static -Wl,--gc-sections

# Variants of the static and cross profiles, each in its own folder
# (static-os, cross-armhf-os-small, ...) with its own mbedTLS copy:
#   SIZE=1   -Os for our code and mbedTLS (instead of -O2)
#   SMALL=1  the small memory profile: -D overrides of include/options.h and
#            of mbedTLS's record buffers (docs/footprint.md explains each).
#            4 KiB TLS records: tls.c asks the server for them (max
#            fragment length, TLS 1.2), which OpenSSL, nginx and Python honour.
PROFILE_SMALL ?= -DTLS_ARENA_SIZE=24576 -DMBEDTLS_SSL_IN_CONTENT_LEN=4096 \
                 -DMBEDTLS_SSL_OUT_CONTENT_LEN=4096 \
                 -DJSTREAM_RECORD_MAX=4096 -DJSTREAM_TOKENS_MAX=192 -DJSTREAM_APPS_MAX=32 \
                 -DCONFIG_APPS_MAX=8 -DCONFIG_FILE_MAX=4096 -DCONFIG_PATH_MAX=256 \
                 -DCSV_BUFFER_SIZE=1024 -DCSV_PATH_MAX=256 -DHTTP_RECV_BUFFER_SIZE=1024 \
                 -DHTTP_REQUEST_MAX=1024 -DHTTP_HEADER_LINE_MAX=512 \
                 -DTLS_CA_DER_MAX=2048 -DTLS_PATH_MAX=256 -DHTTP_GZIP=0 \
                 -DRELAY_THREADS=0 -DRELAY_RING_SIZE=16 -DRELAY_PIECE=16 \
                 -DLOG_JSON_LINE_MAX=768 -DREPORT_FILES_MAX=4 -DREPORT_PATH_MAX=64 \
                 -DCONFIG_URL_MAX=256 \
                 -DPROXY_CREDENTIAL_MAX=64 -DPROXY_REPLY_MAX=256 -DTLS_CA_READ_CHUNK=256 \
                 -DHTTP_DETAIL_MAX=512 -DLOG_LINE_MAX=768 \
                 -DCONFIG_DETAIL_MAX=384
#   STACK=1  -fstack-usage -fcallgraph-info=su (.su and .ci files next to
#            every object, mbedTLS's included) for scripts/footprint.sh
SIZE ?=
SMALL ?=
STACK ?=
STACK_CFLAGS := -fstack-usage -fcallgraph-info=su
VARIANT := $(if $(filter 1,$(SIZE)),-os)$(if $(filter 1,$(SMALL)),-small)$(if $(filter 1,$(STACK)),-stack)
VARIANT_CFLAGS := $(if $(filter 1,$(SMALL)),$(PROFILE_SMALL)) $(if $(filter 1,$(STACK)),$(STACK_CFLAGS))
VARIANT_MAKE := $(if $(filter 1,$(SIZE)),OPT="-Os -g" MBEDTLS_OPT=-Os)

static: deps-build $(JSMN_HEADER)
	@$(MAKE) --no-print-directory PROFILE=static$(VARIANT) CC=musl-gcc $(VARIANT_MAKE) \
	    PROFILE_CFLAGS="$(STATIC_CFLAGS) $(VARIANT_CFLAGS)" PROFILE_LDFLAGS="$(STATIC_LDFLAGS)" \
	    bin tools
	@$(STRIP) -o $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync.stripped \
	    $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync
	@file $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync.stripped
	@ls -l $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync.stripped

# Fully static ARM binaries on musl: Debian's cross gcc (gcc-aarch64-linux-gnu,
# gcc-arm-linux-gnueabihf) with a musl built from Debian's source package for
# that CPU (scripts/musl-cross.sh: build/deps/musl-ARCH, once, about 45 s) and
# musl's spec wrapper, so no glibc header or library is involved. mbedTLS is
# built for the CPU in its own copy (build/deps/mbedtls-cross-ARCH[-os]).
# Output: build/cross-ARCH[-os][-small]/bin/countly-sync (+ .stripped).
ARCH ?= aarch64
CROSS_TRIPLET_aarch64 := aarch64-linux-gnu
CROSS_TRIPLET_armhf := arm-linux-gnueabihf
QEMU_aarch64 := qemu-aarch64
QEMU_armhf := qemu-arm
CROSS_TRIPLET = $(CROSS_TRIPLET_$(ARCH))
CROSS_OUT = $(BUILD_DIR)/cross-$(ARCH)$(VARIANT)

.PHONY: cross cross-check-arch test-cross footprint
cross-check-arch:
	@test -n "$(CROSS_TRIPLET)" || { echo "make: ARCH must be aarch64 or armhf (got '$(ARCH)')" >&2; exit 2; }

cross: cross-check-arch
	@sh scripts/deps.sh --check cross
	@$(MAKE) --no-print-directory $(JSMN_HEADER)
	@wrapper=$$(MUSL_SRC="$(MUSL_SRC)" sh scripts/musl-cross.sh $(ARCH) $(DEPS)) || exit 1; \
	$(MAKE) --no-print-directory PROFILE=cross-$(ARCH)$(VARIANT) CC="$$wrapper" \
	    CROSS_COMPILE=$(CROSS_TRIPLET)- $(VARIANT_MAKE) \
	    PROFILE_CFLAGS="$(STATIC_CFLAGS) $(VARIANT_CFLAGS)" PROFILE_LDFLAGS="$(STATIC_LDFLAGS)" \
	    bin tools
	@$(CROSS_TRIPLET)-strip -o $(CROSS_OUT)/bin/countly-sync.stripped $(CROSS_OUT)/bin/countly-sync
	@file $(CROSS_OUT)/bin/countly-sync.stripped
	@ls -l $(CROSS_OUT)/bin/countly-sync.stripped

# The end-to-end subset under qemu-user, output compared byte for byte with
# the native x86_64 binary on the same simulator (tests/cross/test_cross.sh).
test-cross: cross-check-arch deps-test
	@$(MAKE) --no-print-directory cross ARCH=$(ARCH)
	@$(MAKE) --no-print-directory PROFILE=native bin
	@BUILD_DIR=$(BUILD_DIR) ARCH=$(ARCH) QEMU=$(QEMU_$(ARCH)) \
	    COUNTLY_SYNC=$(abspath $(CROSS_OUT))/bin/countly-sync bash tests/cross/test_cross.sh

# The packaging suites (tests/package/run.sh): make install / uninstall into
# scratch folders, make release, make deb for the three architectures with
# lintian and dpkg --root installs, and who may install Debian packages.
# Builds the static and cross binaries it needs (cached after test-cross).
.PHONY: test-package
test-package: deps-test
	@BUILD_DIR=$(BUILD_DIR) bash tests/package/run.sh

# docs/footprint.md from measurements only (scripts/footprint.sh builds what
# it needs: static, cross aarch64/armhf, -O2 and -Os, the small profile).
footprint: deps-test
	@BUILD_DIR=$(BUILD_DIR) MAKE="$(MAKE)" bash scripts/footprint.sh docs/footprint.md

# Line and branch coverage of src/ and port/posix/ (gcov, gcovr): an -O0
# --coverage build in $(BUILD_DIR)/coverage, the unit tests and the suites
# that run it; fails below 90 % of src/'s lines (docs/coverage.md).
.PHONY: coverage
coverage: deps-test
	@BUILD_DIR=$(BUILD_DIR) MAKE="$(MAKE)" bash scripts/coverage.sh

# Sanitizer build of the tests: ASan + UBSan, no recovery.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
asan-tests:
	@$(MAKE) --no-print-directory PROFILE=native mbedtls
	@$(MAKE) --no-print-directory PROFILE=asan MBEDTLS_PROFILE=native OPT="-O1 -g" \
	    PROFILE_CFLAGS="$(SAN_FLAGS)" PROFILE_LDFLAGS="$(SAN_FLAGS)" tests bin hooks
	@$(MAKE) --no-print-directory $(TSAN_BIN)

# The code two threads share, under ThreadSanitizer: the relay and the
# POSIX port's worker (run by run_all.sh with the unit tests).
TSAN_BIN := $(BUILD_DIR)/tsan/tests/test_relay
TSAN_SRC := tests/unit/test_relay.c src/relay.c port/posix/port_posix_thread.c
$(TSAN_BIN): $(TSAN_SRC) include/relay.h include/port.h include/options.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@  [tsan]"
	$(Q)$(CC) -std=c11 -D_DEFAULT_SOURCE -O1 -g $(WARNINGS) -fsanitize=thread \
	    -I$(TOP)/include -I$(TOP)/port/posix $(TSAN_SRC) -lcmocka -o $@

# ---- fuzzing (clang libFuzzer, ASan + UBSan) ---------------------------------------

fuzz-build: $(FUZZ_BIN)

$(BUILD_DIR)/fuzz/obj/%.o: %.c $(MBEDTLS_STAMP) $(ZLIB_STAMP) $(JSMN_HEADER)
	@mkdir -p $(dir $@)
	@echo "  CC      $<  [fuzz]"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_CORE_LIB): $(FUZZ_CORE_OBJ)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BUILD_DIR)/fuzz/%: tests/fuzz/%.c $(FUZZ_CORE_LIB) $(MBEDTLS_STAMP) $(ZLIB_STAMP) $(JSMN_HEADER)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP -MF $@.d -o $@ $< \
	    $(FUZZ_CORE_LIB) $(MBEDTLS_LIBS) $(ZLIB_LIB)

# Longer fuzzing runs: FUZZ_SECONDS per target (default 300).
fuzz: deps-test
	@$(MAKE) --no-print-directory PROFILE=native fuzz-build
	@for t in $(FUZZ_BIN); do \
	    n=$$(basename $$t); c=$(BUILD_DIR)/fuzz/corpus-$$n; mkdir -p $$c; \
	    cp -n tests/fuzz/corpus/$${n#fuzz_}/* $$c/ 2>/dev/null; \
	    echo "== $$n"; $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(BUILD_DIR)/fuzz/$$n- $$c 2>&1 | \
	        grep -E 'Done|stat::number_of_executed_units|stat::average_exec_per_sec|cov:' | tail -n 4 \
	        || exit 1; \
	done

# ---- tests -------------------------------------------------------------------------

# What run_all.sh runs and nothing else: the sanitizer build (unit tests,
# tools, the binary and its test-hooks twin) and the fuzz targets, built
# with every CPU unless make was given -j itself.
test: deps-install-test
	@j=-j$$(nproc 2>/dev/null || echo 2); case "$(MAKEFLAGS)" in *-j*) j= ;; esac; \
	$(MAKE) --no-print-directory $$j asan-tests && \
	$(MAKE) --no-print-directory $$j PROFILE=native fuzz-build
	@BUILD_DIR=$(BUILD_DIR) sh tests/run_all.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	    --std=c11 --inline-suppr -Iinclude -Iport/mbedtls \
	    --suppress=missingIncludeSystem src port/posix tests/tools

# Every C file of ours, formatted by .clang-format (one brace style included);
# format-check fails on any file clang-format would change (CI runs it).
FORMAT_FILES = $(wildcard include/*.h src/*.c port/posix/*.c port/posix/*.h port/lwip/*.c \
               port/lwip/*.h port/mbedtls/*_alt.c port/mbedtls/*_alt.h tests/unit/*.c tests/unit/*.h tests/tools/*.c tests/fuzz/*.c)

.PHONY: format-check
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

bench: deps-test all
	@$(MAKE) --no-print-directory static
	@$(MAKE) --no-print-directory PROFILE=native tools
	@BUILD_DIR=$(BUILD_DIR) bash tests/bench/run.sh
	@BUILD_DIR=$(BUILD_DIR) bash tests/bench/pipeline.sh
	@BUILD_DIR=$(BUILD_DIR) bash tests/bench/sync.sh
	@BUILD_DIR=$(BUILD_DIR) bash tests/bench/paging.sh
	@BUILD_DIR=$(BUILD_DIR) bash tests/bench/throughput.sh

# The end-to-end and fault suites once more, the native binary under
# valgrind memcheck: any error or definite leak fails the run.
VALGRIND := valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite -q
test-valgrind: deps-test
	@$(MAKE) --no-print-directory PROFILE=native bin
	@BUILD_DIR=$(BUILD_DIR) COUNTLY_SYNC_WRAPPER="$(VALGRIND)" E2E_USERS_PER_APP=1000 \
	    TEST_TMP=$(abspath $(BUILD_DIR))/test-tmp/valgrind-e2e bash tests/e2e/test_sync.sh
	@BUILD_DIR=$(BUILD_DIR) COUNTLY_SYNC_WRAPPER="$(VALGRIND)" \
	    TEST_TMP=$(abspath $(BUILD_DIR))/test-tmp/valgrind-faults bash tests/faults/test_faults.sh

# ---- demo: simulator + one sync into ./countly-data ------------------------------------

demo: deps-install-test
	@$(MAKE) --no-print-directory PROFILE=native bin
	@bash scripts/demo.sh $(BUILD_DIR)

# ---- install, deps, clean -----------------------------------------------------------

# make install: the static, stripped musl binary (built if needed), the
# manual page, bash completion, example configuration, systemd units and
# docs (scripts/install.sh lists them); the installed service's ExecStart
# names $(PREFIX)/bin/countly-sync. make uninstall removes exactly those.
INSTALL_VARS = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" UNITDIR="$(UNITDIR)"
STATIC_STRIPPED = $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync.stripped

.PHONY: uninstall
install: static
	@$(INSTALL_VARS) BIN="$(STATIC_STRIPPED)" sh scripts/install.sh install

uninstall:
	@$(INSTALL_VARS) sh scripts/install.sh uninstall

# ---- Debian package and release archives ---------------------------------------------

# make deb ARCH=x86_64|aarch64|armhf (default x86_64): dist/countly-sync_VERSION_DEBARCH.deb
# (amd64, arm64, armhf), scripts/mkdeb.sh. make release: the static binary
# of all three in dist/countly-sync-VERSION-ARCH.tar.gz and dist/SHA256SUMS
# (scripts/mkrelease.sh). The binaries: make static (x86_64) or make cross.
VERSION := $(shell sed -n 's/^\#define COUNTLY_SYNC_VERSION "\(.*\)"/\1/p' include/options.h)
DIST_DIR ?= dist
RELEASE_ARCHS := x86_64 aarch64 armhf
# ARCH as given (make deb ARCH=armhf), else the build machine's x86_64; the
# cross targets' own default (aarch64) does not apply here.
PKG_ARCH := $(if $(filter command line environment override,$(origin ARCH)),$(ARCH),x86_64)
PKG_BIN_x86_64 = $(BUILD_DIR)/static$(VARIANT)/bin/countly-sync.stripped
PKG_BIN_aarch64 = $(BUILD_DIR)/cross-aarch64$(VARIANT)/bin/countly-sync.stripped
PKG_BIN_armhf = $(BUILD_DIR)/cross-armhf$(VARIANT)/bin/countly-sync.stripped
# Every file's time in the packages: the last commit's (or options.h's).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || stat -c %Y include/options.h)
DEB_MAINTAINER ?= $(or $(shell git log -1 --format='%an <%ae>' 2>/dev/null),countly-sync maintainers <maintainers@countly-sync.invalid>)
PKG_VARS = VERSION="$(VERSION)" DIST_DIR="$(DIST_DIR)" SOURCE_DATE_EPOCH="$(SOURCE_DATE_EPOCH)"

.PHONY: deb release pkg-bin pkg-check-arch release-one
pkg-check-arch:
	@case "$(PKG_ARCH)" in x86_64|aarch64|armhf) ;; *) \
	    echo "make: ARCH must be x86_64, aarch64 or armhf (got '$(PKG_ARCH)')" >&2; exit 2 ;; esac

# The static, stripped binary for PKG_ARCH.
pkg-bin: pkg-check-arch deps-build
	@if [ "$(PKG_ARCH)" = x86_64 ]; then $(MAKE) --no-print-directory static; \
	else $(MAKE) --no-print-directory cross ARCH=$(PKG_ARCH); fi

deb: pkg-bin
	@$(PKG_VARS) ARCH=$(PKG_ARCH) BIN="$(PKG_BIN_$(PKG_ARCH))" \
	    STAGE="$(BUILD_DIR)/pkg/deb-$(PKG_ARCH)" DEB_MAINTAINER="$(DEB_MAINTAINER)" \
	    sh scripts/mkdeb.sh

release-one: pkg-bin
	@$(PKG_VARS) ARCH=$(PKG_ARCH) BIN="$(PKG_BIN_$(PKG_ARCH))" \
	    STAGE="$(BUILD_DIR)/pkg/release-$(PKG_ARCH)" sh scripts/mkrelease.sh

release: deps-build
	@for a in $(RELEASE_ARCHS); do \
	    $(MAKE) --no-print-directory release-one ARCH=$$a || exit 1; done
	@cd $(DIST_DIR) && sha256sum $(RELEASE_ARCHS:%=countly-sync-$(VERSION)-%.tar.gz) >SHA256SUMS.tmp && \
	    mv SHA256SUMS.tmp SHA256SUMS && cat SHA256SUMS

deps:
	@sh scripts/deps.sh all

.PHONY: deps-build deps-test deps-install-test
# Only `make deps`, `make demo` and `make test` install packages (as root);
# every other target checks and, when something is missing, fails with one
# line naming the packages and the command that installs them.
deps-build:
	@sh scripts/deps.sh --check build
deps-test:
	@sh scripts/deps.sh --check test
deps-install-test:
	@sh scripts/deps.sh test

# Keeps $(BUILD_DIR)/deps (the cached mbedTLS and musl sources, the ARM musl
# libraries): a rebuild needs no network.
clean:
	rm -rf $(BUILD_DIR)/native $(BUILD_DIR)/asan $(BUILD_DIR)/static $(BUILD_DIR)/static-* \
	    $(BUILD_DIR)/cross-* $(BUILD_DIR)/fuzz $(BUILD_DIR)/test-tmp $(BUILD_DIR)/bench \
	    $(BUILD_DIR)/footprint $(BUILD_DIR)/pkg dist

distclean:
	rm -rf $(BUILD_DIR)

# Embedded targets: the lwIP port and its build live in their own fragment.
-include port/lwip/lwip.mk

-include $(CORE_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(TOOL_BIN:=.d) $(HOOKS_PORT_OBJ:.o=.d) $(HOOKS_UNIT_BIN:=.d) \
         $(FUZZ_CORE_OBJ:.o=.d) $(FUZZ_BIN:=.d)
