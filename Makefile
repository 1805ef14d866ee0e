# The two commands for a fresh Debian 12 machine (as root): `make demo` and `make test`.
# Each installs missing Debian packages (deps) and builds first.

BUILD_DIR    ?= build
FUZZ_DIR     ?= build-fuzz
CLANG_DIR    ?= build-clang
RELEASE_DIR  ?= build-release
ASAN_DIR     ?= build-asan
TSAN_DIR     ?= build-tsan
DEB_DIR      ?= build-deb
DEB_VERSION  ?=
JOBS         ?= $(shell nproc)
FUZZ_SECONDS ?= 120
TEST_FUZZ_SECONDS ?= 10
CMAKE_FLAGS  ?=
PREFIX       ?= /usr/local

# ccache: one cache outside the clone, and paths on the compiler's command line made relative to
# the tree, so every clone (CI's fresh one, a second worktree) reuses the objects of the others.
export CCACHE_DIR     ?= /var/cache/calico-ci-ccache
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1
export CCACHE_MAXSIZE ?= 20G

.PHONY: all deps configure build test unit-test privileged-test soak fuzz clang-build format-check \
        tidy asan-test tsan-test demo bench install deb clean

all: build

deps:
	@tools/deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCMAKE_C_COMPILER_LAUNCHER=ccache \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test (labels unit and privileged), then a short libFuzzer run of each fuzz target
# (TEST_FUZZ_SECONDS each).
test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600 -LE soak
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

unit-test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -L unit

privileged-test: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L privileged -LE soak

# The long concurrency and fault runs (root; one calico-lab per machine): 4 hosts x 250 CNI ADDs
# with DELs on both datastores, 100 kill -9s of the CNI plugin, the node, BIRD and etcd faults.
soak: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -L soak

# libFuzzer targets built with clang-14 + ASan/UBSan, each run for FUZZ_SECONDS (default 120;
# `make test` runs them for TEST_FUZZ_SECONDS). New corpus entries stay in build-fuzz/fuzz/.
fuzz: deps
	@cmake --preset fuzz -DCALICO_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_all
	@ctest --test-dir $(FUZZ_DIR) --output-on-failure -L fuzz

# The whole tree with clang++-14 and -Werror (catches ignored [[nodiscard]] virtual results).
clang-build: deps
	@cmake --preset clang >/dev/null
	@cmake --build $(CLANG_DIR) -j $(JOBS)

format-check:
	@git ls-files '*.h' '*.cc' | xargs clang-format-14 --dry-run --Werror

# clang-tidy-14 with .clang-tidy's checks on the .cc files changed since the merge base with main
# (and those beside changed headers); its WarningsAsErrors fail the target. TIDY_BASE=<rev>
# compares with another revision; `tools/tidy.sh FILE...` checks given files.
tidy: build
	@tools/tidy.sh

# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (preset asan: clang++-14 with
# -Werror, so this build is also the clang build; .ci/run's third step). Every binary of the build
# carries the run-time defaults of cmake/sanitizer_defaults.cc.
asan-test: deps
	@cmake --preset asan >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) -L unit --timeout 600

# The tests labelled `threads` under ThreadSanitizer (preset tsan): the subprocess runner, the
# datastore backends' watchers and concurrent writers (the etcd backend against a real etcd),
# IPAM's concurrent clients, the one HTTP server (http::Server: calico-node's health/metrics and
# libnetwork's unix socket) and its users, calico-flows' service and calico-node's flow collector.
# TSAN_TARGETS are the test binaries that carry the label (a label on a test binary left out of
# TSAN_TARGETS is not run: its tests are never discovered).
TSAN_TARGETS ?= base_test datastore_test etcd_backend_test ipam_test agent_test http_test \
                libnetwork_test selector_test flows_test flows_ctl_test flowlog_test
tsan-test: deps
	@cmake --preset tsan >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target $(TSAN_TARGETS)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tools/tsan.supp" \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) --timeout 900 -L threads \
	  --no-tests=error

demo: build
	@tools/demo.sh $(BUILD_DIR)/bin

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)
	@if [ -x bench/run.sh ]; then bench/run.sh $(RELEASE_DIR); else echo "bench: no rows yet"; fi

install: build
	@install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/calico $(DESTDIR)/opt/cni/bin
	@install -d $(DESTDIR)$(PREFIX)/share/calico-lab/tutorials
	@install -m 644 $(BUILD_DIR)/bin/tutorials/*.sh $(DESTDIR)$(PREFIX)/share/calico-lab/tutorials/
	@for b in $(BUILD_DIR)/bin/*; do \
	  [ -f $$b ] || continue; \
	  case $$(basename $$b) in \
	    calico|calico-ipam) install -m 755 $$b $(DESTDIR)/opt/cni/bin/ ;; \
	    *.so) install -m 644 $$b $(DESTDIR)$(PREFIX)/lib/calico/ ;; \
	    *) install -m 755 $$b $(DESTDIR)$(PREFIX)/bin/ ;; \
	  esac; \
	done
	@echo "installed into $(DESTDIR)$(PREFIX)/bin and $(DESTDIR)/opt/cni/bin"

# The Debian package $(DEB_DIR)/calico-cpp_<version>_<arch>.deb: an optimised build with Debian's
# hardening flags (dpkg-buildflags, hardening=+all) and prefix /usr, packaged by tools/mkdeb.sh
# (DEB_VERSION overrides the project version).
DEB_FLAGS = DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get
deb: deps
	@cmake -S . -B $(DEB_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	  -DCALICO_WERROR=OFF -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
	  -DCMAKE_C_FLAGS="$$($(DEB_FLAGS) CPPFLAGS) $$($(DEB_FLAGS) CFLAGS | sed 's/^-g //; s/ -g / /')" \
	  -DCMAKE_CXX_FLAGS="$$($(DEB_FLAGS) CPPFLAGS) $$($(DEB_FLAGS) CXXFLAGS | sed 's/^-g //; s/ -g / /')" \
	  -DCMAKE_EXE_LINKER_FLAGS="$$($(DEB_FLAGS) LDFLAGS)" \
	  -DCMAKE_SHARED_LINKER_FLAGS="$$($(DEB_FLAGS) LDFLAGS)" \
	  -DCMAKE_MODULE_LINKER_FLAGS="$$($(DEB_FLAGS) LDFLAGS)" $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(DEB_DIR) -j $(JOBS) --target deb-binaries
	@tools/mkdeb.sh $(DEB_DIR) $(DEB_DIR) $(DEB_VERSION)

clean:
	@rm -rf $(BUILD_DIR) $(FUZZ_DIR) $(CLANG_DIR) $(RELEASE_DIR) $(DEB_DIR) $(ASAN_DIR) $(TSAN_DIR)
