/*
 * confcheck: what the config tests share: parse a text that must be
 * valid, or one that must be refused with exactly one error at a line.
 * The including file defines FILE_NAME (the name errors carry) first.
 */
#ifndef VG_CONFCHECK_H
#define VG_CONFCHECK_H

#include <stdio.h>
#include <string.h>

#include "conf.h"

static inline void
dump_errs(const struct vg_errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		print_message("    error: %s\n", e->msg[i]);
}

/* Parses text that must be valid; the caller frees the result. */
static inline struct vg_conf *
parse_ok(const char *text, const char *self)
{
	struct vg_errs errs;
	struct vg_conf *c;

	vg_errs_init(&errs);
	c = vg_conf_parse(text, FILE_NAME, self, &errs);
	if (c == NULL || errs.n != 0) {
		dump_errs(&errs);
		vg_conf_free(c);
		fail_msg("a valid config was refused:\n%s", text);
	}
	return c;
}

/* Does msg read "FILE:LINE: ...SUBSTR..." (line 0: "FILE: ...")? */
static inline int
err_matches(const char *msg, int line, const char *substr)
{
	char prefix[64];

	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", FILE_NAME, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", FILE_NAME);
	return strncmp(msg, prefix, strlen(prefix)) == 0 &&
	    strstr(msg + strlen(prefix), substr) != NULL;
}

/* The config must be refused with exactly one error, at line, saying substr. */
static inline void
expect_one_error(const char *text, const char *self, int line,
    const char *substr)
{
	struct vg_errs errs;
	struct vg_conf *c;

	vg_errs_init(&errs);
	c = vg_conf_parse(text, FILE_NAME, self, &errs);
	if (c != NULL || errs.n != 1 || errs.dropped != 0 ||
	    !err_matches(errs.msg[0], line, substr)) {
		dump_errs(&errs);
		vg_conf_free(c);
		fail_msg("wanted exactly one error \"%s:%d: ...%s...\", got %zu "
		    "error(s)%s for:\n%s", FILE_NAME, line, substr, errs.n,
		    c != NULL ? " and a config" : "", text);
	}
}

#endif
