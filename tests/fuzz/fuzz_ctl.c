/*
 * fuzz_ctl: the ctl request parser on arbitrary lines.  Whatever it is fed,
 * it accepts a request with a known command and a NUL-terminated target, or
 * refuses it with a message; it never crashes and never reads past len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vg_ctl_request req;
	char err[256];
	char *line;
	int rc;

	/* an exact-size copy: ASan catches any read past the line */
	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	memset(&req, 0xa5, sizeof(req));
	err[0] = '\0';
	rc = vg_ctl_parse_request(line, size, &req, err, sizeof(err));
	if (rc == 0) {
		if ((unsigned)req.cmd >= VG_CTL_CMD_MAX)
			abort();
		if (memchr(req.to, '\0', sizeof(req.to)) == NULL)
			abort();
		if (req.to[0] != '\0' && req.cmd != VG_CTL_FAILOVER)
			abort();
		if ((req.follow != 0 && req.cmd != VG_CTL_EVENTS) ||
		    (req.on != 0 && req.on != 1))
			abort();
		if (req.on != 0 && req.cmd != VG_CTL_MAINTENANCE)
			abort();
		if ((req.allow_down != 0 && req.cmd != VG_CTL_CONFIG_PUSH) ||
		    (req.allow_down != 0 && req.allow_down != 1))
			abort();
		/* config_diff and config_push alone carry a text, always;
		 * no NUL in it */
		if ((req.text != NULL) != (req.cmd == VG_CTL_CONFIG_DIFF ||
		    req.cmd == VG_CTL_CONFIG_PUSH))
			abort();
		if (req.text != NULL && (req.text[req.text_len] != '\0' ||
		    strlen(req.text) != req.text_len))
			abort();
		if (memchr(req.name, '\0', sizeof(req.name)) == NULL ||
		    (req.name[0] != '\0' && req.cmd != VG_CTL_CONFIG_DIFF &&
		    req.cmd != VG_CTL_CONFIG_PUSH &&
		    req.cmd != VG_CTL_KEY_ROTATE))
			abort();
		/* key_rotate: always an absolute path */
		if (req.cmd == VG_CTL_KEY_ROTATE && req.name[0] != '/')
			abort();
		vg_ctl_request_clear(&req);
	} else if (rc == -1) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	} else
		abort();
	free(line);
	return 0;
}
