// SPDX-License-Identifier: GPL-2.0
/*
 * run-as UID COMMAND [ARG...]: runs COMMAND as uid and gid UID with no
 * supplementary groups, for tests of what another user may do (busybox has
 * no setpriv --reuid).
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	unsigned long uid;

	if (argc < 3) {
		fprintf(stderr, "usage: run-as UID COMMAND [ARG...]\n");
		return 2;
	}
	errno = 0;
	uid = strtoul(argv[1], &end, 10);
	if (errno || *end || end == argv[1] || uid > 0xfffffffeUL) {
		fprintf(stderr, "run-as: bad uid '%s'\n", argv[1]);
		return 2;
	}
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
		perror("run-as");
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "run-as: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
