/*
 * proto: byte-exact encoding and decoding of vigil messages; pure.
 */
#include <string.h>

#include <linux/filter.h>

#include "proto.h"
#include "push.h"

static const char *const drop_names[VG_DROP_MAX] = {
	[VG_DROP_NONE] = "none",
	[VG_DROP_TRUNCATED] = "truncated",
	[VG_DROP_SHORT] = "short",
	[VG_DROP_MAGIC] = "magic",
	[VG_DROP_VERSION] = "version",
	[VG_DROP_TYPE] = "type",
	[VG_DROP_LENGTH] = "length",
	[VG_DROP_MALFORMED] = "malformed",
	[VG_DROP_CLUSTER] = "cluster",
	[VG_DROP_TARGET] = "target",
	[VG_DROP_SELF] = "self",
	[VG_DROP_UNKNOWN_PEER] = "unknown_peer",
	[VG_DROP_ADDRESS] = "address",
	[VG_DROP_AUTH] = "auth",
	[VG_DROP_STALE] = "stale_incarnation",
	[VG_DROP_REPLAY] = "replay",
	[VG_DROP_UNFRESH] = "unfresh",
};

static const char *const type_names[] = {
	[0] = "invalid",
	[VG_MSG_HEARTBEAT] = "heartbeat",
	[VG_MSG_VOTE_REQUEST] = "vote_request",
	[VG_MSG_VOTE] = "vote",
	[VG_MSG_RELEASE] = "release",
	[VG_MSG_TRANSFER] = "transfer",
	[VG_MSG_CONF_OFFER] = "conf_offer",
	[VG_MSG_CONF_CHUNK] = "conf_chunk",
	[VG_MSG_CONF_ACK] = "conf_ack",
	[VG_MSG_CONF_DECIDE] = "conf_decide",
	[VG_MSG_CONF_FETCH] = "conf_fetch",
};

static const char *const state_names[] = {
	[0] = "unknown",
	[VG_ST_STANDBY] = "standby",
	[VG_ST_CANDIDATE] = "candidate",
	[VG_ST_ACTIVE] = "active",
	[VG_ST_FAULT] = "fault",
	[VG_ST_MAINTENANCE] = "maintenance",
	[VG_ST_NO_QUORUM] = "no-quorum",
};

static const size_t body_len[VG_MSG_TYPE_MAX + 1] = {
	[VG_MSG_HEARTBEAT] = 4,
	[VG_MSG_VOTE_REQUEST] = 0,
	[VG_MSG_VOTE] = 2,
	[VG_MSG_RELEASE] = 0,
	[VG_MSG_TRANSFER] = 0,
	[VG_MSG_CONF_OFFER] = 52,
	[VG_MSG_CONF_CHUNK] = 1040,
	[VG_MSG_CONF_ACK] = 184,
	[VG_MSG_CONF_DECIDE] = 16,
	[VG_MSG_CONF_FETCH] = 4,
};

/* Version 3 adds a byte to these types' bodies: a heartbeat's count of
 * sections, the others' group. */
#define HAS_GROUP_BYTE(t)	((t) >= VG_MSG_HEARTBEAT && \
				 (t) <= VG_MSG_TRANSFER)
/* A section's flags on the wire (proto.h) */
#define SEC_LAPSED		0x01
#define SEC_HOLDING		0x02

/* Flags each type may carry in this version (later_flags: in the older
 * ones); any other bit set is malformed. */
static const uint16_t type_flags[VG_MSG_TYPE_MAX + 1] = {
	[VG_MSG_HEARTBEAT] = VG_FLAG_LAPSED | VG_FLAG_HOLDING | VG_FLAG_REPLY,
	[VG_MSG_VOTE_REQUEST] = VG_FLAG_PRE,
	[VG_MSG_VOTE] = VG_FLAG_PRE | VG_FLAG_GRANTED,
	[VG_MSG_RELEASE] = 0,
	[VG_MSG_TRANSFER] = VG_FLAG_GRANTED,
};

/* The flags that type carries only from a later version than this one:
 * an encoder leaves them out, a decoder refuses them. */
static uint16_t
later_flags(uint8_t version, uint8_t type)
{
	uint16_t later = 0;

	if (version < VG_VERSION_GROUPS && type == VG_MSG_HEARTBEAT)
		later |= VG_FLAG_REPLY;
	if (version < VG_VERSION_XFER_VOTE && type == VG_MSG_TRANSFER)
		later |= VG_FLAG_GRANTED;
	return later;
}

const char *
vg_drop_name(enum vg_drop d)
{
	return (unsigned)d < VG_DROP_MAX ? drop_names[d] : "invalid";
}

const char *
vg_msg_type_name(uint8_t t)
{
	return t <= VG_MSG_TYPE_MAX ? type_names[t] : "invalid";
}

const char *
vg_state_name(uint8_t s)
{
	return s <= VG_ST_MAX ? state_names[s] : "invalid";
}

int
vg_state_parse(const char *s, uint8_t *out)
{
	uint8_t i;

	for (i = 1; i <= VG_ST_MAX; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

size_t
vg_proto_body_len(uint8_t type)
{
	return type == 0 || type > VG_MSG_TYPE_MAX ? 0 : body_len[type];
}

size_t
vg_proto_len_v(uint8_t version, uint8_t type)
{
	if (type == 0 || type > VG_MSG_TYPE_MAX ||
	    version < VG_VERSION_MIN || version > VG_VERSION ||
	    (version == 1 && VG_MSG_IS_PUSH(type)))
		return 0;
	return (version == 1 ? VG_HDR_LEN_V1 : VG_HDR_LEN) + body_len[type] +
	    (version >= VG_VERSION_GROUPS && HAS_GROUP_BYTE(type) ? 1 : 0) +
	    VG_MAC_LEN;
}

size_t
vg_proto_len_hb(uint8_t version, size_t n_groups)
{
	size_t len = vg_proto_len_v(version, VG_MSG_HEARTBEAT);

	if (len == 0 || n_groups == 0 || n_groups > VG_MAX_GROUPS ||
	    (version < VG_VERSION_GROUPS && n_groups > 1))
		return 0;
	return len + (n_groups - 1) * VG_HB_SECTION_LEN;
}

size_t
vg_proto_len(uint8_t type)
{
	return vg_proto_len_v(VG_VERSION, type);
}

static void
put_section(uint8_t *p, uint8_t g, const struct vg_msg_group *s)
{
	p[0] = g;
	p[1] = s->state;
	p[2] = s->priority;
	p[3] = (uint8_t)((s->flags & VG_FLAG_LAPSED ? SEC_LAPSED : 0) |
	    (s->flags & VG_FLAG_HOLDING ? SEC_HOLDING : 0));
	vg_put64(p + 4, s->term);
	vg_put16(p + 12, s->active);
	vg_put64(p + 14, s->echo_seq);
}

size_t
vg_proto_encode(const struct vg_msg *m, uint8_t *buf, size_t buflen)
{
	uint8_t version = m->version == 0 ? VG_VERSION : m->version;
	size_t n_groups = m->n_groups == 0 ? 1 : m->n_groups;
	size_t len, body, i;

	if (m->type == VG_MSG_HEARTBEAT)
		len = vg_proto_len_hb(version, n_groups);
	else
		len = vg_proto_len_v(version, m->type);
	if (len == 0 || buflen < len)
		return 0;
	/* a group other than 0 is not said before version 3 */
	if (m->type != VG_MSG_HEARTBEAT && HAS_GROUP_BYTE(m->type) &&
	    (m->group >= VG_MAX_GROUPS ||
	    (version < VG_VERSION_GROUPS && m->group != 0)))
		return 0;
	body = version == 1 ? VG_HDR_LEN_V1 : VG_HDR_LEN;
	memset(buf, 0, len);
	vg_put32(buf + 0, VG_MAGIC);
	buf[4] = version;
	buf[5] = m->type;
	/* REPLY is version 3's, a TRANSFER's vote version 4's: an older
	 * node would refuse the bit */
	vg_put16(buf + 6, m->flags & ~later_flags(version, m->type));
	vg_put32(buf + 8, m->cluster_id);
	vg_put16(buf + 12, m->sender);
	vg_put16(buf + 14, m->target);
	buf[16] = m->state;
	buf[17] = m->priority;
	vg_put16(buf + 18, m->digest_parts);
	vg_put64(buf + 20, m->term);
	vg_put64(buf + 28, m->incarnation);
	vg_put64(buf + 36, m->seq);
	vg_put64(buf + 44, m->echo_seq);
	vg_put16(buf + 52, m->active);
	vg_put32(buf + 54, m->config_digest);
	if (version >= 2) {
		vg_put32(buf + 58, m->epoch);
		vg_put32(buf + 62, m->conf_digest);
	}
	if (m->type == VG_MSG_HEARTBEAT) {
		vg_put32(buf + body, m->u.hb.echo_delay_us);
		if (version >= VG_VERSION_GROUPS) {
			buf[body + 4] = (uint8_t)(n_groups - 1);
			for (i = 1; i < n_groups; i++)
				put_section(buf + body + 5 +
				    (i - 1) * VG_HB_SECTION_LEN, (uint8_t)i,
				    &m->grp[i - 1]);
		}
	} else if (m->type == VG_MSG_VOTE) {
		vg_put16(buf + body, m->u.vote.reason);
		if (version >= VG_VERSION_GROUPS)
			buf[body + 2] = m->group;
	} else if (HAS_GROUP_BYTE(m->type)) {
		if (version >= VG_VERSION_GROUPS)
			buf[body] = m->group;
	} else if (VG_MSG_IS_PUSH(m->type) && m->body != NULL)
		memcpy(buf + body, m->body, body_len[m->type]);
	return len;
}

/* Section i (group i + 1) at p into s; -1 if a field is out of range. */
static int
get_section(const uint8_t *p, size_t i, struct vg_msg_group *s)
{
	if (p[0] != i + 1 || p[1] == 0 || p[1] > VG_ST_MAX ||
	    (p[3] & ~(SEC_LAPSED | SEC_HOLDING)) != 0)
		return -1;
	s->state = p[1];
	s->priority = p[2];
	s->flags = (uint16_t)((p[3] & SEC_LAPSED ? VG_FLAG_LAPSED : 0) |
	    (p[3] & SEC_HOLDING ? VG_FLAG_HOLDING : 0));
	s->term = vg_get64(p + 4);
	s->active = vg_get16(p + 12);
	s->echo_seq = vg_get64(p + 14);
	return 0;
}

enum vg_drop
vg_proto_decode(const uint8_t *buf, size_t len, struct vg_msg *m)
{
	struct vg_msg d;
	size_t want, body, i;

	/* the shortest header any accepted version has */
	if (len < VG_HDR_LEN_V1 + VG_MAC_LEN)
		return VG_DROP_SHORT;
	if (vg_get32(buf) != VG_MAGIC)
		return VG_DROP_MAGIC;
	if (buf[4] < VG_VERSION_MIN || buf[4] > VG_VERSION)
		return VG_DROP_VERSION;
	if ((want = vg_proto_len_v(buf[4], buf[5])) == 0)
		return VG_DROP_TYPE;
	/* a version 3 heartbeat's length is the one its count makes (none
	 * for a count above VG_MAX_GROUPS - 1) */
	if (buf[4] >= 3 && buf[5] == VG_MSG_HEARTBEAT && len >= want)
		want = vg_proto_len_hb(buf[4], (size_t)buf[VG_HDR_LEN + 4] + 1);
	if (len != want)
		return VG_DROP_LENGTH;

	memset(&d, 0, sizeof(d));
	d.n_groups = 1;
	d.version = buf[4];
	d.type = buf[5];
	d.flags = vg_get16(buf + 6);
	d.cluster_id = vg_get32(buf + 8);
	d.sender = vg_get16(buf + 12);
	d.target = vg_get16(buf + 14);
	d.state = buf[16];
	d.priority = buf[17];
	d.digest_parts = vg_get16(buf + 18);
	d.term = vg_get64(buf + 20);
	d.incarnation = vg_get64(buf + 28);
	d.seq = vg_get64(buf + 36);
	d.echo_seq = vg_get64(buf + 44);
	d.active = vg_get16(buf + 52);
	d.config_digest = vg_get32(buf + 54);
	body = d.version == 1 ? VG_HDR_LEN_V1 : VG_HDR_LEN;
	if (d.version >= 2) {
		d.epoch = vg_get32(buf + 58);
		d.conf_digest = vg_get32(buf + 62);
	}
	if (d.type == VG_MSG_HEARTBEAT) {
		d.u.hb.echo_delay_us = vg_get32(buf + body);
		if (d.version >= VG_VERSION_GROUPS) {
			d.n_groups = (uint8_t)(buf[body + 4] + 1);
			for (i = 0; i + 1 < d.n_groups; i++)
				if (get_section(buf + body + 5 +
				    i * VG_HB_SECTION_LEN, i, &d.grp[i]) == -1)
					return VG_DROP_MALFORMED;
		}
	} else if (d.type == VG_MSG_VOTE) {
		d.u.vote.reason = vg_get16(buf + body);
		if (d.version >= VG_VERSION_GROUPS)
			d.group = buf[body + 2];
	} else if (HAS_GROUP_BYTE(d.type)) {
		if (d.version >= VG_VERSION_GROUPS)
			d.group = buf[body];
	} else if (VG_MSG_IS_PUSH(d.type))
		d.body = buf + body;

	/* digest_parts is a hint, any value goes (zero from a node that
	 * sends none) */
	if ((d.flags & ~(type_flags[d.type] &
	    ~later_flags(d.version, d.type))) != 0 ||
	    d.state == 0 || d.state > VG_ST_MAX ||
	    d.sender == 0 || d.seq == 0 || d.incarnation == 0 ||
	    d.group >= VG_MAX_GROUPS)
		return VG_DROP_MALFORMED;
	if (VG_MSG_IS_PUSH(d.type) &&
	    vg_push_body_check(d.type, d.body, body_len[d.type]) == -1)
		return VG_DROP_MALFORMED;
	*m = d;
	return VG_DROP_NONE;
}

int
vg_msg_group_view(const struct vg_msg *m, size_t g, struct vg_msg *out)
{
	const struct vg_msg_group *s;

	if (m->type != VG_MSG_HEARTBEAT) {
		if (m->group != g)
			return -1;
		*out = *m;
		return 0;
	}
	if (g >= (m->n_groups == 0 ? 1 : m->n_groups))
		return -1;
	*out = *m;
	out->group = (uint8_t)g;
	if (g == 0)
		return 0;
	s = &m->grp[g - 1];
	out->state = s->state;
	out->priority = s->priority;
	out->flags = (uint16_t)((m->flags & ~(VG_FLAG_LAPSED | VG_FLAG_HOLDING)) |
	    (s->flags & (VG_FLAG_LAPSED | VG_FLAG_HOLDING)));
	out->active = s->active;
	out->term = s->term;
	out->echo_seq = s->echo_seq;
	return 0;
}

/* The offsets of proto.h's diagram. */
#define OFF_VERSION	4
#define OFF_TYPE	5
#define OFF_FLAGS	6
#define OFF_TARGET	14
#define OFF_STATE	16
#define OFF_ACTIVE	52

/* The last version of the layout the program reads (3's; 4 changed a
 * TRANSFER's flag only): a new version must be looked at before it goes
 * to the second socket. */
#define LAZY_VERSION_LAST	4
_Static_assert(VG_VERSION == LAZY_VERSION_LAST,
    "vg_proto_lazy_prog: does the new version keep version 3's layout?");

/* A jump from instruction `at` to instruction `to` (cBPF counts the ones
 * skipped after the jump). */
#define SKIP(at, to)	((uint8_t)((to) - (at) - 1))
#define TO_0		17		/* the program's "ret 0" */

size_t
vg_proto_lazy_prog(struct sock_filter *f, size_t max)
{
	const struct sock_filter prog[VG_PROTO_LAZY_PROG_LEN] = {
		/* 0: the datagram's length: a heartbeat of one group */
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)vg_proto_len_hb(VG_VERSION_GROUPS, 1), 0,
		    SKIP(1, TO_0)),
		/* 2: version 3 or 4, whose layout this is */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, OFF_VERSION),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, VG_VERSION_GROUPS, 0,
		    SKIP(3, TO_0)),
		BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, LAZY_VERSION_LAST,
		    SKIP(4, TO_0), 0),
		/* 5: a heartbeat */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, OFF_TYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VG_MSG_HEARTBEAT, 0,
		    SKIP(6, TO_0)),
		/* 7: from a standby */
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, OFF_STATE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VG_ST_STANDBY, 0,
		    SKIP(8, TO_0)),
		/* 9: no flag (LAPSED, HOLDING, REPLY, or one not known yet) */
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, OFF_FLAGS),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0xffff, SKIP(10, TO_0),
		    0),
		/* 11: that names an active */
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, OFF_ACTIVE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, SKIP(12, TO_0), 0),
		/* 13: and is not for it */
		BPF_STMT(BPF_MISC | BPF_TAX, 0),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, OFF_TARGET),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, SKIP(15, TO_0), 0),
		/* 16 */
		BPF_STMT(BPF_RET | BPF_K, 1),
		/* 17 */
		BPF_STMT(BPF_RET | BPF_K, 0),
	};

	if (max < VG_PROTO_LAZY_PROG_LEN)
		return 0;
	memcpy(f, prog, sizeof(prog));
	return VG_PROTO_LAZY_PROG_LEN;
}
