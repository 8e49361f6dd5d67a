# vigil: plain Makefile.  `make` builds build/vigild and build/vigilctl and
# nothing else; `make check` installs what it needs and runs every test.

PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
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
CORE	= clock log hist realtime trust conf proto auth peer rx election net vip keeper hold child hooks track events statedir caps ctlproto control status metrics command reload
CORE_OBJS = $(CORE:%=$(B)/agent/%.o)
CTL_OBJS = $(B)/ctl/vigilctl.o $(B)/agent/ctlproto.o
UNIT	= trust conf proto rx auth peer election agreement hold command ctl hooks track events reload child log net keeper
UNIT_BINS = $(UNIT:%=$(B)/tests/test_%)
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
	$(Q)$(CC) $(ALL_CFLAGS) -DVG_SRCDIR='"$(CURDIR)"' -o $@ $< $(CORE_OBJS) \
	    $(LDFLAGS) $(LIBS) -lcmocka

# ---- fuzzers: clang's libFuzzer with ASan+UBSan, over the pure parsers
FUZZ_SRCS = $(CORE:%=agent/%.c)
$(FB)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_SRCS) agent/*.h
	@mkdir -p $(@D)
	$(E) "  FUZZ    $@"
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -g -O1 -Iagent $(WARN) \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o $@ $< $(FUZZ_SRCS) $(LIBS)

.PRECIOUS: $(FB)/fuzz_%
.PHONY: all deps deps-deb deb check unit fuzz integration clang-build clean install bench demo

deps:
	@sh tests/deps.sh

# the election's Promela model, full search (tests/model; minutes)
model: deps
	sh tests/model/run.sh model $(B)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; \
	    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

fuzz: $(FUZZ:%=fuzz-run-%)

fuzz-run-%: $(FB)/fuzz_%
	@echo "== fuzz_$* ($(FUZZ_RUNS_$*) runs)"
	@rm -rf $(FB)/work_$* && mkdir -p $(FB)/work_$*
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp \
	    $(FB)/fuzz_$* -runs=$(FUZZ_RUNS_$*) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(FB)/ $(FB)/work_$* tests/fuzz/corpus/$* \
	    2>$(FB)/fuzz_$*.log || { tail -40 $(FB)/fuzz_$*.log; exit 1; }
	@grep -h '^Done' $(FB)/fuzz_$*.log

integration: all
	cd tests/integration && VIGIL_BUILD=$(CURDIR)/$(B) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider .

# a live 3-node cluster in network namespaces: election, status, a kill,
# the failover, a hand-over; it removes everything it made, also on Ctrl-C
demo: deps
	$(MAKE) --no-print-directory all
	$(PYTHON) tests/demo/demo.py --build $(B)

# the benchmarks (minutes; not part of check): figures, not pass/fail;
# BENCH_ARGS=--quick for a short run
bench: deps all
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) bench.py $(BENCH_ARGS)
	cd tests/bench && VIGIL_BUILD=$(CURDIR)/$(B) $(PYTHON) floor.py

clang-build:
	$(MAKE) --no-print-directory CC=$(CLANG) B=build/clang all

check: deps
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory clang-build
	$(MAKE) --no-print-directory SANITIZE=1 unit
	sh tests/model/run.sh check $(B)
	$(MAKE) --no-print-directory fuzz
	$(MAKE) --no-print-directory integration

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/vigil \
	    $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(PREFIX)/lib/sysusers.d \
	    $(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(DOCDIR)/examples/scripts
	install -m 0755 $(B)/vigild $(B)/vigilctl $(DESTDIR)$(SBINDIR)/
	install -m 0644 docs/vigild.8 docs/vigilctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 docs/vigil.conf.5 $(DESTDIR)$(MANDIR)/man5/
	[ -e $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.conf ] || \
	    install -m 0644 conf/vigil.conf $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.conf
	install -m 0644 conf/vigil.conf $(DESTDIR)$(DOCDIR)/examples/vigil.conf
	install -m 0755 conf/scripts/* $(DESTDIR)$(DOCDIR)/examples/scripts/
	install -m 0644 systemd/vigild.service $(DESTDIR)$(SYSTEMDDIR)/
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

deps-deb: deps
	@sh tests/deps.sh debhelper lintian

clean:
	rm -rf build
