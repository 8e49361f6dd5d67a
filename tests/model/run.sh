#!/bin/sh
# tests/model/run.sh check|model BUILDDIR
#   check: the constants from the code (consts.py), the model searched
#          breadth-first to DEPTH events (every run that short, hash-compact
#          states), and each broken variant must give a counterexample
#          within that depth.  About 2 minutes of one core.
#   model: the full search (depth-first, hash-compact, no depth bound) of
#          3 nodes and of 2 nodes + a witness; prints states and time.
set -eu
what=$1
out=$2/model
here=$(cd "$(dirname "$0")" && pwd)
DEPTH=${DEPTH:-18}
mkdir -p "$out"
/usr/bin/python3 "$here/consts.py" "$here/../../agent" "$out/consts.pml"
cp "$here/election.pml" "$out/"
cd "$out"

# build NAME [spin -D options]: a verifier in $out/NAME/
build() {
	name=$1; shift
	mkdir -p "$name"
	cp election.pml consts.pml "$name/"
	(cd "$name" && spin -a "$@" election.pml >/dev/null &&
	    gcc -O2 -w -DSAFETY $CFLAGS_PAN -o pan pan.c)
}

# summary: states, depth, errors, time
summary() {
	grep -E "errors:|states, stored$|elapsed time|assertion violated" "$1" |
	    sed 's/^/	/'
}

fail=0
case $what in
check)
	CFLAGS_PAN="-DBFS -DHC4"
	# the others (ACTIVE_VOTES, NO_KEEPER) need more than 20 events:
	# make model
	VARIANTS="GRANT_NOT_HEARD:18 LEASE_D:19 CAND_EARLY:18"
	start=$(date +%s)
	for cfg in "ok" "witness -DWITNESS -DWITNESS_TRIES"; do
		n=${cfg%% *}
		# shellcheck disable=SC2086
		build "$n" -DWAIT=1 $(echo "$cfg" | sed 's/^[a-z]*//')
		(cd "$n" && ./pan -m"$DEPTH" >run.txt 2>&1) || true
		echo "model: $n (3 nodes; witness: 2 + a witness that tries" \
		    "to stand), every run of up to $DEPTH events:"
		summary "$n/run.txt"
		if ! grep -q "errors: 0" "$n/run.txt"; then
			echo "model: FAIL: a counterexample (trail: $out/$n/)"
			fail=1
		fi
	done
	# variant:depth (the events its shortest counterexample takes, +2)
	for vd in $VARIANTS; do
		v=${vd%:*}; d=${vd##*:}
		n=$(echo "$v" | cut -d' ' -f1)
		# shellcheck disable=SC2086
		build "$n" -DWAIT=1 -D$v
		(cd "$n" && ./pan -m"$d" >run.txt 2>&1) || true
		if grep -q "assertion violated" "$n/run.txt"; then
			echo "model: broken variant $n: counterexample, as it must:"
			summary "$n/run.txt"
		else
			echo "model: FAIL: broken variant $n gave no counterexample"
			fail=1
		fi
	done
	echo "model: check took $(($(date +%s) - start)) s"
	;;
model)
	CFLAGS_PAN="-DHC4"
	for cfg in "three -DWAIT=1" "witness -DWAIT=1 -DWITNESS -DWITNESS_TRIES"; do
		n=$(echo "$cfg" | cut -d' ' -f1)
		# shellcheck disable=SC2086
		build "full-$n" $(echo "$cfg" | cut -d' ' -f2-)
		start=$(date +%s)
		(cd "full-$n" && ./pan -m20000000 -w28 >run.txt 2>&1) || true
		echo "model: full search, $n ($(echo "$cfg" | cut -d' ' -f2-)):" \
		    "$(($(date +%s) - start)) s"
		summary "full-$n/run.txt"
		grep -q "errors: 0" "full-$n/run.txt" || fail=1
	done
	# the broken variants whose counterexample is longer than make
	# check's depth: breadth-first to 24 events
	CFLAGS_PAN="-DBFS -DHC4"
	for v in ACTIVE_VOTES "NO_KEEPER -DCRASHES=1"; do
		n=$(echo "$v" | cut -d' ' -f1)
		# shellcheck disable=SC2086
		build "$n" -DWAIT=1 -D$v
		start=$(date +%s)
		(cd "$n" && ./pan -m24 >run.txt 2>&1) || true
		echo "model: broken variant $n: $(($(date +%s) - start)) s"
		summary "$n/run.txt"
		grep -q "assertion violated" "$n/run.txt" || fail=1
	done
	;;
*)
	echo "usage: run.sh check|model BUILDDIR" >&2
	exit 2
	;;
esac
exit $fail
