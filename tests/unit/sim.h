/*
 * sim: a cluster of the real election (agent/election.c, peer.c, auth.c's
 * replay window) on a fake clock, shared by test_election and test_schedule.
 *
 * Every node of a simulated cluster has its own struct vg_election, a
 * struct vg_peer per other node (seqs, echoes, RTT), a clock of its own
 * (offset and a rate within max_drift), a config of its own (parsed from
 * text, so nodes may disagree on dead_time, membership and votes), and a
 * keeper: the thing that holds the VIPs.  The keeper is modelled as
 * DESIGN.md has it: on LEASE(d) it adds the VIPs only if now < d - m, keeps
 * them until d unless renewed, removes them at d, on VIPS_OFF, or when the
 * agent dies (then, if it held the VIPs or a lease of term T, it sends
 * RELEASE(T) to every peer in the node's name).  A discrete-event loop
 * delivers messages over directed links with delay, jitter, loss,
 * duplication and cuts, fires the nodes' timers and the keepers' deadlines,
 * and crashes, restarts, freezes and isolates nodes; an fsync may take time
 * (the agent is blocked meanwhile), a keeper may be frozen on its own.
 *
 * THE INVARIANT, checked after every single event: at most one keeper holds
 * the VIPs, where a keeper that removed them at its deadline counts as
 * holding for m more (docs/design.md, step 1: it holds no later than
 * real(d) + m).  Also checked throughout: at most one node is ever active
 * in a term, a witness never holds or becomes active, term and vote are
 * persisted before a VOTE or a real VOTE_REQUEST leaves, the persisted term
 * never goes back, and no lease is longer than L = D(1-rho)/(1+rho) - h/4
 * computed here from the node's own config (so a build with L = D fails).
 * A timeline of holder and state changes lets the scenarios assert on the
 * order of things.
 *
 * VIP groups (docs/design.md, issue 15): with opt.groups = G > 1 every
 * node runs G elections (vg_el_init_group), one keeper lease per group,
 * and conf->groups filled by hand as a `groups` section would (group g's
 * priorities are group 0's rotated by g: g prefers node g mod n).  A
 * heartbeat is one datagram carrying every group (one loss loses them
 * all), fed to each group's election through vg_msg_group_view; VOTE_
 * REQUEST, VOTE, RELEASE and TRANSFER carry their group and reach its
 * election only.  Every check above is per group (two holders of one
 * group, two actives in one term of one group); a node of priority 0 in a
 * group never holds it.  A fsync blocks the whole agent: the groups after
 * the one that persisted see the message when it is done.  G <= 1: the
 * implicit group, every run as before (same seeds, same events).
 *
 * An answer is not answered (G > 1): a follower echoes its active's
 * heartbeat on arrival (election.c follow()), and with groups that echo is
 * also the heartbeat of an active of another group, whose follower would
 * echo it at once, and so on: two nodes, each the other's active in some
 * group, ping-pong for ever, a new chain every grid round.  So an answer
 * is marked VG_FLAG_REPLY (election.c, as on the wire) and the election
 * does not answer a marked one (the grid carries the echo one round
 * later): an answer it asks for on arrival of a marked heartbeat fails the
 * run.  And the answers the groups ask for go once
 * every group has seen the heartbeat, one datagram a peer (two groups
 * whose active sent it would answer twice, the first one with the second
 * group's echo not yet taken).
 *
 * Timing: interval h = 10 ms, dead_time D = 3h unless asked, max_drift
 * 0.01; links 0.2..2 ms one way plus up to 0.5 ms of jitter.
 */
#ifndef VG_TEST_SIM_H
#define VG_TEST_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "conf.h"
#include "election.h"
#include "peer.h"
#include "proto.h"
#include "auth.h"

#define NMAX		8
#define H		VG_MS(10)
#define RHO		0.01
/* the wall clock at the sim's time 0, ms (incarnations) */
#define SIM_WALL0_MS	1800000000000LL
#define US(x)		((vg_ns)(x) * VG_NS_PER_US)
#define BACKLOG		256		/* a frozen agent's socket buffer */
#define KEEPER_SEQ	(1ULL << 62)	/* the keeper's own seq range */
#define DMIN		US(200)		/* one-way delay of a link: DMIN..DMAX */
#define DMAX		VG_MS(2)
#define JITTER		US(500)		/* per message, on top */
#define RTT_MAX		(2 * (DMAX + JITTER))
#define SIM_GMAX	4		/* groups a simulated cluster may run */
#define TL_NODE		0xff		/* a timeline entry of the whole node */

/* What a node puts in a message's config_digest (vigild.c: the conf's
 * safety digest, configuration agreement). */
#define SIM_DIGEST(d)	((d)->el.digest)	/* J's during a move */

struct opt {
	int		n;
	uint8_t		prio[NMAX];	/* 0: 100 - 10 * index */
	unsigned	witness;	/* bit i: node i is a witness */
	int		dead_h;		/* D in intervals; 0: 3 */
	double		loss;		/* every directed link */
	int		no_drift;	/* all clocks at rate 1 */
	int		fixed_delay;	/* every link DMAX, no jitter */
	vg_ns		stagger;	/* random start offsets up to this */
	unsigned	down;		/* bit i: node i is not started */
	uint64_t	seed;
	/* fault-schedule extras (0: as before) */
	uint8_t		votes[NMAX];	/* 0: 1 */
	double		rate[NMAX];	/* a clock's rate; 0: random */
	/* per-node configurations: what node i's own config says */
	int		node_dead_h[NMAX];	/* 0: dead_h */
	int		node_members[NMAX];	/* the first k nodes; 0: all */
	uint8_t		node_votes[NMAX][NMAX];	/* [i][j]; 0: votes[j] */
	int		replay;		/* rx.c's replay window (with dup) */
	int		rx_now;		/* an active reads on arrival, never
					 * at its next wake-up (before
					 * vg_el_rx_may_wait) */
	int		lazy_now;	/* standbys' heartbeats read on
					 * arrival: no second socket (before
					 * vg_proto_lazy_prog) */
	int		no_lastsend;	/* a restarted agent counts from its
					 * start (before lastsend.c) */
	int		no_inc_clock;	/* a peer came up when first heard (not
					 * vg_el_set_incarnation) */
	/* VIP groups: 0 or 1 the implicit one; else that many, by hand */
	int		groups;
	uint8_t		gprio[SIM_GMAX][NMAX];	/* 0: group 0's rotated by g */
	unsigned	gnever[SIM_GMAX];	/* bit i: priority 0 in g */
	int		gpreempt[SIM_GMAX];	/* 0: the file's; 1 on, -1 off */
};

enum ev_type { EV_DELIVER, EV_WAKE, EV_KEEPER, EV_START, EV_FSYNC, EV_PUSH };
/* EV_PUSH: `from` says what (the coordinator of a configuration move) */
enum { PU_JOINT, PU_ACK, PU_FINAL, PU_TICK };

struct ev {
	vg_ns		t;
	uint64_t	ord;		/* FIFO among equal times */
	int		type;
	int		node;
	int		from;
	uint64_t	gen;
	struct vg_msg	m;
};

/* AG_FSYNC: blocked in a PERSIST's fsync, the rest of its actions wait */
enum { AG_DOWN, AG_UP, AG_FROZEN, AG_FSYNC };

struct keeper {
	int		holding;	/* the VIPs are on this node */
	int		lease;		/* a deadline is pending */
	vg_ns		deadline;	/* local clock */
	uint64_t	term;
	uint64_t	gen;
	uint64_t	seq;
	vg_ns		maybe_until;	/* real: removed at d, may hold till d + m */
	int		frozen;		/* SIGSTOPped on its own */
	int		fq;		/* frozen: 0 none, 1 LEASE, 2 OFF queued */
	uint64_t	fq_term;
	vg_ns		fq_deadline;
	int		fq_due;		/* its deadline passed while frozen */
};

/* Per group g of a node: gel[g], gk[g], gdisk_term[g], gdisk_vote[g];
 * group 0's also under the one-group names (el, k, disk_term, disk_vote). */
struct snode {
	struct vg_conf	*conf;
	union {
		struct vg_election el;
		struct vg_election gel[SIM_GMAX];
	};
	struct vg_peer	peer[NMAX];
	struct vg_replay replay[NMAX];
	int		agent;
	int		isolated;	/* link lost: nothing in or out */
	uint64_t	inc;
	union {				/* what PERSIST wrote */
		uint64_t	disk_term;
		uint64_t	gdisk_term[SIM_GMAX];
	};
	union {
		uint16_t	disk_vote;
		uint16_t	gdisk_vote[SIM_GMAX];
	};
	double		rate;		/* local ns per real ns */
	vg_ns		off;
	vg_ns		next_grid;	/* local */
	vg_ns		wake_at;	/* real; VG_NS_NEVER: none pending */
	uint64_t	wake_gen;
	union {				/* one process, a lease per group */
		struct keeper	k;
		struct keeper	gk[SIM_GMAX];
	};
	struct vg_msg	backlog[BACKLOG];
	vg_ns		backlog_at[BACKLOG];	/* local time it came */
	uint8_t		backlog_lazy[BACKLOG];	/* the second socket's: heard
						 * when it came */
	size_t		nbacklog;
	int		rx_wait;	/* as vigild: datagrams wait in the
					 * backlog for the next wake-up */
	vg_ns		grid_sent;	/* local: its latest grid round */
	vg_ns		ls_at;		/* local: its agent's last send, as
					 * lastsend.c keeps it (a host crash
					 * loses it: ls_ok 0) */
	int		ls_ok;
	uint64_t	rx_waited;
	uint64_t	rx_lazy;	/* steered to the second socket */
	int		rx_answer;	/* 1: acting on a heartbeat, 2: on an
					 * answer: asking for one fails the run) */
	unsigned	rx_hb;		/* bit j: answer j once every group has
					 * seen the heartbeat */
	uint64_t	inc_seen[NMAX];
	vg_ns		last_rx[NMAX];	/* real time of the last message from j */
	vg_ns		fsync;		/* how long a PERSIST takes; 0 at once */
	struct vg_acts	pend;		/* AG_FSYNC: the list, resumed at pend_k */
	size_t		pend_k;
	uint64_t	pend_term;
	uint16_t	pend_vote;
	int		pend_g;		/* whose list it is */
	int		pend_answer;	/* rx_answer when it was made */
	struct vg_msg	rx_rest;	/* the message the fsync interrupted: */
	int		rx_rest_g;	/* the groups from here on; 0 none */
	vg_ns		rx_rest_heard;	/* and when it counts as heard */
	uint64_t	fsync_gen;
	vg_ns		lease_len;	/* L from this node's config, by DESIGN.md */
	/* a configuration move: C' as this node parsed it (NULL: C' leaves
	 * it out), and where it is, on disk: 0 C, 1 J, 2 C' (or removed) */
	struct vg_conf	*conf_new;
	vg_ns		lease_len_new;
	int		stage;
};

enum tl_kind {
	TL_ON, TL_OFF, TL_STATE, TL_CRASH, TL_RESTART, TL_FREEZE, TL_THAW,
	TL_NOTE, TL_KFREEZE, TL_KTHAW
};

struct tl {
	vg_ns		t;
	int		node;
	int		kind;
	uint8_t		g;		/* the group; TL_NODE: the node's */
	uint8_t		a, b;		/* STATE: old, new */
	uint64_t	term;
};

struct link {
	vg_ns		delay;
	double		loss;
	double		dup;		/* a second copy, a little later */
	int		cut;		/* this direction only */
};

/*
 * The coordinator of a safety-relevant push (docs/design.md, joint quorum):
 * it sends JOINT to every node of C and C' each h until it has acks from
 * a quorum of C and one of C', waits D_J = max(D, D') on its own clock,
 * then sends FINAL each h to every node not yet in C' until `end`.  Its
 * messages take the links (cuts, isolation, loss); a node down or frozen
 * misses them.  It gives up JOINT after `end` too (the nodes stay in J).
 */
struct spush {
	int		phase;		/* 0 none, 1 JOINT, 2 D_J, 3 FINAL, 4 done */
	int		coord;		/* whose clock and links */
	int		n;		/* nodes of C and C' (the first n) */
	unsigned	acked;		/* bit i: node i said it is in J */
	vg_ns		final_at;	/* coordinator-local */
	vg_ns		end;		/* real */
	vg_ns		joint_done, final_sent;	/* real; -1 not yet */
	unsigned	early_final;	/* a plan's broken coordinator: no D_J */
};

struct sim;
/* Called by sim_fail instead of cmocka's fail_msg; must not return. */
typedef void (*sim_fail_fn)(const struct sim *, const char *what);

struct sim {
	struct opt	o;
	int		n;
	vg_ns		h, dead, lease, margin;
	struct snode	nd[NMAX];
	struct link	ln[NMAX][NMAX];
	vg_ns		jitter;
	/* the heap orders (t, ord) and names an event of the pool (chunks
	 * that never move): a message is written once, read in place */
	struct hent {
		vg_ns		t;
		uint64_t	ord;
		uint32_t	idx;
	}		*heap;
	size_t		nheap, capheap;
	struct ev	**pool;		/* POOL_CHUNK events each */
	size_t		npool;
	uint32_t	*pfree;		/* free slots of the pool */
	size_t		npfree;
	uint64_t	ord;
	vg_ns		now;
	uint64_t	rng;
	struct tl	*tl;
	size_t		ntl, captl;
	int		G;		/* groups: 1 at least */
	union {				/* owner[term]: who was active in it */
		uint16_t	*owner;
		uint16_t	*gowner[SIM_GMAX];
	};
	union {
		size_t		nowner;
		size_t		gnowner[SIM_GMAX];
	};
	union {
		int		nholding;
		int		gnholding[SIM_GMAX];
	};
	vg_ns		held_ns, acc_t;	/* group 0's */
	uint64_t	events, msgs, delivered, spins, stale, overflow, dups;
	sim_fail_fn	on_fail;
	int		no_len_check;	/* leave out the lease-length check */
	struct spush	push;
};

typedef int (*sim_pred)(const struct sim *, int);

extern struct sim *live_sims[8];

vg_ns	ms_of(vg_ns t);
double	msf(vg_ns t);
uint64_t rng_next(uint64_t *s);
double	rng_unit(uint64_t *s);
vg_ns	rng_range(uint64_t *s, vg_ns lo, vg_ns hi);
int	id_of(int i);
vg_ns	lnow(const struct sim *s, int i);
vg_ns	real_of(const struct sim *s, int i, vg_ns local);
vg_ns	real_at(const struct sim *s, int i, vg_ns local);
void	tl_dump(const struct sim *s, size_t last);
void	el_dump(const struct sim *s);
void	sim_fail(const struct sim *s, const char *what);
const struct tl *tl_first(const struct sim *s, int kind, int node, int not,
	    vg_ns after);
/* The same in group g (tl_first: group 0); node entries count in each. */
const struct tl *tl_first_g(const struct sim *s, int g, int kind, int node,
	    int not, vg_ns after);
void	tl_changes(const struct sim *s, vg_ns from, int *elections,
	    int *changes);
int	count_holders(const struct sim *s);
int	count_holders_g(const struct sim *s, int g);
/* Who holds group g's VIPs (its keeper), -1 none. */
int	holder_g(const struct sim *s, int g);
void	ev_at(struct sim *s, vg_ns t, int type, int node, uint64_t gen);
void	agent_do(struct sim *s, int i, const struct vg_acts *acts);
/* The actions of group g's election (agent_do: group 0's). */
void	agent_do_g(struct sim *s, int i, int g, const struct vg_acts *acts);
void	agent_schedule(struct sim *s, int i);
void	node_start(struct sim *s, int i);
void	node_crash(struct sim *s, int i, int keeper_lives);
void	node_freeze(struct sim *s, int i);
void	node_thaw(struct sim *s, int i);
void	keeper_freeze(struct sim *s, int i);
void	keeper_thaw(struct sim *s, int i);
int	member(const struct sim *s, int i, int j);
void	cut(struct sim *s, int from, int to, int on);
void	cut_all(struct sim *s, int i, int on);
void	set_loss(struct sim *s, double loss);
struct sim *sim_new(const struct opt *o);
void	sim_free(struct sim *s);
void	sim_check(const struct sim *s);
vg_ns	sim_run_pred(struct sim *s, vg_ns until, sim_pred pred, int arg);
void	sim_run(struct sim *s, vg_ns until);
vg_ns	sim_held(const struct sim *s);
int	the_active(const struct sim *s);
int	the_active_g(const struct sim *s, int g);
int	pred_active(const struct sim *s, int arg);
int	pred_other(const struct sim *s, int arg);
int	n_in_state(const struct sim *s, uint8_t st);
vg_ns	await_active(struct sim *s, int who, vg_ns limit, const char *what);
vg_ns	slow(vg_ns d);
vg_ns	cand_wait(const struct sim *s);
struct opt opt3(uint64_t seed);
/* Stage a move to o2's configuration (its n members, votes, witness,
 * dead_h) on every node and start its coordinator now; the nodes that
 * o->down kept out (new in C') start now, in C'. */
void	sim_push(struct sim *s, int coord, const struct opt *o2);
/* The configuration a node runs (C' after FINAL, else C). */
const struct vg_conf *sim_conf(const struct snode *d);
vg_ns	stable(struct sim *s);

#endif
