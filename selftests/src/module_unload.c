// SPDX-License-Identifier: GPL-2.0
/*
 * module-unload --stage 1|2|3|4 [--big-mib N]: unloading and reloading
 * liveupdate.ko is safe in every state. Either the unload is refused and
 * the module stays loaded and working, or a reload finds everything; no
 * file is ever lost (the kernel reports, e.g. KHO's warnings about memory
 * restored twice or freed, fail the test from the serial log).
 *
 * The modules are loaded and unloaded from here with finit_module(2) and
 * delete_module(2, O_NONBLOCK), for the exact errno: a module whose
 * reference count is held (or that another module uses) is refused with
 * EWOULDBLOCK (EAGAIN), which is what "busy" means below; delete_module()
 * keeps EBUSY for a module that is still initializing or going away.
 *
 * Stage 1 (cold boot):
 *   (a) nothing open: unload works, a reload works, the device works;
 *   (b) outgoing sessions: busy while a session fd (with a preserved
 *       memfd) or /dev/liveupdate is open, in this process or in one that
 *       is then killed; unloads once everything is closed;
 *   for 4 s or more, another process opens the device, preserves a memfd
 *   in a new session and closes all in a loop while this one unloads and
 *   reloads the module whenever it can: each unload works or is refused as
 *   busy, each open works or finds no device;
 *   then preserves, for stage 2, memfds in sessions unload-c (small ones),
 *   unload-d (one big one, --big-mib), unload-e1 and unload-e2 (two each,
 *   one with large folios).
 * Stage 2 (after the kexec, nothing loaded yet):
 *   (c) right after the load and before the first open of /dev/liveupdate
 *       (restore-ahead has only listed the memfds; it restores them from
 *       the first open on): busy, since an accepted handover with sessions
 *       pins the module from load on;
 *   (d) an unload right after the first open (and its close), while the
 *       module's workers restore the big memfd: busy; again once they are
 *       done, nothing retrieved yet;
 *   then every file of unload-c and unload-d is retrieved intact;
 *   (e) one of the two e sessions retrieved, then one of the two files of
 *       the other: busy; once every session finished and everything is
 *       closed (a finished session's fd still holds it), it unloads. The
 *       retrieved memfds outlive the module, intact and usable. A reload
 *       shows the handover as accepted with an empty incoming side, unloads
 *       and reloads again, and new sessions work: unload-g gets a new memfd
 *       and two of the retrieved ones, and with lutest.ko loaded, unload-f1
 *       and unload-f2 get lutest files (its handler and FLB).
 * Stage 3 (the reloaded module's handover):
 *   busy from load on; (f) after the first open lutest is busy (its files
 *   and FLB are handed over) until both of its sessions have finished,
 *   and liveupdate is busy as long as lutest is loaded; unload-g's files
 *   are intact; lutest then liveupdate unload, the files stay intact;
 *   liveupdate is loaded again, with nothing preserved, for
 * Stage 4 (a handover without sessions): accepted, and it holds nothing:
 *   the module unloads at once, reloads, works and unloads again.
 */
#include "lu_test.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../testmod/lutest_uapi.h"

#define MiB (1024UL * 1024)
#define READY "/tmp/module-unload.ready"
#define LU_KO "/lib/modules/liveupdate.ko"
#define LUTEST_KO "/lib/modules/lutest.ko"
#define SYSFS "/sys/class/misc/liveupdate/"
#define RESTORE_LOG "/sys/kernel/debug/liveupdate_memfd"
#define THP_CTL "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define BIG_NAME "unload-big"
#define BUSY (-EWOULDBLOCK)

static uint64_t big_size = 512 * MiB;

/* ---- modules ------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static long mod_load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long ret;

	if (fd < 0)
		return -errno;
	ret = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static long mod_unload(const char *name)
{
	return syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static bool mod_loaded(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return stat(path, &st) == 0;
}

static const char *ko_of(const char *name)
{
	return strcmp(name, "lutest") ? LU_KO : LUTEST_KO;
}

/* First line of @path without its newline, "" if unreadable. */
static const char *read_line(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int refcnt(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return atoi(read_line(path));
}

static void diag_refcnt(const char *name)
{
	lu_diag("%s: refcnt %d", name, refcnt(name));
}

/*
 * The unload of @name must be refused as busy, and leave it loaded. If it
 * went through, the module is loaded again so that the rest of the stage
 * shows what the unload lost.
 */
static bool expect_busy(const char *name, const char *why)
{
	long ret = mod_unload(name);
	bool pass;

	pass = CHECK_ERR(ret, BUSY, "%s cannot be unloaded %s (busy)", name, why);
	if (ret == 0) {
		lu_diag("%s was unloaded; loading it again: %s", name,
			lu_errname(mod_load(ko_of(name))));
		return false;
	}
	if (!CHECK(mod_loaded(name), "%s is still loaded", name))
		return false;
	diag_refcnt(name);
	return pass;
}

static bool expect_unload(const char *name, const char *when)
{
	long ret = mod_unload(name);

	if (ret)
		diag_refcnt(name);
	return CHECK_ERR(ret, 0, "%s unloads %s", name, when) &&
	       CHECK(!mod_loaded(name), "%s is gone", name);
}

static void expect_load(const char *name, const char *when)
{
	if (!CHECK_ERR(mod_load(ko_of(name)), 0, "%s loads %s", name, when))
		BAIL("cannot go on without %s", name);
}

static void check_generation(unsigned long want)
{
	const char *gen = read_line(SYSFS "generation");

	if (!CHECK(strtoul(gen, NULL, 10) == want, "generation is %lu", want))
		lu_diag("generation: %s", gen);
}

static void check_handover(const char *want)
{
	const char *handover = read_line(SYSFS "handover");

	if (!CHECK(!strncmp(handover, want, strlen(want)), "handover reads %s", want))
		lu_diag("handover: %s", handover);
}

static struct liveupdate_mod_status mod_status(int dev)
{
	struct liveupdate_mod_status st = { .size = sizeof(st) };

	if (lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &st))
		lu_diag("MOD_STATUS: %s", strerror(errno));
	return st;
}

static int open_dev(void)
{
	int dev = lu_open_dev();

	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	return dev;
}

static int create_session(int dev, const char *name)
{
	int s = lu_create_session(dev, name);

	if (s < 0)
		BAIL("create session %s: %s", name, lu_errname(s));
	return s;
}

/* ---- memfds ------------------------------------------------------------- */

/* The content: 8-byte words, each different from every other. */
static inline uint64_t word(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL + seed * 0xbf58476d1ce4e5b9ULL;

	return x ^ (x >> 29);
}

static void fill(uint64_t *buf, uint64_t off, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < (len + 7) / 8; i++)
		buf[i] = word(seed, off / 8 + i);
}

struct mspec {
	const char *name;	/* memfd_create() name */
	uint64_t size;
	uint32_t seed;
	int64_t pos;
	bool thp;		/* written with shmem_enabled=always */
	bool big;		/* big_size, not size */
};

static uint64_t size_of(const struct mspec *m)
{
	return m->big ? big_size : m->size;
}

/* Every session's memfds, by token (1, 2, ...). */
#define MEMFD(n, sz, sd, p, ...) \
	{ .name = (n), .size = (sz), .seed = (sd), .pos = (p), __VA_ARGS__ }
static const struct mspec c_files[] = {
	MEMFD("unload-c1", MiB + 3, 1, 77),
	MEMFD("unload-c2", 4096, 2, 4096),
	MEMFD("unload-c3", 0, 3, 0),
	MEMFD("unload-c4", 300 * 1024, 4, 5),
};
static const struct mspec d_files[] = { MEMFD(BIG_NAME, 0, 5, 12345, .big = true) };
static const struct mspec e1_files[] = {
	MEMFD("unload-e1a", 256 * 1024, 6, 1),
	MEMFD("unload-e1b", 64 * 1024 + 1, 7, 64 * 1024 + 1),
};
static const struct mspec e2_files[] = {
	MEMFD("unload-e2-thp", 8 * MiB, 8, 2 * MiB, .thp = true),
	MEMFD("unload-e2b", 128 * 1024, 9, 100),
};
static const struct mspec g_new = MEMFD("unload-g", MiB, 10, 999);

static int thp_set(const char *value, char *old, size_t oldlen)
{
	int fd = open(THP_CTL, O_RDWR);
	char buf[128];
	char *sel, *end;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (old) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		sel = strchr(buf, '[');
		end = sel ? strchr(sel, ']') : NULL;
		if (sel && end) {
			*end = '\0';
			snprintf(old, oldlen, "%s", sel + 1);
		}
	}
	n = write(fd, value, strlen(value));
	close(fd);
	return n < 0 ? -errno : 0;
}

static long meminfo_kib(const char *key)
{
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			val = atol(line + strlen(key) + 1);
	fclose(f);
	return val;
}

static int create_memfd(const struct mspec *m)
{
	static uint64_t buf[MiB / 8];
	uint64_t size = size_of(m);
	char old[32] = "never";
	int fd;

	if (m->thp && thp_set("always", old, sizeof(old)))
		lu_diag("%s: cannot set %s: no large folios", m->name, THP_CTL);
	fd = memfd_create(m->name, MFD_ALLOW_SEALING);
	if (fd < 0)
		BAIL("memfd_create(%s): %s", m->name, strerror(errno));
	if (ftruncate(fd, size))
		BAIL("%s: ftruncate: %s", m->name, strerror(errno));
	for (uint64_t off = 0; off < size; off += MiB) {
		size_t n = size - off > MiB ? MiB : size - off;

		fill(buf, off, n, m->seed);
		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			BAIL("%s: write: %s", m->name, strerror(errno));
	}
	if (m->thp)
		thp_set(old, NULL, 0);
	if (lseek(fd, m->pos, SEEK_SET) != m->pos)
		BAIL("%s: lseek: %s", m->name, strerror(errno));
	return fd;
}

/* Size, every byte (pread), and for large files the ends through a mapping. */
static bool content_ok(int fd, const struct mspec *m)
{
	static uint64_t got[MiB / 8], want[MiB / 8];
	uint64_t size = size_of(m);
	struct stat st;
	uint8_t *map;
	bool ok = true;

	if (fstat(fd, &st) || (uint64_t)st.st_size != size) {
		lu_diag("%s: size %lld, want %llu", m->name, (long long)st.st_size,
			(unsigned long long)size);
		return false;
	}
	for (uint64_t off = 0; off < size; off += MiB) {
		size_t n = size - off > MiB ? MiB : size - off;

		fill(want, off, n, m->seed);
		if (pread(fd, got, n, off) != (ssize_t)n) {
			lu_diag("%s: pread at %llu: %s", m->name, (unsigned long long)off,
				strerror(errno));
			return false;
		}
		if (memcmp(got, want, n)) {
			for (size_t i = 0; i < n; i++) {
				if (((uint8_t *)got)[i] != ((uint8_t *)want)[i]) {
					lu_diag("%s: byte %llu differs", m->name,
						(unsigned long long)(off + i));
					break;
				}
			}
			return false;
		}
	}
	if (!size)
		return true;
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		lu_diag("%s: mmap: %s", m->name, strerror(errno));
		return false;
	}
	fill(want, 0, size < 4096 ? size : 4096, m->seed);
	ok = !memcmp(map, want, size < 4096 ? size : 4096);
	fill(want, (size - 1) & ~7ULL, 1, m->seed);
	ok = ok && map[size - 1] == ((uint8_t *)want)[(size - 1) & 7];
	if (!ok)
		lu_diag("%s: mapped content differs", m->name);
	munmap(map, size);
	return ok;
}

static void preserve_all(int s, const char *session, const struct mspec *m, int n, int *fds)
{
	for (int i = 0; i < n; i++) {
		fds[i] = create_memfd(&m[i]);
		CHECK_ERR(lu_preserve_fd(s, fds[i], i + 1), 0, "%s: preserve %s (%llu bytes)",
			  session, m[i].name, (unsigned long long)size_of(&m[i]));
	}
}

/* Retrieves token @token of @s, checks it as @m; the fd or -1. */
static int retrieve_memfd(int s, uint64_t token, const struct mspec *m)
{
	int fd = lu_retrieve_fd(s, token);

	if (!CHECK(fd >= 0, "retrieve %s", m->name)) {
		lu_diag("RETRIEVE_FD %llu: %s", (unsigned long long)token, lu_errname(fd));
		return -1;
	}
	CHECK(lseek(fd, 0, SEEK_CUR) == m->pos, "retrieved %s: position %lld", m->name,
	      (long long)m->pos);
	CHECK(content_ok(fd, m), "retrieved %s: every byte", m->name);
	return fd;
}

static int retrieve_session(int dev, const char *name)
{
	int s = lu_retrieve_session(dev, name);

	if (!CHECK(s >= 0, "retrieve session %s", name))
		lu_diag("RETRIEVE_SESSION %s: %s", name, lu_errname(s));
	return s;
}

/* ---- lutest ---------------------------------------------------------------- */

static int lutest_file(uint64_t value)
{
	int fd = open("/dev/lutest", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		BAIL("open /dev/lutest: %s", strerror(errno));
	if (ioctl(fd, LUTEST_SET_VALUE, &value))
		BAIL("LUTEST_SET_VALUE: %s", strerror(errno));
	return fd;
}

static int lutest_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/lutest/parameters/%s", name);
	return atoi(read_line(path));
}

static void check_lutest(int s, uint64_t token, uint64_t want)
{
	uint64_t value = 0;
	int fd = lu_retrieve_fd(s, token);

	if (!CHECK(fd >= 0, "lutest token %llu is retrieved", (unsigned long long)token)) {
		lu_diag("RETRIEVE_FD: %s", lu_errname(fd));
		return;
	}
	CHECK(ioctl(fd, LUTEST_GET_VALUE, &value) == 0 && value == want,
	      "lutest token %llu carries %llu", (unsigned long long)token,
	      (unsigned long long)want);
	close(fd);
}

/* ---- stage 1 ------------------------------------------------------------- */

static void cold_boot(void)
{
	struct liveupdate_mod_status st;
	struct stat sb;
	int dev, s, fd;

	if (mod_loaded("liveupdate"))
		BAIL("liveupdate is loaded already");
	expect_load("liveupdate", "on a cold boot");
	check_handover("none");
	check_generation(1);
	expect_unload("liveupdate", "with nothing open");
	CHECK(stat("/dev/liveupdate", &sb) && errno == ENOENT, "/dev/liveupdate is gone");
	expect_load("liveupdate", "again");
	check_handover("none");
	check_generation(1);

	dev = open_dev();
	s = create_session(dev, "unload-a");
	fd = create_memfd(&g_new);
	CHECK_ERR(lu_preserve_fd(s, fd, 1), 0, "the reloaded module preserves a memfd");
	st = mod_status(dev);
	CHECK(st.outgoing_sessions == 1 && st.outgoing_files == 1 && st.ready,
	      "MOD_STATUS counts it, ready");
	close(s);
	close(dev);
	CHECK(content_ok(fd, &g_new), "the memfd is intact once unpreserved");
	close(fd);
	expect_unload("liveupdate", "once the device was used and closed");
	expect_load("liveupdate", "a third time");
}

static void outgoing(void)
{
	int dev, s, fd, fd2, ready[2];
	pid_t child;
	char c;

	dev = open_dev();
	s = create_session(dev, "unload-b");
	fd = create_memfd(&c_files[0]);
	CHECK_ERR(lu_preserve_fd(s, fd, 1), 0, "a memfd is preserved in an outgoing session");
	expect_busy("liveupdate", "with a session and /dev/liveupdate open");
	fd2 = create_memfd(&c_files[1]);
	CHECK_ERR(lu_preserve_fd(s, fd2, 2), 0, "the session still preserves after the refusal");
	close(dev);
	expect_busy("liveupdate", "with a session open, /dev/liveupdate closed");
	CHECK_ERR(ftruncate(fd, 0) ? -errno : 0, -EPERM, "the memfd is still preserved");
	close(s);
	CHECK(!ftruncate(fd, size_of(&c_files[0]) + 4096) && !ftruncate(fd, size_of(&c_files[0])),
	      "closing the session unpreserved it (its size can change again)");
	expect_unload("liveupdate", "once every session and the device are closed");
	CHECK(content_ok(fd, &c_files[0]) && content_ok(fd2, &c_files[1]),
	      "the memfds are intact after the unload");
	close(fd);
	close(fd2);
	expect_load("liveupdate", "after outgoing sessions");

	/* The same, held by a process that is then killed. */
	if (pipe(ready))
		BAIL("pipe: %s", strerror(errno));
	child = fork();
	if (child < 0)
		BAIL("fork: %s", strerror(errno));
	if (child == 0) {
		close(ready[0]);
		dev = lu_open_dev();
		s = dev < 0 ? dev : lu_create_session(dev, "unload-b-child");
		fd = create_memfd(&c_files[1]);
		c = s >= 0 && lu_preserve_fd(s, fd, 1) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (CHECK(read(ready[0], &c, 1) == 1 && c == 'y',
		  "another process holds a session with a preserved memfd"))
		expect_busy("liveupdate", "while another process holds a session");
	close(ready[0]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* Its files were released before it could be reaped: no retry. */
	expect_unload("liveupdate", "once that process was killed and reaped");
	expect_load("liveupdate", "after the killed process");
}

/* What the churning process has done so far, in memory shared with it. */
struct churn_counts {
	volatile unsigned int cycles, missed, bad;
	volatile bool stop;
};

/*
 * Another process opens /dev/liveupdate, preserves a memfd in a new session
 * and closes everything, in a loop, while this one unloads and reloads the
 * module whenever it can.
 */
static void __attribute__((noreturn)) churn_child(struct churn_counts *n)
{
	int dev, s, fd;
	long err;

	while (!n->stop) {
		dev = lu_open_dev();
		if (dev == -ENOENT || dev == -ENODEV || dev == -ENXIO) {
			n->missed++;
			usleep(200);
			continue;
		}
		if (dev < 0) {
			lu_diag("churn: open: %s", lu_errname(dev));
			n->bad++;
			continue;
		}
		s = lu_create_session(dev, "unload-churn");
		fd = memfd_create("unload-churn", 0);
		err = s < 0 ? s : fd < 0 ? -errno : ftruncate(fd, 4096) ? -errno :
			lu_preserve_fd(s, fd, 1);
		if (err) {
			lu_diag("churn: session or preserve: %s", lu_errname(err));
			n->bad++;
		}
		if (fd >= 0)
			close(fd);
		if (s >= 0)
			close(s);
		close(dev);
		n->cycles++;
		usleep(1000);
	}
	_exit(0);
}

/*
 * At least 4 s, and until both sides have seen each outcome (unloads,
 * refusals, sessions, opens without a device): a busy or slow machine
 * (the debug kernel reloads in about a second) only makes it longer.
 */
static void churn(void)
{
	unsigned int unloads = 0, refused = 0, wrong = 0;
	uint64_t start = now_ns(), elapsed;
	struct churn_counts *n;
	pid_t child;
	long ret;

	n = mmap(NULL, sizeof(*n), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (n == MAP_FAILED)
		BAIL("mmap: %s", strerror(errno));
	memset((void *)n, 0, sizeof(*n));
	child = fork();
	if (child < 0)
		BAIL("fork: %s", strerror(errno));
	if (child == 0)
		churn_child(n);
	for (;;) {
		elapsed = now_ns() - start;
		if (elapsed > 120000000000ULL || wrong > 10 ||
		    (elapsed > 4000000000ULL && unloads && refused && n->cycles && n->missed))
			break;
		ret = mod_unload("liveupdate");
		if (ret == BUSY) {
			refused++;
			usleep(100);
			continue;
		}
		if (ret) {
			lu_diag("churn: unload: %s", lu_errname(ret));
			wrong++;
			continue;
		}
		unloads++;
		ret = mod_load(LU_KO);
		if (ret) {
			lu_diag("churn: reload: %s", lu_errname(ret));
			wrong++;
		}
		usleep(2000);
	}
	n->stop = true;
	waitpid(child, NULL, 0);
	lu_diag("churn for %llu ms: %u unloads and reloads, %u refused; the other process: "
		"%u sessions, %u opens without a device", (unsigned long long)elapsed / 1000000,
		unloads, refused, n->cycles, n->missed);
	CHECK(!wrong,
	      "every unload under churn worked or was refused as busy, every reload worked");
	CHECK(!n->bad, "every open under churn worked or found no device; sessions on an open "
	      "device worked");
	CHECK(unloads && refused && n->cycles && n->missed,
	      "both sides made progress: unloads, refusals, sessions and missed opens");
	munmap((void *)n, sizeof(*n));
	if (!mod_loaded("liveupdate"))
		expect_load("liveupdate", "after the churn");
}

static void stage_1(void)
{
	int dev, c, d, e1, e2, cfd[4], dfd[1], e1fd[2], e2fd[2];
	struct liveupdate_mod_status st;

	cold_boot();
	outgoing();
	churn();

	/* The handover stage 2 unloads and reloads around. */
	dev = open_dev();
	c = create_session(dev, "unload-c");
	d = create_session(dev, "unload-d");
	e1 = create_session(dev, "unload-e1");
	e2 = create_session(dev, "unload-e2");
	preserve_all(c, "unload-c", c_files, 4, cfd);
	preserve_all(d, "unload-d", d_files, 1, dfd);
	preserve_all(e1, "unload-e1", e1_files, 2, e1fd);
	preserve_all(e2, "unload-e2", e2_files, 2, e2fd);
	lu_diag("ShmemHugePages: %ld kB", meminfo_kib("ShmemHugePages"));
	st = mod_status(dev);
	CHECK(st.outgoing_sessions == 4 && st.outgoing_files == 9 && st.ready,
	      "4 sessions, 9 files, ready for the live update");
	expect_busy("liveupdate", "with the sessions open for the kexec");
	lu_hold_until_kexec(READY);
}

/* ---- stage 2 ------------------------------------------------------------- */

struct restore_report {
	long long started_us, ready_us; /* of the big file; -1: not listed */
	int not_ready;			/* other listed files not ready */
};

/*
 * Restore-ahead's report in debugfs (files of 1 MiB or more, times in us
 * since the module load, 0 for not yet); false if there is none.
 */
static bool restore_report(struct restore_report *r)
{
	unsigned long long size, queued, started, ready;
	char line[256], name[128];
	FILE *f = fopen(RESTORE_LOG, "r");

	*r = (struct restore_report){ -1, -1, 0 };
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%127s %llu %llu %llu %llu", name, &size,
					     &queued, &started, &ready) != 5)
			continue;
		/* Named as /proc/PID/fd shows a memfd: "memfd:NAME". */
		if (!strncmp(name, "memfd:", 6) && !strcmp(name + 6, BIG_NAME)) {
			r->started_us = (long long)started;
			r->ready_us = (long long)ready;
		} else if (!ready) {
			r->not_ready++;
		}
	}
	fclose(f);
	return true;
}

/* Before the first open: loaded, pinned, nothing restored yet. */
static uint64_t load_before_open(void)
{
	struct restore_report r;
	uint64_t t0 = now_ns();

	if (!CHECK_ERR(mod_load(LU_KO), 0, "liveupdate loads after the kexec"))
		BAIL("cannot go on without the module");
	expect_busy("liveupdate", "right after its load");
	check_handover("accepted");
	check_generation(2);
	/* The load only walks the list; the restores wait for the first open. */
	for (int i = 0; i < 600; i++) {
		if (restore_report(&r) && r.started_us >= 0)
			break;
		usleep(100 * 1000);
	}
	CHECK(r.started_us == 0 && r.ready_us == 0,
	      "restore-ahead has listed %s and waits for the first open", BIG_NAME);
	lu_diag("%s: started %lld us, ready %lld us", BIG_NAME, r.started_us, r.ready_us);
	expect_busy("liveupdate", "before the first open of /dev/liveupdate");
	return t0;
}

/* The first open starts the restores; an unload right after races them. */
static void unload_racing_restore(uint64_t t0)
{
	struct restore_report r;
	uint64_t t1, t2;
	int dev;

	t1 = now_ns();
	dev = open_dev();
	close(dev);
	expect_busy("liveupdate", "right after the first open, racing restore-ahead");
	t2 = now_ns();
	restore_report(&r);
	lu_diag("open at %llu us since the load, the refused unload done at %llu us; %s "
		"started at %lld us, ready at %lld us", (unsigned long long)(t1 - t0) / 1000,
		(unsigned long long)(t2 - t0) / 1000, BIG_NAME, r.started_us, r.ready_us);
	/* The module's load time is after t0: ready after t2 if t0 + ready > t2. */
	CHECK(r.ready_us == 0 || t0 + (uint64_t)r.ready_us * 1000 > t2,
	      "the unload came while %s was still being restored", BIG_NAME);

	for (int i = 0; i < 1200; i++) {
		if (restore_report(&r) && r.ready_us > 0 && !r.not_ready)
			break;
		usleep(100 * 1000);
	}
	CHECK(r.ready_us > 0 && !r.not_ready, "restore-ahead finishes (%s ready at %lld us)",
	      BIG_NAME, r.ready_us);
	expect_busy("liveupdate", "with every memfd restored ahead, none retrieved");
}

/* Files retrieved and kept open past the module's unload. */
struct kept {
	int fd;
	const struct mspec *m;
};

static struct kept kept[8];
static int nkept;

static void keep(int fd, const struct mspec *m)
{
	if (fd >= 0 && nkept < (int)(sizeof(kept) / sizeof(kept[0])))
		kept[nkept++] = (struct kept){ fd, m };
	else if (fd >= 0)
		close(fd);
}

static int kept_fd(const struct mspec *m)
{
	for (int i = 0; i < nkept; i++)
		if (kept[i].m == m)
			return kept[i].fd;
	return -1;
}

/* The retrieved memfds outlive the module that restored them. */
static void check_kept(const char *when)
{
	for (int i = 0; i < nkept; i++)
		CHECK(content_ok(kept[i].fd, kept[i].m), "%s %s: every byte", when,
		      kept[i].m->name);
}

static void incoming_c_d(int dev)
{
	struct liveupdate_mod_status st = mod_status(dev);
	int s, fd;

	CHECK(st.incoming_sessions == 4 && st.incoming_files == 9,
	      "4 incoming sessions, 9 files");
	s = retrieve_session(dev, "unload-c");
	for (int i = 0; i < 4; i++)
		keep(retrieve_memfd(s, i + 1, &c_files[i]), &c_files[i]);
	CHECK_ERR(lu_finish(s), 0, "unload-c finishes");
	close(s);
	expect_busy("liveupdate", "with unload-c finished, the others not");

	s = retrieve_session(dev, "unload-d");
	fd = retrieve_memfd(s, 1, &d_files[0]);
	CHECK_ERR(lu_finish(s), 0, "unload-d finishes");
	close(s);
	if (fd >= 0)
		close(fd);
}

/* Returns unload-e1's session fd, finished but still open. */
static int incoming_e(int dev)
{
	struct liveupdate_mod_status st;
	int e1, e2;

	e1 = retrieve_session(dev, "unload-e1");
	expect_busy("liveupdate", "with one of the two e sessions retrieved");
	keep(retrieve_memfd(e1, 1, &e1_files[0]), &e1_files[0]);
	keep(retrieve_memfd(e1, 2, &e1_files[1]), &e1_files[1]);
	CHECK_ERR(lu_finish(e1), 0, "unload-e1 finishes");

	e2 = retrieve_session(dev, "unload-e2");
	keep(retrieve_memfd(e2, 1, &e2_files[0]), &e2_files[0]);
	expect_busy("liveupdate", "with one of the two files of unload-e2 retrieved");
	/* Closing a retrieved session finishes it, the other file too. */
	close(e2);
	st = mod_status(dev);
	CHECK(st.incoming_sessions == 1 && st.incoming_files == 0,
	      "closing unload-e2 finished it: only unload-e1 (finished, its fd open) is left");
	lu_diag("incoming: %llu sessions, %llu files", (unsigned long long)st.incoming_sessions,
		(unsigned long long)st.incoming_files);
	return e1;
}

static void use_kept_thp(void)
{
	int fd = kept_fd(&e2_files[0]);
	uint64_t size = size_of(&e2_files[0]);
	volatile uint8_t *map;
	uint8_t orig, seen = 0;

	if (fd < 0)
		return;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!CHECK(map != MAP_FAILED, "the large-folio memfd maps writable after the unload"))
		return;
	orig = map[3 * MiB + 5];
	map[3 * MiB + 5] = orig ^ 0x5a;
	CHECK(pread(fd, &seen, 1, 3 * MiB + 5) == 1 && seen == (uint8_t)(orig ^ 0x5a),
	      "a store through it reads back");
	map[3 * MiB + 5] = orig;
	munmap((void *)map, size);
}

static void reload_after_finish(void)
{
	struct liveupdate_mod_status st;
	struct restore_report r;
	int dev;

	expect_load("liveupdate", "again after everything finished");
	check_handover("accepted");
	check_generation(2);
	CHECK(restore_report(&r) && r.started_us == -1 && !r.not_ready,
	      "the reload restores nothing ahead (its debugfs report is empty)");
	dev = open_dev();
	st = mod_status(dev);
	CHECK(st.incoming_sessions == 0 && st.incoming_files == 0 && st.generation == 2,
	      "MOD_STATUS: no incoming sessions or files, generation 2");
	CHECK_ERR(lu_retrieve_session(dev, "unload-c"), -ENOENT, "unload-c is gone (ENOENT)");
	CHECK_ERR(lu_retrieve_session(dev, "unload-e2"), -ENOENT, "unload-e2 is gone (ENOENT)");
	expect_busy("liveupdate", "with /dev/liveupdate open");
	close(dev);
	expect_unload("liveupdate", "after the reload, nothing open");
	expect_load("liveupdate", "once more");
	check_handover("accepted");
	check_generation(2);
}

static void stage_2(void)
{
	int dev, e1, g, f1, f2, fd;
	uint64_t t0;

	t0 = load_before_open();
	unload_racing_restore(t0);

	dev = open_dev();
	incoming_c_d(dev);
	e1 = incoming_e(dev);
	expect_busy("liveupdate", "with /dev/liveupdate still open");
	close(dev);
	expect_busy("liveupdate", "with a finished session's fd still open");
	close(e1);
	expect_unload("liveupdate", "once every incoming session finished and is closed");
	check_kept("after the unload, retrieved");
	use_kept_thp();

	reload_after_finish();
	expect_load("lutest", "after liveupdate");
	dev = open_dev();
	g = create_session(dev, "unload-g");
	fd = create_memfd(&g_new);
	CHECK_ERR(lu_preserve_fd(g, fd, 1), 0, "unload-g: a new memfd is preserved");
	CHECK_ERR(lu_preserve_fd(g, kept_fd(&c_files[0]), 2), 0,
		  "unload-g: a memfd retrieved before the unload is preserved again");
	CHECK_ERR(lu_preserve_fd(g, kept_fd(&e2_files[0]), 3), 0,
		  "unload-g: so is the large-folio one");
	f1 = create_session(dev, "unload-f1");
	f2 = create_session(dev, "unload-f2");
	CHECK_ERR(lu_preserve_fd(f1, lutest_file(11), 1), 0, "unload-f1: lutest file 1");
	CHECK_ERR(lu_preserve_fd(f1, lutest_file(22), 2), 0, "unload-f1: lutest file 2");
	CHECK_ERR(lu_preserve_fd(f2, lutest_file(33), 1), 0, "unload-f2: lutest file 1");
	expect_busy("lutest", "with its files preserved");
	expect_busy("liveupdate", "with sessions outgoing and lutest loaded");
	lu_hold_until_kexec(READY);
}

/* ---- stage 3 ------------------------------------------------------------- */

static void incoming_f(int dev)
{
	int f1, f2;

	f1 = retrieve_session(dev, "unload-f1");
	check_lutest(f1, 1, 11);
	check_lutest(f1, 2, 22);
	CHECK_ERR(lu_finish(f1), 0, "unload-f1 finishes");
	close(f1);
	CHECK_ERR(lutest_param("flb_finishes"), 0, "the FLB is not finished yet");
	expect_busy("lutest", "while unload-f2's file still needs its FLB");
	/*
	 * lutest's files pin it as its FLB does, so only the count tells the
	 * FLB's own pin apart: one per unfinished file, one for the FLB.
	 */
	CHECK_ERR(refcnt("lutest"), 2, "lutest is held by unload-f2's file and its FLB");

	f2 = retrieve_session(dev, "unload-f2");
	CHECK_ERR(lu_finish(f2), 0, "unload-f2 finishes, its file never retrieved");
	close(f2);
	CHECK_ERR(lutest_param("flb_finishes"), 1, "the FLB finished with the last file");
	CHECK_ERR(lutest_param("finishes"), 3, "every lutest file finished");
	CHECK_ERR(refcnt("lutest"), 0, "nothing holds lutest any more");
}

static void stage_3(void)
{
	struct liveupdate_mod_status st;
	int dev, g;

	expect_load("liveupdate", "after the second kexec");
	check_handover("accepted");
	check_generation(3);
	expect_busy("liveupdate", "before the first open");
	expect_load("lutest", "before the first open");

	dev = open_dev();
	st = mod_status(dev);
	CHECK(st.incoming_sessions == 3 && st.incoming_files == 6,
	      "3 incoming sessions, 6 files");
	expect_busy("lutest", "once the first open read its files and FLB");
	CHECK_ERR(refcnt("lutest"), 4, "lutest is held by its 3 handed-over files and its FLB");
	expect_busy("liveupdate", "while lutest is loaded and sessions are incoming");

	g = retrieve_session(dev, "unload-g");
	keep(retrieve_memfd(g, 1, &g_new), &g_new);
	keep(retrieve_memfd(g, 2, &c_files[0]), &c_files[0]);
	keep(retrieve_memfd(g, 3, &e2_files[0]), &e2_files[0]);
	CHECK_ERR(lu_finish(g), 0, "unload-g finishes");
	close(g);
	expect_busy("lutest", "with its sessions not retrieved");

	incoming_f(dev);
	expect_busy("liveupdate", "with /dev/liveupdate open");
	close(dev);
	expect_busy("liveupdate", "while lutest is loaded");
	expect_unload("lutest", "once its files finished and closed");
	expect_unload("liveupdate", "after lutest");
	check_kept("after the unload, retrieved");
	/* Loaded, and nothing preserved, for the live update to stage 4. */
	expect_load("liveupdate", "for a live update without sessions");
}

/* ---- stage 4 ------------------------------------------------------------- */

static void stage_4(void)
{
	struct liveupdate_mod_status st;
	int dev, s, fd;

	expect_load("liveupdate", "after a live update without sessions");
	check_handover("accepted");
	check_generation(4);
	expect_unload("liveupdate", "at once: an accepted handover without sessions holds nothing");
	expect_load("liveupdate", "again");
	check_handover("accepted");
	check_generation(4);
	dev = open_dev();
	st = mod_status(dev);
	CHECK(st.incoming_sessions == 0 && st.incoming_files == 0 && st.generation == 4,
	      "MOD_STATUS: no incoming sessions or files, generation 4");
	s = create_session(dev, "unload-h");
	fd = create_memfd(&g_new);
	CHECK_ERR(lu_preserve_fd(s, fd, 1), 0, "a memfd is preserved");
	expect_busy("liveupdate", "with a session open");
	close(s);
	close(dev);
	CHECK(content_ok(fd, &g_new), "the memfd is intact once unpreserved");
	close(fd);
	expect_unload("liveupdate", "once everything is closed");
}

int main(int argc, char **argv)
{
	int stage = lu_stage(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--big-mib"))
			big_size = strtoull(argv[i + 1], NULL, 0) * MiB;
	if (stage == 1)
		stage_1();
	else if (stage == 2)
		stage_2();
	else if (stage == 3)
		stage_3();
	else
		stage_4();
	return lu_exit_status();
}
