/*
 * election.pml: a Promela model of vigil's election as built
 * (agent/election.c, agent/keeper.c, agent/conf.c; docs/design.md "Why two
 * nodes never hold a VIP at once").  Checked by spin (tests/model/run.sh).
 *
 * WHAT IS MODELLED
 *   N = 3 nodes, one vote each, quorum 2 (default), or 2 nodes and a witness
 *   (-DWITNESS: node 3 is a witness; it votes and echoes, and it may even
 *   try to stand: only rule (2) at the voters keeps it from winning).
 *   Per node: the agent (term and vote, persisted: they survive a crash;
 *   state standby/candidate/active; pre-vote and real rounds; rules (0), (1)
 *   and (2) of vote_check; the retransmission yes; term adoption from an
 *   active's heartbeat and on a granted real vote; quiet_since, reset by an
 *   active's heartbeat, a granted real vote, a step-down and a start; echoes
 *   and the lease t_q + L; the lapse; RELEASE, TRANSFER, and a restart as a
 *   release (a heartbeat of a new incarnation from the known active)), and
 *   its keeper (HOLD, the add while the deadline is ahead, the removal at
 *   the deadline, and on the agent's EOF the removal and then RELEASE).
 *   Faults: crash and restart of the agent (its keeper removes the VIPs and
 *   sends RELEASE), crash of the keeper (the agent removes the VIPs, steps
 *   down with RELEASE, forks a new keeper), freeze of the keeper.
 *   Network: a bag of BAG unicast datagrams: any may be delivered at any
 *   time (reordering), lost (at any time), or delivered and kept
 *   (duplication, at most DUPS times in a run); none is older than DMAX
 *   ticks when delivered (bounded delay: time does not pass a datagram
 *   that is DMAX old).
 *
 * TIME: A TIMED ABSTRACTION (the soundness argument)
 *   One clock, real time, in ticks.  Only two durations matter for safety:
 *   how long an active's VIPs may stay after t_q (the send time that a
 *   quorum echoed), and how soon after hearing an active (or granting a
 *   vote) a voter may grant a real vote again.  With clock rates in
 *   [1-rho, 1+rho] and the keeper waking within m of a deadline:
 *     hold  <= L/(1-rho) + m                   (real time after t_q)
 *     wait  >= D/(1+rho)                       (real time after receipt)
 *   tests/model/consts.py reads L's formula, m, the keeper's admission test
 *   and rule (1)'s comparison from the C sources and computes the largest
 *   excess hold - wait over rho in [0, 0.1] and the configurable h and D;
 *   it writes consts.pml: HOLD = WAIT + (that excess in ticks of m, rounded
 *   up; 0 for the code as built: L/(1-rho) + m = D/(1+rho) - m*rho/(1-rho)).
 *   The model makes every hold exactly HOLD ticks long from t_q at most (the
 *   latest the keeper may remove) and every rule-(1) wait exactly WAIT ticks
 *   at least (the earliest a voter may vote), the worst case for safety; a
 *   removal due at a tick happens as that tick passes, before anything at
 *   the new time (the bound "holds no later than real(t_q) + hold <= the
 *   earliest vote" is an inequality with equality allowed).  Every other
 *   timer of the code is replaced by nondeterminism, which only adds
 *   behaviours: an active sends heartbeats, a follower echoes, a standby
 *   stands (with any term above its own) once its own D has run (see
 *   MAY_STAND: that wait is safety), a candidate gives up its round,
 *   an active hands over or steps down after a lapse, at ANY time.  So the
 *   candidacy wait, rank, back-off, preemption and flap damping are not in
 *   the safety model (they cannot make it less safe), and a frozen agent is
 *   one that the scheduler does not run (its datagrams are then lost).
 *   The tick size is m = h/4; WAIT is a model bound (a smaller D than the
 *   default 5h: the argument does not depend on D's size, and a longer
 *   WAIT only multiplies states).
 *
 * LEFT OUT (said plainly)
 *   Rule (3) (priority) and the configuration digest rule: they only
 *   refuse votes or echoes, so leaving them out gives a superset of the
 *   behaviours (safety carries over; it is not checked that they are
 *   needed).  A removal the keeper cannot confirm (HOLDING, rule (0) for
 *   a peer, vip_lifetime): removals always succeed here.  Weighted votes
 *   (all weights 1).  A freeze of the agent and the keeper together, or a
 *   frozen keeper whose agent crashes: not covered by the design (docs/
 *   design.md) and excluded here.  The add and removal durations (folded
 *   into HOLD by the keeper's admission rule).  Liveness: not checked, and
 *   not checkable in this shape: a candidate may give up its round and a
 *   datagram may be lost at any time, so under weak fairness a run of
 *   stand / give up for ever is fair (the bound needs the timers).
 *   Bounds: terms up to MAXT, CRASHES agent crashes, KCRASH keeper crashes,
 *   FREEZES keeper freezes, DUPS duplications, BAG datagrams in flight.
 *
 * BROKEN VARIANTS (make check asserts a counterexample for the first five;
 * tests/model/run.sh, which gives the depth and instance of each)
 *   -DGRANT_NOT_HEARD   a granted vote does not restart the voter's D
 *   -DLEASE_D           L = D: consts.py computes HOLD for it (HOLD_EXTRA)
 *   -DCAND_EARLY        a standby stands before its own D has run
 *   -DACTIVE_VOTES      rule (0) off: an active grants votes
 *   -DNO_KEEPER         the agent holds the VIPs itself: they stay when it
 *                       dies (with -DCRASHES=1)
 *   -DTERM_NONACTIVE    a heartbeat of a non-active node sets the term: not
 *                       load-bearing for safety (docs/design.md "The
 *                       model"); make model searches it and must find nothing
 *   -DRELEASE_ANY       a RELEASE(T) is taken from any node of term T
 *   -DNO_RULE2          a witness's candidacy gets votes (with -DWITNESS)
 * Smaller instances: -DBAG=3, -DNO_HANDOVER (only take behaviours away).
 * Each event prints an "EV" line in a replay (spin -t; run.sh trail DIR).
 */

#include "consts.pml"

#ifndef N
#define N	3
#endif
#define Q	2		/* quorum: more than half of N votes */
#ifndef MAXT
#define MAXT	2
#endif
#ifndef CRASHES
#define CRASHES	0
#endif
#ifndef KCRASH
#define KCRASH	0
#endif
#ifndef FREEZES
#define FREEZES	0
#endif
#ifndef DUPS
#define DUPS	0
#endif
#ifndef BAG
#define BAG	4
#endif
#ifndef PREVOTE
#define PREVOTE	0	/* -DPREVOTE=1: the pre-vote round too */
#endif
#ifndef DMAX
#define DMAX	1
#endif
#define AMAX	(HOLD + 1)	/* ages saturate here: "older than any lease" */

/* states */
#define STANDBY		1
#define CANDIDATE	2
#define ACTIVE		3
/* datagrams */
#define HB	1
#define REQ	2
#define VOTE	3
#define REL	4
#define XFER	5

typedef msg_t {
	byte ty;	/* 0: free slot */
	byte from;	/* node index 0..N-1 */
	byte to;
	byte term;
	bit pre;	/* REQ, VOTE */
	bit yes;	/* VOTE: granted */
	bit act;	/* HB: the sender is active (state ACTIVE, active = itself) */
	byte inc;	/* sender's incarnation */
	byte echo;	/* HB to the active: age of the echoed heartbeat + 1; 0 none */
	byte age;	/* ticks since sent */
};
/*
 * The bag holds datagrams packed in one int each and kept sorted (free
 * slots last): two bags with the same datagrams in other slots are one
 * state.  Fields: ty 3 bits, from 2, to 2, term 2, pre, yes, act, inc 2,
 * echo 3, age 3.
 */
#define P_TY(x)		((x) & 7)
#define P_FROM(x)	(((x) >> 3) & 3)
#define P_TO(x)		(((x) >> 5) & 3)
#define P_TERM(x)	(((x) >> 7) & 3)
#define P_PRE(x)	(((x) >> 9) & 1)
#define P_YES(x)	(((x) >> 10) & 1)
#define P_ACT(x)	(((x) >> 11) & 1)
#define P_INC(x)	(((x) >> 12) & 3)
#define P_ECHO(x)	(((x) >> 14) & 7)
#define P_AGE(x)	(((x) >> 17) & 7)
#define PACK(TY, F, T, TERM, PRE, YES, ACT, INC, ECHO, AGE) \
	((TY) | ((F) << 3) | ((T) << 5) | ((TERM) << 7) | ((PRE) << 9) | \
	((YES) << 10) | ((ACT) << 11) | ((INC) << 12) | ((ECHO) << 14) | ((AGE) << 17))
int bag[BAG];
msg_t cur;	/* the datagram being delivered (zeroed after) */

typedef node_t {
	/* persisted */
	byte term;
	byte voted;	/* node index + 1; 0 none */
	/* the agent */
	bit up;
	byte inc;
	byte st;
	byte quiet;	/* ticks since quiet_since (saturates at AMAX) */
	bit released;	/* a RELEASE of our term's active was taken */
	byte actid;	/* active of our term we follow: index + 1; 0 none */
	byte actinc;
	byte tact;	/* who was active in our term (was_active), index + 1 */
	byte echo;	/* age of the newest heartbeat of actid; AMAX none */
	/* candidate */
	bit pre;
	byte cterm;
	byte granted;	/* bit mask */
	byte req;	/* age of the real request's send */
	bit xfer;	/* TRANSFER to us taken */
	/* active */
	byte lease;	/* ticks to the lease deadline; 0 lapsed */
	bit lapsed;
	byte ack[N];	/* per peer: age of the newest echoed send time */
	byte relown;	/* a term we released: never hold in it again */
	/* keeper */
	bit kfrozen;
	byte kpend;	/* a HOLD not yet read: ticks to its deadline; 0 stale */
	byte kleft;	/* ticks to the deadline the keeper works to */
	bit vips;	/* the VIPs are on this node's links */
	bit klease;	/* the keeper was given a lease of the agent's term */
};
node_t nd[N];

byte won[MAXT + 1];	/* who became active in a term: index + 1 */
byte crashes, kcrashes, freezes, dups;

#ifdef WITNESS
#define ISNODE(i)	((i) != N - 1)
#else
#define ISNODE(i)	1
#endif

#define ONE(i)	(1 << (i))

inline sort()
{
	/* insertion sort, descending (0 = free goes last) */
	k = 1;
	do
	:: k < BAG ->
		j2 = k;
		do
		:: j2 > 0 && bag[j2 - 1] < bag[j2] ->
			t2 = bag[j2]; bag[j2] = bag[j2 - 1]; bag[j2 - 1] = t2; j2--
		:: else -> break
		od;
		k++
	:: else -> break
	od;
	k = 0; j2 = 0; t2 = 0
}

inline send(F, T, TY, TERM, PRE, YES, ACT, ECHO)
{
	/* a free slot (the bag is sorted: free ones last); full: lost */
	if
	:: bag[BAG - 1] == 0 ->
		bag[BAG - 1] = PACK(TY, F, T, TERM, PRE, YES, ACT, nd[F].inc, ECHO, 0);
		sort()
	:: else -> skip
	fi
}

inline sendall(F, TY, TERM, PRE, ACT)
{
	j = 0;
	do
	:: j < N && j != F -> send(F, j, TY, TERM, PRE, 0, ACT, 0); j++
	:: j < N && j == F -> j++
	:: j == N -> break
	od;
	j = 0
}

/* the keeper takes the VIPs off now (DROP, or the agent itself) */
inline vips_off(i)
{
	nd[i].vips = 0; nd[i].kpend = 0; nd[i].kleft = 0; nd[i].klease = 0
}

/* step_down_to(): VIPs off (acked), then RELEASE (and TRANSFER) if asked */
inline step_down(i, REL_, SUCC)
{
	vips_off(i);
	if
	:: nd[i].st == ACTIVE ->
		if
		:: REL_ ->
			nd[i].relown = nd[i].term;
			sendall(i, REL, nd[i].term, 0, 0);
			if
			:: SUCC != 0 -> send(i, SUCC - 1, XFER, nd[i].term, 0, 0, 0, 0)
			:: else -> skip
			fi;
			nd[i].released = 1
		:: else -> skip
		fi;
		nd[i].actid = 0;
		nd[i].quiet = 0
	:: else -> skip
	fi;
	nd[i].lapsed = 0; nd[i].lease = 0;
	nd[i].st = STANDBY
}

/* lease_renew(t_q): A = age of t_q */
inline lease_renew(i, A)
{
	if
	:: A < HOLD && (HOLD - A > nd[i].lease) && nd[i].relown != nd[i].term ->
		nd[i].lease = HOLD - A;
		nd[i].lapsed = 0;
#ifdef NO_KEEPER
		nd[i].vips = 1; nd[i].kleft = nd[i].lease
#else
		nd[i].kpend = nd[i].lease; nd[i].klease = 1
#endif
	:: else -> skip
	fi
}

/* t_q: with one vote each and quorum 2, self at now and the best peer */
inline quorum_age(i, A)
{
	A = AMAX; j = 0;
	do
	:: j < N -> if :: j != i && nd[i].ack[j] < A -> A = nd[i].ack[j] :: else -> skip fi; j++
	:: j == N -> break
	od;
	j = 0
}

inline lease_check(i)
{
	if
	:: nd[i].st == ACTIVE && !nd[i].lapsed && nd[i].lease == 0 ->
		nd[i].lapsed = 1; vips_off(i)
	:: else -> skip
	fi
}

inline new_term(i, T)
{
	nd[i].term = T; nd[i].actid = 0; nd[i].tact = 0; nd[i].echo = AMAX;
	nd[i].released = 0; nd[i].xfer = 0
}

inline become_active(i)
{
#ifndef NO_RULE2
	assert(ISNODE(i));		/* a witness is never active */
#endif
	assert(won[nd[i].term] == 0 || won[nd[i].term] == i + 1);	/* one per term */
	won[nd[i].term] = i + 1;
	nd[i].st = ACTIVE; nd[i].actid = i + 1; nd[i].tact = i + 1;
	nd[i].actinc = nd[i].inc;
	nd[i].released = 0; nd[i].xfer = 0; nd[i].lapsed = 0; nd[i].lease = 0;
	j = 0;
	do
	:: j < N -> nd[i].ack[j] = ((nd[i].granted & ONE(j)) && j != i -> nd[i].req : AMAX); j++
	:: j == N -> break
	od;
	j = 0;
	lease_renew(i, nd[i].req)
}

inline votes(i, V)
{
	V = 0; j = 0;
	do
	:: j < N -> if :: nd[i].granted & ONE(j) -> V++ :: else -> skip fi; j++
	:: j == N -> break
	od;
	j = 0
}

inline real_round(i)
{
	nd[i].pre = 0;
	new_term(i, nd[i].cterm);
	nd[i].voted = i + 1;		/* persisted with the term, before the send */
	nd[i].quiet = 0;
	nd[i].req = 0;
	nd[i].granted = ONE(i);
	sendall(i, REQ, nd[i].term, 0, 0)
}

/* ---- receipt */

inline on_request(i, c, m)
{
	/* vote_check */
	if
#ifndef ACTIVE_VOTES
	:: nd[i].st == ACTIVE -> r = 1			/* rule (0) */
#endif
	:: else ->
		if
		:: !m.pre && m.term == nd[i].term && nd[i].voted == c + 1 -> r = 0
		:: else ->
			if
			:: m.term <= nd[i].term -> r = 1
			:: else ->
				if
				:: !(nd[i].released && m.term > nd[i].term) &&
				    nd[i].quiet < WAIT -> r = 1	/* rule (1) */
#ifndef NO_RULE2
				:: else -> r = (ISNODE(c) -> 0 : 1)	/* rule (2) */
#else
				:: else -> r = 0
#endif
				fi
			fi
		fi
	fi;
	if
	:: r -> send(i, c, VOTE, m.term, m.pre, 0, 0, 0)
	:: !r && m.pre -> send(i, c, VOTE, m.term, 1, 1, 0, 0)
	:: !r && !m.pre ->
		if
		:: m.term != nd[i].term || nd[i].voted != c + 1 ->
			new_term(i, m.term);
			nd[i].voted = c + 1;		/* persisted before the VOTE */
			if :: nd[i].st == CANDIDATE -> nd[i].st = STANDBY :: else -> skip fi
		:: else -> skip
		fi;
#ifndef GRANT_NOT_HEARD
		nd[i].quiet = 0;	/* granting counts as hearing an active */
#endif
		send(i, c, VOTE, m.term, 0, 1, 0, 0)
	fi
}

inline on_vote(i, v, m)
{
	if
	:: nd[i].st == CANDIDATE && m.pre == nd[i].pre &&
	    m.term == (nd[i].pre -> nd[i].cterm : nd[i].term) && m.yes ->
		nd[i].granted = nd[i].granted | ONE(v);
		votes(i, r);
		if
		:: r >= Q && nd[i].pre -> real_round(i)
		:: r >= Q && !nd[i].pre -> become_active(i)
		:: else -> skip
		fi
	:: else -> skip
	fi
}

#define WAS_ACTIVE(i, s, T)	(nd[i].actid == (s) + 1 || (nd[i].tact == (s) + 1 && (T) == nd[i].term))

inline follow(i, s, m)
{
	if
	:: m.term > nd[i].term ->
		if :: nd[i].st == ACTIVE -> step_down(i, 0, 0) :: else -> skip fi;
		new_term(i, m.term); nd[i].voted = 0
	:: else -> skip
	fi;
	if
	:: nd[i].st == ACTIVE -> skip		/* a conflict: counted, lease kept */
	:: else ->
		if :: nd[i].st == CANDIDATE -> nd[i].st = STANDBY :: else -> skip fi;
		if
		:: nd[i].actid != s + 1 || nd[i].actinc != m.inc -> nd[i].echo = AMAX
		:: else -> skip
		fi;
		nd[i].actid = s + 1; nd[i].actinc = m.inc;
		if :: m.age < nd[i].echo -> nd[i].echo = m.age :: else -> skip fi;
		nd[i].tact = s + 1;
		nd[i].quiet = 0;
		/* the echo at once */
		send(i, s, HB, nd[i].term, 0, 0, 0, nd[i].echo + 1)
	fi
}

inline on_heartbeat(i, s, m)
{
	if
	:: m.act && m.term < nd[i].term -> send(i, s, HB, nd[i].term, 0, 0, 0, 0)
	:: m.act && m.term >= nd[i].term -> follow(i, s, m)
	:: else ->
		if
		:: WAS_ACTIVE(i, s, m.term) && m.term == nd[i].term && nd[i].st != ACTIVE ->
			if
			:: m.inc > nd[i].actinc -> nd[i].released = 1	/* a restart is a release */
			:: else -> skip
			fi;
			nd[i].actid = 0
		:: else -> skip
		fi;
#ifdef TERM_NONACTIVE
		if
		:: m.term > nd[i].term && nd[i].st != ACTIVE -> new_term(i, m.term); nd[i].voted = 0
		:: else -> skip
		fi;
#endif
		if
		:: nd[i].st == ACTIVE && m.term > nd[i].term -> step_down(i, 0, 0)
		:: nd[i].st == ACTIVE && m.term == nd[i].term && m.echo != 0 ->
			if :: m.echo - 1 < nd[i].ack[s] -> nd[i].ack[s] = m.echo - 1 :: else -> skip fi;
			quorum_age(i, r);
			lease_renew(i, r)
		:: else -> skip
		fi
	fi
}

inline on_release(i, s, m)
{
	if
	:: m.term == nd[i].term && nd[i].st != ACTIVE &&
#ifndef RELEASE_ANY
	    WAS_ACTIVE(i, s, m.term) &&
#endif
	    1 ->
		nd[i].released = 1; nd[i].actid = 0;
		if :: m.ty == XFER -> nd[i].xfer = 1 :: else -> skip fi
	:: else -> skip
	fi
}

inline deliver(K, FREE)
{
	cur.ty = P_TY(bag[K]); cur.from = P_FROM(bag[K]); cur.to = P_TO(bag[K]);
	cur.term = P_TERM(bag[K]); cur.pre = P_PRE(bag[K]); cur.yes = P_YES(bag[K]);
	cur.act = P_ACT(bag[K]); cur.inc = P_INC(bag[K]); cur.echo = P_ECHO(bag[K]);
	cur.age = P_AGE(bag[K]);
	if :: FREE -> bag[K] = 0; sort() :: else -> skip fi;
	i = cur.to;
	printf("EV deliver ty %d n%d -> n%d term %d pre %d yes %d act %d inc %d echo %d age %d kept %d\n",
	    cur.ty, cur.from, cur.to, cur.term, cur.pre, cur.yes,
	    cur.act, cur.inc, cur.echo, cur.age, 1 - FREE);
	lease_check(i);
	if
	:: cur.ty == HB -> on_heartbeat(i, cur.from, cur)
	:: cur.ty == REQ -> on_request(i, cur.from, cur)
	:: cur.ty == VOTE -> on_vote(i, cur.from, cur)
	:: cur.ty == REL || cur.ty == XFER -> on_release(i, cur.from, cur)
	fi;
	r = 0; i = 0;
	cur.ty = 0; cur.from = 0; cur.to = 0; cur.term = 0; cur.pre = 0; cur.yes = 0;
	cur.act = 0; cur.inc = 0; cur.echo = 0; cur.age = 0
}

/* ---- time */

#define DEC(x)	if :: x > 0 -> x-- :: else -> skip fi
#define AGE(x)	if :: x < AMAX -> x++ :: else -> skip fi

inline tick()
{
	j = 0;
	do
	:: j < BAG ->
		if
		:: bag[j] != 0 ->
			t2 = P_ECHO(bag[j]);
			if :: t2 != 0 && t2 <= AMAX -> t2++ :: else -> skip fi;
			bag[j] = PACK(P_TY(bag[j]), P_FROM(bag[j]), P_TO(bag[j]),
			    P_TERM(bag[j]), P_PRE(bag[j]), P_YES(bag[j]),
			    P_ACT(bag[j]), P_INC(bag[j]), t2, P_AGE(bag[j]) + 1)
		:: else -> skip
		fi;
		j++
	:: j == BAG -> break
	od;
	t2 = 0;
	sort();
	j = 0;
	do
	:: j < N ->
		AGE(nd[j].quiet); AGE(nd[j].echo); AGE(nd[j].req);
		AGE(nd[j].ack[0]); AGE(nd[j].ack[1]); AGE(nd[j].ack[2]);
		DEC(nd[j].lease); DEC(nd[j].kpend);
		if
		:: nd[j].kleft > 0 -> nd[j].kleft--;
			/* the removal at the deadline (keeper; or the agent at
			 * the lapse when the keeper is frozen) */
			if :: nd[j].kleft == 0 -> nd[j].vips = 0 :: else -> skip fi
		:: else -> skip
		fi;
		j++
	:: j == N -> break
	od;
	j = 0
}

#define LATE(K)	(BAG > K && bag[K] != 0 && P_AGE(bag[K]) >= DMAX)
#define NOLATE	!(LATE(0) || LATE(1) || LATE(2) || LATE(3) || LATE(4) || LATE(5))

#define HOLDERS	(nd[0].vips + nd[1].vips + nd[2].vips)

/* ---- what one node may do; all at once (an event of the pure machine) */

/*
 * A standby stands only once its own D has run since quiet_since, or after
 * a RELEASE or TRANSFER of its term's active: candidacy_at() waits
 * D(1+rho)/(1-rho) >= D from quiet_since otherwise.  This wait is
 * load-bearing: the candidate's vote for itself is a vote, and rule (1)
 * is not checked on it (-DCAND_EARLY: a counterexample in 9 events).
 */
#ifdef CAND_EARLY
#define MAY_STAND(I)	1
#else
#define MAY_STAND(I)	(nd[I].quiet >= WAIT || nd[I].released || nd[I].xfer)
#endif
#define CAND(I, UP) \
	:: d_step { nd[I].up && nd[I].st == STANDBY && ISNODE_TRY(I) && \
	    MAY_STAND(I) && nd[I].term + UP <= MAXT -> \
		printf("EV n%d stands for term %d\n", I, nd[I].term + UP); \
		lease_check(I); \
		nd[I].cterm = nd[I].term + UP; \
		nd[I].st = CANDIDATE; nd[I].granted = ONE(I); \
		if \
		:: nd[I].xfer || !PREVOTE -> real_round(I) \
		:: else -> nd[I].pre = 1; sendall(I, REQ, nd[I].cterm, 1, 0) \
		fi }

#ifdef NO_HANDOVER
#define HANDOVER(I, S)
#else
#define HANDOVER(I, S) \
	:: d_step { nd[I].up && nd[I].st == ACTIVE && !nd[I].lapsed && \
	    S != I + 1 && (S == 0 || ISNODE(S - 1)) && nd[I].lease > 0 -> \
		printf("EV n%d hands over to %d\n", I, S - 1); step_down(I, 1, S) }
#endif

#define NODE(I) \
	CAND(I, 1) \
	CAND(I, 2) \
	:: d_step { nd[I].up && nd[I].st == CANDIDATE -> printf("EV n%d gives up\n", I); \
		nd[I].st = STANDBY } \
	:: d_step { nd[I].up && nd[I].st == ACTIVE -> printf("EV n%d heartbeat\n", I); \
		lease_check(I); sendall(I, HB, nd[I].term, 0, 1) } \
	:: d_step { nd[I].up && nd[I].st != ACTIVE && nd[I].actid != 0 && nd[I].echo < AMAX -> \
		printf("EV n%d echoes again\n", I); \
		send(I, nd[I].actid - 1, HB, nd[I].term, 0, 0, 0, nd[I].echo + 1) } \
	STANDBY_HB(I) \
	HANDOVER(I, 0) \
	HANDOVER(I, 1) \
	HANDOVER(I, 2) \
	HANDOVER(I, 3) \
	:: d_step { nd[I].up && nd[I].st == ACTIVE && (nd[I].lapsed || nd[I].lease == 0) -> \
		printf("EV n%d steps down after the lapse\n", I); \
		lease_check(I); step_down(I, 1, 0) } \
	:: d_step { !nd[I].kfrozen && nd[I].kpend > 0 -> \
		printf("EV n%d keeper adds (deadline in %d)\n", I, nd[I].kpend); \
		if :: nd[I].kpend > nd[I].kleft -> nd[I].kleft = nd[I].kpend :: else -> skip fi; \
		nd[I].kpend = 0; nd[I].vips = 1 } \
	:: d_step { nd[I].up && !nd[I].kfrozen && crashes < CRASHES -> crashes++; \
		printf("EV n%d agent crashes\n", I); \
		KEEPER_EOF(I); \
		nd[I].up = 0; nd[I].st = STANDBY; nd[I].lease = 0; nd[I].lapsed = 0; \
		nd[I].actid = 0; nd[I].tact = 0; nd[I].echo = AMAX; nd[I].released = 0; nd[I].xfer = 0; \
		nd[I].ack[0] = AMAX; nd[I].ack[1] = AMAX; nd[I].ack[2] = AMAX; nd[I].relown = 0; \
		nd[I].granted = 0; nd[I].pre = 0; nd[I].cterm = 0; nd[I].req = AMAX; nd[I].quiet = 0 } \
	:: d_step { !nd[I].up -> printf("EV n%d agent restarts\n", I); START_CLEAN(I); nd[I].up = 1; nd[I].inc++; nd[I].quiet = 0; nd[I].st = STANDBY; \
		sendall(I, HB, nd[I].term, 0, 0) } \
	:: d_step { nd[I].up && !nd[I].kfrozen && kcrashes < KCRASH -> kcrashes++; \
		printf("EV n%d keeper crashes\n", I); \
		if :: nd[I].st == ACTIVE -> step_down(I, 1, 0) :: else -> vips_off(I) fi } \
	:: d_step { nd[I].up && !nd[I].kfrozen && freezes < FREEZES -> freezes++; \
		printf("EV n%d keeper freezes\n", I); nd[I].kfrozen = 1 } \
	:: d_step { nd[I].kfrozen -> printf("EV n%d keeper thaws\n", I); nd[I].kfrozen = 0 }

#ifdef STANDBY_HBS
#define STANDBY_HB(I) :: d_step { nd[I].up && nd[I].st != ACTIVE -> printf("EV n%d standby heartbeat\n", I); sendall(I, HB, nd[I].term, 0, 0) }
#else
#define STANDBY_HB(I)
#endif

#ifdef NO_KEEPER
/* the VIPs were the agent's: nobody removes them (no timer runs to the
 * deadline: kleft = 0), nobody sends RELEASE; the agent's start removes
 * every VIP of its config (vigild's start-up clean) */
#define KEEPER_EOF(I)	nd[I].kleft = 0
#define START_CLEAN(I)	vips_off(I)
#else
#define START_CLEAN(I)	skip
/* EOF: remove, and once acked RELEASE(T) if it held VIPs or a lease of T */
#define KEEPER_EOF(I) \
	if :: nd[I].vips || nd[I].klease -> vips_off(I); sendall(I, REL, nd[I].term, 0, 0) \
	   :: else -> skip fi
#endif

#ifdef NO_RULE2
#define ISNODE_TRY(I)	1
#else
#ifdef WITNESS
/* a witness's agent never stands; -DWITNESS_TRIES lets it, to test rule (2) */
#ifdef WITNESS_TRIES
#define ISNODE_TRY(I)	1
#else
#define ISNODE_TRY(I)	ISNODE(I)
#endif
#else
#define ISNODE_TRY(I)	1
#endif
#endif

#define DELIVER(K) \
	:: d_step { BAG > K && bag[K] != 0 && nd[P_TO(bag[K])].up -> deliver(K, 1) } \
	:: d_step { BAG > K && bag[K] != 0 && nd[P_TO(bag[K])].up && dups < DUPS -> dups++; deliver(K, 0) } \
	:: d_step { BAG > K && bag[K] != 0 -> printf("EV lost: ty %d n%d -> n%d\n", \
		P_TY(bag[K]), P_FROM(bag[K]), P_TO(bag[K])); bag[K] = 0; sort() }

active proctype world()
{
	byte i, j, k, r, j2;
	int t2;

	d_step {
	i = 0;
	do
	:: i < N -> nd[i].up = 1; nd[i].st = STANDBY; nd[i].echo = AMAX;
		nd[i].ack[0] = AMAX; nd[i].ack[1] = AMAX; nd[i].ack[2] = AMAX;
		nd[i].req = AMAX; i++
	:: i == N -> break
	od;
	i = 0
	};
end:	do
	NODE(0)
	NODE(1)
	NODE(2)
	DELIVER(0)
	DELIVER(1)
	DELIVER(2)
	DELIVER(3)
	:: d_step { NOLATE -> printf("EV tick\n"); tick() }
	od
}

/* never two holders: checked in every state */
active proctype monitor()
{
end:	do
	:: d_step { HOLDERS > 1 -> assert(HOLDERS <= 1) }
	od
}
