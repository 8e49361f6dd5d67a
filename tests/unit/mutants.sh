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
# lease-length check (what the other checks catch on their own).
set -u
: "${CC:?}" "${CFLAGS:?}" "${LIBS:?}" "${OBJS:?}" "${OUT:?}"
n=${MUTANT_SCHEDULES:-1500}
mkdir -p "$OUT"
total=0
dead=0
lived=""
start=$(date +%s)

# run NAME BIN [env...]: prints how it died, 0 if it did
run() {
	name=$1 bin=$2
	shift 2
	if env "$@" SCHEDULES="$n" SCHED_STOP=1 "$bin" >"$OUT/$name.log" 2>&1; then
		return 1
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
	if r=$(run "$m" "$bin"); then
		dead=$((dead + 1))
		printf '  %-16s %s (%s s)\n' "$m" "$r" "$(awk -v a="$t0" \
		    -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
	else
		ebin=$OUT/test_election_$m
		# shellcheck disable=SC2086
		$CC $CFLAGS -o "$ebin" "$OUT/test_election.o" "$OUT/sim.o" \
		    "$OUT/election_$m.o" $OBJS $LIBS || exit 2
		if "$ebin" >"$OUT/$m.election.log" 2>&1; then
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
		if r=$(run "$m.nolen" "$bin" SCHED_NO_LEN=1); then
			printf '  %-16s   without the lease-length check: %s\n' "" "$r"
		else
			printf '  %-16s   without the lease-length check: survived %s schedules\n' "" "$n"
		fi
	fi
done
echo "mutants: $dead of $total killed in $(( $(date +%s) - start )) s${lived:+; SURVIVED:$lived}"
[ -z "$lived" ]
