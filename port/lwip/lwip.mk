# port/lwip/lwip.mk - countly-sync on lwIP's socket API (included by the Makefile).
#
#   make lwip        build/lwip/bin/countly-sync-lwip: lwIP built from Debian's
#                    source package with port/lwip/lwipopts.h (core, IPv4, API,
#                    Ethernet, the unix port's sys_arch and tap driver), the
#                    native profile's mbedTLS, and port/lwip instead of the
#                    network half of port/posix
#   make test-lwip   tests/lwip/test_lwip.sh: the lwIP binary in a private
#                    network namespace on a tap device, output compared with
#                    the POSIX binary's (root, /dev/net/tun)
#
# Variables: LWIP_SRC (an lwIP 2.x tree with contrib/ to use instead of the
# fetched one, cached as $(BUILD_DIR)/deps/lwip-*), LWIP_VERSION_GLOB.

LWIP_SRC ?=
LWIP_VERSION_GLOB ?= 2.*
LWIP_OUT := $(BUILD_DIR)/lwip
LWIP_BIN := $(LWIP_OUT)/bin/countly-sync-lwip
# The port: files, entropy, wall clock and console from POSIX; sockets and
# the time base from lwIP.
LWIP_PORT_SRC := port/posix/port_posix_sys.c port/lwip/port_lwip.c port/lwip/port_lwip_start.c
LWIP_PROFILE_CFLAGS := -ffunction-sections -fdata-sections
LWIP_PROFILE_LDFLAGS := -Wl,--gc-sections -pthread

.PHONY: lwip lwip-bin test-lwip lwip-clean

lwip: deps-build $(JSMN_HEADER)
	@$(MAKE) --no-print-directory PROFILE=native mbedtls
	@src="$(LWIP_SRC)"; \
	if [ -z "$$src" ]; then \
	    src=$$(sh scripts/fetch-source.sh lwip $(DEPS) '$(LWIP_VERSION_GLOB)') || exit 1; \
	fi; \
	$(MAKE) --no-print-directory PROFILE=lwip MBEDTLS_PROFILE=native LWIP_SRC="$$src" \
	    PORT_SRC="$(LWIP_PORT_SRC)" PROFILE_CFLAGS="$(LWIP_PROFILE_CFLAGS)" \
	    PROFILE_LDFLAGS="$(LWIP_PROFILE_LDFLAGS)" lwip-bin
	@size $(LWIP_BIN)

test-lwip: deps-test lwip
	@$(MAKE) --no-print-directory PROFILE=native bin
	@BUILD_DIR=$(BUILD_DIR) COUNTLY_SYNC_LWIP=$(abspath $(LWIP_BIN)) \
	    COUNTLY_SYNC=$(abspath $(BUILD_DIR))/native/bin/countly-sync bash tests/lwip/test_lwip.sh

lwip-clean:
	rm -rf $(LWIP_OUT)
clean: lwip-clean

# ---- inside the lwip profile (PROFILE=lwip, LWIP_SRC set by `make lwip`) ----

ifeq ($(PROFILE),lwip)
ifeq ($(LWIP_SRC),)
$(error PROFILE=lwip needs LWIP_SRC: run `make lwip`)
endif

# lwIP's own lists of its files (COREFILES, CORE4FILES, APIFILES, ...).
LWIPDIR := $(LWIP_SRC)/src
include $(LWIPDIR)/Filelists.mk
LWIP_UNIX := $(LWIP_SRC)/contrib/ports/unix/port
LWIP_LIB_SRC := $(COREFILES) $(CORE4FILES) $(APIFILES) $(LWIPDIR)/netif/ethernet.c \
                $(LWIP_UNIX)/sys_arch.c $(LWIP_UNIX)/netif/tapif.c
LWIP_LIB_OBJ := $(patsubst $(LWIP_SRC)/%.c,$(OUT)/lwip/%.o,$(LWIP_LIB_SRC))
LWIP_LIB := $(OUT)/lwip/liblwip.a

# Our lwipopts.h and arch/cc.h come before the unix port's headers (which
# still give arch/sys_arch.h and netif/tapif.h).
LWIP_INC := -I$(TOP)/port/lwip -I$(LWIPDIR)/include -I$(LWIP_UNIX)/include
LWIP_LIB_CFLAGS := -std=gnu11 $(OPT) -Wall -Werror=implicit-function-declaration \
                   -MMD -MP $(LWIP_INC) $(PROFILE_CFLAGS) $(CFLAGS)

# Our code that sees lwIP: its headers as system headers (no -Wconversion
# noise from lwIP's macros), the shared errno mapping of port/posix.
LWIP_APP_INC := -I$(TOP)/port/lwip -I$(TOP)/port/posix -isystem $(LWIPDIR)/include \
                -isystem $(LWIP_UNIX)/include
LWIP_MAIN_OBJ := $(OUT)/obj/port/lwip/main_lwip.o
LWIP_APP_OBJ := $(LWIP_MAIN_OBJ) $(filter $(OUT)/obj/port/lwip/%,$(CORE_OBJ))
$(LWIP_APP_OBJ): ALL_CFLAGS += $(LWIP_APP_INC)
$(LWIP_APP_OBJ): port/lwip/lwip.mk

lwip-bin: $(LWIP_BIN)

$(LWIP_BIN): $(LWIP_MAIN_OBJ) $(MAIN_OBJ) $(CORE_OBJ) $(LWIP_LIB) $(MBEDTLS_STAMP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $(LWIP_MAIN_OBJ) $(MAIN_OBJ) $(CORE_OBJ) $(MBEDTLS_LIBS) \
	    $(LWIP_LIB) $(ALL_LDFLAGS)

$(LWIP_LIB): $(LWIP_LIB_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/lwip/%.o: $(LWIP_SRC)/%.c port/lwip/lwip.mk $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $(notdir $<)  [lwIP]"
	$(Q)$(CC) $(LWIP_LIB_CFLAGS) -c $< -o $@

-include $(LWIP_LIB_OBJ:.o=.d) $(LWIP_MAIN_OBJ:.o=.d)
endif
