# vigil: plain Makefile.  `make` builds build/vigild and build/vigilctl and
# nothing else; `make check` installs what it needs and runs every test.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR	?= $(PREFIX)/share/doc/vigil
DESTDIR	?=
CC	?= cc
CLANG	?= clang
PYTHON	?= /usr/bin/python3
FUZZ_RUNS_proto ?= 500000
FUZZ_RUNS_conf ?= 30000
FUZZ_RUNS_ctl ?= 200000
# the most one fuzzer may take, in s (here conf's 30000 runs take 15-17 s,
# the others 1-2 s); one that has not done its runs by then fails
FUZZ_MAX_S ?= 120

WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2
CFLAGS	?= -O2 -g
HARDEN	= -fstack-protector-strong -D_FORTIFY_SOURCE=2
ifeq ($(SANITIZE),1)
B	?= build/asan
CFLAGS	= -O1 -g -fno-omit-frame-pointer
HARDEN	= -fsanitize=address,undefined -fno-sanitize-recover=all
endif
B	?= build
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -Iagent
LIBS	= -lmnl -lconfig -lsystemd -lev -lsodium -ljson-c -lmicrohttpd -lm

# Everything but main(): linked into vigild, the unit tests and the fuzzers.
CORE	= clock log sdnotify hist realtime trust conf proto auth peer rx election net neigh vip keeper hold child hooks track events statedir lastsend caps ctlproto control status metrics command reload send push pushrun stage
CORE_OBJS = $(CORE:%=$(B)/agent/%.o)
CTL_OBJS = $(B)/ctl/vigilctl.o $(B)/agent/ctlproto.o
UNIT	= control vip sdnotify trust statedir lastsend conf proto rx auth peer election agreement hold transfer command ctl hooks track events reload child log net keeper schedule groups metrics push pushrun
UNIT_BINS = $(UNIT:%=$(B)/tests/test_%)
# the unit tests that run on the simulated cluster (tests/unit/sim.c)
SIM_TESTS = election schedule groups
FUZZ	= proto conf ctl
FB	= build/fuzz
FUZZ_BINS = $(FUZZ:%=$(FB)/fuzz_%)

ifeq ($(V),1)
Q	=
E	= @:
else
Q	= @
E	= @echo
endif

all: $(B)/vigild $(B)/vigilctl

$(B)/agent/%.o: agent/%.c agent/*.h
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/ctl/%.o: ctl/%.c agent/*.h
	@mkdir -p $(@D)
	$(E) "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/vigild: $(CORE_OBJS) $(B)/agent/vigild.o
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) $(LIBS)

$(B)/vigilctl: $(CTL_OBJS)
	$(E) "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDFLAGS) -ljson-c

$(B)/tests/test_%: tests/unit/test_%.c $(CORE_OBJS) agent/*.h tests/unit/*.h
	@mkdir -p $(@D)
	$(E) "  CC LD   $@"
	$(Q)$(CC) $(ALL_CFLAGS) -DVG_SRCDIR='"$(CURDIR)"' -o $@ $< \
	    $(if $(filter $*,$(SIM_TESTS)),tests/unit/sim.c) $(CORE_OBJS) \
	    $(LDFLAGS) $(LIBS) -lcmocka
$(SIM_TESTS:%=$(B)/tests/test_%): tests/unit/sim.c

# ---- fuzzers: clang's libFuzzer with ASan+UBSan, over the pure parsers
FUZZ_SRCS = $(CORE:%=agent/%.c)
$(FB)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) agent/*.h
	@mkdir -p $(@D)
	$(E) "  FUZZ    $@"
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -Iagent $(WARN) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(FUZZ_SRCS) $(LIBS)

# ---- the long fault-schedule sweep (make bench runs it): -O2, no sanitizer
SWEEP_SCHEDULES ?= 200000
fuzz-sweep: $(B)/tests/test_schedule
	@echo "== fault-schedule sweep ($(SWEEP_SCHEDULES) schedules)"
	@SCHEDULES=$(SWEEP_SCHEDULES) $(B)/tests/test_schedule

# availability and changes of active against loss and D, from the simulator
loss-table: $(B)/tests/test_schedule
	@echo "== VIP availability under symmetric loss (3 nodes, h = 10 ms)"
	@LOSS_TABLE=1 $(B)/tests/test_schedule

# ---- mutants: each safety rule broken in turn (-DVG_MUTANT_x in
# agent/election.c) must be caught by the fault schedules or test_election
MUTANTS	= ACTIVE_VOTES NO_QUIET TWO_VOTES NO_PERSIST MINORITY_LEASE LEASE_D \
	  NO_DRIFT NO_MARGIN PREVOTE_COUNTS WITNESS_STANDS RESTART_VOTES \
	  CAND_EARLY JOINT_ONE_QUORUM LASTSEND_EARLY \
	  LASTSEND_DEAF
mutants: $(filter-out $(B)/agent/election.o,$(CORE_OBJS))
	@echo "== mutants ($(words $(MUTANTS)) rules, each must be caught)"
	@CC="$(CC)" CFLAGS="$(filter-out -O2 -g,$(ALL_CFLAGS)) -O1" \
	    LIBS="$(LDFLAGS) $(LIBS) -lcmocka" \
	    OBJS="$^" OUT=$(B)/mutants sh tests/unit/mutants.sh $(MUTANTS)

.PRECIOUS: $(FB)/fuzz_%
.PHONY: all deps deps-deb deb check unit fuzz integration clang-build clean install bench demo mutants fuzz-sweep loss-table image image-check model

deps:
	@sh tests/deps.sh

# the election's Promela model, full search (tests/model; minutes)
model: deps
	sh tests/model/run.sh model $(B)

# the unit tests as written: what makes test_schedule run other schedules,
# or none (SCHEDULES, SCHED_*, LOSS_TABLE: fuzz-sweep, loss-table and
# mutants set them for their own runs), or the simulator break a rule on
# purpose (SIM_*), is unset
unit: $(UNIT_BINS)
	@set -e; unset SCHEDULES LOSS_TABLE LOSS_MIN \
	    $$(env | sed -nE 's/^((SCHED|SIM)_[A-Za-z0-9_]*)=.*/\1/p'); \
	    for t in $(UNIT_BINS); do echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

fuzz: $(FUZZ:%=fuzz-run-%)

fuzz-run-%: $(FB)/fuzz_%
	@echo "== fuzz_$* ($(FUZZ_RUNS_$*) runs)"
	@rm -rf $(FB)/work_$* && mkdir -p $(FB)/work_$*
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
	    $(FB)/fuzz_$* -runs=$(FUZZ_RUNS_$*) -max_len=4096 -timeout=10 \
	    -max_total_time=$(FUZZ_MAX_S) \
	    -artifact_prefix=$(FB)/ $(FB)/work_$* tests/fuzz/corpus/$* \
	    2>$(FB)/fuzz_$*.log || { tail -40 $(FB)/fuzz_$*.log; exit 1; }
	@grep -h '^Done' $(FB)/fuzz_$*.log
	@grep -q '^Done $(FUZZ_RUNS_$*) runs' $(FB)/fuzz_$*.log || { echo \
	    "fuzz_$*: stopped at $(FUZZ_MAX_S) s, before $(FUZZ_RUNS_$*) runs"; \
	    exit 1; }

# test_image.py and test_image_upgrade.py need the OCI image (make image,
# minutes of package downloads): make image-check runs them, not check
integration: all
	cd tests/integration && VIGIL_BUILD=$(CURDIR)/$(B) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider --ignore=test_image.py \
	    --ignore=test_image_upgrade.py .

# a live 3-node cluster in network namespaces: election, status, a kill,
# the failover, a hand-over; it removes everything it made, also on Ctrl-C
demo: deps
	$(MAKE) --no-print-directory all
	$(PYTHON) tests/demo/demo.py --build $(B)

# the benchmarks of issue 9's targets, vigil and keepalived side by side
# (about 30 minutes; not part of check): figures, not pass/fail.  Installs
# Debian's keepalived and valgrind (bench only).  BENCH_ARGS=--quick: about
# 6 minutes; --idle-s 600 --n64-s 600 --sched-s 600: the issue's 10 minutes.
# tests/bench/bench.py and floor.py run alone (tests/bench/README.md).
bench: deps all
	@sh tests/deps.sh keepalived valgrind
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) issue9.py $(BENCH_ARGS)
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) push.py $(PUSH_BENCH_ARGS)
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) push.py --only 3 --change dead_time
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) groups.py $(GROUPS_BENCH_ARGS)
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) flood.py
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) stalltrace.py --seconds 60
	$(MAKE) --no-print-directory fuzz-sweep loss-table

clang-build:
	$(MAKE) --no-print-directory CC=$(CLANG) B=build/clang all

check: deps-deb
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory clang-build
	$(MAKE) --no-print-directory SANITIZE=1 unit
	$(MAKE) --no-print-directory mutants
	sh tests/model/run.sh check $(B)
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory integration

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/vigil \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(DOCDIR)/examples/scripts
	install -m 0755 $(B)/vigild $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(B)/vigilctl $(DESTDIR)$(BINDIR)/
	install -m 0644 docs/vigild.8 docs/vigilctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/vigil.conf.5 $(DESTDIR)$(MANDIR)/man5/
	[ -e $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.conf ] || \
	    install -m 0644 conf/vigil.conf $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.conf
	install -m 0644 conf/vigil.conf $(DESTDIR)$(DOCDIR)/examples/vigil.conf
	install -m 0755 conf/scripts/* $(DESTDIR)$(DOCDIR)/examples/scripts/
	install -m 0644 docs/operations.md docs/grafana-dashboard.json \
	    $(DESTDIR)$(DOCDIR)/
	# the unit names the binaries where this install put them
	sed -e 's|/usr/sbin/vigild |$(SBINDIR)/vigild |' \
	    -e 's|/usr/bin/vigilctl |$(BINDIR)/vigilctl |' \
	    -e 's|/etc/vigil/|$(SYSCONFDIR)/vigil/|g' \
	    systemd/vigild.service > $(DESTDIR)$(SYSTEMDDIR)/vigild.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/vigild.service
	install -m 0644 systemd/vigil.sysusers \
	    $(DESTDIR)$(PREFIX)/lib/sysusers.d/vigil.conf
	install -m 0644 systemd/vigil.tmpfiles \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/vigil.conf
	install -m 0644 ctl/vigilctl.bash $(DESTDIR)$(COMPLETIONDIR)/vigilctl

# The Debian package, built from a copy so that its files land in build/deb
deb: deps-deb
	rm -rf build/deb && mkdir -p build/deb/src
	git ls-files -z --cached --others --exclude-standard | \
	    xargs -0 cp --parents -t build/deb/src
	cd build/deb/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error build/deb/vigil_*.deb
	@ls build/deb/*.deb

# make check needs them too (test_package runs make deb): installed, and
# named first, before any test runs
deps-deb: deps
	@sh tests/deps.sh debhelper lintian

# The OCI image from Debian packages only (mmdebstrap + the .deb + tini,
# imported by podman as localhost/vigil:VERSION); minutes, fetches
# packages: not part of make check.  image-check runs it as a 3-node
# cluster, one container per node namespace (tests/integration/test_image.py).
IMAGE_VERSION = $(shell sed -n '1s/^vigil (\([^)-]*\).*/\1/p' debian/changelog)
image: deb
	@sh tests/deps.sh mmdebstrap podman runc
	sh conf/image/build.sh build/deb/vigil_$(IMAGE_VERSION)_*.deb build/image

image-check: image all
	cd tests/integration && VIGIL_BUILD=$(CURDIR)/$(B) \
	    VIGIL_IMAGE=localhost/vigil:$(IMAGE_VERSION) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider test_image.py test_image_upgrade.py

clean:
	rm -rf build
