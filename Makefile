# pim - product information manager. Plain Makefile: library, CLI, tests.
# Variables follow the GNU conventions; override on the command line.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/pim
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=

CC      ?= cc
PKG_CONFIG ?= pkg-config
OPT     ?= -O2 -g
WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wno-format-nonliteral
WERROR  ?=
CFLAGS  ?=
LDFLAGS ?=

# The version has one source: lib/pim.h.
VERSION_MAJOR := $(shell sed -n 's/^\#define PIM_VERSION_MAJOR \([0-9]*\)/\1/p' lib/pim.h)
VERSION_MINOR := $(shell sed -n 's/^\#define PIM_VERSION_MINOR \([0-9]*\)/\1/p' lib/pim.h)
VERSION_PATCH := $(shell sed -n 's/^\#define PIM_VERSION_PATCH \([0-9]*\)/\1/p' lib/pim.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)

DEPS_PC  = sqlite3 yaml-0.1 libxml-2.0 libpcre2-8
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(DEPS_PC) 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(DEPS_PC) 2>/dev/null) -lcsv -lunistring -lm -pthread

BUILD   ?= build
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -pthread $(OPT) $(WARN) $(WERROR) -fPIC \
             -fvisibility=hidden -DPIM_BUILDING -Ilib $(DEP_CFLAGS) $(CFLAGS)

LIB_SRC = $(sort $(wildcard lib/*.c))
CLI_SRC = $(sort $(wildcard cli/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/products_xsd.o \
          $(BUILD)/gen/merchant_profile.o
CLI_OBJ = $(CLI_SRC:%.c=$(BUILD)/%.o)

SONAME  = libpim.so.$(VERSION_MAJOR)
SOLIB   = libpim.so.$(VERSION)

UNIT_SRC = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

MAN_PAGES = $(sort $(wildcard man/*.[1-9]))

.PHONY: all deps check test unit cli-test header-test man-lint demo install \
        install-test symbols-test truth-test pieces-test crash-test concurrency-test \
        alloc-test backup-test hostile-test report-html-test \
        uninstall clean bench fuzz fuzz-build fuzz-smoke fuzz-regress \
        sanitize valgrind-cli valgrind-unit

all: $(BUILD)/$(SOLIB) $(BUILD)/libpim.a $(BUILD)/pim $(BUILD)/libpim.pc

$(BUILD)/%.o: %.c lib/pim.h $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/$(SOLIB): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libpim.map \
	    -o $@ $(LIB_OBJ) $(DEP_LIBS) $(LDFLAGS)
	ln -sf $(SOLIB) $(BUILD)/$(SONAME)
	ln -sf $(SOLIB) $(BUILD)/libpim.so

$(BUILD)/libpim.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

# The CLI links the static archive so that the binary runs from the tree.
$(BUILD)/pim: $(CLI_OBJ) $(BUILD)/gen/default_schema.o $(BUILD)/libpim.a
	$(CC) -o $@ $(CLI_OBJ) $(BUILD)/gen/default_schema.o $(BUILD)/libpim.a \
	    $(DEP_LIBS) $(LDFLAGS)

# schemas/default.yaml is built into the binary for `pim init`.
$(BUILD)/gen/default_schema.c: schemas/default.yaml
	@mkdir -p $(dir $@)
	{ echo '/* generated from schemas/default.yaml */'; \
	  echo 'const char pim_default_schema[] = {'; \
	  od -An -v -tu1 schemas/default.yaml | awk '{for(i=1;i<=NF;i++) printf "%s,", $$i; print ""}'; \
	  echo '0 };'; \
	  echo "const unsigned long pim_default_schema_len = sizeof pim_default_schema - 1;"; } > $@

$(BUILD)/gen/default_schema.o: $(BUILD)/gen/default_schema.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

# schemas/pim-products.xsd is built into the library: the XML reader
# validates against it, and an installed pim needs no data file.
$(BUILD)/gen/products_xsd.c: schemas/pim-products.xsd
	@mkdir -p $(dir $@)
	{ echo '/* generated from schemas/pim-products.xsd */'; \
	  echo 'const char pim_products_xsd[] = {'; \
	  od -An -v -tu1 schemas/pim-products.xsd | awk '{for(i=1;i<=NF;i++) printf "%s,", $$i; print ""}'; \
	  echo '0 };'; \
	  echo "const unsigned long pim_products_xsd_len = sizeof pim_products_xsd - 1;"; } > $@

$(BUILD)/gen/products_xsd.o: $(BUILD)/gen/products_xsd.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

# schemas/merchant-profile.yaml is built into the library: the default
# profile of `pim export --format merchant`.
$(BUILD)/gen/merchant_profile.c: schemas/merchant-profile.yaml
	@mkdir -p $(dir $@)
	{ echo '/* generated from schemas/merchant-profile.yaml */'; \
	  echo 'const char pim_merchant_profile[] = {'; \
	  od -An -v -tu1 schemas/merchant-profile.yaml | awk '{for(i=1;i<=NF;i++) printf "%s,", $$i; print ""}'; \
	  echo '0 };'; \
	  echo "const unsigned long pim_merchant_profile_len = sizeof pim_merchant_profile - 1;"; } > $@

$(BUILD)/gen/merchant_profile.o: $(BUILD)/gen/merchant_profile.c
	$(CC) $(ALL_CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

$(BUILD)/libpim.pc: libpim.pc.in lib/pim.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    libpim.pc.in > $@

# ---- dependencies --------------------------------------------------------
DEB_PACKAGES = build-essential pkg-config libsqlite3-dev sqlite3 libyaml-dev \
    libcsv-dev libxml2-dev libxml2-utils libpcre2-dev libcmocka-dev valgrind \
    libunistring-dev \
    mandoc python3 python3-yaml clang libclang-rt-14-dev chromium

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	        || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# ---- tests ---------------------------------------------------------------
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libpim.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=default -o $@ $< $(BUILD)/libpim.a \
	    -lcmocka $(DEP_LIBS) $(LDFLAGS)

# The CSV tests run twice where the CPU has AVX2: the detection scanner
# has an SSE2 and an AVX2 version.
unit: $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	    PIM_TEST_DATA=tests/data $$t || fail=1; done; \
	PIM_NO_AVX2=1 PIM_TEST_DATA=tests/data $(BUILD)/tests/test_csv \
	    >/dev/null || { echo "test_csv failed with PIM_NO_AVX2=1"; fail=1; }; \
	exit $$fail

header-test:
	@mkdir -p $(BUILD)
	$(CC) -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only -x c \
	    tests/header_test.c -Ilib
	$(CC) -std=c11 -pedantic -Werror -Wall -Wextra -fsyntax-only -x c \
	    tests/header_test.c -Ilib
	@echo "header test: pim.h compiles alone"

cli-test: $(BUILD)/pim
	CLI_JOBS=2 PIM=$(abspath $(BUILD)/pim) tests/cli/run

truth-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/truth/run

pieces-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/pieces/run

man-lint:
	@for m in $(MAN_PAGES); do mandoc -Tlint -Wwarning $$m || exit 1; done
	@echo "man pages: $(words $(MAN_PAGES)) checked"

symbols-test: $(BUILD)/$(SOLIB)
	@bad=$$(nm -D --defined-only $(BUILD)/$(SOLIB) | awk '$$2 ~ /[TDBR]/ {print $$3}' \
	    | grep -v '^pim_' | grep -v '^_' || true); \
	if [ -n "$$bad" ]; then echo "exported non-pim symbols: $$bad"; exit 1; fi; \
	echo "symbols: only pim_* exported"

# Installs into a scratch DESTDIR and builds a program against it with
# pkg-config, as a user of the library would.
install-test: all
	@rm -rf $(BUILD)/stage
	@$(MAKE) -s install DESTDIR=$(abspath $(BUILD)/stage) PREFIX=/usr >/dev/null
	@test -x $(BUILD)/stage/usr/bin/pim
	@test -L $(BUILD)/stage/usr/lib/$(SONAME)
	@test -f $(BUILD)/stage/usr/share/man/man1/pim.1
	@PKG_CONFIG_PATH=$(BUILD)/stage/usr/lib/pkgconfig \
	  PKG_CONFIG_SYSROOT_DIR=$(abspath $(BUILD)/stage) \
	  $(CC) -o $(BUILD)/stage/hello tests/install_test.c \
	  $$(PKG_CONFIG_PATH=$(BUILD)/stage/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(abspath $(BUILD)/stage) pkg-config --cflags --libs libpim) \
	  -Wl,-rpath,$(abspath $(BUILD)/stage/usr/lib)
	@$(BUILD)/stage/hello | grep -q '^libpim $(VERSION)$$'
	@$(MAKE) -s uninstall DESTDIR=$(abspath $(BUILD)/stage) PREFIX=/usr >/dev/null
	@test ! -e $(BUILD)/stage/usr/bin/pim
	@echo "install test: installed, linked with pkg-config, uninstalled"

crash-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/crash/run

concurrency-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/concurrency/run

alloc-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/alloc/run

hostile-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/hostile/run

backup-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/backup/run

# pim report --format html in headless Chromium (SKIP without it)
report-html-test: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) BUILD=$(abspath $(BUILD)) tests/report-html/run

test: all header-test install-test symbols-test man-lint unit cli-test truth-test pieces-test crash-test concurrency-test alloc-test backup-test fuzz-regress hostile-test report-html-test

check: deps
	$(MAKE) test

# The sanitizer build used by CI: unit and CLI tests under ASan + UBSan.
sanitize: deps
	$(MAKE) BUILD=build-asan WERROR=-Werror \
	    OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" unit cli-test pieces-test

# The unit tests under valgrind: any error or definite leak fails.
valgrind-unit: deps $(UNIT_BIN)
	@fail=0; for t in $(UNIT_BIN); do \
	    PIM_TEST_DATA=tests/data valgrind --quiet --error-exitcode=99 \
	        --leak-check=full --errors-for-leak-kinds=definite,indirect \
	        $$t >/dev/null || { echo "valgrind-unit: $$t failed"; fail=1; }; \
	done; [ $$fail = 0 ] && echo "valgrind-unit: $(words $(UNIT_BIN)) test programs clean"; exit $$fail

# Under valgrind the cases take long: two at a time, one per core.
# VALGRIND_GROUPS picks groups of cases (default: all, as CI runs).
VALGRIND_GROUPS ?=
valgrind-cli: deps all
	CLI_JOBS=2 PIM_VALGRIND=1 PIM=$(abspath $(BUILD)/pim) tests/cli/run \
	    $(VALGRIND_GROUPS)

demo: deps
	$(MAKE) all
	examples/demo.sh $(BUILD)/pim

bench: deps all
	bench/run.sh $(BUILD)/pim

# ---- fuzzing ---------------------------------------------------------------
# libFuzzer targets in fuzz/ (see fuzz/README.md), built with clang against
# the library compiled with ASan + UBSan in its own directory.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = csv encoding value schema mapping validate rules where jsonl xml bmecat
FUZZ_FLAGS   = -std=c11 -D_GNU_SOURCE -pthread -g -O1 -fno-omit-frame-pointer \
    -fsanitize=address,undefined -fno-sanitize-recover=all $(WARN) \
    -DPIM_BUILDING -Ilib $(DEP_CFLAGS)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BIN     = $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_EMBED   = fz_example_schema=examples/schema.yaml \
    fz_value_schema=fuzz/value-schema.yaml \
    fz_nordic_mapping=examples/mappings/nordic-pricelist.yaml \
    fz_standard_mapping=examples/mappings/standard-pricelist.yaml \
    fz_nordic_csv=examples/data/supplier-nordic.csv:20 \
    fz_standard_csv=examples/data/supplier-standard.csv:20 \
    fz_example_jsonl=examples/data/products.jsonl \
    fz_roles_schema=tests/data/schemas/roles.yaml \
    fz_views_csv=tests/data/views/products.csv \
    $(if $(wildcard schemas/pim-products.xsd),pim_products_xsd=schemas/pim-products.xsd)

$(FUZZ_BUILD)/lib/%.o: lib/%.c lib/pim.h $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/gen/fuzz_data.c: fuzz/embed.sh fuzz/value-schema.yaml examples/schema.yaml \
    $(wildcard examples/mappings/*.yaml examples/data/*.csv schemas/*.xsd) \
    examples/data/products.jsonl tests/data/schemas/roles.yaml tests/data/views/products.csv
	@mkdir -p $(dir $@)
	fuzz/embed.sh $(FUZZ_EMBED) > $@

$(FUZZ_BUILD)/libpim.a: $(FUZZ_LIB_OBJ)
	rm -f $@
	ar rcs $@ $(FUZZ_LIB_OBJ)

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h fuzz/fuzz_cat.h $(FUZZ_BUILD)/libpim.a $(FUZZ_BUILD)/gen/fuzz_data.c
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_BUILD)/gen/fuzz_data.c $(FUZZ_BUILD)/libpim.a $(DEP_LIBS)

fuzz-build: $(FUZZ_BIN)

# Each target for FUZZ_SECONDS (fuzz) or FUZZ_SMOKE_SECONDS (fuzz-smoke,
# in CI), one at a time.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    fuzz/run $(FUZZ_BUILD) $$t $(FUZZ_SECONDS) || exit 1; done

FUZZ_SMOKE_SECONDS ?= 15
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# Inputs that once crashed a target, and the seed corpus, through `pim`.
fuzz-regress: $(BUILD)/pim
	PIM=$(abspath $(BUILD)/pim) tests/fuzz/run

# ---- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)
	install -m 755 $(BUILD)/pim $(DESTDIR)$(BINDIR)/pim
	install -m 755 $(BUILD)/$(SOLIB) $(DESTDIR)$(LIBDIR)/$(SOLIB)
	ln -sf $(SOLIB) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SOLIB) $(DESTDIR)$(LIBDIR)/libpim.so
	install -m 644 $(BUILD)/libpim.a $(DESTDIR)$(LIBDIR)/libpim.a
	install -m 644 lib/pim.h $(DESTDIR)$(INCLUDEDIR)/pim.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    libpim.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libpim.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libpim.pc
	for m in $(MAN_PAGES); do s=$${m##*.}; \
	    install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done
	install -m 644 schemas/*.yaml schemas/*.xsd $(DESTDIR)$(DATADIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pim $(DESTDIR)$(LIBDIR)/$(SOLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libpim.so \
	    $(DESTDIR)$(LIBDIR)/libpim.a $(DESTDIR)$(INCLUDEDIR)/pim.h \
	    $(DESTDIR)$(PKGCONFIGDIR)/libpim.pc
	for m in $(MAN_PAGES); do s=$${m##*.}; \
	    rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build build-asan build-fuzz
