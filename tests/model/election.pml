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
 *   The vote in the TRANSFER (docs/design.md): the active that hands over
 *   votes for its successor in term + 1 (persisted, quiet_since reset)
 *   before its removal, sends RELEASE(T) and TRANSFER(T) carrying that vote
 *   and an echo of a datagram of the successor; from then on it is a voter
 *   of T + 1 that has voted (a repeat of the successor's request or
 *   pre-vote is granted, any other candidate's in T + 1 refused, and its
 *   own release no longer lifts rule (1): its D counts from the vote).  The
 *   successor, on that TRANSFER from the active of its term T, counts the
 *   vote for T + 1 if the echo is there; a standby stands at once, in the
 *   same step (deliver_at_once), or later (a CAND event: a back-off), a
 *   candidate in a pre-vote goes to the real round at once (xfer_take),
 *   and the real round of T + 1 wins with the carried vote and its own,
 *   its first lease from the echoed datagram's send time (quorum_time),
 *   not the request's.  Which datagram the old active echoes is a choice
 *   at the hand-over (HO): none, or one sent at any tick up to the vote,
 *   so the code's (the newest it had heard of the successor, sent before
 *   the vote) is among them.
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
 *   Of the vote in the TRANSFER: the conditions under which the old active
 *   does not vote, which only take votes away (a peer says HOLDING; a
 *   datagram earlier in its action list would carry the new term before
 *   the PERSIST: in the model every event is atomic and persists at once)
 *   and the successor's "no term
 *   above T + 1 seen" (max_term: without it the model may use the vote
 *   where the code asks above; more behaviours); a TRANSFER sent to the
 *   active (an operator's request on a follower); version 3 peers.  The
 *   echo is not tied to what the old active heard (HO's choice: an echo
 *   of a datagram it never had, or of the successor's previous
 *   incarnation, which the code does not count, is in the model: more
 *   behaviours, each echo sent at or before the vote).
 *   Bounds: terms up to MAXT, CRASHES agent crashes, KCRASH keeper crashes,
 *   FREEZES keeper freezes, DUPS duplications, BAG datagrams in flight.
 *
 * START
 *   Every node a standby at term 0, nothing in flight; or (-DFROM_ACTIVE,
 *   MAXT 3) a healthy elected active: n0 active in term 1 with a lease from
 *   this tick, its keeper holding, n1 (which voted for it) and n2 following
 *   it, nothing in flight: a state reached from the cold start, so that a
 *   search of a few events reaches hand-overs and what follows them.
 *
 * BROKEN VARIANTS (make check asserts a counterexample for the first eight;
 * tests/model/run.sh, which gives the depth and instance of each)
 *   -DGRANT_NOT_HEARD   a granted vote does not restart the voter's D
 *   -DLEASE_D           L = D: consts.py computes HOLD for it (HOLD_EXTRA)
 *   -DCAND_EARLY        a standby stands before its own D has run
 *   -DACTIVE_VOTES      rule (0) off: an active grants votes
 *   -DNO_KEEPER         the agent holds the VIPs itself: they stay when it
 *                       dies (with -DCRASHES=1)
 *   -DXFER_NO_RECORD    the old active does not record the vote it carries
 *                       in the TRANSFER: it votes again in T + 1 (for
 *                       itself or another), two actives in T + 1
 *   -DXFER_LIFTS        it records the vote, but its own release still
 *                       lifts rule (1): it votes in T + 2 at once
 *   -DXFER_LEASE_NOW    the successor's first lease runs from its request
 *                       (now), not from the echoed datagram's send time
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
#ifdef FROM_ACTIVE
#define MAXT	3	/* the start's term 1, a hand-over's 2, one more election */
#else
#define MAXT	2
#endif
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
#if HOLD > 4
#error "HO_TO's echoes go up to 5 = AMAX: add more"
#endif

/* the carried vote's echo time; -DXFER_LEASE_NOW (broken): the request's */
#ifdef XFER_LEASE_NOW
#define XFER_ACK	nd[i].req
#else
#define XFER_ACK	xa
#endif

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
	bit yes;	/* VOTE: granted; XFER: carries the sender's vote */
	bit act;	/* HB: the sender is active (state ACTIVE, active = itself) */
	byte inc;	/* sender's incarnation */
	byte echo;	/* HB to the active: age of the echoed heartbeat + 1; XFER:
			 * age of its target's datagram it echoes + 1; 0 none */
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
	byte xv;	/* its sender's vote for us in term + 1: index + 1; 0 none */
	byte xack;	/* age of our datagram that TRANSFER echoed */
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

/*
 * step_down_to(): the vote for the successor in term + 1 (vote_for_successor:
 * persisted before the removal), VIPs off (acked), then RELEASE (and
 * TRANSFER, carrying that vote and echoing a datagram of the successor,
 * xe: HANDOVERS) if asked.  From its vote on the old active is a voter of
 * term + 1 that has voted: one vote in that term, and its own release no
 * longer lifts rule (1), which counts from the vote (quiet = 0).  No vote
 * past MAXT (the model's bound on terms; the code's is 2^63 - 1).
 */
inline step_down(i, REL_, SUCC)
{
	ot = nd[i].term;
	if
	:: nd[i].st == ACTIVE && REL_ && SUCC != 0 && ot + 1 <= MAXT -> xc = SUCC
	:: else -> xc = 0
	fi;
	vips_off(i);
	if
	:: nd[i].st == ACTIVE ->
		if
		:: REL_ ->
			nd[i].relown = ot;
			sendall(i, REL, ot, 0, 0);
			if
			:: SUCC != 0 ->
				if :: xc != 0 -> xy = 1 :: else -> xe = 0 fi;
				send(i, SUCC - 1, XFER, ot, 0, xy, 0, xe)
			:: else -> skip
			fi;
			if
#ifndef XFER_NO_RECORD
			:: xc != 0 ->
				/* take_vote(): term + 1, voted, persisted */
				new_term(i, ot + 1); nd[i].voted = xc;
#ifdef XFER_LIFTS
				nd[i].released = 1	/* broken: the lift of T kept */
#else
				nd[i].released = 0
#endif
#endif
			:: else -> nd[i].released = 1	/* our own release */
			fi
		:: else -> skip
		fi;
		nd[i].actid = 0;
		nd[i].quiet = 0		/* a step-down (and a vote) counts as heard */
	:: else -> skip
	fi;
	nd[i].lapsed = 0; nd[i].lease = 0;
	nd[i].st = STANDBY;
	ot = 0; xc = 0; xe = 0; xy = 0
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
	nd[i].released = 0; nd[i].xfer = 0; nd[i].xv = 0; nd[i].xack = 0
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
	nd[i].released = 0; nd[i].xfer = 0; nd[i].xv = 0; nd[i].xack = 0;
	nd[i].lapsed = 0; nd[i].lease = 0;
	j = 0;
	do
	:: j < N -> nd[i].ack[j] = ((nd[i].granted & ONE(j)) && j != i ->
		(j + 1 == xc -> XFER_ACK : nd[i].req) : AMAX); j++
	:: j == N -> break
	od;
	j = 0;
	/* the first lease: from the request; with a TRANSFER's vote, from
	 * the quorum's echo times (quorum_time: that vote's echo) */
	if
	:: xc != 0 -> quorum_age(i, xa); lease_renew(i, xa)
	:: else -> lease_renew(i, nd[i].req)
	fi
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

/*
 * The real round; with the vote a TRANSFER carried for this term (it is
 * for term + 1 of the term it came in), counted at once: with our own it
 * is a quorum (quorum 2), so the win is in the same step, the lease from
 * the send time of our datagram that the TRANSFER echoed (xa).
 */
inline real_round(i)
{
	if
	:: nd[i].xv != 0 && nd[i].cterm == nd[i].term + 1 -> xc = nd[i].xv; xa = nd[i].xack
	:: else -> xc = 0
	fi;
	nd[i].pre = 0;
	new_term(i, nd[i].cterm);
	nd[i].voted = i + 1;		/* persisted with the term, before the send */
	nd[i].quiet = 0;
	nd[i].req = 0;
	nd[i].granted = ONE(i);
	sendall(i, REQ, nd[i].term, 0, 0);
	if
	:: xc != 0 ->
		nd[i].granted = nd[i].granted | ONE(xc - 1);
		votes(i, r);
		if :: r >= Q -> become_active(i) :: else -> skip fi;
		r = 0
	:: else -> skip
	fi;
	xc = 0; xa = 0
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
		:: m.term == nd[i].term && nd[i].voted == c + 1 -> r = 0	/* a repeat */
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
		if
		:: m.ty == XFER ->
			nd[i].xfer = 1;
			/* its vote for us in term + 1, counted if the send time
			 * of the datagram it echoes is known */
			if
			:: m.yes && m.echo != 0 -> nd[i].xv = s + 1; nd[i].xack = m.echo - 1;
				/* xfer_take(): a candidate in a pre-vote goes to the
				 * real round of term + 1 at once */
				if
				:: nd[i].st == CANDIDATE && nd[i].pre ->
					nd[i].cterm = nd[i].term + 1; real_round(i)
				:: else -> skip
				fi
			:: else -> nd[i].xv = 0
			fi
		:: else -> skip
		fi
	:: else -> skip
	fi
}

inline stand(I, UP)
{
	printf("EV n%d stands for term %d\n", I, nd[I].term + UP);
	lease_check(I);
	nd[I].cterm = nd[I].term + UP;
	nd[I].st = CANDIDATE; nd[I].granted = ONE(I);
	if
	:: nd[I].xfer || !PREVOTE -> real_round(I)
	:: else -> nd[I].pre = 1; sendall(I, REQ, nd[I].cterm, 1, 0)
	fi
}

/*
 * deliver(K, FREE): the datagram in bag[K] to its node.  deliver_at_once(K):
 * a TRANSFER carrying its sender's vote, and a standby that takes that vote
 * stands at once, in the real round of term + 1, and wins with it in the
 * same step (vg_el_input() ends in vg_el_tick(): candidacy_at() is the
 * RELEASE's time).  After deliver() it stands later, a CAND event (the
 * code's back-off may delay it): the same states one event later, so the
 * "at once" only shortens the runs that reach them.
 */
inline decode(K, FREE)
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
	lease_check(i)
}

inline done()
{
	r = 0; i = 0;
	cur.ty = 0; cur.from = 0; cur.to = 0; cur.term = 0; cur.pre = 0; cur.yes = 0;
	cur.act = 0; cur.inc = 0; cur.echo = 0; cur.age = 0
}

inline deliver(K, FREE)
{
	decode(K, FREE);
	if
	:: cur.ty == HB -> on_heartbeat(i, cur.from, cur)
	:: cur.ty == REQ -> on_request(i, cur.from, cur)
	:: cur.ty == VOTE -> on_vote(i, cur.from, cur)
	:: cur.ty == REL || cur.ty == XFER -> on_release(i, cur.from, cur)
	fi;
	done()
}

/* a TRANSFER carrying its sender's vote, and the candidacy at once */
inline deliver_at_once(K)
{
	decode(K, 1);
	on_release(i, cur.from, cur);
	if
	:: nd[i].st == STANDBY && nd[i].xv != 0 && ISNODE_TRY(i) &&
	    nd[i].term + 1 <= MAXT ->
		printf("EV n%d takes the vote at once\n", i); stand(i, 1)
	:: else -> skip
	fi;
	done()
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
		if :: nd[j].xv != 0 -> AGE(nd[j].xack) :: else -> skip fi;
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
	    MAY_STAND(I) && nd[I].term + UP <= MAXT -> stand(I, UP) }

#ifdef NO_HANDOVER
#define HANDOVERS_0
#define HANDOVERS_1
#define HANDOVERS_2
#else
/*
 * HO(I, S, E): node I hands over to node S - 1 (S = 0: to none), with its
 * vote for it in term + 1 (not past MAXT, the model's bound on terms), and
 * the TRANSFER echoing E: none (0), or a datagram of S - 1 sent E - 1 ticks
 * before the vote (E = AMAX: HOLD or more, too old for any lease).  Which
 * datagram the old active heard last is not tracked: each E is a choice,
 * so the code's is among them (it was sent at or before the vote, which
 * is all the lease argument uses), the freshest, sent in the vote's tick,
 * too.  Only the E up to AMAX are built.
 */
#define HO(I, S, E) \
	:: d_step { nd[I].up && nd[I].st == ACTIVE && !nd[I].lapsed && nd[I].lease > 0 && \
	    (E == 0 || nd[I].term + 1 <= MAXT) -> \
		printf("EV n%d hands over to %d, echo %d\n", I, S - 1, E); \
		xe = E; step_down(I, 1, S) }
#if AMAX >= 3
#define HO_E3(I, S)	HO(I, S, 3)
#else
#define HO_E3(I, S)
#endif
#if AMAX >= 4
#define HO_E4(I, S)	HO(I, S, 4)
#else
#define HO_E4(I, S)
#endif
#if AMAX >= 5
#define HO_E5(I, S)	HO(I, S, 5)
#else
#define HO_E5(I, S)
#endif
#define HO_TO(I, S)	HO(I, S, 0) HO(I, S, 1) HO(I, S, 2) HO_E3(I, S) HO_E4(I, S) HO_E5(I, S)
#define HANDOVERS_0	HO(0, 0, 0) HO_TO(0, 2) HO_WITNESS_TO(0, 3)
#define HANDOVERS_1	HO(1, 0, 0) HO_TO(1, 1) HO_WITNESS_TO(1, 3)
#define HANDOVERS_2	HO(2, 0, 0) HO_TO(2, 1) HO_TO(2, 2)
#ifdef WITNESS
#define HO_WITNESS_TO(I, S)	/* not to a witness (handover_check) */
#else
#define HO_WITNESS_TO(I, S)	HO_TO(I, S)
#endif
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
	HANDOVERS_ ## I \
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
		nd[I].xv = 0; nd[I].xack = 0; \
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

#define DELIVER(K) \
	:: d_step { BAG > K && bag[K] != 0 && nd[P_TO(bag[K])].up -> deliver(K, 1) } \
	:: d_step { BAG > K && bag[K] != 0 && nd[P_TO(bag[K])].up && P_TY(bag[K]) == XFER && \
	    P_YES(bag[K]) && P_ECHO(bag[K]) != 0 -> deliver_at_once(K) } \
	:: d_step { BAG > K && bag[K] != 0 && nd[P_TO(bag[K])].up && dups < DUPS -> dups++; deliver(K, 0) } \
	:: d_step { BAG > K && bag[K] != 0 -> printf("EV lost: ty %d n%d -> n%d\n", \
		P_TY(bag[K]), P_FROM(bag[K]), P_TO(bag[K])); bag[K] = 0; sort() }

active proctype world()
{
	byte i, j, k, r, j2;
	byte ot, xc, xa;	/* step_down's old term; the vote a TRANSFER carried */
	byte xe;		/* a hand-over's echo (HANDOVERS) */
	bit xy;			/* the TRANSFER carries the vote */
	int t2;

	d_step {
	i = 0;
	do
	:: i < N -> nd[i].up = 1; nd[i].st = STANDBY; nd[i].echo = AMAX;
		nd[i].ack[0] = AMAX; nd[i].ack[1] = AMAX; nd[i].ack[2] = AMAX;
		nd[i].req = AMAX; i++
	:: i == N -> break
	od;
	i = 0;
#ifdef FROM_ACTIVE
	/*
	 * A healthy elected active: n0 won term 1 with n1's vote (n2 took the
	 * term from its heartbeat); in this tick n0 sent a heartbeat, both
	 * echoed it at once, n0 renewed its lease (t_q now) and its keeper
	 * added.  Reachable from the cold start (its events take about 10
	 * steps), so every run from here is a run of the model.
	 */
	won[1] = 1;
	i = 0;
	do
	:: i < N -> nd[i].term = 1; nd[i].actid = 1; nd[i].tact = 1; nd[i].actinc = 0;
		nd[i].echo = 0; nd[i].quiet = 0; i++
	:: i == N -> break
	od;
	i = 0;
	nd[0].voted = 1; nd[1].voted = 1; nd[2].voted = 0;
	nd[0].st = ACTIVE; nd[0].echo = AMAX; nd[0].quiet = AMAX;
	nd[0].cterm = 1; nd[0].granted = ONE(0) | ONE(1);
	nd[0].ack[1] = 0; nd[0].ack[2] = 0;
	nd[0].lease = HOLD; nd[0].kleft = HOLD; nd[0].vips = 1; nd[0].klease = 1
#endif
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
