/*
 * fuzz_conf: the config loader (libconfig text -> validated vg_conf) on
 * arbitrary text.  Whatever it is fed, it returns a valid config or errors,
 * never both, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_errs errs;
	struct vg_conf *c;
	char *text;

	if (size > 65536)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	vg_errs_init(&errs);
	c = vg_conf_parse(text, "fuzz.conf", size % 2 ? "alpha" : NULL, &errs);
	if ((c == NULL) == (errs.n == 0 && errs.dropped == 0))
		abort();	/* a result and errors, or neither */
	if (c != NULL && c->self >= (int)c->n_nodes)
		abort();
	vg_conf_free(c);
	free(text);
	return 0;
}
