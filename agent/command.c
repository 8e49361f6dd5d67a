/*
 * command: the ctl commands, decided here, carried out by the shell.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "command.h"
#include "metrics.h"
#include "stage.h"
#include "statedir.h"

static json_object *
message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_object *
message(const char *fmt, ...)
{
	json_object *r = json_object_new_object();
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "message", json_object_new_string(buf));
	return r;
}

static json_object *
failure(const char *err)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(0));
	json_object_object_add(r, "error", json_object_new_string(err));
	return r;
}

/* Every command that changes something, with who asked and how it went. */
static void
audit(struct vg_agent *a, const struct vg_ctl_caller *who, const char *cmd,
    const char *outcome)
{
	log_info("ctl: uid %u pid %d (%s): %s: %s", (unsigned)who->uid,
	    (int)who->pid, vg_ctl_role_name(who->role), cmd, outcome);
	vg_agent_event(a, VG_EV_CTL, "uid %u pid %d: %s: %s",
	    (unsigned)who->uid, (int)who->pid, cmd, outcome);
}

/* The audit says "failover: ..." itself: not "failover: failover ...". */
static json_object *
refuse(struct vg_agent *a, struct vg_ctl_caller *caller, char *err)
{
	const char *s = err;

	if (strncmp(s, "failover", 8) == 0) {
		s += 8;
		s += *s == ':';
		s += strspn(s, " ");
	}
	audit(a, caller, "failover", s);
	return NULL;
}

/* The active hands over; a follower asks the active to.  Answered when a
 * new active is seen (vg_cmd_pending). */
static json_object *
failover(struct vg_agent *a, const struct vg_ctl_request *req,
    struct vg_ctl_caller *caller, vg_ns now, struct vg_acts *acts,
    char *err, size_t errlen)
{
	const struct vg_conf_node *t = NULL;
	struct vg_election *el;
	enum vg_handover_err e;
	uint16_t to = 0, target = 0, from;
	uint64_t term;
	size_t g = 0;

	if (req->group[0] != '\0') {
		for (g = 0; g < a->n_groups; g++)
			if (strcmp(a->conf->groups[g].name, req->group) == 0)
				break;
		if (g == a->n_groups) {
			snprintf(err, errlen, "failover: no group \"%s\"",
			    req->group);
			return refuse(a, caller, err);
		}
	}
	el = &a->el[g];
	from = el->active_id;
	/* before the hand-over: it votes for its successor in term + 1 */
	term = el->term;
	if (req->to[0] != '\0') {
		if ((t = vg_conf_node_by_name(a->conf, req->to)) == NULL) {
			snprintf(err, errlen, "failover: no node \"%s\"",
			    req->to);
			return refuse(a, caller, err);
		}
		to = t->id;
	}
	if (a->pending.on) {
		snprintf(err, errlen, "failover: one is already under way");
		return NULL;
	}
	if (el->state == VG_ST_ACTIVE) {
		e = vg_el_handover_check(el, to, now, &target);
		if (e == VG_HO_OK) {
			from = a->self->id;
			to = target;
			(void)vg_el_handover(el, target, now, acts);
		}
	} else
		e = vg_el_request_handover(el, to, now, acts);
	if (e != VG_HO_OK) {
		snprintf(err, errlen, "failover refused: %s",
		    vg_handover_err_text(e));
		return refuse(a, caller, err);
	}
	a->pending.on = 1;
	a->pending.from = from;
	a->pending.to = to;
	a->pending.client = caller->client;
	a->pending.group = g;
	a->pending.term = term;
	a->pending.started = now;
	a->pending.deadline = now + 2 * a->conf->dead_time + VG_MS(1000);
	caller->defer = 1;
	audit(a, caller, "failover", t ? t->name : "to the best other node");
	return NULL;
}

json_object *
vg_cmd_pending(struct vg_agent *a, vg_ns now, uint64_t *client)
{
	const struct vg_conf_node *n;
	const struct vg_election *el = &a->el[a->pending.group];
	json_object *r;
	uint16_t act = el->active_id;

	if (!a->pending.on)
		return NULL;
	if (act != 0 && act != a->pending.from && el->term > a->pending.term &&
	    (a->pending.to == 0 || act == a->pending.to)) {
		n = vg_conf_node_by_id(a->conf, act);
		r = message("%s is active (term %llu), %.1f ms after the "
		    "hand-over began", n ? n->name : "?",
		    (unsigned long long)el->term,
		    (double)(now - a->pending.started) / VG_NS_PER_MS);
	} else if (now >= a->pending.deadline)
		r = failure("the hand-over did not complete in time; see "
		    "vigilctl status and events");
	else
		return NULL;
	a->pending.on = 0;
	*client = a->pending.client;
	return r;
}

/* Durable first: a restart must find the node still drained. */
static json_object *
maintenance(struct vg_agent *a, const struct vg_ctl_request *req,
    struct vg_ctl_caller *caller, vg_ns now, struct vg_acts *acts,
    char *err, size_t errlen)
{
	const char *what = req->on ? "maintenance on" : "maintenance off";
	char late[256] = "";
	int was_active = 0;
	size_t g;

	if (req->on ? vg_statedir_write(a->conf->state_dir, "maintenance",
	    "on\n", 3, err, errlen) : vg_statedir_remove(a->conf->state_dir,
	    "maintenance", err, errlen)) {
		/* the rename or unlink done, its directory's fsync failed: a
		 * restart finds the file as asked, so the node does as it
		 * says (answered failed, it went on as before until a
		 * restart drained it, or undrained it, unasked) */
		if (vg_statedir_exists(a->conf->state_dir, "maintenance") !=
		    (req->on != 0)) {
			audit(a, caller, what, err);
			return NULL;
		}
		snprintf(late, sizeof(late), " (not durable: %s; a power loss "
		    "may undo it)", err);
	}
	/* every group this node holds is handed over, each its own
	 * hand-over, in one list */
	for (g = 0; g < a->n_groups; g++) {
		was_active |= a->el[g].state == VG_ST_ACTIVE;
		vg_el_set_maintenance(&a->el[g], req->on, now, acts);
	}
	audit(a, caller, what, late[0] ? late + 1 : "done");
	return message("maintenance %s%s%s", req->on ? "on" : "off",
	    req->on && was_active ? ": the VIPs were handed over" : "", late);
}

/* The config's errors as the reply's "errors" array (none: nothing). */
static void
add_errors(json_object *r, const struct vg_errs *errs)
{
	json_object *l;
	size_t i;

	if (errs->n == 0)
		return;
	l = json_object_new_array();
	for (i = 0; i < errs->n; i++)
		json_object_array_add(l, json_object_new_string(errs->msg[i]));
	json_object_object_add(r, "errors", l);
}

static json_object *
hex32(uint32_t v)
{
	char b[16];

	snprintf(b, sizeof(b), "%08x", v);
	return json_object_new_string(b);
}

static const char *const kind_says[] = {
	[VG_CHANGE_NONE] = "no setting changes",
	[VG_CHANGE_LIVE] = "live: a reload applies it, and the VIPs that stay "
	    "do not move",
	[VG_CHANGE_SAFETY] = "safety-relevant: every node must change "
	    "together: config push (through the joint configuration), not a "
	    "reload",
	[VG_CHANGE_RESTART] = "this node must restart to apply it",
};

/*
 * What the text would change over the running configuration, checked as
 * `vigild -t` checks a file for this node (its own name; the paths it names
 * trusted; the file itself is the ctl's, checked when installed).  Read
 * only: nothing is changed, nothing audited.
 */
static json_object *
config_diff(struct vg_agent *a, const struct vg_ctl_request *req, char *err,
    size_t errlen)
{
	const char *name = req->name[0] != '\0' ? req->name : "(config diff)";
	struct vg_conf_diff *d;
	struct vg_conf *next;
	struct vg_errs errs;
	json_object *r, *l, *o;
	char refusal[512];
	size_t i;

	vg_errs_init(&errs);
	next = vg_conf_parse(req->text, name, a->self->name, &errs);
	if (next != NULL && vg_conf_trust(next, 0, &errs) == -1) {
		vg_conf_free(next);
		next = NULL;
	}
	if (next == NULL) {
		snprintf(refusal, sizeof(refusal), "%.160s is not a valid "
		    "configuration for %s%s", name, a->self->name,
		    errs.dropped ? " (more errors than shown)" : "");
		r = failure(refusal);
		add_errors(r, &errs);
		return r;
	}
	if ((d = malloc(sizeof(*d))) == NULL) {
		vg_conf_free(next);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	vg_conf_diff(a->conf, next, d);
	r = json_object_new_object();
	json_object_object_add(r, "file", json_object_new_string(name));
	json_object_object_add(r, "kind", json_object_new_string(
	    vg_change_kind_name(d->kind)));
	json_object_object_add(r, "says", json_object_new_string(
	    kind_says[d->kind]));
	o = json_object_new_object();
	json_object_object_add(o, "running", json_object_new_int64(
	    a->conf->epoch));
	json_object_object_add(o, "file", json_object_new_int64(next->epoch));
	json_object_object_add(r, "epoch", o);
	o = json_object_new_object();
	json_object_object_add(o, "running", hex32(a->conf->digest));
	json_object_object_add(o, "file", hex32(next->digest));
	json_object_object_add(r, "digest", o);
	o = json_object_new_object();
	json_object_object_add(o, "running", hex32(a->conf->file_digest));
	json_object_object_add(o, "file", hex32(next->file_digest));
	json_object_object_add(r, "file_digest", o);
	/* what a reload of it here would answer: the same function */
	json_object_object_add(r, "reload", vg_conf_reload_refusal(a->conf,
	    next, refusal, sizeof(refusal)) == 0 ? NULL :
	    json_object_new_string(refusal));
	l = json_object_new_array();
	for (i = 0; i < d->n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "what",
		    json_object_new_string(d->ch[i].what));
		json_object_object_add(o, "from", d->ch[i].from[0] ?
		    json_object_new_string(d->ch[i].from) : NULL);
		json_object_object_add(o, "to", d->ch[i].to[0] ?
		    json_object_new_string(d->ch[i].to) : NULL);
		json_object_object_add(o, "kind", json_object_new_string(
		    vg_change_kind_name(d->ch[i].kind)));
		json_object_array_add(l, o);
	}
	json_object_object_add(r, "changes", l);
	json_object_object_add(r, "dropped", json_object_new_int64(
	    (int64_t)d->dropped));
	/* a push moves the election only where the active cannot stay
	 * active: C' leaves it out, or makes it a witness */
	{
		int any = 0;
		size_t g;

		for (g = 0; g < a->n_groups; g++) {
			uint16_t id = a->el[g].active_id;
			const struct vg_conf_node *act = id == 0 ? NULL :
			    vg_conf_node_by_id(next, id);

			any |= id == 0 || act == NULL ||
			    act->role != VG_ROLE_NODE;
		}
		json_object_object_add(r, "new_election",
		    json_object_new_boolean(any));
	}
	free(d);
	vg_conf_free(next);
	return r;
}

json_object *
vg_cmd_reloaded(struct vg_agent *a, const struct vg_ctl_caller *caller,
    const struct vg_errs *errs, const char *err)
{
	json_object *r;

	if (errs == NULL) {
		audit(a, caller, "reload", "applied");
		return message("%s reloaded (digest %08x)", a->conf->path,
		    a->conf->digest);	/* the safety digest cannot change */
	}
	audit(a, caller, "reload", err);
	r = failure(err);
	add_errors(r, errs);
	return r;
}

json_object *
vg_cmd_run(struct vg_agent *a, const struct vg_ctl_request *req,
    struct vg_ctl_caller *caller, vg_ns now, struct vg_cmd_out *out,
    char *err, size_t errlen)
{
	json_object *r;
	char *text;

	memset(out, 0, sizeof(*out));
	if (caller->denied != NULL) {
		audit(a, caller, vg_ctl_cmds[req->cmd].name, caller->denied);
		return NULL;
	}
	switch (req->cmd) {
	case VG_CTL_STATUS:
		return vg_status_json(a, now);
	case VG_CTL_EVENTS:
		caller->subscribe = req->follow;
		return vg_events_json(a, now);
	case VG_CTL_METRICS:
		if ((text = vg_metrics_text(a, now)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		r = json_object_new_object();
		json_object_object_add(r, "text", json_object_new_string(text));
		free(text);
		return r;
	case VG_CTL_FAILOVER:
		return failover(a, req, caller, now, &out->acts, err, errlen);
	case VG_CTL_MAINTENANCE:
		return maintenance(a, req, caller, now, &out->acts, err, errlen);
	case VG_CTL_RELOAD:
		out->reload = 1;
		return NULL;
	case VG_CTL_CONFIG_DIFF:
		return config_diff(a, req, err, errlen);
	case VG_CTL_CONFIG_PUSH:
		r = vg_stage_push_cmd(a, req->text, req->text_len,
		    req->name[0] != '\0' ? req->name : "(config push)",
		    req->allow_down, caller, now, err, errlen);
		if (r == NULL && !caller->defer)
			audit(a, caller, "config push", err);
		return r;
	case VG_CTL_KEY_ROTATE:
		r = vg_stage_key_rotate_cmd(a, req->name, caller, now, err,
		    errlen);
		if (r == NULL && !caller->defer)
			audit(a, caller, "key rotate", err);
		return r;
	default:
		snprintf(err, errlen, "unknown command");
		return NULL;
	}
}
