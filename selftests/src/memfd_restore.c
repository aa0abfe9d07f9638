// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-restore --stage 1|2 [--meminfo-kib SHMEM,HUGE]: a retrieved memfd is
 * made of the very folios the old kernel had (zero-copy), large folios
 * still large, and behaves as any shmem file under the mm's own operations:
 * migration (compaction), hole punching, truncation through a large folio,
 * writes through a mapping and munmap; once it is closed, the kernel's
 * shmem counters are back where they were.
 *
 * Stage 1 makes "small" (16 MiB, 4 KiB folios) and "huge" (8 MiB, written
 * while shmem's THP policy is "always", so 2 MiB folios), preserves them,
 * and then writes into the first 8 bytes of every page the PFN that page
 * has (from /proc/self/pagemap: preserving pinned the folios, so the PFNs
 * are final). Stage 2 retrieves both and compares each page's PFN now with
 * the one it holds; /proc/kpageflags says whether "huge" is made of THPs.
 * Shmem and ShmemHugePages from before /dev/liveupdate was set up come in
 * with --meminfo-kib, so that memory restored before RETRIEVE_FD counts.
 */
#include "lu_test.h"

#include <sys/mman.h>
#include <time.h>

#define MiB (1024UL * 1024)
#define PAGE 4096UL
#define SESSION "memfd-restore"
#define READY "/tmp/memfd-restore.ready"
#define THP_CTL "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define SMALL_SIZE (16 * MiB)
#define HUGE_SIZE (8 * MiB)
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_THP 22

/* Every byte after a page's first 8 (which hold its stage-1 PFN). */
static inline uint8_t pattern(uint32_t seed, uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + seed);
}

/* How long the shmem counters may take to settle after the last close. */
#define SETTLE_MS 30000.0

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long meminfo_kib(const char *key)
{
	char line[256];
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			val = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return val;
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool thp_policy(const char *mode)
{
	return write_file(THP_CTL, mode);
}

/* The PFN behind @addr (mapped and present), or 0. */
static uint64_t pfn_of(const void *addr)
{
	static int fd = -1;
	uint64_t entry;

	if (fd < 0)
		fd = open("/proc/self/pagemap", O_RDONLY);
	if (pread(fd, &entry, 8, (uintptr_t)addr / PAGE * 8) != 8 ||
	    !(entry & (1ULL << 63)))
		return 0;
	return entry & ((1ULL << 55) - 1);
}

static uint64_t page_flags(uint64_t pfn)
{
	static int fd = -1;
	uint64_t flags = 0;

	if (fd < 0)
		fd = open("/proc/kpageflags", O_RDONLY);
	if (pread(fd, &flags, 8, pfn * 8) != 8)
		return 0;
	return flags;
}

static uint8_t *map(int fd, size_t size, int prot)
{
	uint8_t *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		BAIL("mmap %zu: %s", size, strerror(errno));
	return p;
}

static void fill(uint8_t *p, size_t size, uint32_t seed)
{
	for (size_t off = 0; off < size; off++)
		p[off] = pattern(seed, off);
}

/* Pages of [from, to) whose bytes 8.. differ from the pattern (0: intact). */
static long bad_pages(const uint8_t *p, size_t from, size_t to, uint32_t seed)
{
	long bad = 0;

	for (size_t page = from; page < to; page += PAGE) {
		for (size_t off = page + 8; off < page + PAGE; off++) {
			if (p[off] != pattern(seed, off)) {
				bad++;
				break;
			}
		}
	}
	return bad;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static int make(const char *name, size_t size, uint32_t seed, bool thp)
{
	int fd;
	uint8_t *p;

	/* Before the mmap: only then is the mapping THP-aligned. */
	if (thp && !thp_policy("always"))
		lu_diag("cannot set %s: large folios untested", THP_CTL);
	fd = memfd_create(name, MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, size))
		BAIL("memfd %s: %s", name, strerror(errno));
	p = map(fd, size, PROT_READ | PROT_WRITE);
	fill(p, size, seed);
	munmap(p, size);
	if (thp)
		thp_policy("never");
	return fd;
}

/* After preserve: each page's first 8 bytes are its PFN. */
static void stamp_pfns(int fd, size_t size, const char *name)
{
	uint8_t *p = map(fd, size, PROT_READ | PROT_WRITE);
	long missing = 0;

	for (size_t off = 0; off < size; off += PAGE) {
		uint64_t pfn;

		/* Fault it in, writable: a store the compiler keeps. */
		asm volatile("incb %0; decb %0" : "+m"(p[off + 8]));
		pfn = pfn_of(p + off);
		missing += !pfn;
		memcpy(p + off, &pfn, 8);
	}
	CHECK(!missing, "%s: every page's PFN is known (%ld missing)", name, missing);
	munmap(p, size);
}

static void stage_1(void)
{
	int dev = lu_open_dev(), session, small, huge;
	long huge0 = meminfo_kib("ShmemHugePages");

	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_create_session(dev, SESSION);
	if (session < 0)
		BAIL("create session: %s", lu_errname(session));
	small = make("small", SMALL_SIZE, 1, false);
	huge = make("huge", HUGE_SIZE, 2, true);
	lu_diag("ShmemHugePages %ld -> %ld kB", huge0, meminfo_kib("ShmemHugePages"));
	CHECK(meminfo_kib("ShmemHugePages") - huge0 >= (long)(HUGE_SIZE / 1024),
	      "huge is made of 2 MiB folios before preserve");
	CHECK_ERR(lu_preserve_fd(session, small, 1), 0, "preserve small");
	CHECK_ERR(lu_preserve_fd(session, huge, 2), 0, "preserve huge");
	stamp_pfns(small, SMALL_SIZE, "small");
	stamp_pfns(huge, HUGE_SIZE, "huge");
	lu_hold_until_kexec(READY);
}

/* Pages whose PFN is the one stage 1 wrote into them. */
static long same_pfns(const uint8_t *p, size_t size)
{
	long same = 0;

	for (size_t off = 0; off < size; off += PAGE) {
		uint64_t then;

		memcpy(&then, p + off, 8);
		same += then && pfn_of(p + off) == then;
	}
	return same;
}

static void stage_2(long shmem0, long huge0)
{
	int dev = lu_open_dev(), session, small, huge, thps = 0, larges = 0;
	uint8_t *s, *h;
	char byte = 0x5a;

	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	session = lu_retrieve_session(dev, SESSION);
	if (session < 0)
		BAIL("retrieve session: %s", lu_errname(session));
	small = lu_retrieve_fd(session, 1);
	huge = lu_retrieve_fd(session, 2);
	if (small < 0 || huge < 0)
		BAIL("retrieve: %s", lu_errname(small < 0 ? small : huge));
	s = map(small, SMALL_SIZE, PROT_READ | PROT_WRITE);
	h = map(huge, HUGE_SIZE, PROT_READ | PROT_WRITE);
	CHECK(!bad_pages(s, 0, SMALL_SIZE, 1) && !bad_pages(h, 0, HUGE_SIZE, 2),
	      "every byte of both came back");

	CHECK(same_pfns(s, SMALL_SIZE) == (long)(SMALL_SIZE / PAGE),
	      "small: every page is the page the old kernel had (%ld of %lu)",
	      same_pfns(s, SMALL_SIZE), SMALL_SIZE / PAGE);
	CHECK(same_pfns(h, HUGE_SIZE) == (long)(HUGE_SIZE / PAGE),
	      "huge: every page is the page the old kernel had (%ld of %lu)",
	      same_pfns(h, HUGE_SIZE), HUGE_SIZE / PAGE);
	for (size_t off = 0; off < HUGE_SIZE; off += 2 * MiB) {
		uint64_t flags = page_flags(pfn_of(h + off));
		bool large = flags >> KPF_COMPOUND_HEAD & 1;

		for (size_t tail = PAGE; large && tail < 2 * MiB; tail += PAGE)
			large = page_flags(pfn_of(h + off + tail)) >> KPF_COMPOUND_TAIL & 1;
		larges += large;
		thps += large && (flags >> KPF_THP & 1);
	}
	CHECK(larges == (int)(HUGE_SIZE / (2 * MiB)),
	      "huge: still made of 2 MiB folios (%d of %lu)", larges, HUGE_SIZE / (2 * MiB));
	/*
	 * The module marks them as shmem's own THPs are (large_rmappable);
	 * the in-kernel LUO of 7.3 does not, so kpageflags has no THP bit.
	 */
	if (lu_is_module())
		CHECK(thps == larges, "huge: its folios are THPs in kpageflags (%d)", thps);
	else
		lu_diag("kpageflags THP bit on %d of %d large folios", thps, larges);

	/* Migration: whatever compaction moves must move whole and intact. */
	CHECK(write_file("/proc/sys/vm/compact_memory", "1"), "compaction ran");
	lu_diag("pages compaction moved: small %ld, huge %ld",
		(long)(SMALL_SIZE / PAGE) - same_pfns(s, SMALL_SIZE),
		(long)(HUGE_SIZE / PAGE) - same_pfns(h, HUGE_SIZE));
	CHECK(!bad_pages(s, 0, SMALL_SIZE, 1) && !bad_pages(h, 0, HUGE_SIZE, 2),
	      "both intact after compaction");

	/* A hole punched in small: zeros there, data around it. */
	CHECK_ERR(fallocate(small, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    MiB + PAGE, 3 * PAGE) ? -errno : 0, 0, "small: punch a hole");
	CHECK(all_zero(s + MiB + PAGE, 3 * PAGE) &&
	      !bad_pages(s, MiB, MiB + PAGE, 1) &&
	      !bad_pages(s, MiB + 4 * PAGE, SMALL_SIZE, 1),
	      "small: the hole reads zeros, the rest is intact");

	/* Truncation through a large folio splits it. */
	munmap(h, HUGE_SIZE);
	CHECK_ERR(ftruncate(huge, 3 * MiB + 123) ? -errno : 0, 0,
		  "huge: truncate into its second 2 MiB folio");
	CHECK_ERR(ftruncate(huge, HUGE_SIZE) ? -errno : 0, 0, "huge: grow back");
	h = map(huge, HUGE_SIZE, PROT_READ | PROT_WRITE);
	CHECK(!bad_pages(h, 0, 3 * MiB, 2) &&
	      all_zero(h + 3 * MiB + 123, HUGE_SIZE - 3 * MiB - 123),
	      "huge: data up to the cut, zeros after it");

	/* Writes through the mapping and through write() read back. */
	h[5 * MiB] = 0x77;
	CHECK(pwrite(small, &byte, 1, 7 * MiB + 9) == 1 && s[7 * MiB + 9] == 0x5a &&
	      h[5 * MiB] == 0x77, "writes read back");
	munmap(s, SMALL_SIZE);
	munmap(h, HUGE_SIZE);
	close(small);
	close(huge);
	CHECK_ERR(lu_finish(session), 0, "finish the session");
	close(session);
	close(dev);

	/*
	 * Everything the two files had is gone from shmem's books. The
	 * counters are read until they settle: the kernel folds per-CPU
	 * vmstat deltas and runs deferred fputs later, later still on a
	 * busy host; how long it took is printed, so a slow release shows.
	 */
	double start = now_ms();

	while (now_ms() - start < SETTLE_MS) {
		if ((shmem0 < 0 || meminfo_kib("Shmem") - shmem0 < 1024) &&
		    (huge0 < 0 || meminfo_kib("ShmemHugePages") == huge0))
			break;
		usleep(20 * 1000);
	}
	lu_diag("Shmem %ld -> %ld kB, ShmemHugePages %ld -> %ld kB (before load -> after close), "
		"settled after %.0f ms", shmem0, meminfo_kib("Shmem"), huge0,
		meminfo_kib("ShmemHugePages"), now_ms() - start);
	CHECK(shmem0 < 0 || meminfo_kib("Shmem") - shmem0 < 1024,
	      "Shmem is back to what it was before the module loaded");
	CHECK(huge0 < 0 || meminfo_kib("ShmemHugePages") == huge0,
	      "ShmemHugePages is back to what it was");
}

int main(int argc, char **argv)
{
	long shmem0 = -1, huge0 = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--meminfo-kib"))
			sscanf(argv[i + 1], "%ld,%ld", &shmem0, &huge0);
	if (lu_stage(argc, argv) == 1)
		stage_1();
	else
		stage_2(shmem0, huge0);
	return lu_exit_status();
}
