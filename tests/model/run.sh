#!/bin/sh
# tests/model/run.sh check|model BUILDDIR, or trail DIR
#   check: the constants from the code (consts.py), the safety model
#          (election.pml) searched breadth-first to DEPTH steps (the start
#          and DEPTH - 1 events: every run that short, hash-compact
#          states), from a cold start and from a healthy active (hand-overs
#          with the TRANSFER's vote), and each broken variant must give a
#          counterexample; the liveness model (liveness.pml) exhaustively:
#          the bounds of a cold start and of a failover hold, one tick less
#          does not, and NO_STAGGER misses the failover's.  About 3 minutes
#          of one core.
#   trail: the events of a counterexample found in DIR (a verifier's
#          directory under BUILDDIR/model).
#   model: the deeper search of the safety model (depth-first to a depth
#          bound, hash-compact): 3 nodes, 2 nodes + a witness, faults on,
#          TERM_NONACTIVE, and from a healthy active (alone, with faults,
#          with the pre-vote); the liveness model's bounds with faults and
#          with DELTA = 2 (exhaustive); prints states and time.
set -eu
what=$1
if [ "$what" = trail ]; then
	# trail DIR: the events of the counterexample a verifier in DIR found
	# (ty: 1 heartbeat, 2 vote request, 3 vote, 4 RELEASE, 5 TRANSFER)
	m=election.pml
	[ -f "$2/liveness.pml" ] && m=liveness.pml
	# shellcheck disable=SC2046
	cd "$2" && spin -t $(cat opts) $m | sed -n 's/^ *EV //p'
	exit 0
fi
out=$2/model
here=$(cd "$(dirname "$0")" && pwd)
DEPTH=${DEPTH:-12}
mkdir -p "$out"
/usr/bin/python3 "$here/consts.py" "$here/../../agent" "$out/consts.pml"
/usr/bin/python3 "$here/consts.py" "$here/../../agent" "$out/lconsts.pml" \
    liveness
cp "$here/election.pml" "$here/liveness.pml" "$out/"
cd "$out"

# build NAME [spin -D options]: a verifier in $out/NAME/
build() {
	name=$1; shift
	mkdir -p "$name"
	cp election.pml consts.pml "$name/"
	echo "$@" >"$name/opts"
	# shellcheck disable=SC2086
	(cd "$name" && spin -a "$@" election.pml >/dev/null &&
	    gcc $PAN_O -w -DSAFETY $CFLAGS_PAN -o pan pan.c)
}

# summary: states, depth, errors, time
summary() {
	grep -E "errors:|states, stored$|elapsed time|assertion violated" "$1" |
	    sed 's/^/	/'
}

# run_pan ARGS: ./pan ARGS here, its output in run.txt, interrupted after
# PAN_LIMIT s (SIGINT: pan prints what it searched and "Search not
# completed"; run.txt then says so too).  The limits cannot fire on a
# normal run: make check's, 600 s a search, where its longest (from a
# healthy active) takes 14-17 s here and a liveness search 1 s; make
# model's, 3600 s, where its longest (TERM_NONACTIVE) took 427 s
# (docs/design.md, "The model").
run_pan() {
	rc=0
	timeout -s INT -k 10 "$PAN_LIMIT" ./pan "$@" >run.txt 2>&1 || rc=$?
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "run.sh: Search not completed: stopped after $PAN_LIMIT s" \
		    >>run.txt
	fi
}

# finished FILE [exhaustive]: pan's search in FILE ran to its end, not
# stopped by memory (out of memory, the -DMEMLIM bound) or an interrupt:
# pan says "Search not completed" then, and "errors: 0" all the same; an
# exhaustive search (liveness) not cut at pan's depth bound either.  The
# safety searches stop at their depth bound by design: there pan's "max
# search depth too small" is their normal end.
finished() {
	! grep -qE "Search not completed|Search incomplete|out of memory|MEMLIM bound|Interrupted" \
	    "$1" || return 1
	[ "${2:-}" != exhaustive ] ||
	    ! grep -q "max search depth too small" "$1"
}

# live NAME holds|cx CFLAGS [spin -D options]: liveness.pml with the
# options in $out/live-NAME/, searched exhaustively (-DSAFETY: the bound is
# an assertion); holds: no error; cx: the bound's assertion must fail
live() {
	tag=$1; name=live-$1; want=$2; cc=$3; shift 3
	mkdir -p "$name"
	cp liveness.pml lconsts.pml "$name/"
	echo "$@" >"$name/opts"
	t0=$(date +%s)
	# shellcheck disable=SC2086
	(cd "$name" && spin -a "$@" liveness.pml >/dev/null &&
	    gcc $cc -w -DSAFETY -DMEMLIM=8000 -o pan pan.c &&
	    run_pan -m100000 -w"$LIVE_W")
	echo "model: liveness $tag ($*), $(($(date +%s) - t0)) s with the build:"
	summary "$name/run.txt"
	if [ "$want" = holds ] && ! grep -q "errors: 0" "$name/run.txt"; then
		echo "model: FAIL: the bound does not hold (trail: $out/$name/)"
		fail=1
	elif [ "$want" = holds ] && ! finished "$name/run.txt" exhaustive; then
		echo "model: FAIL: the search did not complete ($out/$name/run.txt)"
		fail=1
	elif [ "$want" = cx ] &&
	    ! grep -q "assertion violated (since<" "$name/run.txt"; then
		echo "model: FAIL: no run misses the bound, as one must"
		fail=1
	fi
}

fail=0
case $what in
check)
	# -O1: half the build time of -O2, the searches within a few per cent
	PAN_O=-O1
	PAN_LIMIT=${PAN_LIMIT:-600}
	CFLAGS_PAN="-DBFS -DHC4"
	# NAME:DEPTH[:OPTIONS]: each broken variant, searched breadth-first to
	# DEPTH steps (the start, then one step per event: its shortest
	# counterexample is DEPTH - 1 events or fewer, the monitor's step
	# included).  Where the full instance is too big at that depth, a
	# smaller one that has the counterexample: a counterexample of the
	# smaller instance is one of the full model (switches only take
	# behaviours away: BAG=3 fewer datagrams in flight, NO_HANDOVER no
	# hand-overs), and a variant that finds nothing fails the check.
	# The TRANSFER's vote: from a healthy active (FROM_ACTIVE, a state
	# the model reaches from the cold start; terms up to 3), so that a
	# hand-over is within the depth: its counterexample is one of the
	# model with MAXT = 3.
	VARIANTS="GRANT_NOT_HEARD:12 LEASE_D:13 CAND_EARLY:12
	    ACTIVE_VOTES:15:-DBAG=3,-DNO_HANDOVER NO_KEEPER:11:-DCRASHES=1
	    XFER_NO_RECORD:7:-DFROM_ACTIVE XFER_LIFTS:10:-DFROM_ACTIVE,-DBAG=3
	    XFER_LEASE_NOW:10:-DFROM_ACTIVE"
	start=$(date +%s)
	# NAME:DEPTH[:OPTIONS]: ok: 3 nodes; witness: 2 + a witness that
	# tries to stand; faults: 3 nodes, an agent crash, a keeper crash, a
	# keeper freeze, a duplication (short runs only: make model goes on);
	# handover: from a healthy active (hand-overs with the TRANSFER's vote)
	for cd in "ok:$DEPTH" "witness:$DEPTH:-DWITNESS,-DWITNESS_TRIES" \
	    "faults:9:-DCRASHES=1,-DKCRASH=1,-DFREEZES=1,-DDUPS=1" \
	    "handover:10:-DFROM_ACTIVE"; do
		n=${cd%%:*}; rest=${cd#*:}; d=${rest%%:*}
		opts=""
		[ "$rest" = "$d" ] || opts=$(echo "${rest#*:}" | tr , ' ')
		# shellcheck disable=SC2086
		build "$n" -DWAIT=1 $opts
		(cd "$n" && run_pan -m"$d") || true
		echo "model: $n${opts:+ ($opts)}, every run of up to" \
		    "$((d - 1)) events:"
		summary "$n/run.txt"
		if ! grep -q "errors: 0" "$n/run.txt"; then
			echo "model: FAIL: a counterexample (trail: $out/$n/)"
			fail=1
		elif ! finished "$n/run.txt"; then
			echo "model: FAIL: the search did not complete" \
			    "($out/$n/run.txt)"
			fail=1
		fi
	done
	for vd in $VARIANTS; do
		v=${vd%%:*}; rest=${vd#*:}; d=${rest%%:*}
		opts=""
		[ "$rest" = "$d" ] || opts=$(echo "${rest#*:}" | tr , ' ')
		# shellcheck disable=SC2086
		build "$v" -DWAIT=1 -D$v $opts
		(cd "$v" && run_pan -m"$d") || true
		if grep -q "assertion violated" "$v/run.txt"; then
			echo "model: broken variant $v${opts:+ ($opts)}:" \
			    "counterexample, as it must (the events:" \
			    "sh tests/model/run.sh trail $out/$v):"
			summary "$v/run.txt"
		else
			echo "model: FAIL: broken variant $v gave no counterexample"
			fail=1
		fi
	done
	# liveness (ticks of h/4, DELTA = 1; docs/design.md "The model"): a
	# cold start, the nodes starting within h, holds 30 ticks, not 29;
	# a failover (the active crashes, its keeper's RELEASE) 6, not 5;
	# without the rank's stagger the failover misses 6.  Small searches:
	# built -O0, the build is most of the time.
	LIVE_W=20
	live cold holds -O0 -DB=30 -DKEEP=40
	live cold-29 cx -O0 -DB=29
	live failover holds -O0 -DFAILOVER -DB=6 -DKEEP=40
	live failover-5 cx -O0 -DFAILOVER -DB=5
	live NO_STAGGER cx -O0 -DFAILOVER -DNO_STAGGER -DB=6
	echo "model: check took $(($(date +%s) - start)) s"
	;;
model)
	# Deeper than make check, still bounded in depth: the search without
	# a depth bound did not finish (3 nodes: 53.5 million states, not
	# exhausted, in 393 s; docs/design.md).  Depth-first to DEPTH steps
	# with -DREACH (a state reached again at a smaller depth is searched
	# again: every run of up to DEPTH - 1 events), hash-compact states.
	# NAME:DEPTH[:OPTIONS]
	PAN_O=-O2
	PAN_LIMIT=${PAN_LIMIT:-3600}
	CFLAGS_PAN="-DHC4 -DREACH -DMEMLIM=8000"
	# handover*: from a healthy active (the TRANSFER's vote), alone, with
	# faults, with the pre-vote round (xfer_take)
	for cd in "three:16" "witness:16:-DWITNESS,-DWITNESS_TRIES" \
	    "faults:12:-DCRASHES=1,-DKCRASH=1,-DFREEZES=1,-DDUPS=1" \
	    "term-nonactive:13:-DTERM_NONACTIVE,-DSTANDBY_HBS,-DCRASHES=1" \
	    "handover:12:-DFROM_ACTIVE" \
	    "handover-faults:10:-DFROM_ACTIVE,-DCRASHES=1,-DKCRASH=1,-DFREEZES=1,-DDUPS=1" \
	    "handover-prevote:11:-DFROM_ACTIVE,-DPREVOTE=1"; do
		n=${cd%%:*}; rest=${cd#*:}; d=${rest%%:*}
		opts=""
		[ "$rest" = "$d" ] || opts=$(echo "${rest#*:}" | tr , ' ')
		# shellcheck disable=SC2086
		build "full-$n" -DWAIT=1 $opts
		start=$(date +%s)
		(cd "full-$n" && run_pan -m"$d" -w27) || true
		echo "model: $n (-DWAIT=1 $opts), every run of up to" \
		    "$((d - 1)) events: $(($(date +%s) - start)) s"
		summary "full-$n/run.txt"
		# term-nonactive is a variant that is not load-bearing for
		# safety (docs/design.md): it must find nothing either
		grep -q "errors: 0" "full-$n/run.txt" &&
		    finished "full-$n/run.txt" || fail=1
	done
	# liveness with faults before the calm, and with DELTA = 2 (nodes
	# starting together: with the start's phases too it is 52 million
	# states, 13 GB); each bound holds (and stays KEEP = 2D ticks), one
	# tick less does not.  Exhaustive, full states (-DHC4 lost 43 % of
	# the states of the crash search here: with -w below 33 spin's
	# hash is 32 bits).
	LIVE_W=26
	live loss holds -O2 -DFMAX=1 -DB=31 -DKEEP=40
	live loss-30 cx -O2 -DFMAX=1 -DB=30
	live losses holds -O2 -DFMAX=2 -DB=70 -DKEEP=40
	live losses-69 cx -O2 -DFMAX=2 -DB=69
	live crash holds -O2 -DCRASHES=1 -DB=65 -DKEEP=40
	live crash-64 cx -O2 -DCRASHES=1 -DB=64
	live failover-losses holds -O2 -DFAILOVER -DFMAX=2 -DB=57 -DKEEP=40
	live failover-losses-56 cx -O2 -DFAILOVER -DFMAX=2 -DB=56
	live delta2 holds -O2 -DDELTA=2 -DSYNC -DB=35 -DKEEP=40
	live delta2-34 cx -O2 -DDELTA=2 -DSYNC -DB=34
	live delta2-failover holds -O2 -DDELTA=2 -DSYNC -DFAILOVER -DB=98 -DKEEP=40
	live delta2-failover-97 cx -O2 -DDELTA=2 -DSYNC -DFAILOVER -DB=97
	;;
*)
	echo "usage: run.sh check|model BUILDDIR" >&2
	exit 2
	;;
esac
exit $fail
