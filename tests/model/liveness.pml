/*
 * liveness.pml: a timed Promela model of the liveness of vigil's election
 * as built (agent/election.c; docs/design.md "The model").  Checked by spin
 * (tests/model/run.sh).  election.pml is the safety model; this one asks
 * how soon an active is there once the faults are over.
 *
 * THE PROPERTY (a safety assertion on a tick counter)
 *   With a healthy majority (at most one of the 3 nodes down) and the
 *   faults over (the "calm"), some running node is active, and no running
 *   node has a newer term (so nothing will depose it), at the end of tick
 *   calm + B at the latest: assert(since < B) at every tick without one.
 *   Once there it must stay there KEEP more ticks: assert(stab == 0).
 *   Faults before the calm: FMAX datagrams lost, CRASHES (0 or 1) agent
 *   crashes, each at any tick; a crashed agent restarts at any later tick
 *   or stays down.  The calm comes at the boundary of the last fault (or of
 *   the last start): a later one only leaves less to count, since an
 *   active, once there, stays (KEEP).  -DFAILOVER: the one crash is the
 *   active's, it stays down, and the calm is not before it (the cold start
 *   before it is not counted).
 *
 * WHAT IS MODELLED, AND TIME
 *   Discrete time in ticks of m = h/4 (25 ms at h = 100 ms); h, D = 5h and
 *   rho are conf.h's defaults, and tests/model/consts.py (liveness mode)
 *   reads them and the formulas below from the C sources into lconsts.pml,
 *   failing if a formula is not in the form this file assumes.  Every event
 *   happens at a tick.  In each tick every running node takes its turn:
 *   each datagram due to it and its timer, in ANY order; time advances only
 *   when every node has done its work at the tick (no node can be starved,
 *   which is what makes the runs fair).  A datagram sent in tick t is taken
 *   in tick t+1..t+DELTA (the receiver's choice within that), or lost
 *   (before the calm, FMAX at most); it is never taken in its own tick, so
 *   the order of the nodes' turns does not matter.  The timer is
 *   vg_el_tick() until nothing is due (vigild re-arms at once), then the
 *   heartbeats of the node's grid: to every peer every h, the first at the
 *   start.  Each node: state no-quorum / standby / candidate / active; term
 *   and vote (persisted: a crash keeps them); max_term; quiet_since;
 *   last_active_hb; back_at; backoff_until; released and released_at;
 *   active_id, active_inc, term_active; the pre-vote and real rounds with
 *   round_end = 2h + rtt_worst; and per peer what it last heard: when, its
 *   state, incarnation, up_at (first heartbeat of an incarnation) and
 *   released_at.  candidacy_at() whole: after quiet_since (or a voter's
 *   up_at, at most 4 waits later) + D(1+rho)/(1-rho) + rtt_worst + rank*h,
 *   not before back_at + h + rtt_worst + rank*h (rank with the nodes heard in
 *   no-quorum); not modelled: better_back(), the wait after a better
 *   standby's return from no-quorum, fault or maintenance (as heard: +
 *   h + rtt_worst + rank*h) and, in the listen after our own return,
 *   while a better node is heard in no-quorum; at most D later than
 *   without it.  It only delays a candidacy.  Nodes return here only at a
 *   cold start, where the quiet wait is the later one unless a return
 *   comes more than about 4h after the start; the simulator's cold-start
 *   tests pass with it, and test_back_apart and test_better_back_bounded
 *   are its checks; after a
 *   RELEASE of the term's
 *   active, released_at + w + rank*h; never before backoff_until.  rank()
 *   whole.  vote_check() rules (0), (1), (3) (2 trivially: three nodes),
 *   the retransmission yes, a RELEASE lifting (1) and (3); the deferral of
 *   2h + rtt_worst after granting a pre-vote; a failed round's back-off,
 *   any whole tick in 0..2h (every draw: the bound is over the worst
 *   draws, where the code draws at random); term adoption by follow() and
 *   a granted vote; a candidate back to standby on an active's heartbeat or
 *   on granting a vote; an active stepping down on a newer term's
 *   heartbeat; the reply "our term is newer" to an old active; a restart
 *   of the known active as a release; a crash (the keeper sends RELEASE(T)
 *   if the agent was active) and a restart (a new incarnation).
 *   The timers in ticks: h = 4, D = 20, the candidate's wait 21 (20.404,
 *   acted on at the first tick at or after it), rtt_worst = 2*DELTA (the
 *   worst round trip, as measured), w = min(rtt_typ, rtt_worst/2) = DELTA
 *   (rtt_typ >= 2 ticks), a round 8 + rtt_worst, the deferral the same, a
 *   back-off 0..8.  The nodes start within one interval (any tick of
 *   0..h-1: any phase of their grids; -DSYNC: all at tick 0).
 *
 * SOUNDNESS OF THE ABSTRACTION (what a bound found here says)
 *   A bound here is exact for the discrete system above; it is a bound of
 *   the code for a network whose one-way delay is one to DELTA ticks and
 *   clocks without drift.  Integer durations between events at ticks are
 *   kept exactly; a deadline between ticks is acted on at the next tick
 *   (the candidate's wait, the back-off).  Not covered: a datagram taken
 *   within the tick it was sent in (a real LAN is much faster than 25 ms:
 *   the model charges every hop a whole tick, so its figures are upper
 *   figures for such a network, not proven for it); clock drift (rho
 *   moves each timer by at most 1 %, under a tick over the bounds found);
 *   a measured rtt_worst above the true one (it lengthens the waits).
 *   Exact reductions, which change no behaviour: ages saturate where the
 *   code no longer tells them apart; an active's quiet_since and
 *   last_active_hb are not read until it steps down, which sets both; an
 *   up_at not after quiet_since never counts again; terms are mapped, in
 *   order, onto steps of at most 2 (only compared, and a candidacy asks one
 *   above the largest it saw); the bag of datagrams is kept sorted.
 *
 * LEFT OUT (said plainly)
 *   Leases and echoes: an active here holds until it steps down.  The code
 *   lapses (and steps down D later) when no quorum echo renews its lease
 *   within L = 18.6 ticks; with one live follower that takes all the
 *   active's heartbeats to it within L - 2*DELTA lost, 5 - DELTA in a row
 *   (more with two followers): FMAX <= 4 - DELTA is enforced.  Refusals:
 *   the code sends them; they change nothing at the candidate but its view
 *   of the voter (the voter's heartbeats give it within h), except a
 *   `term` refusal below a term the voter hears another node hold, which
 *   raises the candidate's highest term seen (2026-12-06; not modelled:
 *   with the holder of that term alive it only stops a win that would be
 *   deposed, with it crashed it can cost one round and a back-off).  Hand-overs,
 *   TRANSFER and preemption (operator actions; all priorities are equal,
 *   so rank and rule (3) go by id, node 0 first), maintenance and fault
 *   states, a witness, weighted votes, a joint configuration, the digest,
 *   the keeper's crash and freeze, HOLDING, flap damping.  A crash happens
 *   at a tick's boundary, not inside a node's turn.  Starts further apart
 *   than h are covered only as a crash and restart.  N = 3.
 *
 * BROKEN VARIANT (make check asserts its counterexample)
 *   -DNO_STAGGER  rank*h left out of candidacy_at(): after the active's
 *                 crash both standbys stand at the same tick, grant each
 *                 other's pre-vote, vote for themselves and split; the
 *                 next try waits a full D.  With -DFAILOVER it misses the
 *                 code's bound of 6 ticks (it needs 31).
 * Each event prints an "EV" line in a replay (spin -t; run.sh trail DIR).
 */

#include "lconsts.pml"

#define N	3
#define Q	2		/* quorum: 2 of 3 votes */
#ifndef DELTA
#define DELTA	1		/* a datagram takes 1..DELTA ticks */
#endif
#ifndef FMAX
#define FMAX	0		/* datagrams lost before the calm */
#endif
#ifndef CRASHES
#define CRASHES	0		/* agent crashes before the calm */
#endif
#ifndef B
#define B	30		/* the bound, in ticks after the calm */
#endif
#ifndef KEEP
#define KEEP	0		/* ticks the active must stay once there */
#endif
#ifndef BAG
#define BAG	18		/* datagrams in flight at most (asserted) */
#endif
#ifdef SYNC
#define START	1		/* every node starts at tick 0 */
#else
#define START	H		/* the nodes start within one interval */
#endif
#if DELTA < 1 || DELTA > 2
#error "DELTA is 1 or 2 (w = DELTA rests on it; the age field has 2 bits)"
#endif
#if BAG > 18
#error "BAG is at most 18 (the slots listed in FORCED, CANANY, world())"
#endif
#if CRASHES > 1
#error "CRASHES is 0 or 1: a healthy majority of 3 after the calm"
#endif
#if FMAX > 4 - DELTA
#error "FMAX is at most 4 - DELTA: with more losses a lease could lapse (not modelled)"
#endif

#define RTTW	(2 * DELTA)		/* rtt_worst: the worst round trip */
#define HALF	DELTA			/* w = min(rtt_typ, rtt_worst / 2) */
#define ROUND	(ROUND_H * H + RTTW)
#define DEFER	(DEFER_H * H + RTTW)
#define BOMAX	(BACKOFF_H * H)
#define VQCAP	(VQ_WAITS * WAIT)
/* saturation of the ages: past these, nothing in the code tells them apart */
#define QCAP	(VQCAP + WAIT + RTTW + (N - 1) * H)
#define BCAP	(H + RTTW + (N - 1) * H)
#define RCAP	(HALF + (N - 1) * H)
#define HNEVER	(DEAD + 1)
#define PNONE	255	/* up_at unset */
#define POLD	254	/* up_at set, not after quiet_since: it never counts again */
#define BOPEND	255	/* a back-off to be drawn */

/* states (NOQ: no-quorum) */
#define NOQ	0
#define STANDBY	1
#define CAND	2
#define ACTIVE	3
/* datagrams */
#define HB	1
#define REQ	2
#define VOTE	3
#define REL	4

/*
 * A datagram in one int; the bag is kept sorted (free slots, 0, last) so
 * that the same datagrams in other slots are one state.  Bits: ty 3,
 * from 2, to 2, term 4, pre 1, st 2 (the sender's state), inc 2, fresh 1
 * (sent in this step: its st is the sender's at the step's end), age 2
 * (ticks since sent), highest.
 */
#define P_TY(x)		((x) & 7)
#define P_FROM(x)	(((x) >> 3) & 3)
#define P_TO(x)		(((x) >> 5) & 3)
#define P_TERM(x)	(((x) >> 7) & 15)
#define P_PRE(x)	(((x) >> 11) & 1)
#define P_ST(x)		(((x) >> 12) & 3)
#define P_INC(x)	(((x) >> 14) & 3)
#define P_FRESH(x)	(((x) >> 16) & 1)
#define P_AGE(x)	(((x) >> 17) & 3)
#define PACK(TY, F, T, TERM, PRE, ST, INC, FR, AGE) \
	((TY) | ((F) << 3) | ((T) << 5) | ((TERM) << 7) | ((PRE) << 11) | \
	((ST) << 12) | ((INC) << 14) | ((FR) << 16) | ((AGE) << 17))
#define TERMS	16		/* terms fit in 4 bits (asserted) */
#define TERM1	(1 << 7)
#define AGE1	(1 << 17)
int bag[BAG];

typedef node_t {
	bit up;		/* the agent runs */
	bit gone;	/* started once, now down (crashed) */
	bit tmr;	/* its timer step was taken in this tick */
	byte inc;	/* incarnation */
	byte st;
	byte term;	/* persisted */
	byte voted;	/* persisted: index + 1; 0 none */
	byte maxt;	/* max_term */
	byte quiet;	/* ticks since quiet_since (saturates at QCAP) */
	byte lahb;	/* ticks since last_active_hb (at RULE3) */
	byte back;	/* ticks since back_at (at BCAP) */
	byte bo;	/* ticks to backoff_until; 0: passed */
	bit rel;	/* released: a RELEASE or restart of our term's active */
	byte relage;	/* ticks since released_at (at RCAP) */
	byte actid;	/* active_id: index + 1 */
	byte actinc;	/* active_inc */
	byte tact;	/* the active heard in our term (term_active): index + 1 */
	bit pre;	/* candidate: the pre-vote round */
	byte cterm;	/* candidate: cand_term */
	byte granted;	/* candidate: votes of this round, a bit mask */
	byte rend;	/* candidate: ticks to round_end */
	byte ph;	/* ticks to the next heartbeat */
	/* what it heard of each peer (its own entry unused) */
	byte hrd[N];	/* ticks since last_heard; DEAD: not within D; HNEVER */
	byte pst[N];	/* its state */
	byte pinc[N];	/* its incarnation */
	byte hbinc[N];	/* hb_inc: the incarnation of its up_at */
	byte prel[N];	/* ticks since its released_at; DEAD: none within D */
	byte pup[N];	/* ticks since its up_at (at QCAP); PNONE: unset */
};
node_t nd[N];

/* scratch, set and read within one d_step: not part of the state */
hidden byte j, k, x, r, v, w, wb, s;
hidden byte m_ty, m_term, m_pre, m_st, m_inc;
hidden int t2;

byte phase;	/* the node whose turn it is (0: with the faults before it) */
byte now;	/* ticks since the first start (saturates at H >= START) */
bit calm;	/* the faults are over */
bit ev;		/* an environment event at this boundary */
byte since;	/* ticks since the calm */
byte stab;	/* ticks an active has been there since the calm */
byte losses, crashes;

#define ONE(i)	(1 << (i))
#define HEARD(i, x)	((x) == (i) || nd[i].hrd[x] < DEAD)
#define ELIG(i, x)	((x) != (i) && nd[i].hrd[x] < DEAD && nd[i].pst[x] != NOQ)
#define HASQ(i)		(HEARD(i, 0) + HEARD(i, 1) + HEARD(i, 2) >= Q)
#define IDLE(i)		(HASQ(i) -> STANDBY : NOQ)
#define WAS_ACTIVE(i, s, T)	(nd[i].actid == (s) + 1 || (nd[i].tact == (s) + 1 && (T) == nd[i].term))
#define POP(g)		(((g) & 1) + (((g) >> 1) & 1) + (((g) >> 2) & 1))
#define STARTED(i)	(nd[i].up || nd[i].gone)
#define ALLSTARTED	(STARTED(0) && STARTED(1) && STARTED(2))
#define ANYSTARTED	(STARTED(0) || STARTED(1) || STARTED(2))
/* an active that no one can depose: no running node has a newer term */
#define OVER(a, j)	(!nd[j].up || nd[j].term <= nd[a].term)
#define ACTV(a)		(nd[a].up && nd[a].st == ACTIVE && OVER(a, 0) && OVER(a, 1) && OVER(a, 2))
#define STABLE		(ACTV(0) || ACTV(1) || ACTV(2))

inline sort()
{
	/* insertion sort, descending (0 = free goes last) */
	k = 1;
	do
	:: k < BAG ->
		x = k;
		do
		:: x > 0 && bag[x - 1] < bag[x] ->
			t2 = bag[x]; bag[x] = bag[x - 1]; bag[x - 1] = t2; x--
		:: else -> break
		od;
		k++
	:: else -> break
	od;
	k = 0; x = 0; t2 = 0
}

inline send(F, T, TY, TERM, PRE)
{
	assert(bag[BAG - 1] == 0);	/* BAG is large enough */
	assert(TERM < TERMS);
	bag[BAG - 1] = PACK(TY, F, T, TERM, PRE, 0, nd[F].inc, 1, 0);
	sort()
}

inline sendall(F, TY, TERM, PRE)
{
	j = 0;
	do
	:: j < N && j != F -> send(F, j, TY, TERM, PRE); j++
	:: j < N && j == F -> j++
	:: j == N -> break
	od;
	j = 0
}

/* the state in a datagram is the sender's after the step (vigild sends
 * the actions once the election has returned) */
inline stamp(F, ST)
{
	j = 0;
	do
	:: j < BAG ->
		if
		:: bag[j] != 0 && P_FRESH(bag[j]) ->
			bag[j] = PACK(P_TY(bag[j]), P_FROM(bag[j]), P_TO(bag[j]),
			    P_TERM(bag[j]), P_PRE(bag[j]), ST, P_INC(bag[j]), 0,
			    P_AGE(bag[j]))
		:: else -> skip
		fi;
		j++
	:: else -> break
	od;
	j = 0;
	sort()
}

inline end_cand(i)
{
	nd[i].pre = 0; nd[i].cterm = 0; nd[i].granted = 0; nd[i].rend = 0
}

inline new_term(i, T)
{
	nd[i].term = T; nd[i].actid = 0; nd[i].rel = 0; nd[i].relage = RCAP;
	nd[i].tact = 0
}

/* rank(): the eligible nodes heard within D, better (lower index), not
 * active, not released or restarted within D; with NOQ_TOO (the listen
 * after coming back) also those heard in no-quorum */
inline rank_gen(i, R, NOQ_TOO)
{
	R = 0; x = 0;
	do
	:: x < i ->
		if
		:: ELIG(i, x) && nd[i].pst[x] != ACTIVE && nd[i].prel[x] >= DEAD -> R++
		:: NOQ_TOO && x != i && nd[i].hrd[x] < DEAD && nd[i].pst[x] == NOQ &&
		    nd[i].prel[x] >= DEAD -> R++
		:: else -> skip
		fi;
		x++
	:: else -> break
	od;
	x = 0
#ifdef NO_STAGGER
	; R = 0
#endif
}

/* now >= candidacy_at(): r = 1 */
inline may_stand(i)
{
	rank_gen(i, w, 0);
	rank_gen(i, wb, 1);
	if
	:: nd[i].bo > 0 -> r = 0
	:: else ->
		if
		:: nd[i].rel -> r = (nd[i].relage >= HALF + w * H)
		:: else ->
			/* voters_quiet(): the youngest of quiet_since and
			 * the up_at of the voters heard within D, at most
			 * VQ_WAITS waits after quiet_since */
			t2 = nd[i].quiet; x = 0;
			do
			:: x < N ->
				if
				:: x != i && HEARD(i, x) && nd[i].pup[x] < POLD &&
				    nd[i].pup[x] < t2 -> t2 = nd[i].pup[x]
				:: else -> skip
				fi;
				x++
			:: else -> break
			od;
			x = 0;
			if
			:: nd[i].quiet - t2 >= VQCAP -> t2 = nd[i].quiet - VQCAP
			:: else -> skip
			fi;
			r = (t2 >= WAIT + RTTW + w * H &&
			    nd[i].back >= H + RTTW + wb * H);
			t2 = 0
		fi
	fi;
	w = 0; wb = 0
}

inline start_candidacy(i)
{
	printf("EV n%d stands\n", i);
	nd[i].cterm = (nd[i].maxt > nd[i].term -> nd[i].maxt : nd[i].term) + 1;
	nd[i].pre = 1; nd[i].rend = ROUND; nd[i].granted = ONE(i); nd[i].st = CAND;
	sendall(i, REQ, nd[i].cterm, 1)
}

/* vg_el_tick() */
inline el_tick(i)
{
	if
	:: nd[i].st == CAND && nd[i].rend == 0 ->
		/* round_failed(): a back-off of 0..2h, drawn next (BOPEND) */
		printf("EV n%d: round failed\n", i);
		end_cand(i);
		nd[i].st = IDLE(i);
		nd[i].bo = BOPEND
	:: nd[i].st == STANDBY || nd[i].st == NOQ ->
		r = IDLE(i);
		if
		:: nd[i].st == NOQ && r == STANDBY -> nd[i].back = 0
		:: else -> skip
		fi;
		nd[i].st = r;
		if
		:: nd[i].st == STANDBY ->
			may_stand(i);
			if
			:: r -> start_candidacy(i)
			:: else -> skip
			fi
		:: else -> skip
		fi
	:: else -> skip
	fi;
	r = 0
}

/* vg_el_tick() until no deadline is due (vigild re-arms at once): twice
 * at most (a failed round with no back-off, then the next candidacy) */
inline el_ticks(i)
{
	v = 0;
	do
	:: v < 2 -> el_tick(i); v++
	:: else -> break
	od;
	v = 0
}

inline step_down(i)
{
	printf("EV n%d steps down\n", i);
	nd[i].actid = 0; nd[i].quiet = 0; nd[i].lahb = 0; nd[i].st = IDLE(i)
}

inline release_of(i)
{
	nd[i].rel = 1; nd[i].relage = 0; nd[i].prel[s] = 0; nd[i].actid = 0
}

inline become_active(i)
{
	printf("EV n%d active in term %d\n", i, nd[i].term);
	j = 0;
	do
	:: j < N -> assert(j == i || !nd[j].up || nd[j].st != ACTIVE ||
	    nd[j].term != nd[i].term); j++
	:: else -> break
	od;
	j = 0;
	end_cand(i);
	nd[i].actid = i + 1; nd[i].actinc = nd[i].inc; nd[i].rel = 0;
	nd[i].relage = RCAP; nd[i].st = ACTIVE;
	sendall(i, HB, nd[i].term, 0)
}

inline real_round(i)
{
	nd[i].pre = 0;
	new_term(i, nd[i].cterm);
	nd[i].voted = i + 1;
	nd[i].quiet = 0;
	nd[i].rend = ROUND;
	nd[i].granted = ONE(i);
	sendall(i, REQ, nd[i].term, 0)
}

/* ---- receipt: the datagram is in m_*; s its sender */

inline follow(i)
{
	if
	:: m_term > nd[i].term ->
		if :: nd[i].st == ACTIVE -> step_down(i) :: else -> skip fi;
		new_term(i, m_term); nd[i].voted = 0
	:: else -> skip
	fi;
	if
	:: nd[i].st == ACTIVE -> skip		/* a conflict (cannot be) */
	:: else ->
		if
		:: nd[i].st == CAND -> end_cand(i); nd[i].st = IDLE(i)
		:: else -> skip
		fi;
		nd[i].actid = s + 1; nd[i].actinc = m_inc; nd[i].tact = s + 1;
		nd[i].quiet = 0; nd[i].lahb = 0; nd[i].bo = 0
	fi
}

inline on_hb(i)
{
	/* heard_alive(): up_at at the first heartbeat of an incarnation */
	if
	:: nd[i].pup[s] == PNONE || nd[i].hbinc[s] != m_inc ->
		nd[i].hbinc[s] = m_inc; nd[i].pup[s] = 0
	:: else -> skip
	fi;
	if
	:: m_st == ACTIVE && m_term < nd[i].term ->
		send(i, s, HB, nd[i].term, 0)	/* tell it ours */
	:: m_st == ACTIVE && m_term >= nd[i].term -> follow(i)
	:: else ->
		if
		:: WAS_ACTIVE(i, s, m_term) && m_term == nd[i].term && nd[i].st != ACTIVE ->
			if
			:: m_inc > nd[i].actinc -> release_of(i)	/* a restart */
			:: else -> nd[i].actid = 0
			fi
		:: else -> skip
		fi;
		if
		:: nd[i].st == ACTIVE && m_term > nd[i].term -> step_down(i)
		:: else -> skip
		fi
	fi
}

inline on_req(i)
{
	/* vote_check(): r = 1 grant */
	if
	:: nd[i].st == ACTIVE -> r = 0					/* (0) */
	:: !m_pre && m_term == nd[i].term && nd[i].voted == s + 1 -> r = 1
	:: else ->
		if
		:: m_term <= nd[i].term -> r = 0			/* term */
		:: !nd[i].rel && nd[i].quiet < DEAD -> r = 0		/* (1) */
		:: else ->
			r = 1;
			if
			:: !nd[i].rel && nd[i].lahb < RULE3 ->		/* (3) */
				x = 0;
				do
				:: x < s ->
					if
					:: (x == i && nd[i].st != NOQ) || ELIG(i, x) -> r = 0
					:: else -> skip
					fi;
					x++
				:: else -> break
				od;
				x = 0
			:: else -> skip
			fi
		fi
	fi;
	if
	:: r && m_pre ->
		send(i, s, VOTE, m_term, 1);
		/* defer_candidacy() */
		if :: nd[i].bo < DEFER -> nd[i].bo = DEFER :: else -> skip fi
	:: r && !m_pre ->
		if
		:: m_term != nd[i].term || nd[i].voted != s + 1 ->
			new_term(i, m_term); nd[i].voted = s + 1;
			if
			:: nd[i].st == CAND -> end_cand(i); nd[i].st = IDLE(i)
			:: else -> skip
			fi
		:: else -> skip
		fi;
		nd[i].quiet = 0;	/* granting counts as hearing an active */
		send(i, s, VOTE, m_term, 0)
	:: else -> skip			/* a refusal: left out (see LEFT OUT) */
	fi;
	r = 0
}

inline on_vote(i)
{
	if
	:: nd[i].st == CAND && m_pre == nd[i].pre &&
	    m_term == (nd[i].pre -> nd[i].cterm : nd[i].term) ->
		nd[i].granted = nd[i].granted | ONE(s);
		if
		:: POP(nd[i].granted) >= Q && nd[i].pre -> real_round(i)
		:: POP(nd[i].granted) >= Q && !nd[i].pre -> become_active(i)
		:: else -> skip
		fi
	:: else -> skip
	fi
}

inline on_rel(i)
{
	if
	:: m_term == nd[i].term && WAS_ACTIVE(i, s, m_term) &&
	    nd[i].st != ACTIVE && !nd[i].rel -> release_of(i)
	:: else -> skip
	fi
}

/* vg_el_input() and the ticks after it */
inline input(i)
{
	if
	:: nd[i].hrd[s] != HNEVER && m_inc > nd[i].pinc[s] ->
		nd[i].prel[s] = 0		/* restarted */
	:: else -> skip
	fi;
	nd[i].hrd[s] = 0; nd[i].pst[s] = m_st; nd[i].pinc[s] = m_inc;
	if :: m_term > nd[i].maxt -> nd[i].maxt = m_term :: else -> skip fi;
	if
	:: m_ty == HB -> on_hb(i)
	:: m_ty == REQ -> on_req(i)
	:: m_ty == VOTE -> on_vote(i)
	:: m_ty == REL -> on_rel(i)
	fi;
	el_ticks(i);
	stamp(i, nd[i].st)
}

inline deliver(K)
{
	m_ty = P_TY(bag[K]); s = P_FROM(bag[K]); i = P_TO(bag[K]);
	m_term = P_TERM(bag[K]); m_pre = P_PRE(bag[K]); m_st = P_ST(bag[K]);
	m_inc = P_INC(bag[K]);
	assert(m_ty != 0);
	bag[K] = 0; sort();
	if
	:: nd[i].up ->
		printf("EV deliver ty %d n%d -> n%d term %d pre %d st %d inc %d\n",
		    m_ty, s, i, m_term, m_pre, m_st, m_inc);
		input(i)
	:: else -> skip			/* to a node that is down */
	fi;
	m_ty = 0; s = 0; m_term = 0; m_pre = 0; m_st = 0; m_inc = 0
}

/* the timer: vg_el_tick() until no deadline is due, then the heartbeats
 * of the grid (run_deadlines()) */
inline timer(i)
{
	nd[i].tmr = 1;
	el_ticks(i);
	if
	:: nd[i].ph == 0 -> sendall(i, HB, nd[i].term, 0); nd[i].ph = H
	:: else -> skip
	fi;
	stamp(i, nd[i].st)
}

/* ---- the environment */

/* a start or restart: vg_el_init() */
inline start(i)
{
	nd[i].up = 1; nd[i].gone = 0;
	nd[i].st = NOQ; nd[i].maxt = nd[i].term; nd[i].quiet = 0; nd[i].lahb = 0;
	nd[i].back = BCAP; nd[i].bo = 0; nd[i].rel = 0; nd[i].relage = RCAP;
	nd[i].actid = 0; nd[i].actinc = 0; nd[i].tact = 0; end_cand(i);
	nd[i].ph = 0;			/* the first heartbeat at once */
	x = 0;
	do
	:: x < N ->
		nd[i].hrd[x] = HNEVER; nd[i].pst[x] = 0; nd[i].pinc[x] = 0;
		nd[i].hbinc[x] = 0; nd[i].prel[x] = DEAD; nd[i].pup[x] = PNONE; x++
	:: else -> break
	od;
	x = 0
}

inline crash(i)
{
	printf("EV n%d crashes\n", i);
	/* the keeper: the VIPs off, then RELEASE(T) if it held a lease */
	if
	:: nd[i].st == ACTIVE -> sendall(i, REL, nd[i].term, 0); stamp(i, STANDBY)
	:: else -> skip
	fi;
	start(i);			/* what it held is lost: canonical values */
	nd[i].up = 0; nd[i].gone = 1; nd[i].ph = 0
}

/*
 * -DFAILOVER: the failover alone.  The one crash is the active's, it
 * stays down, and the calm is at that crash (the cold start before it is
 * not counted).
 */
#ifdef FAILOVER
#undef CRASHES
#define CRASHES	1
#define CRASH_OK(I)	(nd[I].st == ACTIVE)
#define RESTART_OK	0
#define CALM_OK		(crashes >= CRASHES)
#else
#define CRASH_OK(I)	1
#define RESTART_OK	1
#define CALM_OK		1
#endif
/* no fault may come any more: the calm cannot wait */
#define NOMORE	(losses >= FMAX && crashes >= CRASHES && (!RESTART_OK || \
	(!nd[0].gone && !nd[1].gone && !nd[2].gone)))
#define MUST(K)	(BAG > K && bag[K] != 0 && P_TO(bag[K]) == i && P_AGE(bag[K]) >= DELTA)
#define FORCED	(MUST(0) || MUST(1) || MUST(2) || MUST(3) || MUST(4) || MUST(5) || \
	MUST(6) || MUST(7) || MUST(8) || MUST(9) || MUST(10) || MUST(11) || \
	MUST(12) || MUST(13) || MUST(14) || MUST(15) || MUST(16) || MUST(17))

/* the faults at a tick's boundary (before the calm) */
#define ENV(I) \
	:: !calm && !STARTED(I) && now < START -> \
		d_step { printf("EV n%d starts\n", I); start(I); ev = 1 } \
	:: !calm && nd[I].up && crashes < CRASHES && CRASH_OK(I) -> \
		d_step { crash(I); crashes++; ev = 1 } \
	:: !calm && nd[I].gone && RESTART_OK -> \
		d_step { printf("EV n%d restarts\n", I); nd[I].inc++; start(I); ev = 1 }

#define LOSE(K) \
	:: !calm && BAG > K && losses < FMAX && bag[K] != 0 -> \
		d_step { printf("EV lost: ty %d n%d -> n%d\n", P_TY(bag[K]), \
		    P_FROM(bag[K]), P_TO(bag[K])); bag[K] = 0; sort(); losses++; ev = 1 }

/* a datagram node i may take now: at least a tick old */
#define CAN(K)	(BAG > K && bag[K] != 0 && P_TO(bag[K]) == i && P_AGE(bag[K]) >= 1)
#define CANANY	(CAN(0) || CAN(1) || CAN(2) || CAN(3) || CAN(4) || CAN(5) || \
	(BAG > 6 && (CAN(6) || CAN(7) || CAN(8) || CAN(9) || CAN(10) || CAN(11))) || \
	(BAG > 12 && (CAN(12) || CAN(13) || CAN(14) || CAN(15) || CAN(16) || CAN(17))))

/*
 * Terms are only compared, and a candidacy asks max(max_term, term) + 1.
 * So a gap of more than 2 between two terms in use (of a node, its
 * max_term or cand_term, a datagram) says no more than a gap of 2: v + 1
 * lies strictly between v and the next term either way, and nothing
 * made in a tick is seen in it.  tmap() maps the terms in use, in order,
 * onto 0, then steps of at most 2 (a down node's max_term is its term:
 * a start sets it so).
 */
#define TSCAN(f)	if :: (f) > t2 && (f) < v -> v = (f) :: else -> skip fi
#define TSET(f)		if :: (f) == v -> f = w :: else -> skip fi
inline tmap()
{
	j = 0;
	do
	:: j < N -> if :: !nd[j].up -> nd[j].maxt = nd[j].term :: else -> skip fi; j++
	:: else -> break
	od;
	t2 = -1; w = 0;
	do
	:: true ->
		/* v: the least term in use above t2 (its old value) */
		v = 255; j = 0;
		do
		:: j < N ->
			TSCAN(nd[j].term); TSCAN(nd[j].maxt);
			if :: nd[j].st == CAND -> TSCAN(nd[j].cterm) :: else -> skip fi;
			j++
		:: else -> break
		od;
		j = 0;
		do
		:: j < BAG && bag[j] != 0 -> TSCAN(P_TERM(bag[j])); j++
		:: else -> break
		od;
		if
		:: v == 255 -> break
		:: else -> skip
		fi;
		/* w: its new value */
		if
		:: t2 < 0 -> w = 0
		:: t2 >= 0 && v - t2 > 2 -> w = w + 2
		:: else -> w = w + v - t2
		fi;
		j = 0;
		do
		:: j < N ->
			TSET(nd[j].term); TSET(nd[j].maxt);
			if :: nd[j].st == CAND -> TSET(nd[j].cterm) :: else -> skip fi;
			j++
		:: else -> break
		od;
		j = 0;
		do
		:: j < BAG && bag[j] != 0 ->
			if
			:: P_TERM(bag[j]) == v ->
				bag[j] = bag[j] - (v - w) * TERM1
			:: else -> skip
			fi;
			j++
		:: else -> break
		od;
		t2 = v
	od;
	j = 0; v = 0; w = 0; t2 = 0
}

inline advance()
{
	/* the end of a tick: every node has done its work at it */
	j = 0;
	do
	:: j < N ->
		nd[j].tmr = 0;
		if
		:: nd[j].up ->
			if :: nd[j].quiet < QCAP -> nd[j].quiet++ :: else -> skip fi;
			if :: nd[j].lahb < RULE3 -> nd[j].lahb++ :: else -> skip fi;
			if :: nd[j].back < BCAP -> nd[j].back++ :: else -> skip fi;
			if :: nd[j].relage < RCAP -> nd[j].relage++ :: else -> skip fi;
			if :: nd[j].bo > 0 -> nd[j].bo-- :: else -> skip fi;
			if :: nd[j].rend > 0 -> nd[j].rend-- :: else -> skip fi;
			if :: nd[j].ph > 0 -> nd[j].ph-- :: else -> skip fi;
			/* values no step can read again, made one: an active's
			 * quiet_since and last_active_hb (a step-down sets both) */
			if :: nd[j].st == ACTIVE -> nd[j].quiet = 0; nd[j].lahb = 0 :: else -> skip fi;
			x = 0;
			do
			:: x < N ->
				if :: nd[j].hrd[x] < DEAD -> nd[j].hrd[x]++ :: else -> skip fi;
				if :: nd[j].prel[x] < DEAD -> nd[j].prel[x]++ :: else -> skip fi;
				if :: nd[j].pup[x] < QCAP -> nd[j].pup[x]++ :: else -> skip fi;
				/* an up_at not after quiet_since never counts again
				 * (quiet_since only moves on) */
				if :: nd[j].pup[x] < POLD && nd[j].pup[x] >= nd[j].quiet -> nd[j].pup[x] = POLD
				   :: else -> skip fi;
				x++
			:: else -> break
			od;
			x = 0
		:: else -> skip
		fi;
		j++
	:: else -> break
	od;
	/* every datagram a tick older (the order of the bag stays) */
	j = 0;
	do
	:: j < BAG && bag[j] != 0 -> bag[j] = bag[j] + AGE1; j++
	:: else -> break
	od;
	tmap();
	if :: now < H -> now++ :: else -> skip fi
}

/*
 * A step of the search is a node's turn (the first turn of a tick with
 * the faults at its boundary before it, the last with time after it):
 * the states within a turn are not stored, those between turns are.
 */
active proctype world()
{
	byte i, k2;	/* the node whose turn it is; the datagram it takes */
	int dm;

	do
	:: phase == 0 && calm && stab > KEEP -> break	/* the run is over */
	:: atomic { !(phase == 0 && calm && stab > KEEP) ->
		if
		:: phase == 0 ->
			/* the boundary: faults, starts, restarts, the calm,
			 * any of them, until time goes on */
			do
			ENV(0)
			ENV(1)
			ENV(2)
			LOSE(0)
			LOSE(1)
			LOSE(2)
			LOSE(3)
			LOSE(4)
			LOSE(5)
			LOSE(6)
			LOSE(7)
			LOSE(8)
			LOSE(9)
			LOSE(10)
			LOSE(11)
			LOSE(12)
			LOSE(13)
			LOSE(14)
			LOSE(15)
			LOSE(16)
			LOSE(17)
			/* the faults are over, at the boundary of the last
			 * one (a later calm only leaves less to count: the
			 * active once there stays, asserted below) */
			:: !calm && ev && ALLSTARTED && CALM_OK ->
				printf("EV calm\n"); calm = 1; since = 0
			:: (now > 0 || ANYSTARTED) && (now < START - 1 || ALLSTARTED) &&
			    !(ev && ALLSTARTED && !calm && NOMORE) ->
				ev = 0; break
			od
		:: else -> skip
		fi;
		/* node i's turn: its datagrams and its timer, in any order;
		 * it ends when the timer ran and no datagram is DELTA old
		 * (nothing sent in a tick arrives in it: the order of the
		 * turns does not matter) */
		i = phase;
		do
		:: nd[i].bo == BOPEND ->
			/* round_failed()'s back-off: any of 0..2h */
			nd[i].bo = 0;
			do
			:: nd[i].bo < BOMAX -> nd[i].bo++
			:: break
			od;
			skip;	/* no jump into a d_step */
			d_step { el_ticks(i); stamp(i, nd[i].st) }
		:: nd[i].bo != BOPEND && CANANY ->
			/* any one datagram it may take: dm, their mask */
			d_step {
				dm = 0; k2 = 0;
				do
				:: k2 < BAG -> if :: CAN(k2) -> dm = dm | (1 << k2) :: else -> skip fi; k2++
				:: else -> break
				od;
				k2 = 0
			};
			do
			:: (dm >> k2) & 1 -> break
			:: (dm >> (k2 + 1)) != 0 -> k2++
			od;
			skip;
			d_step { dm = 0; deliver(k2); k2 = 0 }
		:: nd[i].bo != BOPEND && nd[i].up && !nd[i].tmr ->
			d_step { timer(i) }
		:: nd[i].bo != BOPEND && (nd[i].tmr || !nd[i].up) && !FORCED ->
			break
		od;
		i = 0;
		if
		:: phase < N - 1 -> phase++
		:: else ->
			d_step {
				phase = 0;
				printf("EV tick\n");
				advance();
				if
				:: calm && STABLE -> stab++
				:: calm && !STABLE ->
					assert(stab == 0);	/* the active, once there, stays */
					assert(since < B);	/* an active within B ticks */
					since++
				:: else -> skip
				fi
			}
		fi }
	od
}
