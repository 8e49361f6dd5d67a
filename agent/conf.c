/*
 * conf: libconfig text -> validated struct vg_conf.  Each setting is read
 * with its type and range checked where it stands; the cross-field rules
 * (unique ids, names and addresses, the lease bound, the quorum, eligibility)
 * run once everything is read.  Every error is collected with its line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <sodium.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "trust.h"

struct parse {
	const char		*file;
	struct vg_errs		*errs;
	struct vg_conf		*conf;
};

void
vg_errs_init(struct vg_errs *e)
{
	e->n = 0;
	e->dropped = 0;
}

void
vg_errs_add(struct vg_errs *e, const char *file, int line, const char *fmt, ...)
{
	char *out;
	va_list ap;
	size_t i;
	int n;

	if (e->n >= VG_ERRS_MAX) {
		e->dropped++;
		return;
	}
	/* Keep the list in line order (stable), as a reader goes through a file. */
	for (i = e->n; i > 0 && e->line[i - 1] > line; i--) {
		memcpy(e->msg[i], e->msg[i - 1], VG_ERR_LEN);
		e->line[i] = e->line[i - 1];
	}
	e->line[i] = line;
	e->n++;
	out = e->msg[i];
	if (line > 0)
		n = snprintf(out, VG_ERR_LEN, "%s:%d: ", file, line);
	else
		n = snprintf(out, VG_ERR_LEN, "%s: ", file);
	if (n < 0 || n >= VG_ERR_LEN)
		return;
	va_start(ap, fmt);
	vsnprintf(out + n, VG_ERR_LEN - (size_t)n, fmt, ap);
	va_end(ap);
}

#define ERR(p, line, ...) vg_errs_add((p)->errs, (p)->file, (line), __VA_ARGS__)

static void	list_add(char *, size_t, size_t *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static int
line_of(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

const char *
vg_role_name(enum vg_role r)
{
	return r == VG_ROLE_WITNESS ? "witness" : "node";
}

vg_ns
vg_conf_lease(vg_ns interval, vg_ns dead_time, double rho)
{
	double l = (double)dead_time * (1.0 - rho) / (1.0 + rho) -
	    (double)interval / 4.0;

	return (vg_ns)floor(l);
}

void
vg_conf_file_digest(const char *text, size_t len,
    uint8_t sha256[VG_CONF_SHA256_LEN], uint32_t *digest)
{
	crypto_hash_sha256(sha256, (const unsigned char *)text, len);
	*digest = (uint32_t)sha256[0] << 24 | (uint32_t)sha256[1] << 16 |
	    (uint32_t)sha256[2] << 8 | sha256[3];
}

vg_ns
vg_conf_vip_outlives(const struct vg_conf *c)
{
	return (vg_ns)c->vip_lifetime * 1000000000LL + VG_VIP_EXPIRY_SLACK;
}

vg_ns
vg_conf_batch(size_t n, int add)
{
	return VG_VIP_BATCH_NS + (vg_ns)n * (add ? VG_VIP_ADD_NS : VG_VIP_DEL_NS);
}

const struct vg_conf_node *
vg_conf_node_by_id(const struct vg_conf *c, uint16_t id)
{
	size_t i;

	for (i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id == id)
			return &c->nodes[i];
	return NULL;
}

const struct vg_conf_node *
vg_conf_node_by_name(const struct vg_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].name, name) == 0)
			return &c->nodes[i];
	return NULL;
}

/* ---- typed getters: NULL/absent leaves the default, errors are collected */

static const char *
type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP:		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:		return "an integer";
	case CONFIG_TYPE_FLOAT:		return "a number";
	case CONFIG_TYPE_STRING:	return "a string";
	case CONFIG_TYPE_BOOL:		return "a boolean";
	case CONFIG_TYPE_ARRAY:		return "an array";
	case CONFIG_TYPE_LIST:		return "a list";
	default:			return "something else";
	}
}

/* Returns 1 if present and valid, 0 if absent, -1 on error. */
static int
get_int(struct parse *p, const config_setting_t *grp, const char *name,
    long long min, long long max, long long *out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	long long v;
	int t;

	if (s == NULL)
		return 0;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (t == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		ERR(p, line_of(s), "%s must be an integer, not %s", name,
		    type_name(t));
		return -1;
	}
	if (v < min || v > max) {
		ERR(p, line_of(s), "%s = %lld is out of range (%lld..%lld)",
		    name, v, min, max);
		return -1;
	}
	*out = v;
	return 1;
}

static int
get_float(struct parse *p, const config_setting_t *grp, const char *name,
    double min, double max, double *out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	double v;
	int t;

	if (s == NULL)
		return 0;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_FLOAT)
		v = config_setting_get_float(s);
	else if (t == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else {
		ERR(p, line_of(s), "%s must be a number, not %s", name,
		    type_name(t));
		return -1;
	}
	if (!(v >= min && v <= max)) {
		ERR(p, line_of(s), "%s = %g is out of range (%g..%g)", name, v,
		    min, max);
		return -1;
	}
	*out = v;
	return 1;
}

static int
get_bool(struct parse *p, const config_setting_t *grp, const char *name,
    int *out)
{
	const config_setting_t *s = config_setting_get_member(grp, name);

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		ERR(p, line_of(s), "%s must be true or false, not %s", name,
		    type_name(config_setting_type(s)));
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 1;
}

static int
get_str(struct parse *p, const config_setting_t *grp, const char *name,
    char *out, size_t outlen)
{
	const config_setting_t *s = config_setting_get_member(grp, name);
	const char *v;
	int t;

	if (s == NULL)
		return 0;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_STRING) {
		ERR(p, line_of(s), "%s must be a string, not %s", name,
		    type_name(t));
		return -1;
	}
	v = config_setting_get_string(s);
	if (strlen(v) >= outlen) {
		ERR(p, line_of(s), "%s is too long (at most %zu characters)",
		    name, outlen - 1);
		return -1;
	}
	memcpy(out, v, strlen(v) + 1);
	return 1;
}

static int
get_path(struct parse *p, const config_setting_t *grp, const char *name,
    char *out, size_t outlen)
{
	int r = get_str(p, grp, name, out, outlen);

	if (r == 1 && out[0] != '/') {
		ERR(p, line_of(config_setting_get_member(grp, name)),
		    "%s must be an absolute path, not \"%s\"", name, out);
		return -1;
	}
	return r;
}

/* Picks one of `choices` (NULL-terminated); the index goes to *out. */
static int
get_enum(struct parse *p, const config_setting_t *grp, const char *name,
    const char *const *choices, int *out)
{
	char v[64];
	int r, i;

	r = get_str(p, grp, name, v, sizeof(v));
	if (r != 1)
		return r;
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	ERR(p, line_of(config_setting_get_member(grp, name)),
	    "%s = \"%s\" is not one of the accepted values", name, v);
	return -1;
}

/* Every member of a group must be known: typos are errors, not no-ops. */
static void
check_members(struct parse *p, const config_setting_t *grp, const char *where,
    const char *const *known)
{
	int i, n = config_setting_length(grp);

	for (i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *nm = config_setting_name(s);
		int k, found = 0;

		if (nm == NULL)
			continue;
		for (k = 0; known[k] != NULL; k++)
			if (strcmp(nm, known[k]) == 0)
				found = 1;
		if (!found)
			ERR(p, line_of(s), "unknown setting '%s'%s%s", nm,
			    where ? " in " : "", where ? where : "");
	}
}

static const config_setting_t *
get_group(struct parse *p, const config_setting_t *parent, const char *name,
    int type)
{
	const config_setting_t *s = config_setting_get_member(parent, name);

	if (s == NULL)
		return NULL;
	if (config_setting_type(s) != type &&
	    !(type == CONFIG_TYPE_LIST && config_setting_type(s) == CONFIG_TYPE_ARRAY &&
	    config_setting_length(s) == 0)) {
		ERR(p, line_of(s), "%s must be %s, not %s", name, type_name(type),
		    type_name(config_setting_type(s)));
		return NULL;
	}
	return s;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' &&
		    *s != '.')
			return 0;
	return 1;
}

static uint32_t
fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

#define FNV_INIT 2166136261u

int
vg_conf_parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = s;
	size_t hl;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		if ((colon = strstr(s, "]:")) == NULL)
			return -1;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno || port < 1 ||
	    port > 65535)
		return -1;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -1;
}

/* ---- sections */

/*
 * Why an address cannot serve, or NULL: never the unspecified address or
 * a multicast one; for a VIP (vip = 1) not a loopback address either (the
 * start-up sweep would remove 127.0.0.1 from lo), for a node not an IPv6
 * link-local one (a node's address carries no scope).
 */
static const char *
addr_unusable(int family, const void *a, int vip)
{
	const uint8_t *b = a;
	static const uint8_t zero[16];

	if (family == AF_INET) {
		if (memcmp(b, zero, 4) == 0)
			return "the unspecified address";
		if (b[0] >= 224 && b[0] <= 239)
			return "a multicast address";
		if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255)
			return "the broadcast address";
		if (vip && b[0] == 127)
			return "a loopback address";
		return NULL;
	}
	if (memcmp(b, zero, 16) == 0)
		return "the unspecified address";
	if (b[0] == 0xff)
		return "a multicast address";
	if (vip && memcmp(b, zero, 15) == 0 && b[15] == 1)
		return "the loopback address";
	if (!vip && b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local (a node's address has no scope)";
	return NULL;
}

static void
parse_node(struct parse *p, const config_setting_t *s, struct vg_conf_node *n)
{
	static const char *const known[] = { "id", "name", "address", "port",
	    "priority", "votes", "role", NULL };
	static const char *const roles[] = { "node", "witness", NULL };
	long long v;
	int role = VG_ROLE_NODE;
	struct sockaddr_in *sin = (struct sockaddr_in *)&n->sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&n->sa;

	memset(n, 0, sizeof(*n));
	n->line = line_of(s);
	n->priority = 100;
	n->votes = 1;
	n->port = p->conf->port;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		ERR(p, n->line, "each entry of nodes must be a group { ... }");
		return;
	}
	check_members(p, s, "a node", known);
	if (get_int(p, s, "id", 1, 65535, &v) == 1)
		n->id = (uint16_t)v;
	else if (config_setting_get_member(s, "id") == NULL)
		ERR(p, n->line, "node has no id");
	if (get_str(p, s, "name", n->name, sizeof(n->name)) == 1) {
		if (!valid_name(n->name))
			ERR(p, line_of(config_setting_get_member(s, "name")),
			    "node name \"%s\" may hold only letters, digits, "
			    "'-', '_' and '.'", n->name);
	} else if (config_setting_get_member(s, "name") == NULL)
		ERR(p, n->line, "node has no name");
	if (get_str(p, s, "address", n->address, sizeof(n->address)) == 1) {
		/* written back canonical (as the VIPs are): two spellings of
		 * one address must not make two safety digests */
		if (inet_pton(AF_INET, n->address, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			n->salen = sizeof(*sin);
			inet_ntop(AF_INET, &sin->sin_addr, n->address,
			    sizeof(n->address));
		} else if (inet_pton(AF_INET6, n->address, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			n->salen = sizeof(*sin6);
			inet_ntop(AF_INET6, &sin6->sin6_addr, n->address,
			    sizeof(n->address));
		} else
			ERR(p, line_of(config_setting_get_member(s, "address")),
			    "address \"%s\" is not an IPv4 or IPv6 address",
			    n->address);
		if (n->salen != 0 && addr_unusable(sin->sin_family,
		    sin->sin_family == AF_INET ? (const void *)&sin->sin_addr :
		    (const void *)&sin6->sin6_addr, 0) != NULL)
			ERR(p, line_of(config_setting_get_member(s, "address")),
			    "node address \"%s\" is %s: peers cannot send to it",
			    n->address, addr_unusable(sin->sin_family,
			    sin->sin_family == AF_INET ?
			    (const void *)&sin->sin_addr :
			    (const void *)&sin6->sin6_addr, 0));
	} else if (config_setting_get_member(s, "address") == NULL)
		ERR(p, n->line, "node has no address");
	if (get_int(p, s, "port", 1, 65535, &v) == 1)
		n->port = (uint16_t)v;
	if (get_int(p, s, "priority", 1, 255, &v) == 1)
		n->priority = (uint8_t)v;
	if (get_int(p, s, "votes", 0, 255, &v) == 1)
		n->votes = (uint8_t)v;
	if (get_enum(p, s, "role", roles, &role) == 1)
		n->role = (enum vg_role)role;
	if (n->role == VG_ROLE_WITNESS && n->votes == 0)
		ERR(p, n->line, "witness \"%s\" has no votes: it would do nothing",
		    n->name);
	if (sin->sin_family == AF_INET)
		sin->sin_port = htons(n->port);
	else if (sin6->sin6_family == AF_INET6)
		sin6->sin6_port = htons(n->port);
}

static void
parse_vip(struct parse *p, const config_setting_t *s, struct vg_conf_vip *vip)
{
	static const char *const known[] = { "address", "interface", NULL };
	char text[64];
	char *slash;
	int line;

	memset(vip, 0, sizeof(*vip));
	vip->line = line = line_of(s);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		ERR(p, line, "each entry of vips must be a group { ... }");
		return;
	}
	check_members(p, s, "a vip", known);
	if (get_str(p, s, "address", text, sizeof(text)) == 1) {
		int max;
		char *end;
		long len;

		slash = strchr(text, '/');
		if (slash != NULL)
			*slash++ = '\0';
		if (inet_pton(AF_INET, text, vip->addr) == 1) {
			vip->family = AF_INET;
			max = 32;
		} else if (inet_pton(AF_INET6, text, vip->addr) == 1) {
			vip->family = AF_INET6;
			max = 128;
		} else {
			ERR(p, line, "vip address \"%s\" is not an IPv4 or IPv6 "
			    "address", text);
			goto iface;
		}
		len = max;
		if (slash != NULL) {
			errno = 0;
			len = strtol(slash, &end, 10);
			if (*slash == '\0' || *end != '\0' || errno != 0 ||
			    len < 1 || len > max) {
				ERR(p, line, "vip prefix length \"/%s\" is not in "
				    "1..%d", slash, max);
				vip->family = 0;
				goto iface;
			}
		}
		vip->prefixlen = (uint8_t)len;
		if (addr_unusable(vip->family, vip->addr, 1) != NULL) {
			ERR(p, line, "vip address \"%s\" is %s: it cannot be a "
			    "virtual IP", text, addr_unusable(vip->family,
			    vip->addr, 1));
			vip->family = 0;
			goto iface;
		}
		/* canonical, so that two spellings of one address are one VIP */
		inet_ntop(vip->family, vip->addr, text, sizeof(text));
		snprintf(vip->text, sizeof(vip->text), "%.46s/%ld", text, len);
	} else if (config_setting_get_member(s, "address") == NULL)
		ERR(p, line, "vip has no address");
iface:
	if (get_str(p, s, "interface", vip->ifname, sizeof(vip->ifname)) == 1) {
		if (!valid_name(vip->ifname))
			ERR(p, line, "interface name \"%s\" is not valid",
			    vip->ifname);
	} else if (config_setting_get_member(s, "interface") == NULL)
		ERR(p, line, "vip has no interface");
}

static void
parse_ctl(struct parse *p, const config_setting_t *root)
{
	static const char *const known[] = { "socket", "operator_group",
	    "admin_group", "viewers", NULL };
	const config_setting_t *g = get_group(p, root, "ctl", CONFIG_TYPE_GROUP);

	if (g == NULL)
		return;
	check_members(p, g, "ctl", known);
	get_path(p, g, "socket", p->conf->ctl.socket, sizeof(p->conf->ctl.socket));
	get_str(p, g, "operator_group", p->conf->ctl.operator_group,
	    sizeof(p->conf->ctl.operator_group));
	get_str(p, g, "admin_group", p->conf->ctl.admin_group,
	    sizeof(p->conf->ctl.admin_group));
	get_bool(p, g, "viewers", &p->conf->ctl.viewers);
}

static void
parse_metrics(struct parse *p, const config_setting_t *root)
{
	static const char *const known[] = { "listen", "textfile",
	    "textfile_interval", NULL };
	const config_setting_t *g = get_group(p, root, "metrics",
	    CONFIG_TYPE_GROUP);
	struct vg_conf *c = p->conf;
	struct sockaddr_storage ss;
	socklen_t sl;
	long long n;

	if (g == NULL)
		return;
	check_members(p, g, "metrics", known);
	if (get_str(p, g, "listen", c->metrics.listen,
	    sizeof(c->metrics.listen)) == 1 &&
	    vg_conf_parse_hostport(c->metrics.listen, &ss, &sl) == -1)
		ERR(p, line_of(config_setting_get_member(g, "listen")),
		    "metrics.listen \"%s\" is not address:port (literal "
		    "address, [v6]:port for IPv6)", c->metrics.listen);
	get_path(p, g, "textfile", c->metrics.textfile,
	    sizeof(c->metrics.textfile));
	if (get_int(p, g, "textfile_interval", 100, 3600000, &n) == 1)
		c->metrics.textfile_interval = VG_MS(n);
}

static void
parse_log(struct parse *p, const config_setting_t *root)
{
	static const char *const known[] = { "level", "format", "target", NULL };
	static const char *const levels[] = { "error", "warning", "info",
	    "debug", NULL };
	static const char *const formats[] = { "text", "json", NULL };
	static const char *const targets[] = { "auto", "stderr", "journal", NULL };
	const config_setting_t *g = get_group(p, root, "log", CONFIG_TYPE_GROUP);
	int v;

	if (g == NULL)
		return;
	check_members(p, g, "log", known);
	if (get_enum(p, g, "level", levels, &v) == 1)
		p->conf->log.level = (enum vg_log_level)v;
	if (get_enum(p, g, "format", formats, &v) == 1)
		p->conf->log.format = (enum vg_log_format)v;
	if (get_enum(p, g, "target", targets, &v) == 1)
		p->conf->log.target = (enum vg_log_target)v;
}

static void
parse_nodes(struct parse *p, const config_setting_t *root, int *nodes_line)
{
	const config_setting_t *l = get_group(p, root, "nodes", CONFIG_TYPE_LIST);
	struct vg_conf *c = p->conf;
	int i, n;

	if (l == NULL) {
		if (config_setting_get_member(root, "nodes") == NULL)
			ERR(p, 0, "no nodes list");
		return;
	}
	*nodes_line = line_of(l);
	n = config_setting_length(l);
	if (n > VG_MAX_NODES) {
		ERR(p, line_of(l), "%d nodes, at most %d are supported", n,
		    VG_MAX_NODES);
		n = VG_MAX_NODES;
	}
	for (i = 0; i < n; i++)
		parse_node(p, config_setting_get_elem(l, (unsigned)i),
		    &c->nodes[c->n_nodes++]);
}

static void
parse_vips(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *l = get_group(p, root, "vips", CONFIG_TYPE_LIST);
	struct vg_conf *c = p->conf;
	int i, n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	if (n > VG_MAX_VIPS) {
		ERR(p, line_of(l), "%d vips, at most %d are supported", n,
		    VG_MAX_VIPS);
		n = VG_MAX_VIPS;
	}
	if (n == 0)
		return;
	c->vips = calloc((size_t)n, sizeof(*c->vips));
	if (c->vips == NULL) {
		ERR(p, line_of(l), "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		parse_vip(p, config_setting_get_elem(l, (unsigned)i),
		    &c->vips[c->n_vips++]);
}

static void
parse_track(struct parse *p, const config_setting_t *s, struct vg_conf_track *t)
{
	static const char *const known[] = { "name", "command", "interval",
	    "timeout", "fall", "rise", "weight", NULL };
	long long v;

	memset(t, 0, sizeof(*t));
	t->line = line_of(s);
	t->interval = VG_MS(1000);
	t->timeout = VG_MS(1000);
	t->fall = t->rise = 1;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		ERR(p, t->line, "each entry of track must be a group { ... }");
		return;
	}
	check_members(p, s, "a track", known);
	if (get_str(p, s, "name", t->name, sizeof(t->name)) == 1) {
		if (!valid_name(t->name))
			ERR(p, t->line, "track name \"%s\" may hold only "
			    "letters, digits, '-', '_' and '.'", t->name);
	} else if (config_setting_get_member(s, "name") == NULL)
		ERR(p, t->line, "track has no name");
	if (get_str(p, s, "command", t->command, sizeof(t->command)) == 0)
		ERR(p, t->line, "track has no command");
	if (get_int(p, s, "interval", 10, 3600000, &v) == 1)
		t->interval = VG_MS(v);
	if (get_int(p, s, "timeout", 1, 3600000, &v) == 1)
		t->timeout = VG_MS(v);
	if (get_int(p, s, "fall", 1, 1000, &v) == 1)
		t->fall = (unsigned)v;
	if (get_int(p, s, "rise", 1, 1000, &v) == 1)
		t->rise = (unsigned)v;
	if (get_int(p, s, "weight", 0, 254, &v) == 1)
		t->weight = (uint8_t)v;
	if (t->timeout > t->interval)
		ERR(p, t->line, "track %s: timeout %lld ms is longer than its "
		    "interval %lld ms", t->name,
		    (long long)(t->timeout / VG_NS_PER_MS),
		    (long long)(t->interval / VG_NS_PER_MS));
}

static void
parse_tracks(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *l = get_group(p, root, "track", CONFIG_TYPE_LIST);
	struct vg_conf *c = p->conf;
	size_t i, j;
	int n;

	if (l == NULL)
		return;
	n = config_setting_length(l);
	if (n > VG_MAX_TRACKS) {
		ERR(p, line_of(l), "%d tracks, at most %d are supported", n,
		    VG_MAX_TRACKS);
		n = VG_MAX_TRACKS;
	}
	for (i = 0; i < (size_t)n; i++)
		parse_track(p, config_setting_get_elem(l, (unsigned)i),
		    &c->tracks[c->n_tracks++]);
	for (i = 0; i < c->n_tracks; i++)
		for (j = 0; j < i; j++)
			if (c->tracks[i].name[0] != '\0' &&
			    strcmp(c->tracks[i].name, c->tracks[j].name) == 0)
				ERR(p, c->tracks[i].line, "track name \"%s\" is "
				    "used twice (first at line %d)",
				    c->tracks[i].name, c->tracks[j].line);
}

static void
add_link(struct parse *p, const char *name, int line)
{
	struct vg_conf *c = p->conf;
	size_t i;

	for (i = 0; i < c->n_links; i++)
		if (strcmp(c->links[i], name) == 0)
			return;
	if (c->n_links == VG_MAX_LINKS) {
		ERR(p, line, "more than %d interfaces to follow", VG_MAX_LINKS);
		return;
	}
	snprintf(c->links[c->n_links++], IF_NAMESIZE, "%s", name);
}

/* The links followed: the VIPs' interfaces, then track_interfaces. */
static void
parse_links(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *l = config_setting_get_member(root,
	    "track_interfaces");
	struct vg_conf *c = p->conf;
	size_t i;
	int n;

	for (i = 0; i < c->n_vips; i++)
		if (c->vips[i].ifname[0] != '\0')
			add_link(p, c->vips[i].ifname, c->vips[i].line);
	if (l == NULL)
		return;
	if (config_setting_type(l) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(l) != CONFIG_TYPE_LIST) {
		ERR(p, line_of(l), "track_interfaces must be a list of names, "
		    "as [ \"eth0\", \"eth1\" ]");
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < (size_t)n; i++) {
		const config_setting_t *e = config_setting_get_elem(l,
		    (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    strlen(v = config_setting_get_string(e)) >= IF_NAMESIZE ||
		    !valid_name(v)) {
			ERR(p, line_of(e), "track_interfaces: each entry must be "
			    "an interface name");
			continue;
		}
		add_link(p, v, line_of(e));
	}
}

/* ---- VIP groups (docs/design.md, "VIP groups") */

/* [a-z0-9_-]{1,32}: what status, metrics labels and VIGIL_GROUP carry. */
static int
valid_group_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= VG_GROUP_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') &&
		    *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* A group's priorities: { node = 0..255; ... }, by node name. */
static void
parse_group_priorities(struct parse *p, const config_setting_t *gs,
    struct vg_conf_group *g)
{
	const config_setting_t *pr = get_group(p, gs, "priorities",
	    CONFIG_TYPE_GROUP);
	const struct vg_conf *c = p->conf;
	int i, n;

	if (pr == NULL)
		return;
	n = config_setting_length(pr);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(pr,
		    (unsigned)i);
		const char *nm = config_setting_name(e);
		const struct vg_conf_node *node;
		long long v;

		if (nm == NULL)
			continue;
		if ((node = vg_conf_node_by_name(c, nm)) == NULL) {
			ERR(p, line_of(e), "priorities of group \"%s\": no node "
			    "is named \"%s\"", g->name, nm);
			continue;
		}
		if (get_int(p, pr, nm, 0, 255, &v) == 1)
			g->priority[node - c->nodes] = (uint8_t)v;
	}
}

/* A group's tracks: names of top-level tracks; absent, every one counts. */
static void
parse_group_tracks(struct parse *p, const config_setting_t *gs,
    struct vg_conf_group *g)
{
	const config_setting_t *l = config_setting_get_member(gs, "tracks");
	const struct vg_conf *c = p->conf;
	size_t k;
	int i, n;

	g->tracks = c->n_tracks >= 32 ? UINT32_MAX :
	    (UINT32_C(1) << c->n_tracks) - 1;
	if (l == NULL)
		return;
	g->tracks = 0;
	if (config_setting_type(l) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(l) != CONFIG_TYPE_LIST) {
		ERR(p, line_of(l), "tracks of group \"%s\" must be a list of "
		    "track names, as ( \"chk_web\" )", g->name);
		return;
	}
	n = config_setting_length(l);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l,
		    (unsigned)i);
		const char *v;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			ERR(p, line_of(e), "tracks of group \"%s\": each entry "
			    "must be a track's name", g->name);
			continue;
		}
		v = config_setting_get_string(e);
		for (k = 0; k < c->n_tracks; k++)
			if (strcmp(c->tracks[k].name, v) == 0)
				break;
		if (k == c->n_tracks)
			ERR(p, line_of(e), "group \"%s\" names track \"%s\", "
			    "which is not defined in track", g->name, v);
		else
			g->tracks |= UINT32_C(1) << k;
	}
}

static void
parse_group(struct parse *p, const config_setting_t *gs, size_t gi,
    size_t room)
{
	static const char *const known[] = { "name", "vips", "priorities",
	    "tracks", "preempt", "preempt_delay", NULL };
	struct vg_conf *c = p->conf;
	struct vg_conf_group *g = &c->groups[gi];
	const config_setting_t *l;
	char name[64];
	long long v;
	size_t i;
	int k, n;

	memset(g, 0, sizeof(*g));
	g->line = line_of(gs);
	g->vip_first = c->n_vips;
	for (i = 0; i < c->n_nodes; i++)
		g->priority[i] = c->nodes[i].priority;
	g->preempt = c->preempt;
	g->preempt_delay = c->preempt_delay;
	if (config_setting_type(gs) != CONFIG_TYPE_GROUP) {
		ERR(p, g->line, "each entry of groups must be a group { ... }");
		return;
	}
	check_members(p, gs, "a group", known);
	if (get_str(p, gs, "name", name, sizeof(name)) == 1) {
		if (!valid_group_name(name))
			ERR(p, line_of(config_setting_get_member(gs, "name")),
			    "group name \"%s\" must be 1 to %d of a-z, 0-9, '_' "
			    "and '-'", name, VG_GROUP_NAME_MAX - 1);
		/* cut, for the messages that name it: the file is refused */
		snprintf(g->name, sizeof(g->name), "%.*s",
		    VG_GROUP_NAME_MAX - 1, name);
	} else if (config_setting_get_member(gs, "name") == NULL)
		ERR(p, g->line, "group has no name");
	for (i = 0; i < gi; i++)
		if (g->name[0] != '\0' && strcmp(c->groups[i].name, g->name) == 0)
			ERR(p, g->line, "group name \"%s\" is used twice (first "
			    "at line %d)", g->name, c->groups[i].line);
	get_bool(p, gs, "preempt", &g->preempt);
	if (get_int(p, gs, "preempt_delay", 0, 86400000, &v) == 1)
		g->preempt_delay = VG_MS(v);
	parse_group_priorities(p, gs, g);
	parse_group_tracks(p, gs, g);
	if ((l = get_group(p, gs, "vips", CONFIG_TYPE_LIST)) != NULL) {
		n = config_setting_length(l);
		for (k = 0; k < n && c->n_vips < room; k++) {
			parse_vip(p, config_setting_get_elem(l, (unsigned)k),
			    &c->vips[c->n_vips]);
			c->vips[c->n_vips++].group = (uint8_t)gi;
		}
	}
	g->n_vips = c->n_vips - g->vip_first;
}

/*
 * groups = ( { name; vips; priorities; tracks; preempt; preempt_delay }, ...):
 * each group's VIPs contiguous in c->vips, group after group.
 */
static void
parse_groups(struct parse *p, const config_setting_t *root)
{
	const config_setting_t *l = get_group(p, root, "groups",
	    CONFIG_TYPE_LIST);
	struct vg_conf *c = p->conf;
	size_t total = 0;
	int i, n;

	if (l == NULL)
		return;
	c->groups_line = line_of(l);
	n = config_setting_length(l);
	if (n == 0) {
		ERR(p, c->groups_line, "groups is empty: name one group at "
		    "least, or leave groups out (every VIP in one group)");
		return;
	}
	if (n > VG_MAX_GROUPS) {
		ERR(p, c->groups_line, "%d groups, at most %d are supported", n,
		    VG_MAX_GROUPS);
		n = VG_MAX_GROUPS;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *v = config_setting_get_member(
		    config_setting_get_elem(l, (unsigned)i), "vips");

		if (v != NULL && (config_setting_type(v) == CONFIG_TYPE_LIST ||
		    config_setting_type(v) == CONFIG_TYPE_ARRAY))
			total += (size_t)config_setting_length(v);
	}
	if (total > VG_MAX_VIPS) {
		ERR(p, c->groups_line, "%zu vips in all groups, at most %d are "
		    "supported", total, VG_MAX_VIPS);
		total = VG_MAX_VIPS;
	}
	if (total > 0 && (c->vips = calloc(total, sizeof(*c->vips))) == NULL) {
		ERR(p, c->groups_line, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		parse_group(p, config_setting_get_elem(l, (unsigned)i),
		    (size_t)i, total);
	c->n_groups = (size_t)n;
}

/* ---- cross-field rules, once everything is read */

static void
check_nodes(struct parse *p, int nodes_line, int quorum_line)
{
	struct vg_conf *c = p->conf;
	unsigned eligible = 0;
	size_t i, j;

	if (c->n_nodes == 0 && nodes_line > 0)
		ERR(p, nodes_line, "nodes is empty");
	c->total_votes = 0;
	for (i = 0; i < c->n_nodes; i++) {
		const struct vg_conf_node *a = &c->nodes[i];

		c->total_votes += a->votes;
		if (a->role == VG_ROLE_NODE)
			eligible++;
		for (j = 0; j < i; j++) {
			const struct vg_conf_node *b = &c->nodes[j];

			if (a->id != 0 && a->id == b->id)
				ERR(p, a->line, "node id %u is used twice (first "
				    "at line %d)", a->id, b->line);
			if (a->name[0] != '\0' && strcmp(a->name, b->name) == 0)
				ERR(p, a->line, "node name \"%s\" is used twice "
				    "(first at line %d)", a->name, b->line);
			if (a->salen != 0 && a->salen == b->salen &&
			    memcmp(&a->sa, &b->sa, a->salen) == 0)
				ERR(p, a->line, "node address %s port %u is used "
				    "twice (first at line %d)", a->address,
				    a->port, b->line);
			/* one socket, of one family, talks to every peer */
			if (a->salen != 0 && b->salen != 0 &&
			    a->sa.ss_family != b->sa.ss_family && j == 0)
				ERR(p, a->line, "node address %s is IPv%c and "
				    "%s's (line %d) IPv%c: every node's address "
				    "must be of one family", a->address,
				    a->sa.ss_family == AF_INET ? '4' : '6',
				    b->name, b->line,
				    b->sa.ss_family == AF_INET ? '4' : '6');
		}
	}
	if (c->n_nodes > 0 && eligible == 0)
		ERR(p, nodes_line, "no node has role \"node\": nobody could "
		    "ever hold the VIPs");
	if (c->n_nodes > 0 && c->total_votes == 0)
		ERR(p, nodes_line, "no node has a vote");
	if (c->quorum == 0)
		c->quorum = c->total_votes / 2 + 1;
	else if (c->quorum <= c->total_votes / 2 || c->quorum > c->total_votes)
		ERR(p, quorum_line, "quorum = %u must be more than half of all "
		    "%u votes and at most all of them (%u..%u)", c->quorum,
		    c->total_votes, c->total_votes / 2 + 1, c->total_votes);
}

/* Each group may be held by some node: a role "node" of priority > 0. */
static void
check_groups(struct parse *p)
{
	const struct vg_conf *c = p->conf;
	size_t g, i;

	if (c->groups_line == 0 || c->n_nodes == 0)
		return;
	for (g = 0; g < c->n_groups; g++) {
		for (i = 0; i < c->n_nodes; i++)
			if (c->nodes[i].role == VG_ROLE_NODE &&
			    c->groups[g].priority[i] > 0)
				break;
		if (i == c->n_nodes)
			ERR(p, c->groups[g].line, "group \"%s\": no node may "
			    "hold it (every node has priority 0 in it or is a "
			    "witness)", c->groups[g].name);
	}
}

static void
check_vips(struct parse *p)
{
	struct vg_conf *c = p->conf;
	size_t i, j;

	for (i = 0; i < c->n_vips; i++) {
		const struct vg_conf_vip *a = &c->vips[i];

		if (a->family == 0)
			continue;
		for (j = 0; j < c->n_nodes; j++) {
			const struct vg_conf_node *n = &c->nodes[j];
			uint8_t na[16];

			if (n->salen != 0 && inet_pton(a->family, n->address, na) == 1 &&
			    memcmp(na, a->addr, a->family == AF_INET ? 4 : 16) == 0)
				ERR(p, a->line, "vip %s is the address of node "
				    "\"%s\"", a->text, n->name);
		}
		/* The hash-free quadratic check is fine at a few thousand. */
		for (j = 0; j < i; j++) {
			const struct vg_conf_vip *b = &c->vips[j];

			if (a->family != b->family ||
			    memcmp(a->addr, b->addr, 16) != 0)
				continue;
			if (c->groups_line == 0)
				ERR(p, a->line, "vip %s is listed twice (first at "
				    "line %d)", a->text, b->line);
			else if (a->group == b->group)
				ERR(p, a->line, "vip %s is listed twice in group "
				    "\"%s\" (first at line %d)", a->text,
				    c->groups[a->group].name, b->line);
			else
				/* one address, two elections: two holders */
				ERR(p, a->line, "vip %s is in two groups, \"%s\" "
				    "and \"%s\" (first at line %d): a VIP is in "
				    "one group", a->text, c->groups[b->group].name,
				    c->groups[a->group].name, b->line);
		}
	}
}

/*
 * A key rotation's extra keys (docs/design.md, "Key rotation without a
 * gap"): each a file apart from the sending key's, and next apart from
 * previous; only with auth = "hmac-sha256".  The files themselves are
 * checked when the keys are loaded (vg_auth_load).
 */
static void
check_rotation(struct parse *p)
{
	const struct vg_conf *c = p->conf;

	if (c->auth != VG_AUTH_HMAC) {
		if (c->auth_key_next[0] != '\0')
			ERR(p, c->auth_key_next_line, "auth_key_next without "
			    "auth = \"hmac-sha256\"");
		if (c->auth_key_previous[0] != '\0')
			ERR(p, c->auth_key_previous_line, "auth_key_previous "
			    "without auth = \"hmac-sha256\"");
		return;
	}
	if (c->auth_key_next[0] != '\0' &&
	    strcmp(c->auth_key_next, c->auth_key_file) == 0)
		ERR(p, c->auth_key_next_line, "auth_key_next is auth_key_file "
		    "(%s): the next key is another file", c->auth_key_next);
	if (c->auth_key_previous[0] != '\0' &&
	    strcmp(c->auth_key_previous, c->auth_key_file) == 0)
		ERR(p, c->auth_key_previous_line, "auth_key_previous is "
		    "auth_key_file (%s): the previous key is another file",
		    c->auth_key_previous);
	if (c->auth_key_next[0] != '\0' &&
	    strcmp(c->auth_key_next, c->auth_key_previous) == 0)
		ERR(p, c->auth_key_previous_line, "auth_key_previous is "
		    "auth_key_next (%s)", c->auth_key_next);
}

static void
check_timing(struct parse *p, int dead_line)
{
	struct vg_conf *c = p->conf;

	c->lease = vg_conf_lease(c->interval, c->dead_time, c->max_drift);
	if (c->lease < 2 * c->interval)
		ERR(p, dead_line, "dead_time = %lld ms is too short for "
		    "interval = %lld ms and max_drift = %g: the lease would be "
		    "%.2f ms, less than 2 intervals; dead_time must be at "
		    "least %lld ms",
		    (long long)(c->dead_time / VG_NS_PER_MS),
		    (long long)(c->interval / VG_NS_PER_MS), c->max_drift,
		    (double)c->lease / VG_NS_PER_MS,
		    (long long)ceil((2.25 * (double)c->interval *
		    (1 + c->max_drift) / (1 - c->max_drift)) / VG_NS_PER_MS));
}

/*
 * The keeper starts removing the VIPs a removal batch before the deadline
 * and adds only if the add and the removal fit before it: with many VIPs
 * the lease must still leave two intervals for renewals, or the VIPs would
 * come and go with every late echo.  With groups, one keeper holds every
 * group this node is active for and does their batches in turn: the
 * largest group's add and removal must fit, and so must every group's
 * removal one after the other (all the leases lapsing at once).  Only the
 * larger of the two is reported: it is the one that sets dead_time.
 */
/*
 * A notify script gets its group's VIPs in VIGIL_VIPS ("addr/len@if ..."):
 * the kernel passes no variable longer than MAX_ARG_STRLEN (32 pages), and
 * past it every script of the group would fail to start (E2BIG).
 */
#define HOOK_VAR_MAX	131072
static void
check_hook_env(struct parse *p)
{
	const struct vg_conf *c = p->conf;
	size_t g, i, len;

	if (!c->hooks.notify[0] && !c->hooks.notify_active[0] &&
	    !c->hooks.notify_standby[0] && !c->hooks.notify_fault[0] &&
	    !c->hooks.notify_maintenance[0])
		return;
	for (g = 0; g < c->n_groups; g++) {
		const struct vg_conf_group *gr = &c->groups[g];

		len = strlen("VIGIL_VIPS=") + 1;
		for (i = 0; i < gr->n_vips; i++)
			len += strlen(c->vips[gr->vip_first + i].text) + 2 +
			    strlen(c->vips[gr->vip_first + i].ifname);
		if (len > HOOK_VAR_MAX)
			ERR(p, gr->line ? gr->line : c->vips[gr->vip_first].line,
			    "the VIPs%s%s make VIGIL_VIPS %zu bytes, more than "
			    "the kernel passes to a notify script (%d): split "
			    "them into groups", gr->line ? " of group " : "",
			    gr->line ? gr->name : "", len, HOOK_VAR_MAX);
	}
}

static void
check_vip_fit(struct parse *p, int dead_line)
{
	struct vg_conf *c = p->conf;
	vg_ns big = 0, dels = 0, batch, b;
	size_t g, gbig = 0;
	double need;
	char what[160];

	for (g = 0; g < c->n_groups; g++) {
		if (c->groups[g].n_vips == 0)
			continue;
		b = vg_conf_batch(c->groups[g].n_vips, 1) +
		    vg_conf_batch(c->groups[g].n_vips, 0);
		if (b > big) {
			big = b;
			gbig = g;
		}
		dels += vg_conf_batch(c->groups[g].n_vips, 0);
	}
	batch = big > dels ? big : dels;
	if (c->n_vips == 0 || c->lease < 2 * c->interval ||
	    c->lease - batch >= 2 * c->interval)
		return;
	/* L = D(1-rho)/(1+rho) - h/4 >= 2h + batch */
	need = (2.25 * (double)c->interval + (double)batch) *
	    (1 + c->max_drift) / (1 - c->max_drift);
	if (c->groups_line == 0)
		snprintf(what, sizeof(what), "%zu VIPs take about %.1f ms to add "
		    "and remove (netlink batches)", c->n_vips,
		    (double)batch / VG_NS_PER_MS);
	else if (big >= dels)
		snprintf(what, sizeof(what), "group \"%s\": its %zu VIPs take "
		    "about %.1f ms to add and remove (netlink batches)",
		    c->groups[gbig].name, c->groups[gbig].n_vips,
		    (double)batch / VG_NS_PER_MS);
	else
		snprintf(what, sizeof(what), "the removals of all %zu groups "
		    "take about %.1f ms in turn (every lease lapsing at once)",
		    c->n_groups, (double)batch / VG_NS_PER_MS);
	ERR(p, dead_line, "%s; the lease at interval = %lld ms and dead_time "
	    "= %lld ms is %.1f ms and must exceed that by 2 intervals: "
	    "dead_time must be at least %lld ms (or use fewer VIPs)", what,
	    (long long)(c->interval / VG_NS_PER_MS),
	    (long long)(c->dead_time / VG_NS_PER_MS),
	    (double)c->lease / VG_NS_PER_MS,
	    (long long)ceil(need / VG_NS_PER_MS));
}

static void
resolve_self(struct parse *p, const char *self, int nodes_line)
{
	struct vg_conf *c = p->conf;
	size_t i;

	c->self = -1;
	if (self == NULL)
		return;
	for (i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i].name, self) == 0)
			c->self = (int)i;
	if (c->self < 0 && c->n_nodes > 0)
		ERR(p, nodes_line, "this node \"%s\" is not in nodes (name it "
		    "with -n NAME)", self);
}

/* The nodes' indices in id order (ids are unique): the safety parts do not
 * depend on the order the file lists them in. */
static void
nodes_by_id(const struct vg_conf *c, size_t *ix)
{
	size_t i, j;

	for (i = 0; i < c->n_nodes; i++) {
		for (j = i; j > 0 && c->nodes[ix[j - 1]].id > c->nodes[i].id; j--)
			ix[j] = ix[j - 1];
		ix[j] = i;
	}
}

/*
 * What the election's safety rests on (DESIGN.md, "Configuration
 * agreement"): who the nodes are (an id is one node, at one address, under
 * one name: the name is how a node finds its own id), how many votes each
 * has and whether it may hold the VIPs, how many make a quorum, and the
 * timing that the lease and every voter's quiet time are measured in.
 * Priority, preemption, VIPs, hooks, tracks and local paths are not: they
 * may differ for a while without two holders.  The cluster id and the key
 * need no digest: a message of another cluster or key is dropped by rx.
 * With `groups`, membership also covers how many groups there are and
 * their names in order: group g of a message must be the same election on
 * both ends.  Their VIPs, priorities, tracks and preemption are not
 * (live, as they are without groups).  A file without `groups` adds
 * nothing: its digests are what they were before groups.
 */
static void
compute_safety_digest(struct vg_conf *c)
{
	size_t ix[VG_MAX_NODES], i;
	uint32_t m = FNV_INIT, v = FNV_INIT, t = FNV_INIT, h = FNV_INIT;

	nodes_by_id(c, ix);
	for (i = 0; i < c->n_nodes; i++) {
		const struct vg_conf_node *n = &c->nodes[ix[i]];
		uint8_t role = (uint8_t)n->role;

		m = fnv1a(m, &n->id, sizeof(n->id));
		m = fnv1a(m, n->name, strlen(n->name) + 1);
		m = fnv1a(m, n->address, strlen(n->address) + 1);
		m = fnv1a(m, &n->port, sizeof(n->port));
		v = fnv1a(v, &n->id, sizeof(n->id));
		v = fnv1a(v, &n->votes, sizeof(n->votes));
		v = fnv1a(v, &role, sizeof(role));
	}
	if (c->groups_line != 0) {
		uint32_t ng = (uint32_t)c->n_groups;

		m = fnv1a(m, "groups", 7);
		m = fnv1a(m, &ng, sizeof(ng));
		for (i = 0; i < c->n_groups; i++)
			m = fnv1a(m, c->groups[i].name,
			    strlen(c->groups[i].name) + 1);
	}
	v = fnv1a(v, &c->quorum, sizeof(c->quorum));
	t = fnv1a(t, &c->interval, sizeof(c->interval));
	t = fnv1a(t, &c->dead_time, sizeof(c->dead_time));
	t = fnv1a(t, &c->max_drift, sizeof(c->max_drift));
	c->part_digest[VG_PART_MEMBERSHIP] = m;
	c->part_digest[VG_PART_VOTES] = v;
	c->part_digest[VG_PART_TIMING] = t;
	h = fnv1a(h, "vigil-safety-1", 14);
	for (i = 0; i < VG_PART_MAX; i++)
		h = fnv1a(h, &c->part_digest[i], sizeof(c->part_digest[i]));
	c->safety_digest = h;
}

/*
 * The digest covers every cluster-wide setting (what a push gives every
 * node alike; the wire's conf_digest), in a fixed order, nodes by id; the
 * local settings (state_dir, state_file, ctl, log, auth_key_file,
 * auth_key_next, auth_key_previous,
 * realtime_priority, metrics) are left out so they may differ between
 * nodes, and so is the epoch (it travels beside the digest).
 */
#define H_STR(h, s)	fnv1a((h), (s), strlen(s) + 1)
#define H_VAL(h, v)	fnv1a((h), &(v), sizeof(v))

static void
compute_digest(struct vg_conf *c)
{
	uint32_t h = FNV_INIT;
	size_t ix[VG_MAX_NODES], i, g;

	h = H_STR(h, c->cluster);
	h = H_VAL(h, c->cluster_id);
	h = H_VAL(h, c->interval);
	h = H_VAL(h, c->dead_time);
	h = H_VAL(h, c->max_drift);
	h = H_VAL(h, c->quorum);
	h = H_VAL(h, c->auth);
	h = H_VAL(h, c->vip_lifetime);
	h = H_VAL(h, c->preempt);
	h = H_VAL(h, c->preempt_delay);
	h = H_VAL(h, c->max_failovers);
	h = H_VAL(h, c->flap_window);
	h = H_VAL(h, c->garp_count);
	h = H_VAL(h, c->garp_interval);
	h = H_VAL(h, c->garp_refresh);
	h = H_STR(h, c->hooks.notify);
	h = H_STR(h, c->hooks.notify_active);
	h = H_STR(h, c->hooks.notify_standby);
	h = H_STR(h, c->hooks.notify_fault);
	h = H_STR(h, c->hooks.notify_maintenance);
	h = H_VAL(h, c->hooks.timeout);
	nodes_by_id(c, ix);
	for (i = 0; i < c->n_nodes; i++) {
		const struct vg_conf_node *n = &c->nodes[ix[i]];

		h = H_VAL(h, n->id);
		h = H_STR(h, n->name);
		h = H_STR(h, n->address);
		h = H_VAL(h, n->port);
		h = H_VAL(h, n->priority);
		h = H_VAL(h, n->votes);
		h = H_VAL(h, n->role);
	}
	for (i = 0; i < c->n_vips; i++) {
		h = H_STR(h, c->vips[i].text);
		h = H_STR(h, c->vips[i].ifname);
	}
	for (i = 0; i < c->n_tracks; i++) {
		const struct vg_conf_track *t = &c->tracks[i];

		h = H_STR(h, t->name);
		h = H_STR(h, t->command);
		h = H_VAL(h, t->interval);
		h = H_VAL(h, t->timeout);
		h = H_VAL(h, t->fall);
		h = H_VAL(h, t->rise);
		h = H_VAL(h, t->weight);
	}
	for (i = 0; i < c->n_links; i++)
		h = H_STR(h, c->links[i]);
	/* the groups, when the file has them: each one's name, VIPs,
	 * priorities (nodes by id), tracks and preemption */
	for (g = 0; c->groups_line != 0 && g < c->n_groups; g++) {
		const struct vg_conf_group *gr = &c->groups[g];
		uint64_t nv = gr->n_vips;

		h = H_STR(h, gr->name);
		h = H_VAL(h, nv);
		for (i = gr->vip_first; i < gr->vip_first + gr->n_vips; i++) {
			h = H_STR(h, c->vips[i].text);
			h = H_STR(h, c->vips[i].ifname);
		}
		for (i = 0; i < c->n_nodes; i++)
			h = H_VAL(h, gr->priority[ix[i]]);
		h = H_VAL(h, gr->tracks);
		h = H_VAL(h, gr->preempt);
		h = H_VAL(h, gr->preempt_delay);
	}
	c->digest = h;
	compute_safety_digest(c);
}

#undef H_STR
#undef H_VAL

static void
defaults(struct vg_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->interval = VG_MS(VG_DEFAULT_INTERVAL_MS);
	c->max_drift = VG_DEFAULT_MAX_DRIFT;
	c->port = VG_DEFAULT_PORT;
	c->vip_lifetime = VG_DEFAULT_VIP_LIFETIME;
	c->garp_count = VG_DEFAULT_GARP_COUNT;
	c->garp_interval = VG_MS(VG_DEFAULT_GARP_INTERVAL_MS);
	c->garp_refresh = VG_MS(VG_DEFAULT_GARP_REFRESH_MS);
	c->hooks.timeout = VG_MS(VG_DEFAULT_SCRIPT_TIMEOUT_MS);
	c->metrics.textfile_interval = VG_MS(10000);
	c->preempt = 1;
	c->preempt_delay = VG_MS(VG_DEFAULT_PREEMPT_DELAY_MS);
	c->max_failovers = VG_DEFAULT_MAX_FAILOVERS;
	c->flap_window = VG_MS(VG_DEFAULT_FLAP_WINDOW_MS);
	c->rt_priority = VG_DEFAULT_RT_PRIORITY;
	c->auth = VG_AUTH_HMAC;
	snprintf(c->state_dir, sizeof(c->state_dir), "%s", VG_DEFAULT_STATE_DIR);
	snprintf(c->state_file, sizeof(c->state_file), "%s",
	    VG_DEFAULT_STATE_FILE);
	snprintf(c->ctl.socket, sizeof(c->ctl.socket), "%s",
	    VG_DEFAULT_CTL_SOCKET);
	c->log.level = VG_LOG_INFO;
	c->log.format = VG_LOG_TEXT;
	c->log.target = VG_LOG_AUTO;
	c->self = -1;
}

/*
 * A file without `groups`: one group, "default", of every VIP and track,
 * with the nodes' priorities and the top-level preemption.  It adds
 * nothing to any digest, so such a file means what it meant before groups.
 */
static void
implicit_group(struct vg_conf *c)
{
	struct vg_conf_group *g = &c->groups[0];
	size_t i;

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "default");
	g->vip_first = 0;
	g->n_vips = c->n_vips;
	for (i = 0; i < c->n_nodes; i++)
		g->priority[i] = c->nodes[i].priority;
	g->tracks = c->n_tracks >= 32 ? UINT32_MAX :
	    (UINT32_C(1) << c->n_tracks) - 1;
	g->preempt = c->preempt;
	g->preempt_delay = c->preempt_delay;
	for (i = 0; i < c->n_vips; i++)
		c->vips[i].group = 0;
	c->n_groups = 1;
}

static void
parse_root(struct parse *p, const config_setting_t *root, const char *self)
{
	static const char *const known[] = { "cluster", "cluster_id",
	    "epoch", "interval", "dead_time", "max_drift", "port", "auth",
	    "auth_key_file", "auth_key_next", "auth_key_previous",
	    "state_dir", "state_file", "quorum", "ctl", "log",
	    "nodes", "vips", "vip_lifetime", "garp_count", "garp_interval",
	    "garp_refresh", "notify", "notify_active", "notify_standby",
	    "notify_fault", "notify_maintenance", "script_timeout", "preempt",
	    "preempt_delay", "max_failovers", "flap_window", "track",
	    "track_interfaces", "metrics", "realtime_priority", "groups", NULL };
	static const char *const auths[] = { "hmac-sha256", "none", NULL };
	struct vg_conf *c = p->conf;
	const config_setting_t *s;
	int nodes_line = 0, dead_line = 0, quorum_line = 0, v;
	long long n;
	int have_id = 0;

	check_members(p, root, NULL, known);
	if (get_str(p, root, "cluster", c->cluster, sizeof(c->cluster)) == 1) {
		if (!valid_name(c->cluster))
			ERR(p, line_of(config_setting_get_member(root, "cluster")),
			    "cluster name \"%s\" may hold only letters, digits, "
			    "'-', '_' and '.'", c->cluster);
	} else if (config_setting_get_member(root, "cluster") == NULL)
		ERR(p, 0, "no cluster name (cluster = \"...\";)");
	if (get_int(p, root, "cluster_id", 1, UINT32_MAX, &n) == 1) {
		c->cluster_id = (uint32_t)n;
		have_id = 1;
	}
	/* to 2^31-1: libconfig 1.5 reads a larger integer without an L
	 * suffix wrapped to 32 bits, so that is what a file can say plainly */
	if (get_int(p, root, "epoch", 0, INT32_MAX, &n) == 1)
		c->epoch = (uint32_t)n;
	if (get_int(p, root, "interval", 1, 10000, &n) == 1)
		c->interval = VG_MS(n);
	c->dead_time = VG_DEFAULT_DEAD_FACTOR * c->interval;
	if ((s = config_setting_get_member(root, "dead_time")) != NULL)
		dead_line = line_of(s);
	else if ((s = config_setting_get_member(root, "interval")) != NULL)
		dead_line = line_of(s);
	if (get_int(p, root, "dead_time", 1, 600000, &n) == 1)
		c->dead_time = VG_MS(n);
	get_float(p, root, "max_drift", 0.0, 0.1, &c->max_drift);
	if (get_int(p, root, "port", 1, 65535, &n) == 1)
		c->port = (uint16_t)n;
	if (get_int(p, root, "vip_lifetime", 1, 86400, &n) == 1)
		c->vip_lifetime = (unsigned)n;
	if (get_int(p, root, "garp_count", 0, 100, &n) == 1)
		c->garp_count = (unsigned)n;
	if (get_int(p, root, "garp_interval", 1, 10000, &n) == 1)
		c->garp_interval = VG_MS(n);
	if (get_int(p, root, "garp_refresh", 0, 86400000, &n) == 1)
		c->garp_refresh = VG_MS(n);
	if (get_enum(p, root, "auth", auths, &v) == 1)
		c->auth = (enum vg_auth_mode)v;
	if (get_path(p, root, "auth_key_file", c->auth_key_file,
	    sizeof(c->auth_key_file)) == 1)
		c->auth_key_file_line =
		    line_of(config_setting_get_member(root, "auth_key_file"));
	if (get_path(p, root, "auth_key_next", c->auth_key_next,
	    sizeof(c->auth_key_next)) == 1)
		c->auth_key_next_line =
		    line_of(config_setting_get_member(root, "auth_key_next"));
	if (get_path(p, root, "auth_key_previous", c->auth_key_previous,
	    sizeof(c->auth_key_previous)) == 1)
		c->auth_key_previous_line = line_of(
		    config_setting_get_member(root, "auth_key_previous"));
	get_path(p, root, "state_dir", c->state_dir, sizeof(c->state_dir));
	get_path(p, root, "notify", c->hooks.notify, sizeof(c->hooks.notify));
	get_path(p, root, "notify_active", c->hooks.notify_active,
	    sizeof(c->hooks.notify_active));
	get_path(p, root, "notify_standby", c->hooks.notify_standby,
	    sizeof(c->hooks.notify_standby));
	get_path(p, root, "notify_fault", c->hooks.notify_fault,
	    sizeof(c->hooks.notify_fault));
	get_path(p, root, "notify_maintenance", c->hooks.notify_maintenance,
	    sizeof(c->hooks.notify_maintenance));
	if (get_int(p, root, "script_timeout", 1, 600000, &n) == 1)
		c->hooks.timeout = VG_MS(n);
	get_bool(p, root, "preempt", &c->preempt);
	if (get_int(p, root, "preempt_delay", 0, 86400000, &n) == 1)
		c->preempt_delay = VG_MS(n);
	if (get_int(p, root, "max_failovers", 1, VG_FLAP_LIMIT, &n) == 1)
		c->max_failovers = (unsigned)n;
	if (get_int(p, root, "flap_window", 1, 86400000, &n) == 1)
		c->flap_window = VG_MS(n);
	if (get_int(p, root, "realtime_priority", 0, 98, &n) == 1)
		c->rt_priority = (int)n;
	get_path(p, root, "state_file", c->state_file, sizeof(c->state_file));
	if ((s = config_setting_get_member(root, "quorum")) != NULL)
		quorum_line = line_of(s);
	if (get_int(p, root, "quorum", 1, 255 * VG_MAX_NODES, &n) == 1)
		c->quorum = (unsigned)n;
	parse_ctl(p, root);
	parse_log(p, root);
	parse_metrics(p, root);
	parse_nodes(p, root, &nodes_line);
	parse_tracks(p, root);
	if (config_setting_get_member(root, "groups") != NULL) {
		parse_groups(p, root);
		if ((s = config_setting_get_member(root, "vips")) != NULL)
			ERR(p, line_of(s), "vips: with groups every VIP is in a "
			    "group: move these into one");
	} else
		parse_vips(p, root);
	parse_links(p, root);

	if (c->auth == VG_AUTH_HMAC && c->auth_key_file[0] == '\0' &&
	    config_setting_get_member(root, "auth_key_file") == NULL)
		ERR(p, 0, "no auth_key_file: set one, or auth = \"none\" for a "
		    "lab without authentication");
	check_rotation(p);
	if (!have_id)
		c->cluster_id = fnv1a(FNV_INIT, c->cluster, strlen(c->cluster));
	if (c->cluster_id == 0)
		c->cluster_id = 1;
	check_timing(p, dead_line);
	check_nodes(p, nodes_line, quorum_line);
	if (c->groups_line == 0)
		implicit_group(c);
	check_groups(p);
	check_vips(p);
	check_vip_fit(p, dead_line);
	check_hook_env(p);
	resolve_self(p, self, nodes_line);
	compute_digest(c);
}

/* The line of an @include directive (one that starts a line), or 0. */
static int
include_line(const char *text)
{
	const char *q = text;
	int line = 1;

	for (;;) {
		while (*q == ' ' || *q == '\t')
			q++;
		if (strncmp(q, "@include", 8) == 0)
			return line;
		if ((q = strchr(q, '\n')) == NULL)
			return 0;
		q++;
		line++;
	}
}

/*
 * The line of an integer that libconfig 1.5 would read wrong, or 0: one
 * past 32 bits without the L suffix wraps silently (dead_time =
 * 4294967796 reads as 500; cluster_id = 4294967295 as -1).  Strings and
 * comments are skipped; floats are not integers.  *lit: the literal.
 */
static int
wide_int_line(const char *text, char *lit, size_t litlen)
{
	const char *q = text, *b;
	int line = 1;
	size_t n;

	while (*q != '\0') {
		if (*q == '\n') {
			line++;
			q++;
		} else if (*q == '#' || (q[0] == '/' && q[1] == '/')) {
			while (*q != '\0' && *q != '\n')
				q++;
		} else if (q[0] == '/' && q[1] == '*') {
			for (q += 2; *q != '\0' && !(q[0] == '*' && q[1] == '/');
			    q++)
				line += *q == '\n';
			if (*q != '\0')
				q += 2;
		} else if (*q == '"') {
			for (q++; *q != '\0' && *q != '"'; q++) {
				if (*q == '\\' && q[1] != '\0')
					q++;
				line += *q == '\n';
			}
			if (*q != '\0')
				q++;
		} else if (isdigit((unsigned char)*q) && (q == text ||
		    !(isalnum((unsigned char)q[-1]) || q[-1] == '_' ||
		    q[-1] == '.'))) {
			int hex = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
			int wide;

			b = q;
			q += hex ? 2 : 0;
			while (hex ? isxdigit((unsigned char)*q) :
			    isdigit((unsigned char)*q))
				q++;
			if (!hex && (*q == '.' || *q == 'e' || *q == 'E'))
				continue;	/* a float: skipped as one */
			n = (size_t)(q - b);
			if (hex)
				wide = n - 2 > 8 || (n - 2 == 8 && b[2] > '7');
			else
				wide = n > 10 || (n == 10 &&
				    strncmp(b, "2147483647", 10) > 0);
			if (wide && *q != 'L' && *q != 'l') {
				snprintf(lit, litlen, "%.*s", (int)n, b);
				return line;
			}
		} else
			q++;
	}
	return 0;
}

/* ---- what a reload changes */

int
vg_conf_vips_same(const struct vg_conf *x, const struct vg_conf *y)
{
	size_t i;

	if (x->n_vips != y->n_vips || x->vip_lifetime != y->vip_lifetime ||
	    x->interval != y->interval)
		return 0;
	for (i = 0; i < x->n_vips; i++)
		if (strcmp(x->vips[i].text, y->vips[i].text) != 0 ||
		    strcmp(x->vips[i].ifname, y->vips[i].ifname) != 0 ||
		    x->vips[i].group != y->vips[i].group)
			return 0;
	return 1;
}

/* The VIPs of `from` that `to` does not have. */
size_t
vg_conf_vips_gone(const struct vg_conf *from, const struct vg_conf *to,
    struct vg_conf_vip *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < from->n_vips; i++) {
		for (j = 0; j < to->n_vips; j++)
			if (strcmp(from->vips[i].text, to->vips[j].text) == 0 &&
			    strcmp(from->vips[i].ifname, to->vips[j].ifname) == 0)
				break;
		if (j == to->n_vips)
			out[n++] = from->vips[i];
	}
	return n;
}

/*
 * A change found between two configurations: what, and its two values as
 * text ("" where there is none: a node added has no old address).  Both
 * the reload's refusal and vg_conf_diff are built on the same walks below,
 * so a field is safety-relevant in one place only.
 */
typedef void	change_fn(void *ctx, const char *what, const char *from,
		    const char *to);

/* Formats one value into a small buffer: the walks' values are short. */
#define VAL(buf, ...)	(snprintf((buf), sizeof(buf), __VA_ARGS__), (buf))

/*
 * The group list: whether the file has `groups`, how many, their names in
 * order.  It is what a group index means on the wire (the safety digest's
 * membership part), and what every per-group state of the agent is kept
 * by: it changes with every node stopped.
 */
static int
groups_same(const struct vg_conf *o, const struct vg_conf *n)
{
	size_t g;

	if ((o->groups_line != 0) != (n->groups_line != 0) ||
	    o->n_groups != n->n_groups)
		return 0;
	for (g = 0; g < o->n_groups; g++)
		if (strcmp(o->groups[g].name, n->groups[g].name) != 0)
			return 0;
	return 1;
}

/* "web, db"; "" for a file without groups (its one implicit group). */
static const char *
groups_str(const struct vg_conf *c, char *buf, size_t len)
{
	size_t at = 0, g;

	buf[0] = '\0';
	for (g = 0; c->groups_line != 0 && g < c->n_groups; g++)
		list_add(buf, len, &at, "%s", c->groups[g].name);
	return buf;
}

/* What a reload cannot change: it would take a restart.  Every one, to fn;
 * returns the first's name (NULL: none). */
static const char *
fixed_changes(const struct vg_conf *o, const struct vg_conf *n, change_fn *fn,
    void *ctx)
{
	const struct vg_conf_node *so = &o->nodes[o->self];
	const struct vg_conf_node *sn = &n->nodes[n->self];
	const char *first = NULL;
	char a[64], b[64], ga[VG_MAX_GROUPS * VG_GROUP_NAME_MAX + 40],
	    gb[VG_MAX_GROUPS * VG_GROUP_NAME_MAX + 40];

#define FIXED(what, from, to) do {					\
	if (first == NULL)						\
		first = (what);						\
	if (fn != NULL)							\
		fn(ctx, (what), (from), (to));				\
} while (0)
	if (so->id != sn->id)
		FIXED("this node's id", VAL(a, "%u", so->id),
		    VAL(b, "%u", sn->id));
	if (so->salen != sn->salen || memcmp(&so->sa, &sn->sa, so->salen) != 0)
		FIXED("this node's address or port", VAL(a, "%s port %u",
		    so->address, so->port), VAL(b, "%s port %u", sn->address,
		    sn->port));
	if (strcmp(o->state_dir, n->state_dir) != 0)
		FIXED("state_dir", o->state_dir, n->state_dir);
	if (strcmp(o->ctl.socket, n->ctl.socket) != 0)
		FIXED("ctl.socket", o->ctl.socket, n->ctl.socket);
	/* the socket's group was set at start; without CAP_CHOWN (dropped
	 * after set-up) it cannot follow, and roles by the new group on a
	 * socket of the old one would be half a change */
	if (strcmp(o->ctl.operator_group, n->ctl.operator_group) != 0)
		FIXED("ctl.operator_group", o->ctl.operator_group,
		    n->ctl.operator_group);
	if (o->cluster_id != n->cluster_id)
		FIXED("the cluster id", VAL(a, "%u", o->cluster_id),
		    VAL(b, "%u", n->cluster_id));
	/* the agent's scheduling is set at start (and the keeper's one
	 * above it): a reload would apply it to a new keeper only */
	if (o->rt_priority != n->rt_priority)
		FIXED("realtime_priority", VAL(a, "%u", o->rt_priority),
		    VAL(b, "%u", n->rt_priority));
	/* the agent keeps an election, a vote and a lease per group, by
	 * index: a reload cannot renumber them (and it is a safety change
	 * too, safety_changes: the cluster stops for it) */
	if (!groups_same(o, n))
		FIXED("groups", groups_str(o, ga, sizeof(ga)),
		    groups_str(n, gb, sizeof(gb)));
#undef FIXED
	return first;
}

const char *
vg_conf_fixed_changed(const struct vg_conf *o, const struct vg_conf *n)
{
	return fixed_changes(o, n, NULL, NULL);
}

/* ---- the safety-relevant configuration: its parts, the wire's hint */

static const char *const part_names[VG_PART_MAX] = {
	[VG_PART_MEMBERSHIP] = "membership",
	[VG_PART_VOTES] = "votes",
	[VG_PART_TIMING] = "timing",
};

const char *
vg_conf_part_name(enum vg_conf_part p)
{
	return (unsigned)p < VG_PART_MAX ? part_names[p] : "invalid";
}

/* 5 bits of a digest: the top of a multiplicative hash (every bit of d
 * moves them) */
static unsigned
fold5(uint32_t d)
{
	return (uint32_t)(d * 0x9e3779b1u) >> 27;
}

uint16_t
vg_conf_parts_hint(const struct vg_conf *c)
{
	unsigned h = VG_PARTS_PRESENT;
	int i;

	for (i = 0; i < VG_PART_MAX; i++)
		h |= fold5(c->part_digest[i]) << (5 * i);
	return (uint16_t)h;
}

unsigned
vg_conf_parts_differ(const struct vg_conf *c, uint16_t hint)
{
	unsigned mask = 0;
	int i;

	if (!(hint & VG_PARTS_PRESENT))
		return 0;
	for (i = 0; i < VG_PART_MAX; i++)
		if (((unsigned)hint >> (5 * i) & 31) != fold5(c->part_digest[i]))
			mask |= 1u << i;
	return mask;
}

const char *
vg_conf_parts_str(unsigned mask, char *buf, size_t len)
{
	size_t at = 0;
	int i, n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < VG_PART_MAX; i++) {
		if (!(mask & (1u << i)))
			continue;
		n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "",
		    part_names[i]);
		if (n < 0 || (size_t)n >= len - at) {
			buf[at] = '\0';	/* whole names only */
			break;
		}
		at += (size_t)n;
	}
	if (at == 0)
		snprintf(buf, len, "unknown");
	return buf;
}

/* ---- what a reload may not change */

/* Appends "what" to the list in buf (", " between); quietly full. */
static void
list_add(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at + 2 >= len)
		return;
	if (*at > 0) {
		buf[(*at)++] = ',';
		buf[(*at)++] = ' ';
		buf[*at] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
}

/*
 * Every safety-relevant field that differs, to fn: the one list of them
 * (DESIGN.md, "Configuration agreement").  Returns how many.
 */
static size_t
safety_changes(const struct vg_conf *o, const struct vg_conf *n,
    change_fn *fn, void *ctx)
{
	const struct vg_conf_node *x, *y;
	char what[VG_NAME_MAX + 40], a[INET6_ADDRSTRLEN + 16],
	    b[INET6_ADDRSTRLEN + 16], ga[VG_MAX_GROUPS * VG_GROUP_NAME_MAX + 40],
	    gb[VG_MAX_GROUPS * VG_GROUP_NAME_MAX + 40];
	size_t k = 0, i;

#define SAFETY(w, from, to)	(fn(ctx, (w), (from), (to)), k++)
	if (o->interval != n->interval)
		SAFETY("interval", VAL(a, "%lld ms", (long long)(o->interval /
		    VG_NS_PER_MS)), VAL(b, "%lld ms", (long long)(n->interval /
		    VG_NS_PER_MS)));
	if (o->dead_time != n->dead_time)
		SAFETY("dead_time", VAL(a, "%lld ms", (long long)(o->dead_time /
		    VG_NS_PER_MS)), VAL(b, "%lld ms", (long long)(n->dead_time /
		    VG_NS_PER_MS)));
	if (o->max_drift != n->max_drift)
		SAFETY("max_drift", VAL(a, "%g", o->max_drift),
		    VAL(b, "%g", n->max_drift));
	for (i = 0; i < o->n_nodes; i++) {
		x = &o->nodes[i];
		if ((y = vg_conf_node_by_id(n, x->id)) == NULL) {
			SAFETY(VAL(what, "node %s (id %u) removed", x->name,
			    x->id), VAL(a, "%s port %u", x->address, x->port),
			    "");
			continue;
		}
		if (strcmp(x->name, y->name) != 0)
			SAFETY(VAL(what, "name of node id %u", x->id), x->name,
			    y->name);
		if (strcmp(x->address, y->address) != 0 || x->port != y->port)
			SAFETY(VAL(what, "address or port of %s", x->name),
			    VAL(a, "%s port %u", x->address, x->port),
			    VAL(b, "%s port %u", y->address, y->port));
		if (x->votes != y->votes)
			SAFETY(VAL(what, "votes of %s", x->name),
			    VAL(a, "%u", x->votes), VAL(b, "%u", y->votes));
		if (x->role != y->role)
			SAFETY(VAL(what, "role of %s", x->name),
			    vg_role_name(x->role), vg_role_name(y->role));
	}
	for (i = 0; i < n->n_nodes; i++) {
		y = &n->nodes[i];
		if (vg_conf_node_by_id(o, y->id) == NULL)
			SAFETY(VAL(what, "node %s (id %u) added", y->name,
			    y->id), "", VAL(b, "%s port %u", y->address,
			    y->port));
	}
	if (o->quorum != n->quorum)
		SAFETY("quorum", VAL(a, "%u", o->quorum), VAL(b, "%u",
		    n->quorum));
	if (!groups_same(o, n))
		SAFETY("groups", groups_str(o, ga, sizeof(ga)),
		    groups_str(n, gb, sizeof(gb)));
	/* whatever the list missed, the digests do not */
	if (k == 0 && o->safety_digest != n->safety_digest)
		SAFETY("the safety-relevant settings", VAL(a, "%08x",
		    o->safety_digest), VAL(b, "%08x", n->safety_digest));
#undef SAFETY
	return k;
}

/* The refusal's list: names only, ", " between, quietly cut when full. */
struct names {
	char	*buf;
	size_t	 len, at;
};

static void
add_name(void *ctx, const char *what, const char *from, const char *to)
{
	struct names *l = ctx;

	(void)from;
	(void)to;
	list_add(l->buf, l->len, &l->at, "%s", what);
}

static int
vip_addr_cmp(const void *x, const void *y)
{
	const struct vg_conf_vip *a = *(const struct vg_conf_vip *const *)x;
	const struct vg_conf_vip *b = *(const struct vg_conf_vip *const *)y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/*
 * A VIP in group a of cur and in group b of next (the same address, any
 * prefix or interface): a reload goes node by node, and between two nodes'
 * reloads a's holder on one and b's on another would both hold it.
 */
int
vg_conf_vip_moved(const struct vg_conf *cur, const struct vg_conf *next,
    char *err, size_t errlen)
{
	const struct vg_conf_vip **v, *key, *const *hit;
	size_t i;
	int rc = 0;

	if (cur->groups_line == 0 || next->groups_line == 0 ||
	    !groups_same(cur, next) || cur->n_vips == 0)
		return 0;
	if ((v = malloc(cur->n_vips * sizeof(*v))) == NULL) {
		snprintf(err, errlen, "out of memory; nothing changed");
		return -1;
	}
	for (i = 0; i < cur->n_vips; i++)
		v[i] = &cur->vips[i];
	qsort(v, cur->n_vips, sizeof(*v), vip_addr_cmp);
	for (i = 0; i < next->n_vips && rc == 0; i++) {
		key = &next->vips[i];
		hit = bsearch(&key, v, cur->n_vips, sizeof(*v), vip_addr_cmp);
		if (hit == NULL || (*hit)->group == key->group)
			continue;
		snprintf(err, errlen, "VIP %s moves from group %s to %s: remove "
		    "it in one change, add it in the next; nothing changed",
		    key->text, cur->groups[(*hit)->group].name,
		    next->groups[key->group].name);
		rc = -1;
	}
	free(v);
	return rc;
}

int
vg_conf_reload_refusal(const struct vg_conf *cur, const struct vg_conf *next,
    char *err, size_t errlen)
{
	return vg_conf_reload_refusal_moves(cur, next, 0, err, errlen);
}

int
vg_conf_reload_refusal_moves(const struct vg_conf *cur,
    const struct vg_conf *next, int moves_ok, char *err, size_t errlen)
{
	char what[80];
	struct names l = { what, sizeof(what), 0 };
	const char *fixed;

	/* an epoch names one file cluster-wide: never back to an older one */
	if (next->epoch < cur->epoch) {
		snprintf(err, errlen, "epoch %u is lower than the running epoch "
		    "%u: a configuration never goes back to an older epoch; "
		    "nothing changed", next->epoch, cur->epoch);
		return -1;
	}
	/* a ctl error is 256 bytes: the list may be cut, never the way out */
	what[0] = '\0';
	if (safety_changes(cur, next, add_name, &l) > 0) {
		snprintf(err, errlen, "nothing changed: a reload cannot change "
		    "what every node must agree on (%s), and node by node is "
		    "not safe: stop every node, change every file, start them "
		    "(docs/operations.md)", what);
		return -1;
	}
	if ((fixed = vg_conf_fixed_changed(cur, next)) != NULL) {
		snprintf(err, errlen, "%s cannot change in a reload (restart the "
		    "agent); nothing changed", fixed);
		return -1;
	}
	return moves_ok ? 0 : vg_conf_vip_moved(cur, next, err, errlen);
}

/* ---- what a new file would change, field by field */

const char *
vg_change_kind_name(enum vg_change_kind k)
{
	switch (k) {
	case VG_CHANGE_NONE:	return "none";
	case VG_CHANGE_LIVE:	return "live";
	case VG_CHANGE_SAFETY:	return "safety";
	case VG_CHANGE_RESTART:	return "restart";
	}
	return "invalid";
}

struct diff_ctx {
	struct vg_conf_diff	*d;
	enum vg_change_kind	 kind;
};

static void
add_change(void *ctx, const char *what, const char *from, const char *to)
{
	struct diff_ctx *x = ctx;
	struct vg_conf_diff *d = x->d;
	struct vg_conf_change *ch;

	if (x->kind > d->kind)
		d->kind = x->kind;
	/* one field in two classes (the group list: safety and restart)
	 * is one change, of the graver */
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->ch[i].what, what) == 0) {
			if (x->kind > d->ch[i].kind)
				d->ch[i].kind = x->kind;
			return;
		}
	if (d->n == VG_DIFF_MAX) {
		d->dropped++;
		return;
	}
	ch = &d->ch[d->n++];
	ch->kind = x->kind;
	snprintf(ch->what, sizeof(ch->what), "%s", what);
	snprintf(ch->from, sizeof(ch->from), "%s", from);
	snprintf(ch->to, sizeof(ch->to), "%s", to);
}

static const struct vg_conf_track *
track_by_name(const struct vg_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_tracks; i++)
		if (strcmp(c->tracks[i].name, name) == 0)
			return &c->tracks[i];
	return NULL;
}

int
vg_conf_track_same(const struct vg_conf_track *x, const struct vg_conf_track *y)
{
	return strcmp(x->command, y->command) == 0 &&
	    x->interval == y->interval && x->timeout == y->timeout &&
	    x->fall == y->fall && x->rise == y->rise && x->weight == y->weight;
}

static int
vip_cmp(const void *x, const void *y)
{
	const struct vg_conf_vip *a = *(const struct vg_conf_vip *const *)x;
	const struct vg_conf_vip *b = *(const struct vg_conf_vip *const *)y;
	int r = strcmp(a->text, b->text);

	return r != 0 ? r : strcmp(a->ifname, b->ifname);
}

/* The same, within a group: for two files of one group list. */
static int
vip_gcmp(const void *x, const void *y)
{
	const struct vg_conf_vip *a = *(const struct vg_conf_vip *const *)x;
	const struct vg_conf_vip *b = *(const struct vg_conf_vip *const *)y;

	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	return vip_cmp(x, y);
}

typedef int	vip_cmp_fn(const void *, const void *);

static int
has_vip(const struct vg_conf *c, const struct vg_conf_vip *v, vip_cmp_fn *cmp)
{
	const struct vg_conf_vip *w;
	size_t i;

	for (i = 0; i < c->n_vips; i++) {
		w = &c->vips[i];
		if (cmp(&w, &v) == 0)
			return 1;
	}
	return 0;
}

/* c's VIPs sorted, for vip_in (a diff of two 1000-VIP files took 3.6 ms
 * on the agent's loop with a linear search; NULL: search linearly). */
static const struct vg_conf_vip **
vips_sorted(const struct vg_conf *c, vip_cmp_fn *cmp)
{
	const struct vg_conf_vip **v;
	size_t i;

	if (c->n_vips == 0 ||
	    (v = malloc(c->n_vips * sizeof(*v))) == NULL)
		return NULL;
	for (i = 0; i < c->n_vips; i++)
		v[i] = &c->vips[i];
	qsort(v, c->n_vips, sizeof(*v), cmp);
	return v;
}

static int
vip_in(const struct vg_conf *c, const struct vg_conf_vip **sorted,
    const struct vg_conf_vip *v, vip_cmp_fn *cmp)
{
	if (sorted == NULL)
		return has_vip(c, v, cmp);
	return bsearch(&v, sorted, c->n_vips, sizeof(*sorted), cmp) != NULL;
}

/* "chk, chk_web": the tracks of a mask, in track's order. */
static const char *
tracks_str(const struct vg_conf *c, uint32_t mask, char *buf, size_t len)
{
	size_t at = 0, i;

	buf[0] = '\0';
	for (i = 0; i < c->n_tracks && i < 32; i++)
		if (mask & UINT32_C(1) << i)
			list_add(buf, len, &at, "%s", c->tracks[i].name);
	return buf;
}

/*
 * Each group's own settings, for two files of one group list: priorities
 * (of the nodes in both), tracks (by name), preemption.  Its VIPs are
 * live_changes' walk.
 */
static void
group_changes(const struct vg_conf *o, const struct vg_conf *n, change_fn *fn,
    void *ctx)
{
	char a[VG_PATH_MAX + 8], b[VG_PATH_MAX + 8], what[VG_NAME_MAX + 40];
	const struct vg_conf_group *x, *y;
	const struct vg_conf_node *on;
	size_t g, i;

	for (g = 0; g < n->n_groups; g++) {
		x = &o->groups[g];
		y = &n->groups[g];
		for (i = 0; i < n->n_nodes; i++) {
			if ((on = vg_conf_node_by_id(o, n->nodes[i].id)) == NULL)
				continue;
			if (x->priority[on - o->nodes] != y->priority[i])
				fn(ctx, VAL(what, "priority of %s in %s",
				    n->nodes[i].name, y->name), VAL(a, "%u",
				    x->priority[on - o->nodes]), VAL(b, "%u",
				    y->priority[i]));
		}
		tracks_str(o, x->tracks, a, sizeof(a));
		tracks_str(n, y->tracks, b, sizeof(b));
		if (strcmp(a, b) != 0)
			fn(ctx, VAL(what, "tracks of %s", y->name), a, b);
		if (!x->preempt != !y->preempt)
			fn(ctx, VAL(what, "preempt of %s", y->name),
			    x->preempt ? "true" : "false",
			    y->preempt ? "true" : "false");
		if (x->preempt_delay != y->preempt_delay)
			fn(ctx, VAL(what, "preempt_delay of %s", y->name),
			    VAL(a, "%lld ms", (long long)(x->preempt_delay /
			    VG_NS_PER_MS)), VAL(b, "%lld ms",
			    (long long)(y->preempt_delay / VG_NS_PER_MS)));
	}
}

static int
has_link(const struct vg_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_links; i++)
		if (strcmp(c->links[i], name) == 0)
			return 1;
	return 0;
}

/*
 * Everything that is neither safety-relevant nor fixed until a restart:
 * what a reload (and a live push) applies while the VIPs that stay stay.
 */
static void
live_changes(const struct vg_conf *o, const struct vg_conf *n, change_fn *fn,
    void *ctx)
{
	char a[VG_PATH_MAX + 8], b[VG_PATH_MAX + 8], what[VG_NAME_MAX + 40];
	const struct vg_conf_vip **so, **sn;
	const struct vg_conf_node *y;
	const struct vg_conf_track *t;
	vip_cmp_fn *cmp;
	size_t i;
	int grouped;

#define STR(w, f) do {							\
	if (strcmp(o->f, n->f) != 0)					\
		fn(ctx, (w), o->f, n->f);				\
} while (0)
#define NUM(w, f) do {							\
	if (o->f != n->f)						\
		fn(ctx, (w), VAL(a, "%lld", (long long)o->f),		\
		    VAL(b, "%lld", (long long)n->f));			\
} while (0)
#define MS(w, f) do {							\
	if (o->f != n->f)						\
		fn(ctx, (w), VAL(a, "%lld ms", (long long)(o->f /	\
		    VG_NS_PER_MS)), VAL(b, "%lld ms", (long long)(n->f /\
		    VG_NS_PER_MS)));					\
} while (0)
#define BOOL(w, f) do {							\
	if (!o->f != !n->f)						\
		fn(ctx, (w), o->f ? "true" : "false",			\
		    n->f ? "true" : "false");				\
} while (0)
	NUM("epoch", epoch);
	STR("cluster", cluster);
	if (o->auth != n->auth)
		fn(ctx, "auth", o->auth == VG_AUTH_HMAC ? "hmac-sha256" :
		    "none", n->auth == VG_AUTH_HMAC ? "hmac-sha256" : "none");
	STR("auth_key_file", auth_key_file);
	STR("auth_key_next", auth_key_next);
	STR("auth_key_previous", auth_key_previous);
	for (i = 0; i < n->n_nodes; i++) {
		const struct vg_conf_node *x;

		y = &n->nodes[i];
		if ((x = vg_conf_node_by_id(o, y->id)) != NULL &&
		    x->priority != y->priority)
			fn(ctx, VAL(what, "priority of %s", y->name),
			    VAL(a, "%u", x->priority), VAL(b, "%u", y->priority));
	}
	BOOL("preempt", preempt);
	MS("preempt_delay", preempt_delay);
	NUM("max_failovers", max_failovers);
	MS("flap_window", flap_window);
	NUM("vip_lifetime", vip_lifetime);
	NUM("garp_count", garp_count);
	MS("garp_interval", garp_interval);
	MS("garp_refresh", garp_refresh);
	STR("state_file", state_file);
	STR("notify", hooks.notify);
	STR("notify_active", hooks.notify_active);
	STR("notify_standby", hooks.notify_standby);
	STR("notify_fault", hooks.notify_fault);
	STR("notify_maintenance", hooks.notify_maintenance);
	MS("script_timeout", hooks.timeout);
	STR("ctl.admin_group", ctl.admin_group);
	BOOL("ctl.viewers", ctl.viewers);
	if (o->log.level != n->log.level)
		fn(ctx, "log.level", log_level_name(o->log.level),
		    log_level_name(n->log.level));
	NUM("log.format", log.format);
	NUM("log.target", log.target);
	STR("metrics.listen", metrics.listen);
	STR("metrics.textfile", metrics.textfile);
	MS("metrics.textfile_interval", metrics.textfile_interval);
	/* with one group list, each group's VIPs (a VIP that moves is
	 * removed from one and added to the other, and refused by
	 * vg_conf_vip_moved); else the whole list, as without groups */
	grouped = o->groups_line != 0 && groups_same(o, n);
	cmp = grouped ? vip_gcmp : vip_cmp;
	if (grouped)
		group_changes(o, n, fn, ctx);
	so = vips_sorted(o, cmp);
	sn = vips_sorted(n, cmp);
	for (i = 0; i < o->n_vips; i++) {
		if (vip_in(n, sn, &o->vips[i], cmp))
			continue;
		if (grouped)
			snprintf(what, sizeof(what), "vip %s removed from %s",
			    o->vips[i].text, o->groups[o->vips[i].group].name);
		else
			snprintf(what, sizeof(what), "vip %s removed",
			    o->vips[i].text);
		fn(ctx, what, VAL(a, "%s dev %s", o->vips[i].text,
		    o->vips[i].ifname), "");
	}
	for (i = 0; i < n->n_vips; i++) {
		if (vip_in(o, so, &n->vips[i], cmp))
			continue;
		if (grouped)
			snprintf(what, sizeof(what), "vip %s added to %s",
			    n->vips[i].text, n->groups[n->vips[i].group].name);
		else
			snprintf(what, sizeof(what), "vip %s added",
			    n->vips[i].text);
		fn(ctx, what, "", VAL(b, "%s dev %s", n->vips[i].text,
		    n->vips[i].ifname));
	}
	free(so);
	free(sn);
	for (i = 0; i < o->n_tracks; i++) {
		if ((t = track_by_name(n, o->tracks[i].name)) == NULL)
			fn(ctx, VAL(what, "track %s removed", o->tracks[i].name),
			    o->tracks[i].command, "");
		else if (!vg_conf_track_same(&o->tracks[i], t))
			fn(ctx, VAL(what, "track %s", t->name),
			    o->tracks[i].command, t->command);
	}
	for (i = 0; i < n->n_tracks; i++)
		if (track_by_name(o, n->tracks[i].name) == NULL)
			fn(ctx, VAL(what, "track %s added", n->tracks[i].name),
			    "", n->tracks[i].command);
	for (i = 0; i < o->n_links; i++)
		if (!has_link(n, o->links[i]))
			fn(ctx, VAL(what, "link %s no longer followed",
			    o->links[i]), o->links[i], "");
	for (i = 0; i < n->n_links; i++)
		if (!has_link(o, n->links[i]))
			fn(ctx, VAL(what, "link %s followed", n->links[i]), "",
			    n->links[i]);
#undef STR
#undef NUM
#undef MS
#undef BOOL
}

void
vg_conf_diff(const struct vg_conf *cur, const struct vg_conf *next,
    struct vg_conf_diff *d)
{
	struct diff_ctx x = { d, VG_CHANGE_SAFETY };

	memset(d, 0, sizeof(*d));
	d->kind = VG_CHANGE_NONE;
	safety_changes(cur, next, add_change, &x);
	x.kind = VG_CHANGE_RESTART;
	fixed_changes(cur, next, add_change, &x);
	x.kind = VG_CHANGE_LIVE;
	live_changes(cur, next, add_change, &x);
}

void
vg_conf_free(struct vg_conf *c)
{
	if (c == NULL)
		return;
	free(c->vips);
	free(c);
}

struct vg_conf *
vg_conf_parse(const char *text, const char *filename, const char *self,
    struct vg_errs *errs)
{
	struct parse p = { filename, errs, NULL };
	config_t cfg;
	char lit[32];
	int inc;
	size_t before = errs->n + errs->dropped;

	p.conf = malloc(sizeof(*p.conf));
	if (p.conf == NULL) {
		vg_errs_add(errs, filename, 0, "out of memory");
		return NULL;
	}
	defaults(p.conf);
	snprintf(p.conf->path, sizeof(p.conf->path), "%s", filename);
	/*
	 * No @include: one self-contained file is what every node shares, and
	 * libconfig 1.5 has no hook to refuse an include it would open.
	 */
	if ((inc = include_line(text)) > 0) {
		vg_errs_add(errs, filename, inc, "@include is not supported: "
		    "keep the configuration in one file");
		vg_conf_free(p.conf);
		return NULL;
	}
	if ((inc = wide_int_line(text, lit, sizeof(lit))) > 0) {
		vg_errs_add(errs, filename, inc, "%s does not fit 32 bits: "
		    "libconfig would read it wrong without the L suffix "
		    "(%sL)", lit, lit);
		vg_conf_free(p.conf);
		return NULL;
	}
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		vg_errs_add(errs, filename, config_error_line(&cfg), "%s",
		    config_error_text(&cfg));
		config_destroy(&cfg);
		vg_conf_free(p.conf);
		return NULL;
	}
	parse_root(&p, config_root_setting(&cfg), self);
	config_destroy(&cfg);
	vg_conf_file_digest(text, strlen(text), p.conf->file_sha256,
	    &p.conf->file_digest);
	if (errs->n + errs->dropped != before) {
		vg_conf_free(p.conf);
		return NULL;
	}
	return p.conf;
}

/*
 * What vigild reads or runs as root must be the administrator's alone
 * (trust.h): the file itself, its key, its scripts, the directories of its
 * state.  Only for a file on disk: vg_conf_parse (the tests, the fuzzer)
 * judges text.
 */
int
vg_conf_trust(const struct vg_conf *c, int with_file, struct vg_errs *errs)
{
	const struct { const char *what, *path; } f[] = {
		{ "auth_key_file", c->auth_key_file },
		{ "auth_key_next", c->auth_key_next },
		{ "auth_key_previous", c->auth_key_previous },
		{ "state_dir", c->state_dir },
		{ "state_file", c->state_file },
		{ "notify", c->hooks.notify },
		{ "notify_active", c->hooks.notify_active },
		{ "notify_standby", c->hooks.notify_standby },
		{ "notify_fault", c->hooks.notify_fault },
		{ "notify_maintenance", c->hooks.notify_maintenance },
	};
	char why[PATH_MAX + 64], real[PATH_MAX], cmd[PATH_MAX];
	uid_t self = geteuid();
	size_t n0 = errs->n, i;

	if (with_file && (realpath(c->path, real) == NULL ||
	    vg_trust_path(real, self, why, sizeof(why)) == -1))
		vg_errs_add(errs, c->path, 0, "the configuration is not "
		    "trusted: %s", realpath(c->path, real) == NULL ?
		    strerror(errno) : why);
	/* the path as given too: a link in a directory others may write
	 * could point elsewhere by the next read */
	else if (with_file && c->path[0] == '/' &&
	    vg_trust_path(c->path, self, why, sizeof(why)) == -1)
		vg_errs_add(errs, c->path, 0, "the configuration is not "
		    "trusted: %s", why);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].path[0] != '\0' &&
		    vg_trust_path(f[i].path, self, why, sizeof(why)) == -1)
			vg_errs_add(errs, c->path, 0, "%s %s is not trusted: %s",
			    f[i].what, f[i].path, why);
	for (i = 0; i < c->n_tracks; i++)
		if (vg_trust_command_path(c->tracks[i].command, cmd,
		    sizeof(cmd)) &&
		    vg_trust_path(cmd, self, why, sizeof(why)) == -1)
			vg_errs_add(errs, c->path, c->tracks[i].line, "track %s: "
			    "%s is not trusted: %s", c->tracks[i].name, cmd, why);
	return errs->n > n0 ? -1 : 0;
}

struct vg_conf *
vg_conf_load(const char *path, const char *self, struct vg_errs *errs)
{
	struct vg_conf *c;
	struct stat rd, now;
	FILE *f;
	char *text;
	long len;

	if ((f = fopen(path, "re")) == NULL) {
		vg_errs_add(errs, path, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &rd) == -1) {
		vg_errs_add(errs, path, 0, "cannot stat: %s", strerror(errno));
		fclose(f);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || len > 16 * 1024 * 1024) {
		vg_errs_add(errs, path, 0, "cannot read (or larger than 16 MiB)");
		fclose(f);
		return NULL;
	}
	if ((text = malloc((size_t)len + 1)) == NULL) {
		vg_errs_add(errs, path, 0, "out of memory");
		fclose(f);
		return NULL;
	}
	if (fread(text, 1, (size_t)len, f) != (size_t)len) {
		vg_errs_add(errs, path, 0, "read error");
		free(text);
		fclose(f);
		return NULL;
	}
	text[len] = '\0';
	fclose(f);
	if (strlen(text) != (size_t)len) {
		vg_errs_add(errs, path, 0, "file holds a NUL byte");
		free(text);
		return NULL;
	}
	c = vg_conf_parse(text, path, self, errs);
	free(text);
	if (c != NULL && vg_conf_trust(c, 1, errs) == -1) {
		vg_conf_free(c);
		return NULL;
	}
	/* what was read is the file judged: not one a link led to before
	 * it was swapped */
	if (c != NULL && (stat(path, &now) == -1 || now.st_dev != rd.st_dev ||
	    now.st_ino != rd.st_ino)) {
		vg_errs_add(errs, path, 0, "the file changed while it was "
		    "read; try again");
		vg_conf_free(c);
		return NULL;
	}
	return c;
}
