#!/bin/sh
# mutants.sh: each safety rule is load-bearing.  For every name given, build
# test_schedule (and, if it lives, test_election) against an election.c
# compiled with -DVG_MUTANT_<name> (one rule broken: the hooks are in
# agent/election.c), run the fault schedules until the first violation, and
# report which check caught it.  A mutant that no schedule and no test kills
# fails the run.
#
# From the Makefile (make mutants): CC, CFLAGS, LIBS, OBJS (the core objects
# but election.o), OUT (a directory).  MUTANT_SCHEDULES bounds the schedules
# per mutant (default 1500); MUTANT_NO_LEN=1 also runs each without the
# lease-length check (what the other checks catch on their own).  Each run
# of a mutant's binary is stopped after MUTANT_LIMIT s (default 600 plus
# 0.1 s a schedule: 1500 schedules take about 7 s here), and one stopped
# there fails the run: it was neither killed nor survived.
set -u
: "${CC:?}" "${CFLAGS:?}" "${LIBS:?}" "${OBJS:?}" "${OUT:?}"
n=${MUTANT_SCHEDULES:-1500}
limit=${MUTANT_LIMIT:-$((600 + n / 10))}
mkdir -p "$OUT"
total=0
dead=0
lived=""
start=$(date +%s)

# run NAME BIN [env...]: prints how it died, 0 if it did; 2 if it was
# stopped at the limit
run() {
	name=$1 bin=$2
	shift 2
	env "$@" SCHEDULES="$n" SCHED_STOP=1 timeout -k 10 "$limit" "$bin" \
	    >"$OUT/$name.log" 2>&1
	rc=$?
	[ $rc != 0 ] || return 1
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		echo "stopped after $limit s (or SIGKILLed): $OUT/$name.log"
		return 2
	fi
	v=$(grep -m1 '^VIOLATION' "$OUT/$name.log" | sed 's/^VIOLATION at [0-9.]* ms: //')
	seed=$(grep -m1 'reproduce:' "$OUT/$name.log" | sed 's/.*SCHED_SEED=\([0-9]*\).*/\1/')
	cnt=$(grep -m1 'fault schedules:' "$OUT/$name.log" | sed 's/.*fault schedules: \([0-9]*\).*/\1/')
	echo "killed at schedule ${cnt:-?} (seed ${seed:-?}): ${v:-$(tail -3 "$OUT/$name.log" | head -1)}"
	return 0
}

# what does not change from one mutant to the next, once
for f in sim test_schedule test_election; do
	# shellcheck disable=SC2086
	$CC $CFLAGS -c -o "$OUT/$f.o" "tests/unit/$f.c" || exit 2
done

for m in "$@"; do
	total=$((total + 1))
	bin=$OUT/test_schedule_$m
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -DVG_MUTANT_$m -c -o "$OUT/election_$m.o" \
	    agent/election.c || ! $CC $CFLAGS -o "$bin" "$OUT/test_schedule.o" \
	    "$OUT/sim.o" "$OUT/election_$m.o" $OBJS $LIBS; then
		echo "mutants: $m does not build" >&2
		exit 2
	fi
	t0=$(date +%s.%N)
	r=$(run "$m" "$bin")
	rc=$?
	if [ $rc = 2 ]; then
		echo "mutants: $m: $r" >&2
		exit 2
	fi
	if [ $rc = 0 ]; then
		dead=$((dead + 1))
		printf '  %-16s %s (%s s)\n' "$m" "$r" "$(awk -v a="$t0" \
		    -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
	else
		ebin=$OUT/test_election_$m
		# shellcheck disable=SC2086
		$CC $CFLAGS -o "$ebin" "$OUT/test_election.o" "$OUT/sim.o" \
		    "$OUT/election_$m.o" $OBJS $LIBS || exit 2
		timeout -k 10 "$limit" "$ebin" >"$OUT/$m.election.log" 2>&1
		rc=$?
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			echo "mutants: $m: test_election stopped after $limit s" \
			    "(or SIGKILLed): $OUT/$m.election.log" >&2
			exit 2
		fi
		if [ $rc = 0 ]; then
			lived="$lived $m"
			printf '  %-16s SURVIVED %s schedules and test_election\n' \
			    "$m" "$n"
			continue
		fi
		dead=$((dead + 1))
		printf '  %-16s survived %s schedules; killed by test_election: %s\n' \
		    "$m" "$n" "$(grep -m1 'FAILED\|ERROR' "$OUT/$m.election.log")"
	fi
	if [ "${MUTANT_NO_LEN:-0}" = 1 ]; then
		r=$(run "$m.nolen" "$bin" SCHED_NO_LEN=1)
		rc=$?
		if [ $rc = 2 ]; then
			echo "mutants: $m: $r" >&2
			exit 2
		fi
		if [ $rc = 0 ]; then
			printf '  %-16s   without the lease-length check: %s\n' "" "$r"
		else
			printf '  %-16s   without the lease-length check: survived %s schedules\n' "" "$n"
		fi
	fi
done
echo "mutants: $dead of $total killed in $(( $(date +%s) - start )) s${lived:+; SURVIVED:$lived}"
[ -z "$lived" ]
