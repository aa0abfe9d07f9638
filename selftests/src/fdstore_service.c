// SPDX-License-Identifier: GPL-2.0
/*
 * fdstore-service: a systemd service that keeps its memory in its
 * file-descriptor store, the way systemd documents it (sd_notify(3)
 * FDSTORE=1 with FDNAME=, sd_listen_fds(3) at the next start), so that
 * systemd (>= 261) carries it across `systemctl kexec` through
 * /dev/liveupdate. Nothing here talks to /dev/liveupdate: that is systemd's
 * part, and the point of the test.
 *
 *   fdstore-service --result FILE [--mib N] [--seed S]
 *
 * Without stored fds (LISTEN_FDS unset): fills "big" (N MiB, 64 by default)
 * with a pattern derived from S, and "small" with a text naming S, N and
 * the pattern's checksum; moves big's file offset to a known place; puts
 * both in the fd store and says READY=1. With stored fds: checks what came
 * back, byte for byte, writing TAP lines ("ok - ..." / "not ok - ...") to
 * FILE, then READY=1. Either way it then waits to be stopped, so that the
 * unit is active while the test looks at it.
 *
 * The notify protocol is spoken directly (no libsystemd: the binary is
 * static and runs in the busybox guest's toolchain's libc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SD_LISTEN_FDS_START 3
#define BIG_POS 12345
#define SMALL_MAX 256

static FILE *result;
static int failures;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	fprintf(result, "%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vfprintf(result, fmt, ap);
	va_end(ap);
	fputc('\n', result);
	fflush(result);
	failures += !ok;
}

static void die(const char *what)
{
	fprintf(stderr, "fdstore-service: %s: %s\n", what, strerror(errno));
	if (result)
		tap(false, "fdstore-service: %s: %s", what, strerror(errno));
	exit(2);
}

/* splitmix64: the pattern of 8-byte word i is mix(seed + i). */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* One message to $NOTIFY_SOCKET, with fd attached if fd >= 0. */
static void notify(const char *msg, int fd)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = strlen(msg) };
	struct msghdr mh = { .msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1 };
	socklen_t len;
	int s;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		errno = EINVAL;
		die("NOTIFY_SOCKET");
	}
	strcpy(sa.sun_path, path);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	if (path[0] == '@')
		sa.sun_path[0] = 0; /* abstract namespace */
	mh.msg_namelen = len;
	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("socket");
	if (sendmsg(s, &mh, 0) < 0)
		die("sendmsg to NOTIFY_SOCKET");
	close(s);
}

static uint64_t fill(int fd, size_t size, uint64_t seed)
{
	uint64_t *p, sum = 0;

	if (ftruncate(fd, size))
		die("ftruncate big");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap big");
	for (size_t i = 0; i < size / 8; i++) {
		p[i] = mix(seed + i);
		sum ^= p[i] * (i | 1);
	}
	munmap(p, size);
	return sum;
}

static void store(uint64_t seed, size_t mib)
{
	size_t size = mib << 20;
	char text[SMALL_MAX];
	int big, small, n;
	uint64_t sum;

	big = memfd_create("fdstore-big", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	small = memfd_create("fdstore-small", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (big < 0 || small < 0)
		die("memfd_create");
	sum = fill(big, size, seed);
	if (lseek(big, BIG_POS, SEEK_SET) != BIG_POS)
		die("lseek big");
	n = snprintf(text, sizeof(text), "seed=%" PRIu64 " size=%zu sum=%016" PRIx64 "\n", seed,
		     size, sum);
	if (write(small, text, n) != n)
		die("write small");
	/* Sealed as a consumer that hands out read-only data would seal it. */
	if (fcntl(small, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE))
		die("seal small");
	notify("FDSTORE=1\nFDNAME=big", big);
	notify("FDSTORE=1\nFDNAME=small", small);
	fprintf(result, "# stored big (%zu MiB, seed %" PRIu64 ", sum %016" PRIx64
			") and small in the fd store\n",
		mib, seed, sum);
	fflush(result);
	close(big);
	close(small);
}

/* The fd named NAME among LISTEN_FDS, or -1. */
static int listen_fd(const char *name, int nfds)
{
	const char *names = getenv("LISTEN_FDNAMES");
	size_t len = strlen(name);
	int i = 0;

	for (const char *p = names; p && *p; i++) {
		const char *end = strchrnul(p, ':');

		if ((size_t)(end - p) == len && !memcmp(p, name, len) && i < nfds)
			return SD_LISTEN_FDS_START + i;
		p = *end ? end + 1 : end;
	}
	return -1;
}

static void verify(int nfds)
{
	char text[SMALL_MAX] = { 0 }, want[SMALL_MAX];
	int big = listen_fd("big", nfds), small = listen_fd("small", nfds);
	uint64_t seed, sum = 0, *p;
	size_t size, bad = 0;
	struct stat st;
	ssize_t n;

	tap(nfds == 2, "the fd store gave back 2 fds (LISTEN_FDS=%d, LISTEN_FDNAMES=%s)", nfds,
	    getenv("LISTEN_FDNAMES") ?: "");
	tap(big >= 0 && small >= 0, "both are named as stored: big, small");
	if (big < 0 || small < 0)
		return;
	n = pread(small, text, sizeof(text) - 1, 0);
	if (n <= 0 || sscanf(text, "seed=%" SCNu64 " size=%zu sum=%" SCNx64, &seed, &size, &sum) != 3) {
		tap(false, "small reads back its text: '%.*s'", (int)(n > 0 ? n : 0), text);
		return;
	}
	snprintf(want, sizeof(want), "seed=%" PRIu64 " size=%zu sum=%016" PRIx64 "\n", seed, size,
		 sum);
	tap(n == (ssize_t)strlen(want) && !strcmp(text, want), "small comes back byte for byte");
	fprintf(result, "# small's seals: %#x (sealed F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE)\n",
		fcntl(small, F_GET_SEALS));
	if (fstat(big, &st))
		die("fstat big");
	tap((size_t)st.st_size == size, "big has its size: %jd (want %zu)", (intmax_t)st.st_size,
	    size);
	if ((size_t)st.st_size != size)
		return;
	tap(lseek(big, 0, SEEK_CUR) == BIG_POS, "big keeps its file offset %d", BIG_POS);
	p = mmap(NULL, size, PROT_READ, MAP_SHARED, big, 0);
	if (p == MAP_FAILED)
		die("mmap big");
	for (size_t i = 0; i < size / 8; i++)
		bad += p[i] != mix(seed + i);
	munmap(p, size);
	tap(!bad, "big comes back byte for byte: %zu MiB, %zu of %zu words differ", size >> 20,
	    bad, size / 8);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *env;
	uint64_t seed = 0;
	size_t mib = 64;
	int nfds = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--result"))
			path = argv[i + 1];
		else if (!strcmp(argv[i], "--mib"))
			mib = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
	}
	if (!path || !mib || mib > 1024) {
		fprintf(stderr, "usage: fdstore-service --result FILE [--mib 1..1024] [--seed S]\n");
		return 2;
	}
	result = fopen(path, "a");
	if (!result)
		die(path);
	env = getenv("LISTEN_PID");
	if (env && strtol(env, NULL, 10) == getpid())
		nfds = atoi(getenv("LISTEN_FDS") ?: "0");
	if (nfds > 0) {
		verify(nfds);
	} else {
		if (!seed)
			seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
		store(seed, mib);
	}
	fprintf(result, "# fdstore-service: %s, %d failures\n", nfds ? "verified" : "stored",
		failures);
	fflush(result);
	notify("READY=1", -1);
	for (;;)
		pause();
}
