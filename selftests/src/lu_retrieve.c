// SPDX-License-Identifier: GPL-2.0
/*
 * lu-retrieve: RETRIEVE_SESSION of NAME on /dev/liveupdate, for shell tests
 * that ask whether another program (systemd, luoctl's agent) left an
 * incoming session behind.
 *
 *   lu-retrieve NAME
 *
 * Prints "ok" (and closes the session again) or the errno's name, e.g.
 * "ENOENT" once the session was finished; exits 0 either way, 2 when
 * /dev/liveupdate cannot be opened.
 */
#include "lu_test.h"

int main(int argc, char **argv)
{
	int dev, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: lu-retrieve NAME\n");
		return 2;
	}
	dev = open("/dev/liveupdate", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "lu-retrieve: /dev/liveupdate: %s\n", strerror(errno));
		return 2;
	}
	fd = lu_retrieve_session(dev, argv[1]);
	printf("%s\n", fd < 0 ? lu_errname(fd) : "ok");
	if (fd >= 0)
		close(fd);
	close(dev);
	return 0;
}
