# libopenstack_dest — the commands a newcomer needs.
#   make demo     start a local Swift + Keystone and back up / restore real files through the library
#   make test     every test of every layer (Rust, C, Python, C#) against the real test bed
#   make check    the fast lane, no server: fmt, clippy, cargo test (fakes, header freshness),
#                 the Python and C# bindings' generated declarations (a couple of minutes; CI's first stage)
#   make install  PREFIX=/usr/local: the .so, the .a, the header, a pkg-config file and bin/oscli
#                 (PROFILE=debug installs the debug build instead of building a release)
#   make header   regenerate include/openstack_dest.h from src/ffi after changing the C ABI
#   make wheel    the Python package as a manylinux wheel with the release library (target/wheel/)
#   make bench    ours (C CLI, Python) against curl, swiftclient, rclone, OpenDAL on the test bed (loopback),
#                 and duplicity on ours against duplicity on its own swift:// backend
#   make bench-net the same through the relay: 20 ms round trip, 100 MiB/s shared link (5000 listed)
#   make fuzz     coverage-guided fuzzing of the parsers, FUZZ_SECONDS (default 60) per target
#   make soak     8 threads of mixed operations under random connection resets on the test bed,
#                 then random histories checked against the lifecycle model (tests/model.rs),
#                 SOAK_SECONDS each (default 300); the test command runs them for 20 s and 60 s
#   make soak-ring the model on three storage nodes (3 replicas), one stopped and started again

PREFIX ?= /usr/local
PROFILE ?= release
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 300
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
# The SONAME's version (see README's ABI policy): MAJOR, or 0.MINOR before 1.0, where each minor
# release may change the ABI. build.rs gives the library the same.
SOVERSION := $(if $(filter 0,$(MAJOR)),$(MAJOR).$(MINOR),$(MAJOR))

.PHONY: all build debug release header check test demo bench bench-net install uninstall testbed-start testbed-stop soak soak-ring wheel

all: build

build debug:
	cargo build

release:
	cargo build --release

# Regenerates include/openstack_dest.h from src/ffi (the header test fails while it is stale).
header:
	OSD_BLESS_HEADER=1 cargo test --test header -- --test-threads=1

check:
	bash scripts/check.sh

test:
	bash scripts/run-all-tests.sh

demo:
	bash examples/demo.sh

# The Python package as a wheel with the release library inside, tagged manylinux (checked by
# auditwheel) in target/wheel/; `make test` also checks it and installs it into a fresh venv.
wheel:
	bash scripts/wheel.sh

bench:
	bash examples/bench/run.sh

# Through the relay, fewer listed objects by default (every size can be set as for make bench).
bench-net:
	BENCH_DELAY_MS=10 BENCH_LINK_MIB=100 BENCH_LIST=$${BENCH_LIST:-5000} bash examples/bench/run.sh

fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

soak:
	bash tests/openstack/testbed.sh start >/dev/null
	. $${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh && OSD_REQUIRE_SERVER=1 OSD_SOAK_SECONDS=$(SOAK_SECONDS) cargo test --test soak -- --nocapture
	. $${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh && OSD_REQUIRE_SERVER=1 OSD_MODEL_SECONDS=$(SOAK_SECONDS) cargo test --test model -- --nocapture

# The lifecycle model on a test bed of three storage nodes (rings of 3 replicas), node 2 stopped
# for 10 s every 25 s; the test bed is started again as make test wants it (1 replica) at the end.
soak-ring:
	OSD_REPLICAS=3 bash tests/openstack/testbed.sh start >/dev/null
	. $${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh && OSD_REQUIRE_SERVER=1 OSD_MODEL_OUTAGE_NODE=2 \
	  OSD_MODEL_SECONDS=$(SOAK_SECONDS) cargo test --test model -- --nocapture; rc=$$?; \
	  bash tests/openstack/testbed.sh start >/dev/null; exit $$rc

testbed-start:
	bash tests/openstack/testbed.sh start

testbed-stop:
	bash tests/openstack/testbed.sh stop

# The installed library carries its versioned SONAME; the checkout's copy is linked again
# without it afterwards (a relink only), so programs built against the checkout keep loading.
CARGO_PROFILE_FLAG = $(if $(filter release,$(PROFILE)),--release,)
install:
	OPENSTACK_DEST_SONAME=1 cargo build --lib $(CARGO_PROFILE_FLAG)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 target/$(PROFILE)/libopenstack_dest.so $(DESTDIR)$(LIBDIR)/libopenstack_dest.so.$(VERSION)
	cargo build --lib $(CARGO_PROFILE_FLAG)
	ln -sf libopenstack_dest.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libopenstack_dest.so.$(SOVERSION)
	ln -sf libopenstack_dest.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libopenstack_dest.so
	install -m 0644 target/$(PROFILE)/libopenstack_dest.a $(DESTDIR)$(LIBDIR)/libopenstack_dest.a
	install -m 0644 include/openstack_dest.h $(DESTDIR)$(INCLUDEDIR)/openstack_dest.h
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  'Name: openstack_dest' 'Description: OpenStack Swift backup destination (C ABI)' \
	  'Version: $(VERSION)' 'Libs: -L$${libdir} -lopenstack_dest' \
	  'Libs.private: -lpthread -ldl -lm' 'Cflags: -I$${includedir}' \
	  > $(DESTDIR)$(LIBDIR)/pkgconfig/openstack_dest.pc
	$(CC) -std=c99 -O2 -Wall -Wextra -I$(DESTDIR)$(INCLUDEDIR) examples/c/oscli.c \
	  -L$(DESTDIR)$(LIBDIR) -Wl,-rpath,$(LIBDIR) -lopenstack_dest -o target/oscli-installed
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 target/oscli-installed $(DESTDIR)$(BINDIR)/oscli

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libopenstack_dest.so* $(DESTDIR)$(LIBDIR)/libopenstack_dest.a \
	  $(DESTDIR)$(INCLUDEDIR)/openstack_dest.h $(DESTDIR)$(LIBDIR)/pkgconfig/openstack_dest.pc \
	  $(DESTDIR)$(BINDIR)/oscli
