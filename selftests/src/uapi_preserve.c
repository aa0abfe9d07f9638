// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-preserve: LIVEUPDATE_SESSION_PRESERVE_FD before any reboot, every
 * check errno-exact. What it pins down, as the in-kernel LUO of 7.3 does it
 * (kernel/liveupdate/luo_file.c luo_preserve_file(), mm/memfd_luo.c):
 *   - the order of the checks: a token already used in the session is EEXIST
 *     (even with a bad fd), then a bad fd is EBADF (O_PATH fds too: fget()
 *     refuses them), then a file no handler takes is ENOENT, then a file
 *     already preserved anywhere is EBUSY;
 *   - "already preserved" means the same inode: the same fd, a dup(), a
 *     reopen through /proc/self/fd, in this session or another one;
 *   - which files the memfd handler takes: shmem files without a link, so a
 *     memfd, an O_TMPFILE on tmpfs and an unlinked tmpfs file, but not a
 *     linked tmpfs file, a pipe, a socket, /dev/null, a session or the device;
 *   - tokens are any u64 (0 and ~0 included), unique per session only;
 *   - size rules as for every command (< 16 EINVAL, zero tail, E2BIG);
 *   - a reply that cannot be written is EFAULT, but the file stays preserved
 *     (luo_session_preserve_fd() only warns): its token and inode stay taken;
 *   - a preserved memfd keeps its size: writes inside it still land, a write
 *     past the end, ftruncate to another size and fallocate are EPERM,
 *     ftruncate to the same size is fine;
 *   - closing the session unpreserves everything in it: the size is free
 *     again and the memfd can be preserved in another session; closing the
 *     memfd's own fd does not unpreserve it.
 */
#include "lu_test.h"

#include <sys/mman.h>
#include <sys/socket.h>

#define PAGE 4096

static int dev;

/* A memfd holding @len bytes of @text repeated. */
static int memfd_with(const char *text, size_t len)
{
	int fd = memfd_create("uapi-preserve", MFD_ALLOW_SEALING);

	for (size_t off = 0; fd >= 0 && off < len;) {
		size_t n = strlen(text) < len - off ? strlen(text) : len - off;

		if (pwrite(fd, text, n, off) != (ssize_t)n)
			BAIL("fill memfd");
		off += n;
	}
	if (fd < 0)
		BAIL("memfd_create: %s", strerror(errno));
	return fd;
}

static long err_of(long ret)
{
	return ret < 0 ? -errno : 0;
}

static void test_fd_kinds(int s)
{
	int p[2], sock, null, linked, unlinked, tmpfile, path, m;
	char proc[64];

	CHECK_ERR(lu_preserve_fd(s, -1, 1), -EBADF, "fd -1: EBADF");
	CHECK_ERR(lu_preserve_fd(s, 999, 1), -EBADF, "an fd that is not open: EBADF");

	if (pipe(p))
		BAIL("pipe");
	CHECK_ERR(lu_preserve_fd(s, p[0], 1), -ENOENT, "a pipe: ENOENT (no handler)");
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(lu_preserve_fd(s, sock, 1), -ENOENT, "a unix socket: ENOENT");
	null = open("/dev/null", O_RDWR);
	CHECK_ERR(lu_preserve_fd(s, null, 1), -ENOENT, "/dev/null: ENOENT");
	CHECK_ERR(lu_preserve_fd(s, s, 1), -ENOENT, "the session fd itself: ENOENT");
	CHECK_ERR(lu_preserve_fd(s, dev, 1), -ENOENT, "the /dev/liveupdate fd: ENOENT");

	/* /tmp is tmpfs: shmem, like a memfd, but a memfd has no link. */
	linked = open("/tmp/uapi-preserve.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK_ERR(lu_preserve_fd(s, linked, 1), -ENOENT, "a linked tmpfs file: ENOENT");
	unlink("/tmp/uapi-preserve.file");
	CHECK_ERR(lu_preserve_fd(s, linked, 1), 0, "the same tmpfs file once unlinked: ok");
	unlinked = linked;
	tmpfile = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	CHECK_ERR(tmpfile < 0 ? -errno : lu_preserve_fd(s, tmpfile, 2), 0, "an O_TMPFILE on tmpfs: ok");

	m = memfd_with("kinds", 100);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m);
	path = open(proc, O_PATH);
	CHECK_ERR(lu_preserve_fd(s, path, 3), -EBADF, "an O_PATH fd of a memfd: EBADF");
	CHECK_ERR(lu_preserve_fd(s, m, 3), 0, "... while the memfd itself is fine");

	close(p[0]);
	close(p[1]);
	close(sock);
	close(null);
	close(unlinked);
	close(tmpfile);
	close(path);
	close(m);
}

static void test_tokens_and_identity(int s)
{
	int other = lu_create_session(dev, "preserve-other");
	int m = memfd_with("identity", 300), m2 = memfd_with("second", 10);
	int d, reopened, z, f;
	char proc[64];

	if (other < 0)
		BAIL("create session \"preserve-other\"");
	CHECK_ERR(lu_preserve_fd(s, m, 10), 0, "a memfd under token 10: ok");
	CHECK_ERR(lu_preserve_fd(s, m, 11), -EBUSY, "the same memfd under token 11: EBUSY");
	d = dup(m);
	CHECK_ERR(lu_preserve_fd(s, d, 12), -EBUSY, "a dup() of it: EBUSY");
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m);
	reopened = open(proc, O_RDWR);
	CHECK_ERR(lu_preserve_fd(s, reopened, 13), -EBUSY, "a /proc/self/fd reopen of it (same inode): EBUSY");
	CHECK_ERR(lu_preserve_fd(other, m, 10), -EBUSY, "the same memfd in another session: EBUSY");
	CHECK_ERR(lu_preserve_fd(other, reopened, 14), -EBUSY, "its reopen in another session: EBUSY");

	CHECK_ERR(lu_preserve_fd(s, m2, 10), -EEXIST, "another memfd under a used token: EEXIST");
	CHECK_ERR(lu_preserve_fd(s, -1, 10), -EEXIST, "a used token with fd -1: EEXIST (token checked first)");
	CHECK_ERR(lu_preserve_fd(s, m, 10), -EEXIST, "the same memfd under its own token: EEXIST");
	CHECK_ERR(lu_preserve_fd(other, m2, 10), 0, "token 10 in another session: ok (tokens are per session)");

	z = memfd_with("", 0);
	f = memfd_with("max", 1);
	CHECK_ERR(lu_preserve_fd(s, z, 0), 0, "token 0 (and an empty memfd): ok");
	CHECK_ERR(lu_preserve_fd(s, f, UINT64_MAX), 0, "token 0xffffffffffffffff: ok");

	close(d);
	close(reopened);
	close(z);
	close(f);
	close(m2);
	close(other);
	/* @m stays preserved in @s: closing our fd does not unpreserve it. */
	close(m);
}

static void test_sizes(int s)
{
	struct {
		struct liveupdate_session_preserve_fd arg;
		uint8_t tail[8];
	} big = { .arg.size = sizeof(big) };
	struct liveupdate_session_preserve_fd *ro;
	int m = memfd_with("sizes", 10), m2 = memfd_with("read-only", 10);
	long err;

	big.arg.fd = m;
	big.arg.token = 20;
	big.arg.size = sizeof(big.arg) - 4;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_PRESERVE_FD, &big), -EINVAL, "PRESERVE_FD size 12: EINVAL");
	big.arg.size = sizeof(big);
	big.tail[0] = 1;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_PRESERVE_FD, &big), -E2BIG, "PRESERVE_FD non-zero tail: E2BIG");
	big.tail[0] = 0;
	CHECK_ERR(lu_ioctl(s, LIVEUPDATE_SESSION_PRESERVE_FD, &big), 0, "PRESERVE_FD size 24, zero tail: ok");

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro == MAP_FAILED)
		BAIL("mmap");
	*ro = (struct liveupdate_session_preserve_fd){ .size = sizeof(*ro), .fd = m2, .token = 21 };
	mprotect(ro, PAGE, PROT_READ);
	err = lu_ioctl(s, LIVEUPDATE_SESSION_PRESERVE_FD, ro);
	usleep(200 * 1000); /* let the kernel's warning reach the console first */
	CHECK_ERR(err, -EFAULT, "PRESERVE_FD with a read-only argument: EFAULT");
	CHECK_ERR(lu_preserve_fd(s, m2, 22), -EBUSY, "... yet the file is preserved (EBUSY)");
	CHECK_ERR(lu_preserve_fd(s, -1, 21), -EEXIST, "... under its token (EEXIST)");
	munmap(ro, PAGE);
	close(m);
	close(m2);
}

static void test_frozen_size(void)
{
	const size_t size = 2 * PAGE + 100;
	int s = lu_create_session(dev, "preserve-frozen");
	int m = memfd_with("frozen", size), s2;
	char buf[8] = { 0 };

	if (s < 0)
		BAIL("create session \"preserve-frozen\"");
	CHECK_ERR(lu_preserve_fd(s, m, 1), 0, "preserve a %zu-byte memfd", size);
	CHECK_ERR(err_of(pwrite(m, "WRITE", 5, PAGE)), 0, "a write inside the size still lands");
	CHECK(pread(m, buf, 5, PAGE) == 5 && !memcmp(buf, "WRITE", 5), "... and reads back");
	CHECK_ERR(err_of(pwrite(m, "x", 1, size)), -EPERM, "a write past the end: EPERM");
	CHECK_ERR(err_of(pwrite(m, "xx", 2, size - 1)), -EPERM, "a write straddling the end: EPERM");
	CHECK_ERR(err_of(ftruncate(m, size - 1)), -EPERM, "ftruncate smaller: EPERM");
	CHECK_ERR(err_of(ftruncate(m, size + PAGE)), -EPERM, "ftruncate larger: EPERM");
	CHECK_ERR(err_of(ftruncate(m, size)), 0, "ftruncate to the same size: ok");
	CHECK_ERR(err_of(fallocate(m, 0, 0, PAGE)), -EPERM, "fallocate inside the size: EPERM");
	CHECK_ERR(err_of(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PAGE)), -EPERM,
		  "punching a hole: EPERM");

	close(s);
	CHECK_ERR(err_of(ftruncate(m, size + PAGE)), 0, "after the session is closed, ftruncate works");
	CHECK_ERR(err_of(pwrite(m, "x", 1, size + PAGE)), 0, "... and so does a write past the end");
	s2 = lu_create_session(dev, "preserve-frozen-2");
	CHECK_ERR(lu_preserve_fd(s2, m, 1), 0, "the memfd can be preserved in a new session");
	close(s2);
	s2 = lu_create_session(dev, "preserve-frozen");
	CHECK_ERR(lu_preserve_fd(s2, m, 1), 0, "... and again in a session of the first one's name");
	close(s2);
	CHECK_ERR(err_of(ftruncate(m, 0)), 0, "closing that one unpreserves it too");
	close(m);
}

int main(void)
{
	int s;

	setvbuf(stdout, NULL, _IOLBF, 0);
	lu_diag("provider: %s", lu_provider());
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	s = lu_create_session(dev, "preserve");
	if (s < 0)
		BAIL("create session \"preserve\": %s", lu_errname(s));
	test_fd_kinds(s);
	test_tokens_and_identity(s);
	test_sizes(s);
	close(s);
	/* Everything @s held is free again: a memfd and its old token. */
	s = lu_create_session(dev, "preserve");
	CHECK(s >= 0, "the session's name is free once it is closed");
	close(s);
	test_frozen_size();
	close(dev);
	return lu_exit_status();
}
