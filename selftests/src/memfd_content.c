// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-content --stage 1|2: memfds of every shape survive a live update
 * with their content, size, position, seals, mode and access mode, and
 * behave as memfds afterwards.
 *
 * Stage 1 creates the memfds of the table below, checks how each behaves,
 * preserves them all in the session "memfd-content" (token = case number),
 * then checks what preserve changes (writes still land, the size is frozen),
 * moves a position, and holds the session until the kexec. Stage 2 retrieves
 * each, compares every byte (read and MAP_SHARED) with what stage 1 wrote,
 * checks the attributes and the same behaviours again, and finishes the
 * session.
 *
 * Where the in-kernel LUO of 7.3 differs from the module (by design), the
 * expectations branch on lu_is_module():
 *   - upstream re-creates the file with memfd_alloc_file(MFD_ALLOW_SEALING):
 *     mode 0777 whatever it was, and re-adding F_SEAL_EXEC on a 0777 file
 *     adds the write seals (memfd_add_seals()), so an MFD_NOEXEC_SEAL memfd
 *     comes back as 0777 with seals 0x3e, no longer writable;
 *   - upstream always returns an O_RDWR file, even for an O_RDONLY fd;
 *   - upstream names the new file "memfd:" (no name).
 * The module returns all of these exactly as they were.
 */
#include "lu_test.h"

#include <sys/mman.h>

#define MiB (1024UL * 1024)
#define SESSION "memfd-content"
#define READY "/tmp/memfd-content.ready"
#define THP_CTL "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/* A range of the file holding pattern(seed); everything else reads 0. */
struct range {
	uint64_t off, len;
	uint32_t seed;
};

enum { MAX_RANGES = 6 };

struct mcase {
	const char *name;	/* memfd_create() name */
	unsigned int mfd_flags;
	uint64_t size;
	struct range data[MAX_RANGES]; /* written before preserve */
	unsigned int seals;	/* F_ADD_SEALS before preserve */
	int chmod;		/* fchmod() before preserve, or 0 */
	bool rdonly;		/* preserve an O_RDONLY reopen */
	bool thp;		/* created with shmem_enabled=always */
	bool thp_retrieve;	/* retrieved with shmem_enabled=always */
	int64_t pos;		/* position at preserve */
	int64_t pos_late;	/* moved to after preserve (freeze), or -1 */
	bool write_late;	/* write after preserve (see late_range()) */
};

#define WHOLE(sz, sd) { { 0, (sz), (sd) } }

static const struct mcase cases[] = {
	{ .name = "pattern", .mfd_flags = MFD_ALLOW_SEALING, .size = 64 * MiB,
	  .data = WHOLE(64 * MiB, 1), .pos_late = -1, .write_late = true },
	{ .name = "empty", .mfd_flags = MFD_ALLOW_SEALING, .pos_late = -1 },
	{ .name = "sparse", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 5 * MiB + 123,
	  .data = { { 0, 10, 3 }, { MiB + 17, 300, 4 }, { 3 * MiB, 4096, 5 },
		    { 5 * MiB + 118, 5, 6 } },
	  .pos_late = -1, .write_late = true },
	{ .name = "position", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 100 * 1024, .data = WHOLE(100 * 1024, 7), .pos = 12345,
	  .pos_late = 23456 },
	{ .name = "seal-size", .mfd_flags = MFD_ALLOW_SEALING, .size = MiB,
	  .data = WHOLE(MiB, 8), .seals = F_SEAL_SHRINK | F_SEAL_GROW,
	  .pos = 4096, .pos_late = -1, .write_late = true },
	{ .name = "seal-write", .mfd_flags = MFD_ALLOW_SEALING, .size = MiB,
	  .data = WHOLE(MiB, 9), .seals = F_SEAL_WRITE, .pos_late = -1 },
	{ .name = "seal-seal", .mfd_flags = MFD_ALLOW_SEALING, .size = MiB,
	  .data = WHOLE(MiB, 10),
	  .seals = F_SEAL_FUTURE_WRITE | F_SEAL_GROW | F_SEAL_SEAL,
	  .pos_late = -1 },
	{ .name = "no-sealing", .size = 256 * 1024,
	  .data = WHOLE(256 * 1024, 11), .pos_late = -1, .write_late = true },
	{ .name = "noexec", .mfd_flags = MFD_NOEXEC_SEAL, .size = MiB,
	  .data = WHOLE(MiB, 12), .pos_late = -1, .write_late = true },
	{ .name = "rdonly", .mfd_flags = MFD_ALLOW_SEALING, .size = MiB + 1,
	  .data = WHOLE(MiB + 1, 13), .rdonly = true, .pos = 77,
	  .pos_late = 99 },
	{ .name = "chmod", .mfd_flags = MFD_ALLOW_SEALING | MFD_EXEC,
	  .size = 8192, .data = WHOLE(8192, 14), .chmod = 0640,
	  .pos_late = -1 },
	{ .name = "thp", .mfd_flags = MFD_ALLOW_SEALING, .size = 8 * MiB,
	  .data = WHOLE(8 * MiB, 15), .thp = true, .thp_retrieve = true,
	  .pos_late = -1, .write_late = true },
	{ .name = "sparse-thp", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 6 * MiB + 5,
	  .data = { { 4096, 10, 16 }, { 2 * MiB - 3, 6, 17 },
		    { 5 * MiB + 8192, 4096, 18 }, { 6 * MiB, 5, 19 } },
	  .thp_retrieve = true, .pos_late = -1, .write_late = true },
};

#define NCASES ((int)(sizeof(cases) / sizeof(cases[0])))

/* Every byte differs from its neighbours and every page from the others. */
static inline uint8_t pattern(uint32_t seed, uint64_t off)
{
	return (uint8_t)(off + (off >> 12) * 7 + (off >> 20) * 13 + seed * 29);
}

/* The range written after preserve: straddles a page boundary mid-file. */
static struct range late_range(const struct mcase *c)
{
	struct range r = { c->size / 2 - 100, 4196, 100 };

	if (r.len > c->size - r.off)
		r.len = c->size - r.off;
	return r;
}

/* buf[i] = pattern(seed, off + i), a page-long run at a time. */
static void fill_pattern(uint8_t *buf, uint64_t off, size_t n, uint32_t seed)
{
	while (n) {
		size_t run = 4096 - (off & 4095);
		uint8_t v = pattern(seed, off);

		if (run > n)
			run = n;
		for (size_t i = 0; i < run; i++)
			buf[i] = (uint8_t)(v + i);
		buf += run;
		off += run;
		n -= run;
	}
}

static void fill_expected(const struct mcase *c, bool late, uint64_t start,
			  uint8_t *buf, size_t len)
{
	struct range all[MAX_RANGES + 1];
	int n = 0;

	for (int i = 0; i < MAX_RANGES && c->data[i].len; i++)
		all[n++] = c->data[i];
	if (late)
		all[n++] = late_range(c);
	memset(buf, 0, len);
	for (int i = 0; i < n; i++) {
		uint64_t a = all[i].off > start ? all[i].off : start;
		uint64_t b = all[i].off + all[i].len;

		if (b > start + len)
			b = start + len;
		if (a < b)
			fill_pattern(buf + (a - start), a, b - a, all[i].seed);
	}
}

/* The first difference between @got and @want, reported; true if none. */
static bool same(const struct mcase *c, const char *how, uint64_t off,
		 const uint8_t *got, const uint8_t *want, size_t n)
{
	if (!memcmp(got, want, n))
		return true;
	for (size_t i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			lu_diag("%s: %s byte %llu is %#x, want %#x", c->name, how,
				(unsigned long long)(off + i), got[i], want[i]);
			break;
		}
	}
	return false;
}

static int write_range(int fd, const struct range *r)
{
	static uint8_t buf[MiB];
	uint64_t done = 0;

	while (done < r->len) {
		size_t n = r->len - done > MiB ? MiB : r->len - done;

		fill_pattern(buf, r->off + done, n, r->seed);
		if (pwrite(fd, buf, n, r->off + done) != (ssize_t)n)
			return -errno;
		done += n;
	}
	return 0;
}

/* Every byte of the file through pread(), and through a MAP_SHARED map. */
static bool content_ok(int fd, const struct mcase *c, bool late)
{
	static uint8_t got[MiB], want[MiB];
	uint64_t off;
	uint8_t *map;

	for (off = 0; off < c->size; off += MiB) {
		size_t n = c->size - off > MiB ? MiB : c->size - off;

		fill_expected(c, late, off, want, n);
		if (pread(fd, got, n, off) != (ssize_t)n) {
			lu_diag("%s: pread at %llu: %s", c->name,
				(unsigned long long)off, strerror(errno));
			return false;
		}
		if (!same(c, "read", off, got, want, n))
			return false;
	}
	if (!c->size)
		return true;
	map = mmap(NULL, c->size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		lu_diag("%s: mmap: %s", c->name, strerror(errno));
		return false;
	}
	for (off = 0; off < c->size; off += MiB) {
		size_t n = c->size - off > MiB ? MiB : c->size - off;

		fill_expected(c, late, off, want, n);
		if (!same(c, "mapped", off, map + off, want, n)) {
			munmap(map, c->size);
			return false;
		}
	}
	munmap(map, c->size);
	return true;
}

/* What a memfd in this state must allow and refuse. */
struct state {
	unsigned int seals;
	unsigned int mode;
	bool writable;
};

static struct state spec_state(const struct mcase *c)
{
	struct state s = { .writable = !c->rdonly };

	s.seals = c->seals;
	if (!(c->mfd_flags & (MFD_ALLOW_SEALING | MFD_NOEXEC_SEAL)))
		s.seals |= F_SEAL_SEAL;
	if (c->mfd_flags & MFD_NOEXEC_SEAL)
		s.seals |= F_SEAL_EXEC;
	s.mode = c->chmod ? c->chmod :
		(c->mfd_flags & MFD_NOEXEC_SEAL) ? 0666 : 0777;
	return s;
}

/* After retrieve: exact on the module; see the header for upstream. */
static struct state retrieved_state(const struct mcase *c)
{
	struct state s = spec_state(c);

	if (lu_is_module())
		return s;
	s.mode = 0777;
	s.writable = true;
	if (s.seals & F_SEAL_EXEC)
		s.seals |= F_SEAL_SHRINK | F_SEAL_GROW | WRITE_SEALS;
	return s;
}

static long errno_of(long ret)
{
	return ret < 0 ? -errno : 0;
}

/*
 * Check that @fd behaves as a memfd in state @s: attributes, then writes,
 * writable shared mappings, size changes and sealing allowed or refused as
 * the state says. Leaves content and size as they were.
 */
static void check_behaviour(int fd, const struct mcase *c,
			    const struct state *s, const char *when)
{
	bool write_sealed = s->seals & WRITE_SEALS;
	long want, got;
	struct stat st;
	uint8_t byte;
	void *map;

	CHECK(fstat(fd, &st) == 0 && (uint64_t)st.st_size == c->size,
	      "%s %s: size is %llu", when, c->name, (unsigned long long)c->size);
	if (!CHECK((st.st_mode & 07777) == s->mode, "%s %s: mode is %04o",
		   when, c->name, s->mode))
		lu_diag("mode is %04o", st.st_mode & 07777);
	got = fcntl(fd, F_GET_SEALS);
	if (!CHECK(got == (long)s->seals, "%s %s: seals are %#x", when,
		   c->name, s->seals))
		lu_diag("F_GET_SEALS: %ld", got);
	got = fcntl(fd, F_GETFL);
	CHECK(got >= 0 && (got & O_ACCMODE) == (s->writable ? O_RDWR : O_RDONLY),
	      "%s %s: opened %s", when, c->name, s->writable ? "O_RDWR" : "O_RDONLY");

	/* write(): rewrite the first byte with itself. */
	if (c->size) {
		want = !s->writable ? -EBADF : write_sealed ? -EPERM : 0;
		if (pread(fd, &byte, 1, 0) != 1)
			byte = 0;
		CHECK_ERR(errno_of(pwrite(fd, &byte, 1, 0)), want,
			  "%s %s: write %s", when, c->name,
			  want ? "refused" : "allowed");
	}

	/* A shared writable mapping; when allowed, a store shows in read(). */
	if (c->size) {
		want = !s->writable ? -EACCES : write_sealed ? -EPERM : 0;
		map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		got = map == MAP_FAILED ? -errno : 0;
		if (CHECK_ERR(got, want, "%s %s: writable MAP_SHARED %s", when,
			      c->name, want ? "refused" : "allowed") && !got) {
			volatile uint8_t *p = map;
			uint8_t orig = p[c->size - 1], flip = orig ^ 0xff;
			uint8_t seen = 0;

			p[c->size - 1] = flip;
			CHECK(pread(fd, &seen, 1, c->size - 1) == 1 &&
			      seen == flip,
			      "%s %s: a store through the map reads back",
			      when, c->name);
			p[c->size - 1] = orig;
		}
		if (!got)
			munmap(map, c->size);
	}

	/* ftruncate(): grow by a page, then shrink back. */
	want = !s->writable ? -EINVAL : (s->seals & F_SEAL_GROW) ? -EPERM : 0;
	got = errno_of(ftruncate(fd, c->size + 4096));
	if (CHECK_ERR(got, want, "%s %s: growing %s", when, c->name,
		      want ? "refused" : "allowed") && !got) {
		want = (s->seals & F_SEAL_SHRINK) ? -EPERM : 0;
		CHECK_ERR(errno_of(ftruncate(fd, c->size)), want,
			  "%s %s: shrinking %s", when, c->name,
			  want ? "refused" : "allowed");
	}

	/* F_ADD_SEALS with no seal: only whether sealing is open. */
	want = (!s->writable || (s->seals & F_SEAL_SEAL)) ? -EPERM : 0;
	CHECK_ERR(errno_of(fcntl(fd, F_ADD_SEALS, 0)), want,
		  "%s %s: F_ADD_SEALS %s", when, c->name,
		  want ? "refused" : "allowed");
}

static int thp_set(const char *value, char *old, size_t oldlen)
{
	int fd = open(THP_CTL, O_RDWR);
	char buf[128];
	ssize_t n;
	char *sel, *end;

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
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			val = atol(line + strlen(key) + 1);
	}
	fclose(f);
	return val;
}

static int create_case(const struct mcase *c)
{
	char old[32] = "never", procpath[64];
	long huge_before = 0;
	int fd, ro;

	if (c->thp) {
		huge_before = meminfo_kib("ShmemHugePages");
		if (thp_set("always", old, sizeof(old)))
			lu_diag("%s: cannot set %s: large folios untested",
				c->name, THP_CTL);
	}
	fd = memfd_create(c->name, c->mfd_flags);
	if (fd < 0)
		BAIL("memfd_create(%s): %s", c->name, strerror(errno));
	if (c->size && ftruncate(fd, c->size))
		BAIL("%s: ftruncate: %s", c->name, strerror(errno));
	for (int i = 0; i < MAX_RANGES && c->data[i].len; i++) {
		if (write_range(fd, &c->data[i]))
			BAIL("%s: write: %s", c->name, strerror(errno));
	}
	if (c->thp) {
		thp_set(old, NULL, 0);
		lu_diag("%s: ShmemHugePages %ld -> %ld kB", c->name,
			huge_before, meminfo_kib("ShmemHugePages"));
	}
	if (c->chmod && fchmod(fd, c->chmod))
		BAIL("%s: fchmod: %s", c->name, strerror(errno));
	if (c->seals && fcntl(fd, F_ADD_SEALS, c->seals))
		BAIL("%s: F_ADD_SEALS: %s", c->name, strerror(errno));
	if (c->rdonly) {
		snprintf(procpath, sizeof(procpath), "/proc/self/fd/%d", fd);
		ro = open(procpath, O_RDONLY);
		if (ro < 0)
			BAIL("%s: reopen O_RDONLY: %s", c->name, strerror(errno));
		close(fd);
		fd = ro;
	}
	if (lseek(fd, c->pos, SEEK_SET) != c->pos)
		BAIL("%s: lseek: %s", c->name, strerror(errno));
	return fd;
}

/* What preserve changes: the size is frozen, writes still land. */
static void after_preserve(int fd, const struct mcase *c)
{
	struct range late = late_range(c);

	if (!c->rdonly) {
		CHECK_ERR(errno_of(ftruncate(fd, c->size + 4096)), -EPERM,
			  "preserved %s: growing is EPERM", c->name);
		if (c->size)
			CHECK_ERR(errno_of(ftruncate(fd, c->size - 1)), -EPERM,
				  "preserved %s: shrinking is EPERM", c->name);
		CHECK_ERR(errno_of(fallocate(fd, 0, 0, c->size + 4096)), -EPERM,
			  "preserved %s: fallocate is EPERM", c->name);
	}
	if (c->write_late)
		CHECK_ERR(write_range(fd, &late), 0,
			  "preserved %s: a write within the size succeeds",
			  c->name);
	if (c->pos_late >= 0)
		CHECK(lseek(fd, c->pos_late, SEEK_SET) == c->pos_late,
		      "preserved %s: position moves to %lld", c->name,
		      (long long)c->pos_late);
}

static void stage_1(void)
{
	int dev, session, fds[NCASES];

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_create_session(dev, SESSION);
	if (session < 0)
		BAIL("create session: %s", lu_errname(session));

	for (int i = 0; i < NCASES; i++) {
		struct state s = spec_state(&cases[i]);

		fds[i] = create_case(&cases[i]);
		check_behaviour(fds[i], &cases[i], &s, "new");
		CHECK(content_ok(fds[i], &cases[i], false), "new %s: content",
		      cases[i].name);
	}
	for (int i = 0; i < NCASES; i++)
		CHECK_ERR(lu_preserve_fd(session, fds[i], i + 1), 0,
			  "preserve %s", cases[i].name);
	for (int i = 0; i < NCASES; i++)
		after_preserve(fds[i], &cases[i]);
	lu_hold_until_kexec(READY);
}

static void check_name(int fd, const struct mcase *c)
{
	char path[64], link[512], want[512];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", c->name);
	if (lu_is_module())
		CHECK(!strcmp(link, want), "retrieved %s: named %s", c->name, want);
	else
		lu_diag("in-kernel LUO names the retrieved %s \"%s\"", c->name, link);
}

static void stage_2(void)
{
	int dev, session;

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_retrieve_session(dev, SESSION);
	if (session < 0)
		BAIL("retrieve session: %s", lu_errname(session));

	for (int i = 0; i < NCASES; i++) {
		const struct mcase *c = &cases[i];
		struct state s = retrieved_state(c);
		int64_t pos = c->pos_late >= 0 ? c->pos_late : c->pos;
		char old[32] = "never";
		long huge = meminfo_kib("ShmemHugePages");
		int fd;

		/* Large destination folios, partly filled, on the module. */
		if (c->thp_retrieve && thp_set("always", old, sizeof(old)))
			lu_diag("%s: cannot set %s", c->name, THP_CTL);
		fd = lu_retrieve_fd(session, i + 1);
		if (c->thp_retrieve) {
			thp_set(old, NULL, 0);
			lu_diag("retrieved %s: ShmemHugePages %ld -> %ld kB",
				c->name, huge, meminfo_kib("ShmemHugePages"));
		}
		if (!CHECK(fd >= 0, "retrieve %s", c->name)) {
			lu_diag("retrieve %s: %s", c->name, lu_errname(fd));
			continue;
		}
		CHECK(lseek(fd, 0, SEEK_CUR) == pos, "retrieved %s: position %lld",
		      c->name, (long long)pos);
		CHECK(content_ok(fd, c, c->write_late),
		      "retrieved %s: every byte%s", c->name,
		      c->write_late ? ", with the write made after preserve" : "");
		check_name(fd, c);
		check_behaviour(fd, c, &s, "retrieved");
		CHECK(content_ok(fd, c, c->write_late),
		      "retrieved %s: content unchanged by the probes", c->name);
		close(fd);
	}
	CHECK_ERR(lu_finish(session), 0, "finish the session");
	close(session);
	close(dev);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (lu_stage(argc, argv) == 1)
		stage_1();
	else
		stage_2();
	return lu_exit_status();
}
