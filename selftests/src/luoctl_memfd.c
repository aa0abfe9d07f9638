// SPDX-License-Identifier: GPL-2.0
/*
 * luoctl-memfd: a client process with a memfd to preserve, for the luoctl
 * guest tests and the demo (busybox sh cannot create a memfd).
 *
 *   luoctl-memfd run SIZE SEED -- COMMAND [ARG...]
 *       Creates a memfd of SIZE bytes filled with a pattern derived from
 *       SEED (written with pwrite, so its position stays 0), runs COMMAND
 *       with it inherited and its number in $MEMFD_FD, and exits with
 *       COMMAND's status. The memfd dies with this process unless someone
 *       (the luoctl agent) took a reference.
 *   luoctl-memfd hold SIZE SEED FILE
 *       The same memfd, kept open; writes "PID FD" to FILE and sleeps until
 *       killed (for luoctl preserve --pid PID --pidfd-fd FD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int make_memfd(unsigned long size, unsigned long seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	char buf[65536];
	unsigned long off = 0;
	int fd = memfd_create("luoctl-test", 0);

	if (fd < 0) {
		fprintf(stderr, "luoctl-memfd: memfd_create: %s\n", strerror(errno));
		exit(1);
	}
	while (off < size) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		for (size_t i = 0; i < n; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
		}
		if (pwrite(fd, buf, n, off) != (ssize_t)n) {
			fprintf(stderr, "luoctl-memfd: pwrite: %s\n", strerror(errno));
			exit(1);
		}
		off += n;
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long size, seed;
	char num[32];
	int fd, status;
	pid_t child;

	if (argc < 5) {
		fprintf(stderr, "usage: luoctl-memfd run SIZE SEED -- COMMAND...\n"
				"       luoctl-memfd hold SIZE SEED FILE\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0);
	seed = strtoul(argv[3], NULL, 0);
	fd = make_memfd(size, seed);
	if (strcmp(argv[1], "hold") == 0) {
		FILE *f = fopen(argv[4], "w");

		if (!f || fprintf(f, "%d %d\n", getpid(), fd) < 0 || fclose(f)) {
			fprintf(stderr, "luoctl-memfd: cannot write %s\n", argv[4]);
			return 1;
		}
		for (;;)
			pause();
	}
	if (strcmp(argv[1], "run") != 0 || strcmp(argv[4], "--") != 0 || argc < 6) {
		fprintf(stderr, "luoctl-memfd: bad arguments\n");
		return 2;
	}
	snprintf(num, sizeof(num), "%d", fd);
	setenv("MEMFD_FD", num, 1);
	child = fork();
	if (child == 0) {
		execvp(argv[5], argv + 5);
		fprintf(stderr, "luoctl-memfd: %s: %s\n", argv[5], strerror(errno));
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
