/* The release, as debian/changelog names it (tests/integration/test_cli.py
 * checks that vigild -V, vigilctl --version and the changelog agree). */
#ifndef VG_RELEASE_H
#define VG_RELEASE_H

#define VG_RELEASE	"0.1.0"

#endif
