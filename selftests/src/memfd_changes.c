// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-changes --stage 1|2: what a process changes on a memfd after
 * PRESERVE_FD is what comes back after the live update.
 *
 * Stage 1 creates the memfds of the table below, preserves them all in the
 * session "memfd-changes" (token = index + 1), THEN changes them: writes
 * (write(), a MAP_SHARED mapping made before preserve, one made after),
 * seals (F_SEAL_FUTURE_WRITE, F_SEAL_SHRINK | F_SEAL_GROW, F_SEAL_SEAL),
 * fchmod() and lseek(). On the module the changes come in two rounds with
 * a trial freeze (MOD_STATUS) between them, so what must come back is what
 * the file was at the reboot, not at the last trial freeze. F_SEAL_WRITE
 * cannot be added to a preserved memfd (its folios are pinned: EBUSY on
 * both providers). Stage 2 retrieves every file and checks the seals, the
 * mode, the position and every byte, then that the seals are enforced by
 * the new kernel (F_SEAL_FUTURE_WRITE: write() and a writable MAP_SHARED
 * mmap() are EPERM, a MAP_PRIVATE one is not), and finishes the session.
 *
 * The in-kernel LUO of 7.3 (flavor upstream) differs, and the test checks
 * what it does as it is, with a diagnostic saying so:
 *   - it takes the seals at PRESERVE_FD only (memfd_luo_preserve()); freeze
 *     refreshes the position alone, so seals added after PRESERVE_FD are
 *     lost (a F_SEAL_FUTURE_WRITE memfd comes back writable);
 *   - it re-creates the file with memfd_alloc_file(): mode 0777 whatever
 *     fchmod() made of it, before or after PRESERVE_FD;
 *   - re-adding F_SEAL_EXEC to that 0777 file adds the write seals
 *     (memfd_add_seals()), so an MFD_NOEXEC_SEAL memfd (mode 0666, seals
 *     F_SEAL_EXEC) comes back as mode 0777 with seals 0x3e, no longer
 *     writable. The module returns it as it was: 0666, F_SEAL_EXEC only.
 */
#include "lu_test.h"

#include <sys/mman.h>

#define KiB 1024UL
#define MiB (1024UL * KiB)
#define SESSION "memfd-changes"
#define READY "/tmp/memfd-changes.ready"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

#define WRITE_SEALS (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

/* How and when a range is written after PRESERVE_FD. */
enum how {
	BY_WRITE = 1,	/* pwrite() */
	BY_OLD_MAP,	/* the MAP_SHARED mapping made before PRESERVE_FD */
	BY_NEW_MAP,	/* a MAP_SHARED mapping made after PRESERVE_FD */
};

enum when {
	BEFORE_SEAL,	/* round 1, before seals_after are added */
	AFTER_SEAL,	/* round 1, after them (mappings only, for FUTURE_WRITE) */
	AFTER_TRIAL,	/* round 2, after the trial freeze */
};

struct change {
	uint64_t off, len;
	uint32_t seed;
	enum how how;
	enum when when;
};

enum { MAX_CHANGES = 4 };

struct mfile {
	const char *name;
	unsigned int mfd_flags;
	uint64_t size;
	uint32_t seed;		/* the content before PRESERVE_FD */
	unsigned int seals_before; /* F_ADD_SEALS before PRESERVE_FD */
	unsigned int seals_after;  /* F_ADD_SEALS after PRESERVE_FD */
	unsigned int mode1;	/* fchmod() after PRESERVE_FD (0: none) */
	unsigned int mode2;	/* fchmod() after the trial freeze (0: none) */
	int64_t pos1;		/* lseek() after PRESERVE_FD */
	int64_t pos2;		/* lseek() after the trial freeze (-1: none) */
	bool old_map;		/* a MAP_SHARED mapping made before PRESERVE_FD */
	bool try_seal_write;	/* F_ADD_SEALS(F_SEAL_WRITE) must be EBUSY */
	struct change changes[MAX_CHANGES];
};

static const struct mfile files[] = {
	{ .name = "future-write", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = MiB, .seed = 1, .seals_after = F_SEAL_FUTURE_WRITE,
	  .pos1 = 1000, .pos2 = -1, .old_map = true,
	  .changes = {
		  { 4 * KiB - 10, 100, 21, BY_WRITE, BEFORE_SEAL },
		  { 300 * KiB, 8 * KiB, 22, BY_NEW_MAP, BEFORE_SEAL },
		  /* A mapping made before the seal still writes (by design). */
		  { MiB - 5000, 5000, 23, BY_OLD_MAP, AFTER_SEAL },
	  } },
	{ .name = "size-seals", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 256 * KiB + 7, .seed = 2,
	  .seals_after = F_SEAL_SHRINK | F_SEAL_GROW,
	  .pos1 = 3 * 4096 + 5, .pos2 = 256 * KiB + 7, .old_map = true,
	  .changes = {
		  { 10, 20, 31, BY_OLD_MAP, BEFORE_SEAL },
		  { 128 * KiB - 1, 2, 32, BY_WRITE, BEFORE_SEAL },
		  { 200 * KiB, 4 * KiB, 33, BY_WRITE, AFTER_TRIAL },
	  } },
	{ .name = "seal-seal", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 64 * KiB, .seed = 3, .seals_before = F_SEAL_GROW,
	  .seals_after = F_SEAL_SEAL, .pos1 = 64 * KiB - 1, .pos2 = 17,
	  .changes = {
		  { 0, 64 * KiB, 41, BY_NEW_MAP, BEFORE_SEAL },
	  } },
	{ .name = "chmod", .mfd_flags = MFD_ALLOW_SEALING, .size = 100 * KiB,
	  .seed = 4, .mode1 = 0640, .mode2 = 0600, .pos1 = 5, .pos2 = 50 * KiB,
	  .try_seal_write = true,
	  .changes = {
		  { 50 * KiB, 10 * KiB, 51, BY_WRITE, BEFORE_SEAL },
	  } },
	{ .name = "chmod-once", .mfd_flags = MFD_ALLOW_SEALING,
	  .size = 4 * KiB, .seed = 5, .mode1 = 0640, .pos1 = 4 * KiB,
	  .pos2 = -1, .try_seal_write = true },
	{ .name = "noexec", .mfd_flags = MFD_NOEXEC_SEAL, .size = 2 * MiB + 100,
	  .seed = 6, .pos1 = MiB, .pos2 = -1,
	  .changes = {
		  { 2 * MiB, 100, 61, BY_WRITE, BEFORE_SEAL },
		  { 7, 4 * KiB, 62, BY_NEW_MAP, AFTER_TRIAL },
	  } },
};

#define NFILES ((int)(sizeof(files) / sizeof(files[0])))

static inline uint8_t pattern(uint32_t seed, uint64_t off)
{
	return (uint8_t)(off + (off >> 12) * 7 + (off >> 20) * 13 + seed * 29);
}

static void fill(uint8_t *buf, uint64_t off, uint64_t len, uint32_t seed)
{
	for (uint64_t i = 0; i < len; i++)
		buf[i] = pattern(seed, off + i);
}

/* What the file holds after every change (the changes are disjoint). */
static void expected(const struct mfile *f, uint8_t *buf)
{
	fill(buf, 0, f->size, f->seed);
	for (int i = 0; i < MAX_CHANGES && f->changes[i].len; i++)
		fill(buf + f->changes[i].off, f->changes[i].off,
		     f->changes[i].len, f->changes[i].seed);
}

/* The seals memfd_create() itself sets. */
static unsigned int created_seals(const struct mfile *f)
{
	if (f->mfd_flags & MFD_NOEXEC_SEAL)
		return F_SEAL_EXEC;
	return (f->mfd_flags & MFD_ALLOW_SEALING) ? 0 : F_SEAL_SEAL;
}

static unsigned int created_mode(const struct mfile *f)
{
	return (f->mfd_flags & MFD_NOEXEC_SEAL) ? 0666 : 0777;
}

/* At the reboot: what the module must return. */
static unsigned int reboot_seals(const struct mfile *f)
{
	return created_seals(f) | f->seals_before | f->seals_after;
}

static unsigned int reboot_mode(const struct mfile *f)
{
	return f->mode2 ? f->mode2 : f->mode1 ? f->mode1 : created_mode(f);
}

static int64_t reboot_pos(const struct mfile *f)
{
	return f->pos2 >= 0 ? f->pos2 : f->pos1;
}

/* What the in-kernel LUO of 7.3 returns instead (see the header). */
static unsigned int upstream_seals(const struct mfile *f)
{
	unsigned int seals = created_seals(f) | f->seals_before;

	if (seals & F_SEAL_EXEC)
		seals |= F_SEAL_SHRINK | F_SEAL_GROW | WRITE_SEALS;
	return seals;
}

static long errno_of(long ret)
{
	return ret < 0 ? -errno : 0;
}

static bool same(const struct mfile *f, const char *how, const uint8_t *got,
		 const uint8_t *want)
{
	if (!memcmp(got, want, f->size))
		return true;
	for (uint64_t i = 0; i < f->size; i++) {
		if (got[i] != want[i]) {
			lu_diag("%s: %s byte %llu is %#x, want %#x", f->name, how,
				(unsigned long long)i, got[i], want[i]);
			break;
		}
	}
	return false;
}

/* Every byte through pread() and through a read-only MAP_SHARED mapping. */
static bool content_ok(int fd, const struct mfile *f)
{
	static uint8_t got[4 * MiB], want[4 * MiB];
	bool ok;
	void *map;

	expected(f, want);
	if (pread(fd, got, f->size, 0) != (ssize_t)f->size) {
		lu_diag("%s: pread: %s", f->name, strerror(errno));
		return false;
	}
	if (!same(f, "read", got, want))
		return false;
	map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		lu_diag("%s: read-only mmap: %s", f->name, strerror(errno));
		return false;
	}
	ok = same(f, "mapped", map, want);
	munmap(map, f->size);
	return ok;
}

static void *map_shared(int fd, const struct mfile *f)
{
	void *map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (map == MAP_FAILED)
		BAIL("%s: writable MAP_SHARED mmap: %s", f->name, strerror(errno));
	return map;
}

static void apply(int fd, uint8_t *old_map, const struct mfile *f, enum when when)
{
	static uint8_t buf[4 * MiB];

	for (int i = 0; i < MAX_CHANGES && f->changes[i].len; i++) {
		const struct change *c = &f->changes[i];
		uint8_t *map;

		if (c->when != when)
			continue;
		fill(buf, c->off, c->len, c->seed);
		switch (c->how) {
		case BY_WRITE:
			CHECK(pwrite(fd, buf, c->len, c->off) == (ssize_t)c->len,
			      "preserved %s: write() of %llu bytes at %llu lands", f->name,
			      (unsigned long long)c->len, (unsigned long long)c->off);
			break;
		case BY_OLD_MAP:
			memcpy(old_map + c->off, buf, c->len);
			break;
		case BY_NEW_MAP:
			map = map_shared(fd, f);
			memcpy(map + c->off, buf, c->len);
			munmap(map, f->size);
			break;
		}
	}
}

static void trial_freeze(int dev)
{
	struct liveupdate_mod_status st = { .size = sizeof(st) };

	/* The module's own ioctl; the in-kernel LUO has no trial freeze. */
	if (!lu_is_module())
		return;
	CHECK_ERR(lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &st), 0, "MOD_STATUS");
	if (!CHECK(st.ready && st.first_error == 0,
		   "the trial freeze passes, between the two rounds of changes"))
		lu_diag("ready %u, first_error %d", st.ready, st.first_error);
}

static void check_attrs(int fd, const struct mfile *f, unsigned int seals,
			unsigned int mode, const char *when)
{
	struct stat st;
	long got;

	got = fcntl(fd, F_GET_SEALS);
	if (!CHECK(got == (long)seals, "%s %s: F_GET_SEALS is %#x", when, f->name, seals))
		lu_diag("F_GET_SEALS: %ld", got);
	if (!CHECK(fstat(fd, &st) == 0 && (st.st_mode & 07777) == mode,
		   "%s %s: mode is %04o", when, f->name, mode))
		lu_diag("mode is %04o", st.st_mode & 07777);
	CHECK(st.st_size == (off_t)f->size, "%s %s: size is %llu", when, f->name,
	      (unsigned long long)f->size);
}

/* Round 1 of the changes; returns the fd. */
static void change_round_1(int fd, uint8_t *old_map, const struct mfile *f)
{
	apply(fd, old_map, f, BEFORE_SEAL);
	if (f->mode1)
		CHECK_ERR(errno_of(fchmod(fd, f->mode1)), 0, "preserved %s: fchmod %04o",
			  f->name, f->mode1);
	if (f->seals_after)
		CHECK_ERR(errno_of(fcntl(fd, F_ADD_SEALS, f->seals_after)), 0,
			  "preserved %s: F_ADD_SEALS %#x", f->name, f->seals_after);
	apply(fd, old_map, f, AFTER_SEAL);
	CHECK(lseek(fd, f->pos1, SEEK_SET) == f->pos1, "preserved %s: lseek to %lld",
	      f->name, (long long)f->pos1);
}

static void change_round_2(int fd, uint8_t *old_map, const struct mfile *f)
{
	apply(fd, old_map, f, AFTER_TRIAL);
	if (f->mode2)
		CHECK_ERR(errno_of(fchmod(fd, f->mode2)), 0,
			  "preserved %s: fchmod %04o after the trial freeze", f->name, f->mode2);
	if (f->pos2 >= 0)
		CHECK(lseek(fd, f->pos2, SEEK_SET) == f->pos2,
		      "preserved %s: lseek to %lld after the trial freeze", f->name,
		      (long long)f->pos2);
}

/* The seals just added are in force in this kernel already. */
static void check_sealed_now(int fd, const struct mfile *f)
{
	uint8_t byte = 0;
	void *map;

	if (f->seals_after & F_SEAL_FUTURE_WRITE) {
		CHECK_ERR(errno_of(pwrite(fd, &byte, 1, 0)), -EPERM,
			  "preserved %s: write() after F_SEAL_FUTURE_WRITE is EPERM", f->name);
		map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK_ERR(map == MAP_FAILED ? -errno : 0, -EPERM,
			  "preserved %s: a new writable MAP_SHARED mmap is EPERM", f->name);
		if (map != MAP_FAILED)
			munmap(map, f->size);
	}
	if (f->seals_after & F_SEAL_SEAL)
		CHECK_ERR(errno_of(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)), -EPERM,
			  "preserved %s: F_ADD_SEALS after F_SEAL_SEAL is EPERM", f->name);
	if (f->try_seal_write) {
		CHECK_ERR(errno_of(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)), -EBUSY,
			  "preserved %s: F_SEAL_WRITE cannot be added (EBUSY: pinned folios)",
			  f->name);
		map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK_ERR(map == MAP_FAILED ? -errno : 0, 0,
			  "preserved %s: the refused F_SEAL_WRITE left it mappable for writing",
			  f->name);
		if (map != MAP_FAILED)
			munmap(map, f->size);
	}
}

static void stage_1(void)
{
	static uint8_t buf[4 * MiB];
	uint8_t *old_maps[NFILES] = { 0 };
	int dev, session, fds[NFILES];

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_create_session(dev, SESSION);
	if (session < 0)
		BAIL("create session: %s", lu_errname(session));

	for (int i = 0; i < NFILES; i++) {
		const struct mfile *f = &files[i];

		fds[i] = memfd_create(f->name, f->mfd_flags);
		if (fds[i] < 0)
			BAIL("memfd_create(%s): %s", f->name, strerror(errno));
		fill(buf, 0, f->size, f->seed);
		if (ftruncate(fds[i], f->size) ||
		    pwrite(fds[i], buf, f->size, 0) != (ssize_t)f->size)
			BAIL("%s: fill: %s", f->name, strerror(errno));
		if (f->seals_before && fcntl(fds[i], F_ADD_SEALS, f->seals_before))
			BAIL("%s: F_ADD_SEALS: %s", f->name, strerror(errno));
		if (f->old_map)
			old_maps[i] = map_shared(fds[i], f);
		check_attrs(fds[i], f, created_seals(f) | f->seals_before, created_mode(f),
			    "new");
	}
	for (int i = 0; i < NFILES; i++)
		CHECK_ERR(lu_preserve_fd(session, fds[i], i + 1), 0, "preserve %s",
			  files[i].name);

	for (int i = 0; i < NFILES; i++)
		change_round_1(fds[i], old_maps[i], &files[i]);
	trial_freeze(dev);
	for (int i = 0; i < NFILES; i++)
		change_round_2(fds[i], old_maps[i], &files[i]);

	for (int i = 0; i < NFILES; i++) {
		const struct mfile *f = &files[i];

		check_sealed_now(fds[i], f);
		check_attrs(fds[i], f, reboot_seals(f), reboot_mode(f), "preserved");
		CHECK(lseek(fds[i], 0, SEEK_CUR) == reboot_pos(f),
		      "preserved %s: position is %lld", f->name, (long long)reboot_pos(f));
		CHECK(content_ok(fds[i], f), "preserved %s: every byte, with the changes",
		      f->name);
	}
	/* The mappings made before PRESERVE_FD stay until the kexec. */
	lu_hold_until_kexec(READY);
}

/* What the new kernel enforces for @seals; leaves content and size alone. */
static void check_enforced(int fd, const struct mfile *f, unsigned int seals,
			   unsigned int mode)
{
	bool write_sealed = seals & WRITE_SEALS;
	uint8_t byte = 0;
	long want, got;
	void *map;

	if (pread(fd, &byte, 1, 0) != 1)
		lu_diag("%s: pread: %s", f->name, strerror(errno));
	want = write_sealed ? -EPERM : 0;
	CHECK_ERR(errno_of(pwrite(fd, &byte, 1, 0)), want, "retrieved %s: write() %s",
		  f->name, want ? "is EPERM" : "works");

	map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	got = map == MAP_FAILED ? -errno : 0;
	if (CHECK_ERR(got, want, "retrieved %s: a writable MAP_SHARED mmap %s", f->name,
		      want ? "is EPERM" : "works") && !got) {
		volatile uint8_t *p = map;
		uint8_t orig = p[f->size - 1], flip = orig ^ 0xff, seen = 0;

		p[f->size - 1] = flip;
		CHECK(pread(fd, &seen, 1, f->size - 1) == 1 && seen == flip,
		      "retrieved %s: a store through it reads back", f->name);
		p[f->size - 1] = orig;
	}
	if (!got)
		munmap(map, f->size);

	if (seals & F_SEAL_FUTURE_WRITE) {
		/* Unlike F_SEAL_WRITE, it leaves private writable mappings alone. */
		map = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		got = map == MAP_FAILED ? -errno : 0;
		CHECK_ERR(got, 0, "retrieved %s: a writable MAP_PRIVATE mmap works", f->name);
		if (!got)
			munmap(map, f->size);
	}

	/* Grow by a page and shrink back, or both refused. */
	want = (seals & F_SEAL_GROW) ? -EPERM : 0;
	got = errno_of(ftruncate(fd, f->size + 4096));
	CHECK_ERR(got, want, "retrieved %s: growing %s", f->name,
		  want ? "is EPERM" : "works");
	want = (seals & F_SEAL_SHRINK) ? -EPERM : 0;
	if (!got || want)
		CHECK_ERR(errno_of(ftruncate(fd, got ? f->size - 1 : f->size)), want,
			  "retrieved %s: shrinking %s", f->name,
			  want ? "is EPERM" : "works");

	want = (seals & F_SEAL_SEAL) ? -EPERM : 0;
	CHECK_ERR(errno_of(fcntl(fd, F_ADD_SEALS, 0)), want, "retrieved %s: F_ADD_SEALS %s",
		  f->name, want ? "is EPERM (F_SEAL_SEAL)" : "works");

	if (seals & F_SEAL_EXEC)
		CHECK_ERR(errno_of(fchmod(fd, mode ^ 0100)), -EPERM,
			  "retrieved %s: changing an exec bit is EPERM (F_SEAL_EXEC)", f->name);
}

static void stage_2(void)
{
	bool module = lu_is_module();
	int dev, session;

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_retrieve_session(dev, SESSION);
	if (session < 0)
		BAIL("retrieve session: %s", lu_errname(session));

	for (int i = 0; i < NFILES; i++) {
		const struct mfile *f = &files[i];
		unsigned int seals = module ? reboot_seals(f) : upstream_seals(f);
		unsigned int mode = module ? reboot_mode(f) : 0777;
		int fd = lu_retrieve_fd(session, i + 1);

		if (!CHECK(fd >= 0, "retrieve %s", f->name)) {
			lu_diag("retrieve %s: %s", f->name, lu_errname(fd));
			continue;
		}
		if (!module && (seals != reboot_seals(f) || mode != reboot_mode(f)))
			lu_diag("in-kernel LUO differs from the module: %s comes back with "
				"seals %#x (%s) and mode %04o (memfd_alloc_file()'s); at the "
				"reboot they were %#x and %04o, which the module returns",
				f->name, seals, seals == (created_seals(f) | f->seals_before) ?
				"as at PRESERVE_FD" :
				"F_SEAL_EXEC on a 0777 file adds the write seals",
				mode, reboot_seals(f), reboot_mode(f));
		if (module && (f->mfd_flags & MFD_NOEXEC_SEAL))
			lu_diag("module: MFD_NOEXEC_SEAL memfd %s comes back as mode %04o, seals "
				"%#x (the in-kernel LUO of 7.3: 0777, %#x)", f->name, mode,
				seals, upstream_seals(f));
		CHECK(lseek(fd, 0, SEEK_CUR) == reboot_pos(f),
		      "retrieved %s: position is %lld, as at the reboot", f->name,
		      (long long)reboot_pos(f));
		check_attrs(fd, f, seals, mode, module ? "retrieved" : "retrieved (in-kernel LUO)");
		CHECK(content_ok(fd, f),
		      "retrieved %s: every byte, with the changes made after PRESERVE_FD",
		      f->name);
		check_enforced(fd, f, seals, mode);
		CHECK(content_ok(fd, f), "retrieved %s: content unchanged by the probes",
		      f->name);
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
