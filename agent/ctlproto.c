/*
 * ctlproto: the command table and the request parser; pure (json-c only).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

const struct vg_ctl_cmd_info vg_ctl_cmds[VG_CTL_CMD_MAX] = {
	[VG_CTL_STATUS] = { "status", VG_ROLE_VIEWER },
	[VG_CTL_EVENTS] = { "events", VG_ROLE_VIEWER },
	[VG_CTL_METRICS] = { "metrics", VG_ROLE_VIEWER },
	[VG_CTL_FAILOVER] = { "failover", VG_ROLE_OPERATOR },
	[VG_CTL_MAINTENANCE] = { "maintenance", VG_ROLE_OPERATOR },
	[VG_CTL_RELOAD] = { "reload", VG_ROLE_ADMIN },
	/* operator, not viewer: the agent parses the text as root and checks
	 * the paths it names (their owner and mode show in the errors) */
	[VG_CTL_CONFIG_DIFF] = { "config_diff", VG_ROLE_OPERATOR },
	[VG_CTL_CONFIG_PUSH] = { "config_push", VG_ROLE_ADMIN },
	[VG_CTL_KEY_ROTATE] = { "key_rotate", VG_ROLE_ADMIN },
};

const char *
vg_ctl_role_name(enum vg_ctl_role r)
{
	switch (r) {
	case VG_ROLE_VIEWER:	return "viewer";
	case VG_ROLE_OPERATOR:	return "operator";
	case VG_ROLE_ADMIN:	return "admin";
	}
	return "invalid";
}

/* A JSON string without an escaped NUL in it (it would cut it short). */
static int
plain_string(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	    (size_t)json_object_get_string_len(v) ==
	    strlen(json_object_get_string(v));
}

/* A name (a node's, a group's) into buf: a plain string that fits.  0, or
 * -1 (buf untouched). */
static int
name_into(json_object *v, char *buf, size_t len)
{
	if (!plain_string(v) || strlen(json_object_get_string(v)) >= len)
		return -1;
	snprintf(buf, len, "%s", json_object_get_string(v));
	return 0;
}

void
vg_ctl_request_clear(struct vg_ctl_request *req)
{
	free(req->text);
	req->text = NULL;
	req->text_len = 0;
}

/* The commands that carry a file's text */
#define HAS_TEXT(c)	((c) == VG_CTL_CONFIG_DIFF || (c) == VG_CTL_CONFIG_PUSH)

/* The arguments each command takes; anything else is an error. */
static int
parse_args(json_object *obj, struct vg_ctl_request *req, char *err,
    size_t errlen)
{
	json_object_object_foreach(obj, k, v) {
		if (strcmp(k, "cmd") == 0)
			continue;
		if (HAS_TEXT(req->cmd) && strcmp(k, "text") == 0 &&
		    plain_string(v) && req->text == NULL) {
			req->text_len = (size_t)json_object_get_string_len(v);
			if ((req->text = malloc(req->text_len + 1)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			memcpy(req->text, json_object_get_string(v),
			    req->text_len + 1);
			continue;
		}
		if (HAS_TEXT(req->cmd) && strcmp(k, "name") == 0 &&
		    plain_string(v) &&
		    strlen(json_object_get_string(v)) < sizeof(req->name)) {
			snprintf(req->name, sizeof(req->name), "%s",
			    json_object_get_string(v));
			continue;
		}
		if (req->cmd == VG_CTL_KEY_ROTATE && strcmp(k, "file") == 0 &&
		    plain_string(v) && json_object_get_string(v)[0] == '/' &&
		    strlen(json_object_get_string(v)) < sizeof(req->name)) {
			snprintf(req->name, sizeof(req->name), "%s",
			    json_object_get_string(v));
			continue;
		}
		if (req->cmd == VG_CTL_CONFIG_PUSH &&
		    strcmp(k, "allow_down") == 0 &&
		    json_object_is_type(v, json_type_boolean)) {
			req->allow_down = json_object_get_boolean(v);
			continue;
		}
		if (req->cmd == VG_CTL_EVENTS && strcmp(k, "follow") == 0 &&
		    json_object_is_type(v, json_type_boolean))
			req->follow = json_object_get_boolean(v);
		else if (req->cmd == VG_CTL_MAINTENANCE && strcmp(k, "on") == 0 &&
		    json_object_is_type(v, json_type_boolean))
			req->on = json_object_get_boolean(v) ? 1 : 0;
		else if (req->cmd == VG_CTL_FAILOVER && strcmp(k, "to") == 0 &&
		    name_into(v, req->to, sizeof(req->to)) == 0)
			;
		else if (req->cmd == VG_CTL_FAILOVER &&
		    strcmp(k, "group") == 0 &&
		    name_into(v, req->group, sizeof(req->group)) == 0)
			;
		else {
			snprintf(err, errlen, "%s: unknown or invalid argument "
			    "\"%.64s\"", vg_ctl_cmds[req->cmd].name, k);
			return -1;
		}
	}
	if (req->cmd == VG_CTL_MAINTENANCE &&
	    !json_object_object_get_ex(obj, "on", NULL)) {
		snprintf(err, errlen, "maintenance needs \"on\": true or false");
		return -1;
	}
	if (req->cmd == VG_CTL_KEY_ROTATE && req->name[0] == '\0') {
		snprintf(err, errlen, "key_rotate needs \"file\": the new "
		    "key's absolute path");
		return -1;
	}
	if (HAS_TEXT(req->cmd) && req->text == NULL) {
		snprintf(err, errlen, "%s needs \"text\": the file",
		    vg_ctl_cmds[req->cmd].name);
		return -1;
	}
	return 0;
}

int
vg_ctl_parse_request(const char *line, size_t len, struct vg_ctl_request *req,
    char *err, size_t errlen)
{
	struct json_tokener *tok;
	json_object *obj, *cmd;
	const char *name;
	size_t i;
	int rc = -1;

	if (len > VG_CTL_MAX_LINE) {
		snprintf(err, errlen, "request longer than %d bytes",
		    VG_CTL_MAX_LINE);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		snprintf(err, errlen, "request holds a NUL byte");
		return -1;
	}
	if ((tok = json_tokener_new_ex(16)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* strict JSON: no single quotes, comments or trailing commas */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, line, (int)len);
	if (obj == NULL) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		snprintf(err, errlen, "invalid JSON: %s",
		    e == json_tokener_continue ? "incomplete object" :
		    json_tokener_error_desc(e));
		goto out;
	}
	/* trailing bytes after the object, but for white space, are invalid too */
	for (i = json_tokener_get_parse_end(tok); i < len; i++) {
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
			snprintf(err, errlen, "invalid JSON: trailing data");
			goto out;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "a request is a JSON object");
		goto out;
	}
	if (!json_object_object_get_ex(obj, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		snprintf(err, errlen, "a request needs \"cmd\": a string");
		goto out;
	}
	name = json_object_get_string(cmd);
	memset(req, 0, sizeof(*req));
	for (i = 0; i < VG_CTL_CMD_MAX; i++)
		if (strcmp(name, vg_ctl_cmds[i].name) == 0)
			break;
	if (i == VG_CTL_CMD_MAX) {
		snprintf(err, errlen, "unknown command \"%.64s\"", name);
		goto out;
	}
	req->cmd = (enum vg_ctl_cmd)i;
	if ((rc = parse_args(obj, req, err, errlen)) == -1)
		vg_ctl_request_clear(req);
out:
	json_object_put(obj);
	json_tokener_free(tok);
	return rc;
}
