// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-device: /dev/liveupdate and the session fd on a cold boot, every
 * check errno-exact. What it pins down, as the in-kernel LUO of 7.3 does it
 * (kernel/liveupdate/luo_core.c, luo_session.c):
 *   - exclusive open: a second open is EBUSY until the first is closed;
 *   - dispatch, in this order: an nr outside the table is EINVAL (before the
 *     argument is touched); then the u32 size is read (EFAULT); then a cmd
 *     that differs from the table's in type/direction/size bits is ENOTTY;
 *     then (session fd) a command for the other kind of session is EINVAL;
 *     then size < the struct's last member is EINVAL; a larger size needs a
 *     zero tail (E2BIG), and an unreadable tail or struct is EFAULT;
 *   - the reply is written back over min(size, sizeof) bytes, size itself
 *     unchanged (the caller's, not the kernel's), and only after
 *     everything else succeeded: a read-only argument to CREATE_SESSION is
 *     EFAULT and leaves neither a session nor an fd behind; fd exhaustion is
 *     EMFILE and leaves no session;
 *   - names: empty and 64 bytes without a NUL are EINVAL, 63 are fine, any
 *     bytes are fine, bytes after the NUL do not count, a duplicate is
 *     EEXIST, and a closed session's name is free again; of many threads
 *     creating one name at once exactly one wins;
 *   - RETRIEVE_SESSION on a cold boot is ENOENT for any name, including an
 *     outgoing session's (incoming and outgoing are separate lists);
 *   - the session fd: O_CLOEXEC, "anon_inode:[luo_session] NAME" in /proc,
 *     on the anon-inode fs (what systemd checks before it trusts one),
 *     read/write EINVAL, GET_NAME (reserved must be 0), FINISH and
 *     RETRIEVE_FD on an outgoing session EINVAL; it outlives the device fd;
 *   - the module's LIVEUPDATE_IOCTL_MOD_STATUS is EINVAL upstream (its nr is
 *     outside upstream's table), so it can never be mistaken for a command.
 */
#include "lu_test.h"

#include <pthread.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/vfs.h>

#define PAGE 4096

static int dev;

struct create_big {
	struct liveupdate_ioctl_create_session arg;
	uint8_t tail[16];
};

/* An argument buffer that ends exactly where an unmapped page starts. */
static uint8_t *fault_edge;

static void map_fault_edge(void)
{
	uint8_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || munmap(p + PAGE, PAGE))
		BAIL("map a page followed by a hole");
	fault_edge = p + PAGE;
}

static long create_raw(void *arg)
{
	return lu_ioctl(dev, LIVEUPDATE_IOCTL_CREATE_SESSION, arg);
}

/* Create and close @name: 0 if the name is free, -EEXIST if still taken. */
static long name_is_free(const char *name)
{
	int s = lu_create_session(dev, name);

	if (s >= 0)
		close(s);
	return s < 0 ? s : 0;
}

static void test_open(void)
{
	dev = CHECK_OK(lu_open_dev(), "first open of /dev/liveupdate");
	if (dev < 0)
		BAIL("cannot open /dev/liveupdate");
	CHECK_ERR(lu_open_dev(), -EBUSY, "second open is EBUSY");
	close(dev);
	dev = CHECK_OK(lu_open_dev(), "open works again after close");
	if (dev < 0)
		BAIL("cannot reopen /dev/liveupdate");
}

static void test_dispatch(void)
{
	struct liveupdate_ioctl_create_session arg = { .size = sizeof(arg), .name = "dispatch" };

	CHECK_ERR(lu_ioctl(dev, _IO(0xBA, 2), &arg), -EINVAL, "device nr 2 (past the table): EINVAL");
	CHECK_ERR(lu_ioctl(dev, _IO(0xBA, 0xff), &arg), -EINVAL, "device nr 0xff: EINVAL");
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_SESSION_GET_NAME, &arg), -EINVAL,
		  "a session command on the device: EINVAL");
	CHECK_ERR(lu_ioctl(dev, _IO(0xBA, 2), NULL), -EINVAL,
		  "nr past the table with a NULL argument: EINVAL (range before pointer)");
	CHECK_ERR(lu_ioctl(dev, _IOW(0xBA, 0, int), &arg), -ENOTTY,
		  "_IOW(0xBA, 0, int): ENOTTY (nr right, direction/size wrong)");
	CHECK_ERR(lu_ioctl(dev, _IOWR(0xBA, 1, struct liveupdate_ioctl_retrieve_session), &arg),
		  -ENOTTY, "_IOWR(0xBA, 1, struct): ENOTTY");
	CHECK_ERR(lu_ioctl(dev, _IO(0xBB, 0), &arg), -ENOTTY, "_IO(0xBB, 0) (other type): ENOTTY");
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_CREATE_SESSION, NULL), -EFAULT,
		  "CREATE_SESSION with a NULL argument: EFAULT");
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_CREATE_SESSION, (void *)1), -EFAULT,
		  "CREATE_SESSION with argument 0x1: EFAULT");
	CHECK_ERR(lu_ioctl(dev, _IOW(0xBA, 0, int), NULL), -EFAULT,
		  "wrong direction bits with a NULL argument: EFAULT (size read before cmd match)");
	CHECK_ERR(name_is_free("dispatch"), 0, "none of these created a session");

	if (lu_is_module()) {
		struct liveupdate_mod_status st = { .size = sizeof(st) };

		CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &st), 0,
			  "MOD_STATUS (module extension): answered");
		CHECK_ERR(lu_ioctl(dev, _IO(0xBA, LIVEUPDATE_CMD_MOD_BASE + 1), &st), -EINVAL,
			  "nr past the extension's table: EINVAL");
	} else {
		CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &arg), -EINVAL,
			  "MOD_STATUS (module extension) upstream: EINVAL");
	}
}

static void test_sizes(void)
{
	struct create_big big = { .arg.name = "sizes" };
	struct liveupdate_ioctl_retrieve_session rarg = { .name = "sizes" };
	struct liveupdate_ioctl_create_session *edge, *ro;
	const uint32_t small[] = { 0, 4, sizeof(big.arg) - 1 };
	int before;

	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		big.arg.size = small[i];
		CHECK_ERR(create_raw(&big), -EINVAL, "CREATE_SESSION size %u (< 72): EINVAL", small[i]);
	}

	big.arg.size = sizeof(big);
	big.arg.fd = -1;
	if (CHECK_ERR(create_raw(&big), 0, "CREATE_SESSION size 88 with a zero tail: ok")) {
		CHECK(big.arg.fd >= 0, "the reply carries the fd (%d)", big.arg.fd);
		CHECK(big.arg.size == sizeof(big), "the reply echoes the caller's size (%u)", big.arg.size);
		close(big.arg.fd);
	}
	big.tail[15] = 1;
	CHECK_ERR(create_raw(&big), -E2BIG, "CREATE_SESSION size 88 with a non-zero tail: E2BIG");
	big.tail[15] = 0;

	/* The tail runs into the hole: copy_struct_from_user cannot check it. */
	edge = (void *)(fault_edge - sizeof(*edge));
	*edge = (struct liveupdate_ioctl_create_session){ .size = sizeof(*edge) + 8, .name = "sizes" };
	CHECK_ERR(create_raw(edge), -EFAULT, "size reaching into unmapped memory: EFAULT");
	/* Only the size is readable. */
	edge = (void *)(fault_edge - 4);
	edge->size = sizeof(*edge);
	CHECK_ERR(create_raw(edge), -EFAULT, "struct crossing into unmapped memory: EFAULT");

	/* The reply cannot be written: no session, no fd may remain. */
	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		BAIL("mmap");
	*ro = (struct liveupdate_ioctl_create_session){ .size = sizeof(*ro), .name = "read-only" };
	mprotect(ro, PAGE, PROT_READ);
	before = lu_count_fds();
	CHECK_ERR(create_raw(ro), -EFAULT, "CREATE_SESSION with a read-only argument: EFAULT");
	CHECK(lu_count_fds() == before, "... and no fd was installed");
	CHECK_ERR(name_is_free("read-only"), 0, "... and no session was left behind");
	munmap(ro, PAGE);

	rarg.size = sizeof(rarg) - 1;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, &rarg), -EINVAL,
		  "RETRIEVE_SESSION size 71: EINVAL");
	rarg.size = 0;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, &rarg), -EINVAL,
		  "RETRIEVE_SESSION size 0: EINVAL");
}

static void test_names(void)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH + 1], got[LIVEUPDATE_SESSION_NAME_LENGTH];
	struct liveupdate_ioctl_create_session raw = { .size = sizeof(raw) };
	char link[128], path[64];
	struct statfs sfs;
	int s, abc, odd, i, many[100];
	ssize_t n;

	CHECK_ERR(lu_create_session(dev, ""), -EINVAL, "empty name: EINVAL");
	memset(name, 'a', LIVEUPDATE_SESSION_NAME_LENGTH);
	name[LIVEUPDATE_SESSION_NAME_LENGTH] = '\0';
	CHECK_ERR(lu_create_session(dev, name), -EINVAL, "64 bytes without a NUL: EINVAL");
	memset(name, 'b', LIVEUPDATE_SESSION_NAME_LENGTH - 1);
	name[LIVEUPDATE_SESSION_NAME_LENGTH - 1] = '\0';
	s = CHECK_OK(lu_create_session(dev, name), "63-byte name: ok");
	CHECK(s >= 0 && lu_get_name(s, got) == 0 && !strcmp(got, name), "GET_NAME returns the 63 bytes");
	CHECK_ERR(lu_create_session(dev, name), -EEXIST, "the same 63-byte name again: EEXIST");
	close(s);

	abc = CHECK_OK(lu_create_session(dev, "abc"), "name \"abc\": ok");
	memcpy(raw.name, "abc\0junk", 8);
	CHECK_ERR(create_raw(&raw), -EEXIST, "\"abc\\0junk\" is \"abc\" (bytes after the NUL ignored): EEXIST");
	odd = CHECK_OK(lu_create_session(dev, "sp ace/\x01\xff"), "a name with space, slash, \\x01, \\xff: ok");
	CHECK(odd >= 0 && lu_get_name(odd, got) == 0 && !strcmp(got, "sp ace/\x01\xff"),
	      "GET_NAME returns those bytes");
	close(odd);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", abc);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	CHECK(!strcmp(link, "anon_inode:[luo_session] abc"), "/proc shows \"%s\"", link);
	/* What systemd (261) checks before it treats a stored fd as a session. */
	memset(&sfs, 0, sizeof(sfs));
	fstatfs(abc, &sfs);
	CHECK(sfs.f_type == ANON_INODE_FS_MAGIC, "the session fd is on the anon-inode fs (f_type %#lx)",
	      (unsigned long)sfs.f_type);
	CHECK(fcntl(abc, F_GETFD) == FD_CLOEXEC, "the session fd is O_CLOEXEC");

	CHECK_ERR(lu_retrieve_session(dev, "nope"), -ENOENT, "RETRIEVE_SESSION of an unknown name: ENOENT");
	CHECK_ERR(lu_retrieve_session(dev, "abc"), -ENOENT, "RETRIEVE_SESSION of an outgoing session: ENOENT");
	CHECK_ERR(lu_retrieve_session(dev, ""), -ENOENT, "RETRIEVE_SESSION of \"\": ENOENT");

	/* The device fd is only the door: sessions outlive it. */
	close(dev);
	CHECK(lu_get_name(abc, got) == 0 && !strcmp(got, "abc"), "a session works after the device fd is closed");
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("reopen /dev/liveupdate");
	CHECK_ERR(lu_create_session(dev, "abc"), -EEXIST, "... and still owns its name after a reopen");
	close(abc);
	CHECK_ERR(name_is_free("abc"), 0, "a closed session's name is free again");

	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "many-%d", i);
		many[i] = lu_create_session(dev, name);
		if (many[i] < 0)
			break;
	}
	if (i < 100)
		lu_diag("session %d: %s", i, lu_errname(many[i]));
	CHECK(i == 100, "100 sessions open at once");
	while (i--)
		close(many[i]);
	for (i = 0; i < 100 && name_is_free("again") == 0; i++)
		;
	CHECK(i == 100, "100 create/close cycles of one name (%d done)", i);
}

static void test_session_ioctls(void)
{
	struct {
		struct liveupdate_session_get_name arg;
		uint8_t tail[8];
	} gn = { .arg.size = sizeof(gn) };
	struct liveupdate_session_finish fin = { .size = sizeof(fin) };
	struct liveupdate_session_retrieve_fd rfd = { .size = sizeof(rfd), .token = 1 };
	char buf[8];
	int s;

	s = lu_create_session(dev, "ioctls");
	if (s < 0)
		BAIL("create session \"ioctls\"");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_GET_NAME, &gn), 0, "GET_NAME size 80, zero tail: ok");
	CHECK(!strcmp((char *)gn.arg.name, "ioctls"), "GET_NAME fills the name");
	gn.tail[7] = 1;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_GET_NAME, &gn), -E2BIG, "GET_NAME non-zero tail: E2BIG");
	gn.tail[7] = 0;
	gn.arg.reserved = 1;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_GET_NAME, &gn), -EINVAL, "GET_NAME reserved != 0: EINVAL");
	gn.arg.reserved = 0;
	gn.arg.size = sizeof(gn.arg) - 1;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_GET_NAME, &gn), -EINVAL, "GET_NAME size 71: EINVAL");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_GET_NAME, NULL), -EFAULT, "GET_NAME NULL: EFAULT");

	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_FINISH, &fin), -EINVAL, "FINISH on an outgoing session: EINVAL");
	fin.size = 0;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_FINISH, &fin), -EINVAL,
		  "FINISH on an outgoing session, size 0: EINVAL");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_FINISH, NULL), -EFAULT,
		  "FINISH on an outgoing session, NULL: EFAULT (size read first)");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_RETRIEVE_FD, &rfd), -EINVAL,
		  "RETRIEVE_FD on an outgoing session: EINVAL");

	CHECK_ERR(lu_ioctl(s, _IO(0xBA, 0x44), &fin), -EINVAL, "session nr 0x44 (past the table): EINVAL");
	CHECK_ERR(lu_ioctl(s, _IO(0xBA, 0x3f), &fin), -EINVAL, "session nr 0x3f (below the table): EINVAL");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_IOCTL_CREATE_SESSION, &gn), -EINVAL,
		  "CREATE_SESSION on a session fd: EINVAL");
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_IOCTL_MOD_STATUS, &gn), -EINVAL, "MOD_STATUS on a session fd: EINVAL");
	CHECK_ERR(lu_ioctl(s, _IOR(0xBA, 0x43, int), &gn), -ENOTTY,
		  "_IOR(0xBA, 0x43, int) on a session fd: ENOTTY");

	CHECK_ERR(read(s, buf, sizeof(buf)) < 0 ? -errno : 0, -EINVAL, "read() on a session fd: EINVAL");
	CHECK_ERR(write(s, buf, sizeof(buf)) < 0 ? -errno : 0, -EINVAL, "write() on a session fd: EINVAL");
	close(s);
}

static void test_fd_exhaustion(void)
{
	struct rlimit old, lim;
	int fds[64], n = 0;

	getrlimit(RLIMIT_NOFILE, &old);
	lim = old;
	lim.rlim_cur = 32;
	setrlimit(RLIMIT_NOFILE, &lim);
	while (n < 64 && (fds[n] = dup(dev)) >= 0)
		n++;
	CHECK_ERR(lu_create_session(dev, "nofile"), -EMFILE, "CREATE_SESSION with no free fd: EMFILE");
	close(fds[--n]);
	CHECK_ERR(name_is_free("nofile"), 0, "... and left no session behind");
	while (n)
		close(fds[--n]);
	setrlimit(RLIMIT_NOFILE, &old);
}

#define RACERS 8
#define ROUNDS 20

static pthread_barrier_t start_line;
static int race_fd[RACERS];

static void *racer(void *arg)
{
	int i = (int)(intptr_t)arg;

	pthread_barrier_wait(&start_line);
	race_fd[i] = lu_create_session(dev, "race");
	return NULL;
}

static void test_race(void)
{
	pthread_t t[RACERS];
	int round, i, bad = 0;

	pthread_barrier_init(&start_line, NULL, RACERS);
	for (round = 0; round < ROUNDS; round++) {
		int won = 0, lost = 0;

		for (i = 0; i < RACERS; i++)
			pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i);
		for (i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < RACERS; i++) {
			if (race_fd[i] >= 0) {
				won++;
				close(race_fd[i]);
			} else if (race_fd[i] == -EEXIST) {
				lost++;
			}
		}
		if (won != 1 || lost != RACERS - 1) {
			lu_diag("round %d: %d won, %d EEXIST", round, won, lost);
			bad++;
		}
	}
	CHECK(!bad, "%d threads x %d rounds create one name: one wins, the rest EEXIST", RACERS, ROUNDS);
	pthread_barrier_destroy(&start_line);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	lu_diag("provider: %s", lu_provider());
	map_fault_edge();
	test_open();
	test_dispatch();
	test_sizes();
	test_names();
	test_session_ioctls();
	test_fd_exhaustion();
	test_race();
	close(dev);
	return lu_exit_status();
}
