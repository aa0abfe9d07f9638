// SPDX-License-Identifier: GPL-2.0
/*
 * lu-open: open a path COUNT times and hold every fd, optionally as another
 * uid, so shell tests can check exclusive opens and permissions errno-exact.
 *
 *   lu-open [-u UID] [-n COUNT] PATH
 *
 * Prints "open I: ok" or "open I: ENAME" per attempt and exits with the errno
 * of the first failure (0 when every open succeeded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int count = 1, uid = -1, first_err = 0, opt, i;

	while ((opt = getopt(argc, argv, "u:n:")) != -1) {
		switch (opt) {
		case 'u':
			uid = atoi(optarg);
			break;
		case 'n':
			count = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: lu-open [-u UID] [-n COUNT] PATH\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: lu-open [-u UID] [-n COUNT] PATH\n");
		return 2;
	}
	if (uid >= 0 && (setgid(uid) || setuid(uid))) {
		perror("lu-open: setuid");
		return 2;
	}
	for (i = 1; i <= count; i++) {
		int fd = open(argv[optind], O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			printf("open %d: ok\n", i);
			continue;
		}
		printf("open %d: %s\n", i, strerrorname_np(errno));
		if (!first_err)
			first_err = errno;
	}
	return first_err;
}
