// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-handover --stage 1|2|3: sessions across two consecutive live updates,
 * every check errno-exact. What it pins down, as the in-kernel LUO of 7.3
 * does it (kernel/liveupdate/luo_session.c, luo_file.c):
 *   - a session closed before the reboot does not come back (ENOENT);
 *   - RETRIEVE_SESSION gives an incoming session once: again is EINVAL
 *     while it is open, ENOENT once it is closed; unknown names are ENOENT;
 *   - incoming and outgoing sessions are separate lists: a new outgoing
 *     session may take an incoming session's name (a second one is EEXIST);
 *   - on an incoming session: GET_NAME works, PRESERVE_FD is EINVAL,
 *     RETRIEVE_FD of an unknown token is ENOENT, of a known one gives a new
 *     fd (O_CLOEXEC) with the exact content, size and position; again gives
 *     another fd for the same open file (same inode, shared offset); a reply
 *     that cannot be written is EFAULT with no fd installed, and a retry
 *     works; a retrieved memfd is an ordinary memfd (it may grow) but stays
 *     owned by its session until FINISH (PRESERVE_FD elsewhere: EBUSY);
 *   - FINISH (reserved must be 0, size >= 8) succeeds, again succeeds,
 *     RETRIEVE_FD after it is ENOENT, files never retrieved are dropped by
 *     it, and a read-only argument is EFAULT although it finished;
 *     retrieved fds stay valid after it;
 *   - closing a retrieved session without FINISH finishes it (its files are
 *     free to be preserved again) and removes it;
 *   - an incoming session never retrieved is gone after the next live
 *     update, and so is everything stage 2 did not preserve again;
 *   - a retrieved file preserved again (after FINISH, with content added)
 *     comes back after the second live update, seals included.
 */
#include "lu_test.h"

#include <sys/mman.h>

#define READY "/tmp/uapi-handover.ready"
#define PAGE 4096
#define A1_SIZE (2 * PAGE + 17)
#define A1_POS 5
#define A2_SIZE 1000
#define B1_SIZE 300
#define S2_SIZE (PAGE + 1)
#define SEALS (F_SEAL_SHRINK | F_SEAL_GROW)
#define SUFFIX "+stage2"

static int dev;

static uint8_t pattern(uint32_t seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

/* A memfd of @len pattern(@seed) bytes. */
static int memfd_pattern(uint32_t seed, size_t len)
{
	int fd = memfd_create("uapi-handover", MFD_ALLOW_SEALING);
	uint8_t *buf = malloc(len + 1);

	if (fd < 0 || !buf)
		BAIL("memfd_create: %s", strerror(errno));
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len)
		BAIL("fill memfd");
	free(buf);
	return fd;
}

/* @fd holds exactly @len pattern(@seed) bytes, then @suffix. */
static bool holds(int fd, uint32_t seed, size_t len, const char *suffix)
{
	size_t total = len + strlen(suffix);
	uint8_t *buf = malloc(total + 1);
	struct stat st;
	bool ok = fd >= 0 && buf && !fstat(fd, &st) && st.st_size == (off_t)total &&
		  pread(fd, buf, total + 1, 0) == (ssize_t)total;

	for (size_t i = 0; ok && i < len; i++) {
		if (buf[i] != pattern(seed, i)) {
			lu_diag("byte %zu is %#x, want %#x", i, buf[i], pattern(seed, i));
			ok = false;
		}
	}
	ok = ok && !memcmp(buf + len, suffix, strlen(suffix));
	free(buf);
	return ok;
}

/* A session with the memfds (token, seed, size) of @files, ending at 0,0,0. */
static int session_with(const char *name, const uint64_t (*files)[3])
{
	int s = lu_create_session(dev, name);

	if (s < 0)
		BAIL("create session %s: %s", name, lu_errname(s));
	for (; files && files[0][2]; files++) {
		int m = memfd_pattern(files[0][1], files[0][2]);

		if (files[0][0] == 0xB1 && fcntl(m, F_ADD_SEALS, SEALS))
			BAIL("seal memfd");
		CHECK_ERR(lu_preserve_fd(s, m, files[0][0]), 0, "%s: preserve token %#llx", name,
			  (unsigned long long)files[0][0]);
		close(m); /* the session holds it now */
	}
	return s;
}

static void stage_1(void)
{
	static const uint64_t a[][3] = { { 1, 0xA1, A1_SIZE }, { 2, 0xA2, A2_SIZE }, { 0 } };
	static const uint64_t b[][3] = { { 0xB1, 0xB1, B1_SIZE }, { 0 } };
	static const uint64_t d[][3] = { { 0xD1, 0xD1, 100 }, { 0 } };
	static const uint64_t f[][3] = { { 1, 0xF1, 10 }, { 2, 0xF2, 20 }, { 0 } };
	int a1 = memfd_pattern(0xA1, A1_SIZE), s;

	CHECK_ERR(lu_retrieve_session(dev, "A"), -ENOENT, "cold boot: RETRIEVE_SESSION is ENOENT");
	s = session_with("A", a + 1);
	/* a1 by hand: its position must survive too. */
	lseek(a1, A1_POS, SEEK_SET);
	CHECK_ERR(lu_preserve_fd(s, a1, a[0][0]), 0, "A: preserve token 1 at position %d", A1_POS);
	session_with("B", b);
	session_with("C", NULL);
	session_with("D", d);
	close(session_with("E", d));
	session_with("F", f);
	lu_hold_until_kexec(READY);
}

static void stage_2(void)
{
	static const uint64_t s2[][3] = { { 0x5201, 0x52, S2_SIZE }, { 0 } };
	struct liveupdate_session_retrieve_fd rfd = { .size = 12, .token = 1 };
	struct liveupdate_session_finish fin = { .size = sizeof(fin), .reserved = 1 };
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int a, out, a1, a1b, a2, b, b1, c, f, f1, before;
	struct stat st1, st2;
	void *ro;

	CHECK_ERR(lu_retrieve_session(dev, "E"), -ENOENT, "a session closed before the reboot: ENOENT");
	a = CHECK_OK(lu_retrieve_session(dev, "A"), "RETRIEVE_SESSION A");
	if (a < 0)
		BAIL("nothing came over");
	CHECK_ERR(lu_retrieve_session(dev, "A"), -EINVAL, "RETRIEVE_SESSION A again: EINVAL");
	CHECK_ERR(lu_retrieve_session(dev, "nope"), -ENOENT, "RETRIEVE_SESSION of an unknown name: ENOENT");
	CHECK(lu_get_name(a, name) == 0 && !strcmp(name, "A"), "GET_NAME on the incoming session");
	out = CHECK_OK(lu_create_session(dev, "A"), "CREATE_SESSION A while A is incoming: ok");
	CHECK_ERR(lu_create_session(dev, "A"), -EEXIST, "a second outgoing A: EEXIST");

	CHECK_ERR(lu_ioctl(a, LIVEUPDATE_SESSION_RETRIEVE_FD, &rfd), -EINVAL, "RETRIEVE_FD size 12: EINVAL");
	CHECK_ERR(lu_retrieve_fd(a, 99), -ENOENT, "RETRIEVE_FD of an unknown token: ENOENT");
	a1 = CHECK_OK(lu_retrieve_fd(a, 1), "RETRIEVE_FD token 1");
	CHECK(holds(a1, 0xA1, A1_SIZE, ""), "token 1: content and size exact");
	CHECK(lseek(a1, 0, SEEK_CUR) == A1_POS, "token 1: position %d kept", A1_POS);
	CHECK(fcntl(a1, F_GETFD) == FD_CLOEXEC, "a retrieved fd is O_CLOEXEC");
	a1b = CHECK_OK(lu_retrieve_fd(a, 1), "RETRIEVE_FD token 1 again: ok");
	CHECK(a1b != a1 && !fstat(a1, &st1) && !fstat(a1b, &st2) && st1.st_ino == st2.st_ino &&
	      st1.st_dev == st2.st_dev, "... a new fd for the same inode");
	lseek(a1, 100, SEEK_SET);
	CHECK(lseek(a1b, 0, SEEK_CUR) == 100, "... and the same open file (shared offset)");
	CHECK_ERR(lu_preserve_fd(a, a1, 7), -EINVAL, "PRESERVE_FD on an incoming session: EINVAL");

	a2 = CHECK_OK(lu_retrieve_fd(a, 2), "RETRIEVE_FD token 2");
	CHECK(holds(a2, 0xA2, A2_SIZE, ""), "token 2: content exact");
	CHECK_ERR(lu_preserve_fd(out, a2, 2), -EBUSY, "a retrieved file before FINISH: PRESERVE_FD EBUSY");
	CHECK(pwrite(a2, SUFFIX, strlen(SUFFIX), A2_SIZE) == (ssize_t)strlen(SUFFIX),
	      "a retrieved memfd may grow (it is not frozen)");

	CHECK_ERR(lu_ioctl(a, LIVEUPDATE_SESSION_FINISH, &fin), -EINVAL, "FINISH reserved != 0: EINVAL");
	fin.reserved = 0;
	fin.size = 4;
	CHECK_ERR(lu_ioctl(a, LIVEUPDATE_SESSION_FINISH, &fin), -EINVAL, "FINISH size 4: EINVAL");
	CHECK_ERR(lu_finish(a), 0, "FINISH A");
	CHECK_ERR(lu_retrieve_fd(a, 1), -ENOENT, "RETRIEVE_FD after FINISH: ENOENT");
	CHECK_ERR(lu_finish(a), 0, "FINISH A again: ok");
	CHECK(lu_get_name(a, name) == 0 && !strcmp(name, "A"), "GET_NAME after FINISH");
	CHECK(holds(a1, 0xA1, A1_SIZE, ""), "a retrieved fd stays valid after FINISH");
	CHECK_ERR(lu_retrieve_session(dev, "A"), -EINVAL, "RETRIEVE_SESSION A after FINISH: EINVAL");
	CHECK_ERR(lu_preserve_fd(out, a2, 2), 0, "after FINISH it can be preserved again");
	close(a);
	CHECK_ERR(lu_retrieve_session(dev, "A"), -ENOENT, "RETRIEVE_SESSION A once closed: ENOENT");

	b = CHECK_OK(lu_retrieve_session(dev, "B"), "RETRIEVE_SESSION B");
	b1 = CHECK_OK(lu_retrieve_fd(b, 0xB1), "B: RETRIEVE_FD");
	CHECK(holds(b1, 0xB1, B1_SIZE, ""), "B: content exact");
	CHECK(fcntl(b1, F_GET_SEALS) == SEALS, "B: seals kept (%#x)", fcntl(b1, F_GET_SEALS));
	close(b);
	CHECK_ERR(lu_retrieve_session(dev, "B"), -ENOENT, "B closed without FINISH is gone: ENOENT");
	CHECK(holds(b1, 0xB1, B1_SIZE, ""), "B's file is still readable");
	CHECK_ERR(lu_preserve_fd(out, b1, 3), 0, "closing B finished it: its file can be preserved");

	c = CHECK_OK(lu_retrieve_session(dev, "C"), "RETRIEVE_SESSION C (empty)");
	CHECK_ERR(lu_retrieve_fd(c, 1), -ENOENT, "C: RETRIEVE_FD ENOENT");
	CHECK_ERR(lu_finish(c), 0, "C: FINISH");
	close(c);

	/* Replies that cannot be written: F's token 2 is never retrieved. */
	f = CHECK_OK(lu_retrieve_session(dev, "F"), "RETRIEVE_SESSION F");
	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		BAIL("mmap");
	*(struct liveupdate_session_retrieve_fd *)ro = (struct liveupdate_session_retrieve_fd){
		.size = sizeof(rfd), .token = 1 };
	mprotect(ro, PAGE, PROT_READ);
	before = lu_count_fds();
	CHECK_ERR(lu_ioctl(f, LIVEUPDATE_SESSION_RETRIEVE_FD, ro), -EFAULT,
		  "F: RETRIEVE_FD, read-only argument: EFAULT");
	CHECK(lu_count_fds() == before, "... and no fd was installed");
	f1 = CHECK_OK(lu_retrieve_fd(f, 1), "F: RETRIEVE_FD token 1 after that: ok");
	CHECK(holds(f1, 0xF1, 10, ""), "F: token 1 content exact");
	mprotect(ro, PAGE, PROT_READ | PROT_WRITE);
	*(struct liveupdate_session_finish *)ro = (struct liveupdate_session_finish){ .size = 8 };
	mprotect(ro, PAGE, PROT_READ);
	CHECK_ERR(lu_ioctl(f, LIVEUPDATE_SESSION_FINISH, ro), -EFAULT,
		  "F: FINISH, read-only argument: EFAULT");
	CHECK_ERR(lu_retrieve_fd(f, 2), -ENOENT,
		  "... yet it finished: token 2, never retrieved, is dropped (ENOENT)");
	CHECK_ERR(lu_finish(f), 0, "F: FINISH again: ok");
	CHECK(holds(f1, 0xF1, 10, ""), "F: token 1 still readable");
	close(f);
	munmap(ro, PAGE);

	/* D stays unretrieved; a new session goes along with the new A. */
	session_with("S2", s2);
	lu_hold_until_kexec(READY);
}

static void stage_3(void)
{
	static const char *const gone[] = { "D", "B", "C", "E", "F" };
	int a, s2, fd;

	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		CHECK_ERR(lu_retrieve_session(dev, gone[i]), -ENOENT,
			  "stage 1's %s is gone after the second live update", gone[i]);
	a = CHECK_OK(lu_retrieve_session(dev, "A"), "RETRIEVE_SESSION A (stage 2's)");
	CHECK_ERR(lu_retrieve_fd(a, 1), -ENOENT, "A: token 1 was not preserved again: ENOENT");
	fd = CHECK_OK(lu_retrieve_fd(a, 2), "A: token 2 came back a second time");
	CHECK(holds(fd, 0xA2, A2_SIZE, SUFFIX), "A: token 2 holds stage 1's bytes and stage 2's suffix");
	fd = CHECK_OK(lu_retrieve_fd(a, 3), "A: token 3 (B's file) came back a second time");
	CHECK(holds(fd, 0xB1, B1_SIZE, ""), "A: token 3 content exact");
	CHECK(fcntl(fd, F_GET_SEALS) == SEALS, "A: token 3 seals kept");
	s2 = CHECK_OK(lu_retrieve_session(dev, "S2"), "RETRIEVE_SESSION S2");
	fd = CHECK_OK(lu_retrieve_fd(s2, 0x5201), "S2: RETRIEVE_FD");
	CHECK(holds(fd, 0x52, S2_SIZE, ""), "S2: content exact");
	CHECK_ERR(lu_finish(a), 0, "FINISH A");
	CHECK_ERR(lu_finish(s2), 0, "FINISH S2");
}

int main(int argc, char **argv)
{
	int stage = lu_stage(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	lu_diag("provider: %s, stage %d", lu_provider(), stage);
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	if (stage == 1)
		stage_1();
	else if (stage == 2)
		stage_2();
	else
		stage_3();
	return lu_exit_status();
}
