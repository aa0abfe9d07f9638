// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-twice --stage 1|2|3: a memfd survives two live updates in a row.
 *
 * Stage 1 preserves it in session "memfd-twice-1" (and checks that the same
 * memfd cannot be preserved twice, even through another fd). Stage 2
 * retrieves it, checks it, changes part of it and its position, and
 * preserves it again in session "memfd-twice-2" (refused with EBUSY until
 * the first session is finished: the retrieved file is still that
 * session's). Stage 3 retrieves it from the second session and checks both
 * the original data and the change.
 */
#include "lu_test.h"

#include <linux/falloc.h>

#include <sys/mman.h>

#define MiB (1024UL * 1024)
#define SIZE (4 * MiB + 4096 + 7)
#define READY "/tmp/memfd-twice.ready"
#define TOKEN1 1
#define TOKEN2 7
#define POS1 1000
#define POS2 (3 * MiB)
/* The range stage 2 rewrites with the second seed. */
#define LATE_OFF (2 * MiB - 5)
#define LATE_LEN (MiB + 10)

static uint8_t pattern(uint32_t seed, uint64_t off)
{
	return (uint8_t)(off + (off >> 12) * 7 + (off >> 20) * 13 + seed * 29);
}

static uint8_t expected(int generation, uint64_t off)
{
	if (generation >= 2 && off >= LATE_OFF && off < LATE_OFF + LATE_LEN)
		return pattern(2, off);
	return pattern(1, off);
}

static bool content_ok(int fd, int generation)
{
	static uint8_t buf[SIZE];
	struct stat st;

	if (fstat(fd, &st) || st.st_size != SIZE) {
		lu_diag("size is %lld, want %lu", (long long)st.st_size, SIZE);
		return false;
	}
	if (pread(fd, buf, SIZE, 0) != (ssize_t)SIZE) {
		lu_diag("pread: %s", strerror(errno));
		return false;
	}
	for (uint64_t off = 0; off < SIZE; off++) {
		if (buf[off] != expected(generation, off)) {
			lu_diag("byte %llu is %#x, want %#x",
				(unsigned long long)off, buf[off],
				expected(generation, off));
			return false;
		}
	}
	return true;
}

static int write_seed(int fd, uint32_t seed, uint64_t off, uint64_t len)
{
	static uint8_t buf[SIZE];

	for (uint64_t i = 0; i < len; i++)
		buf[i] = pattern(seed, off + i);
	return pwrite(fd, buf, len, off) == (ssize_t)len ? 0 : -errno;
}

/* /dev/liveupdate opens exclusively: one fd for the whole stage. */
static int open_session(const char *name, bool incoming)
{
	static int dev = -1;
	int session;

	if (dev < 0)
		dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = incoming ? lu_retrieve_session(dev, name) :
		lu_create_session(dev, name);
	if (session < 0)
		BAIL("%s session %s: %s", incoming ? "retrieve" : "create",
		     name, lu_errname(session));
	return session;
}

static void stage_1(void)
{
	int session = open_session("memfd-twice-1", false);
	int fd, other, ro;
	char path[64];

	fd = memfd_create("twice", MFD_ALLOW_SEALING);
	if (fd < 0 || write_seed(fd, 1, 0, SIZE))
		BAIL("memfd: %s", strerror(errno));
	lseek(fd, POS1, SEEK_SET);
	CHECK_ERR(lu_preserve_fd(session, fd, TOKEN1), 0, "preserve the memfd");
	CHECK_ERR(lu_preserve_fd(session, fd, TOKEN1 + 1), -EBUSY,
		  "preserving it again under another token is EBUSY");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	other = open_session("memfd-twice-other", false);
	CHECK_ERR(lu_preserve_fd(other, ro, TOKEN1), -EBUSY,
		  "preserving it through another fd in another session is EBUSY");
	close(other);
	close(ro);
	lu_hold_until_kexec(READY);
}

static void stage_2(void)
{
	int first = open_session("memfd-twice-1", true);
	int second, fd;

	fd = lu_retrieve_fd(first, TOKEN1);
	if (fd < 0)
		BAIL("retrieve from the first session: %s", lu_errname(fd));
	CHECK(content_ok(fd, 1), "after the first live update: every byte");
	CHECK(lseek(fd, 0, SEEK_CUR) == POS1, "position %d", POS1);

	second = open_session("memfd-twice-2", false);
	CHECK_ERR(lu_preserve_fd(second, fd, TOKEN2), -EBUSY,
		  "preserving it before its session is finished is EBUSY");
	CHECK_ERR(lu_finish(first), 0, "finish the first session");
	close(first);

	CHECK_ERR(write_seed(fd, 2, LATE_OFF, LATE_LEN), 0, "rewrite 1 MiB of it");
	lseek(fd, POS2, SEEK_SET);
	CHECK_ERR(lu_preserve_fd(second, fd, TOKEN2), 0,
		  "preserve the retrieved memfd into a new session");
	CHECK_ERR(ftruncate(fd, SIZE + 1) ? -errno : 0, -EPERM,
		  "its size is frozen again");
	lu_hold_until_kexec(READY);
}

static void stage_3(void)
{
	int session = open_session("memfd-twice-2", true);
	int fd = lu_retrieve_fd(session, TOKEN2);
	uint8_t *map;

	if (fd < 0)
		BAIL("retrieve from the second session: %s", lu_errname(fd));
	CHECK(content_ok(fd, 2),
	      "after the second live update: every byte, with the rewrite");
	CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)POS2, "position %lu", POS2);
	map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK(map != MAP_FAILED, "it maps shared and writable")) {
		CHECK(map[LATE_OFF] == expected(2, LATE_OFF) &&
		      map[SIZE - 1] == expected(2, SIZE - 1),
		      "the map shows the same data");
		munmap(map, SIZE);
	}
	CHECK_ERR(ftruncate(fd, SIZE + 4096) ? -errno : 0, 0,
		  "its size can change again");
	CHECK_ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    MiB, 2 * MiB) ? -errno : 0, 0, "a hole can be punched");
	{
		static uint8_t buf[2 * MiB], zero[2 * MiB];

		CHECK(pread(fd, buf, sizeof(buf), MiB) == (ssize_t)sizeof(buf) &&
		      !memcmp(buf, zero, sizeof(buf)) &&
		      pread(fd, buf, 1, 3 * MiB) == 1 &&
		      buf[0] == expected(2, 3 * MiB),
		      "the hole reads as zeros, the rest is kept");
	}
	CHECK_ERR(ftruncate(fd, 0) ? -errno : 0, 0, "it can be truncated to 0");
	close(fd);
	CHECK_ERR(lu_finish(session), 0, "finish the second session");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	switch (lu_stage(argc, argv)) {
	case 1:
		stage_1();
		break;
	case 2:
		stage_2();
		break;
	default:
		stage_3();
		break;
	}
	return lu_exit_status();
}
