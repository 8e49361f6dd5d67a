/*
 * caps: dropping capabilities with prctl(2) and capset(2), no libcap.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

static const int keep[] = {
	CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_NICE, CAP_IPC_LOCK,
};

static int
kept(int cap)
{
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (keep[i] == cap)
			return 1;
	return 0;
}

int
vg_caps_drop(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	size_t i;
	int cap;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	/* every bit the kernel's sets have, not only the ones these
	 * headers know: a newer kernel may have more */
	for (cap = 0; cap < 64; cap++) {
		if (kept(cap))
			continue;
		/* EINVAL: a capability this kernel does not know */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 &&
		    errno != EINVAL && errno != EPERM) {
			snprintf(err, errlen, "dropping capability %d: %s", cap,
			    strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < 2; i++) {
		__u32 mask = 0;

		for (cap = (int)i * 32; cap < (int)i * 32 + 32; cap++)
			if (kept(cap))
				mask |= 1u << (cap % 32);
		d[i].effective &= mask;
		d[i].permitted &= mask;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}
