// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-status: the module's own LIVEUPDATE_IOCTL_MOD_STATUS (not in the
 * in-kernel LUO, which answers EINVAL: see uapi-device), errno-exact.
 * What it pins down:
 *   - a cold boot: generation 1 (as in sysfs), nothing outgoing or
 *     incoming, ready = 1, no error, reserved and failure fields zero;
 *   - outgoing_sessions / outgoing_files follow CREATE_SESSION, PRESERVE_FD
 *     and closing a session fd; closing a memfd's own fd changes nothing;
 *   - ready stays 1 while only memfds are preserved;
 *   - metadata_bytes grows with what is preserved and returns to its
 *     cold-boot value once everything is closed;
 *   - the size rules of every command: size 0 or 4 EINVAL, a larger size
 *     needs a zero tail (E2BIG) that the reply leaves alone, the reply
 *     echoes the caller's size (as upstream's replies do), NULL and a
 *     read-only argument EFAULT, other direction/size bits ENOTTY, and the
 *     command is for /dev/liveupdate only (EINVAL on a session fd).
 */
#include "lu_test.h"

#include <sys/mman.h>

static int dev;

static long status(struct liveupdate_mod_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, st);
}

/* The counts, as one comparable string. */
static const char *counts(void)
{
	static char buf[96];
	struct liveupdate_mod_status st;
	long err = status(&st);

	if (err)
		snprintf(buf, sizeof(buf), "MOD_STATUS: %s", lu_errname(err));
	else
		snprintf(buf, sizeof(buf), "out %llu/%llu in %llu/%llu ready %u",
			 (unsigned long long)st.outgoing_sessions,
			 (unsigned long long)st.outgoing_files,
			 (unsigned long long)st.incoming_sessions,
			 (unsigned long long)st.incoming_files, st.ready);
	return buf;
}

#define CHECK_COUNTS(want, ...)                                                  \
	({                                                                       \
		const char *_got = counts();                                     \
		if (strcmp(_got, want))                                          \
			lu_diag("got \"%s\", want \"%s\"", _got, want);          \
		lu_result(!strcmp(_got, want), __VA_ARGS__);                     \
	})

static int memfd_bytes(size_t len)
{
	int fd = memfd_create("uapi-status", 0);

	if (fd < 0 || ftruncate(fd, len))
		BAIL("memfd: %s", strerror(errno));
	return fd;
}

static uint64_t sysfs_generation(void)
{
	FILE *f = fopen("/sys/class/misc/liveupdate/generation", "r");
	unsigned long long g = 0;

	if (!f || fscanf(f, "%llu", &g) != 1)
		g = 0;
	if (f)
		fclose(f);
	return g;
}

static void test_cold_boot(uint64_t *meta0)
{
	struct liveupdate_mod_status st;

	if (!CHECK_ERR(status(&st), 0, "MOD_STATUS on a cold boot"))
		BAIL("no MOD_STATUS");
	CHECK(st.generation == 1, "generation 1 (%llu)", (unsigned long long)st.generation);
	CHECK(st.generation == sysfs_generation(), "generation matches sysfs");
	CHECK_COUNTS("out 0/0 in 0/0 ready 1", "nothing outgoing or incoming, ready");
	CHECK(st.first_error == 0 && st.failed_token == 0 && st.failed_session[0] == 0 &&
	      st.reserved == 0, "no error reported, reserved 0");
	*meta0 = st.metadata_bytes;
	lu_diag("metadata_bytes on a cold boot: %llu", (unsigned long long)st.metadata_bytes);
}

static void test_counts(uint64_t meta0)
{
	struct liveupdate_mod_status st;
	int x, y, m1, m2, m3;

	x = lu_create_session(dev, "status-x");
	CHECK_COUNTS("out 1/0 in 0/0 ready 1", "CREATE_SESSION: one outgoing session");
	m1 = memfd_bytes(4096);
	m2 = memfd_bytes(0);
	CHECK_ERR(lu_preserve_fd(x, m1, 1), 0, "preserve a memfd");
	CHECK_ERR(lu_preserve_fd(x, m2, 2), 0, "preserve an empty memfd");
	CHECK_COUNTS("out 1/2 in 0/0 ready 1", "two files, ready");
	close(m1);
	close(m2);
	CHECK_COUNTS("out 1/2 in 0/0 ready 1", "closing the memfds' own fds changes nothing");
	CHECK_ERR(lu_preserve_fd(x, -1, 3), -EBADF, "a failed PRESERVE_FD ...");
	CHECK_COUNTS("out 1/2 in 0/0 ready 1", "... is not counted");

	y = lu_create_session(dev, "status-y");
	m3 = memfd_bytes(3 * 4096 + 1);
	CHECK_ERR(lu_preserve_fd(y, m3, 1), 0, "a second session with a memfd");
	CHECK_COUNTS("out 2/3 in 0/0 ready 1", "two sessions, three files");
	status(&st);
	lu_diag("metadata_bytes with 2 sessions, 3 files: %llu", (unsigned long long)st.metadata_bytes);
	CHECK(st.metadata_bytes > meta0, "metadata_bytes grew");

	close(x);
	CHECK_COUNTS("out 1/1 in 0/0 ready 1", "closing a session drops it and its files");
	close(y);
	close(m3);
	CHECK_COUNTS("out 0/0 in 0/0 ready 1", "closing the other one: nothing left");
	status(&st);
	CHECK(st.metadata_bytes == meta0, "metadata_bytes back to its cold-boot value (%llu)",
	      (unsigned long long)st.metadata_bytes);
}

static void test_sizes(void)
{
	struct {
		struct liveupdate_mod_status st;
		uint8_t tail[8];
	} big;
	struct liveupdate_mod_status *ro;
	int s;

	memset(&big, 0, sizeof(big));
	big.st.size = 0;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &big), -EINVAL, "size 0: EINVAL");
	big.st.size = 4;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &big), -EINVAL, "size 4: EINVAL");
	big.st.size = sizeof(big);
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &big), 0, "size %zu, zero tail: ok", sizeof(big));
	CHECK(big.st.generation == 1, "... and filled in");
	CHECK(big.st.size == sizeof(big), "... and size is the caller's, as upstream echoes it (%u)",
	      big.st.size);
	big.st.size = sizeof(big);
	big.tail[7] = 1;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &big), -E2BIG, "non-zero tail: E2BIG");
	CHECK(big.tail[7] == 1, "... and the tail is left alone");
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, NULL), -EFAULT, "NULL: EFAULT");
	CHECK_ERR(lu_ioctl(dev, _IOR(0xBA, LIVEUPDATE_CMD_MOD_STATUS, int), &big), -ENOTTY,
		  "_IOR(0xBA, 0x80, int): ENOTTY");

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		BAIL("mmap");
	ro->size = sizeof(*ro);
	mprotect(ro, 4096, PROT_READ);
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, ro), -EFAULT, "read-only argument: EFAULT");
	munmap(ro, 4096);

	s = lu_create_session(dev, "status-sizes");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_IOCTL_MOD_STATUS, &big), -EINVAL, "on a session fd: EINVAL");
	close(s);
}

int main(void)
{
	uint64_t meta0 = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lu_diag("provider: %s", lu_provider());
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	test_cold_boot(&meta0);
	test_counts(meta0);
	test_sizes();
	close(dev);
	return lu_exit_status();
}
