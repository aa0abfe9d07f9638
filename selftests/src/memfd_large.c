// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-large --stage 1|2 [--mib N]: one big memfd (512 MiB by default),
 * every page written, survives a live update; every byte is checked after.
 * Prints how long writing, preserving, retrieving and verifying took as
 * "# " diagnostics.
 */
#include "lu_test.h"

#include <sys/mman.h>
#include <time.h>

#define MiB (1024UL * 1024)
#define SESSION "memfd-large"
#define READY "/tmp/memfd-large.ready"
#define TOKEN 42
#define SEED 0x5eed

/* Every page differs from every other, every byte from its neighbours. */
static void fill_pattern(uint8_t *buf, uint64_t off, size_t n)
{
	while (n) {
		size_t run = 4096 - (off & 4095);
		uint8_t v = (uint8_t)(off + (off >> 12) * 7 + (off >> 20) * 13 +
				      SEED);

		if (run > n)
			run = n;
		for (size_t i = 0; i < run; i++)
			buf[i] = (uint8_t)(v + i);
		buf += run;
		off += run;
		n -= run;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timing(const char *what, double secs, uint64_t bytes)
{
	lu_diag("%s: %.2f s (%.0f MiB/s)", what, secs,
		secs > 0 ? bytes / (double)MiB / secs : 0.0);
}

static uint64_t size_arg(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--mib"))
			return strtoull(argv[i + 1], NULL, 0) * MiB;
	return 512 * MiB;
}

static void stage_1(uint64_t size)
{
	static uint8_t buf[MiB];
	int dev, session, fd;
	double t;

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_create_session(dev, SESSION);
	if (session < 0)
		BAIL("create session: %s", lu_errname(session));
	fd = memfd_create("large", MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, size))
		BAIL("memfd of %llu MiB: %s", (unsigned long long)(size / MiB),
		     strerror(errno));

	t = now();
	for (uint64_t off = 0; off < size; off += MiB) {
		fill_pattern(buf, off, MiB);
		if (pwrite(fd, buf, MiB, off) != (ssize_t)MiB)
			BAIL("write at %llu MiB: %s",
			     (unsigned long long)(off / MiB), strerror(errno));
	}
	timing("write", now() - t, size);

	t = now();
	CHECK_ERR(lu_preserve_fd(session, fd, TOKEN), 0,
		  "preserve a %llu MiB memfd", (unsigned long long)(size / MiB));
	timing("preserve", now() - t, size);
	CHECK_ERR(ftruncate(fd, size / 2) ? -errno : 0, -EPERM,
		  "its size is frozen");
	lu_hold_until_kexec(READY);
}

static void stage_2(uint64_t size)
{
	static uint8_t want[MiB];
	int dev, session, fd;
	uint64_t bad = 0;
	struct stat st;
	uint8_t *map;
	double t;

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_retrieve_session(dev, SESSION);
	if (session < 0)
		BAIL("retrieve session: %s", lu_errname(session));

	t = now();
	fd = lu_retrieve_fd(session, TOKEN);
	if (fd < 0)
		BAIL("retrieve the memfd: %s", lu_errname(fd));
	timing("retrieve", now() - t, size);
	CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == size,
	      "size is %llu MiB", (unsigned long long)(size / MiB));

	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		BAIL("mmap: %s", strerror(errno));
	t = now();
	for (uint64_t off = 0; off < size; off += MiB) {
		fill_pattern(want, off, MiB);
		if (memcmp(map + off, want, MiB)) {
			for (uint64_t p = 0; p < MiB; p += 4096) {
				if (memcmp(map + off + p, want + p, 4096) &&
				    !bad++)
					lu_diag("first bad page at offset %llu",
						(unsigned long long)(off + p));
			}
		}
	}
	timing("verify", now() - t, size);
	if (!CHECK(!bad, "every page of %llu MiB arrived intact",
		   (unsigned long long)(size / MiB)))
		lu_diag("%llu bad pages", (unsigned long long)bad);
	munmap(map, size);
	close(fd);
	CHECK_ERR(lu_finish(session), 0, "finish the session");
}

int main(int argc, char **argv)
{
	uint64_t size = size_arg(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lu_stage(argc, argv) == 1)
		stage_1(size);
	else
		stage_2(size);
	return lu_exit_status();
}
