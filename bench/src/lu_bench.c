// SPDX-License-Identifier: GPL-2.0
/*
 * lu-bench: the one benchmark program `make bench` runs, unchanged, in the
 * guest with our module and in the guest with the in-kernel LUO of 7.3. It
 * only speaks the /dev/liveupdate uAPI both share (plus our MOD_STATUS
 * extension where it answers).
 *
 *   lu-bench --stage 1 [options] --kexec KERNEL INITRD
 *   lu-bench --stage 2 [options] [--module KO] [--settle-ms N]
 *
 * Stage 1 (first kernel): one memfd per --mib size, every byte written, then
 * preserved in its own session; one memfd of --thp-mib backed by shmem THP
 * (2 MiB folios); for each --files count N one session of N 4 KiB memfds;
 * --sessions empty sessions. Then kexec_file_load() into KERNEL with INITRD
 * and the same command line at lu.stage=2, print LU-BENCH-REBOOT, wait for
 * the console to drain, and reboot(LINUX_REBOOT_CMD_KEXEC) at once: the host
 * timestamps that line and the new kernel's first /init line (the blackout).
 *
 * Stage 2 (new kernel): load the module (--module, timed), open the device,
 * wait --settle-ms (0: retrieve at once), retrieve everything (each memfd:
 * RETRIEVE_FD, first byte readable through mmap, every 8-byte word read and
 * checked), finish every session, close everything and report MemTotal
 * (memory KHO still holds is missing from it).
 *
 * Output: "LU-BENCH KEY VALUE" lines (seconds, bytes or counts; see
 * bench/run-bench.py for the rows built from them), "ok"/"not ok" for the
 * checks, "# " diagnostics.
 */
#include "lu_test.h"

#include <linux/reboot.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>

#define MiB (1024UL * 1024)
#define SMALL_SIZE 4096
#define MAX_LIST 8
#define MAX_SESSIONS 100000
#define SEED 0x6c75626575636821ULL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Checkpoints of the session series: time to the k-th session. */
static const int checkpoints[] = { 10, 100, 1000, 5000, 10000, 50000, 100000 };

struct opts {
	int stage;
	int nr_mib, nr_files;
	long mib[MAX_LIST];
	long files[MAX_LIST];
	long thp_mib;
	long sessions;
	long settle_ms;
	const char *module;
	const char *kernel, *initrd;
};

static int dev = -1;
/* ShmemHugePages (KiB) when stage 2 started, before anything was restored. */
static long thp_boot;
/* When stage 2 began, before the module load: "since start" figures. */
static double origin;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report(const char *key, double value)
{
	printf("LU-BENCH %s %.9g\n", key, value);
	fflush(stdout);
}

static void reportf(double value, const char *fmt, ...)
{
	char key[96];
	va_list args;

	va_start(args, fmt);
	vsnprintf(key, sizeof(key), fmt, args);
	va_end(args);
	report(key, value);
}

/* A /proc/meminfo field, in KiB; -1 if absent. */
static long meminfo_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			kib = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	if (f)
		fclose(f);
	return kib;
}

/* Our module's MOD_STATUS; false on the in-kernel LUO (no such ioctl). */
static bool mod_status(struct liveupdate_mod_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, st) == 0;
}

static long long metadata_bytes(void)
{
	struct liveupdate_mod_status st;

	return mod_status(&st) ? (long long)st.metadata_bytes : -1;
}

static int parse_list(const char *arg, long *out)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int n = 0;

	/* Zeros are left out: "--mib 0" preserves no big memfd. */
	for (tok = strtok_r(copy, ",", &save); tok && n < MAX_LIST;
	     tok = strtok_r(NULL, ",", &save))
		if (strtol(tok, NULL, 0) > 0)
			out[n++] = strtol(tok, NULL, 0);
	free(copy);
	return n;
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .stage = 1, .thp_mib = 256, .sessions = 5000 };
	o->nr_mib = parse_list("64,256,1024", o->mib);
	o->nr_files = parse_list("10,100,1000,5000", o->files);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			BAIL("usage: %s needs a value", a);
		if (!strcmp(a, "--stage"))
			o->stage = atoi(v);
		else if (!strcmp(a, "--mib"))
			o->nr_mib = parse_list(v, o->mib);
		else if (!strcmp(a, "--files"))
			o->nr_files = parse_list(v, o->files);
		else if (!strcmp(a, "--thp-mib"))
			o->thp_mib = strtol(v, NULL, 0);
		else if (!strcmp(a, "--sessions"))
			o->sessions = strtol(v, NULL, 0);
		else if (!strcmp(a, "--settle-ms"))
			o->settle_ms = strtol(v, NULL, 0);
		else if (!strcmp(a, "--module"))
			o->module = v;
		else if (!strcmp(a, "--kexec") && i + 2 < argc)
			o->kernel = v, o->initrd = argv[++i + 1];
		else
			BAIL("usage: unknown option %s", a);
		i++;
	}
	if (o->sessions > MAX_SESSIONS)
		BAIL("at most %d sessions", MAX_SESSIONS);
}

static void raise_nofile(void)
{
	struct rlimit lim = { 1 << 20, 1 << 20 };

	if (setrlimit(RLIMIT_NOFILE, &lim))
		BAIL("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

static void open_dev(void)
{
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
}

/* Each 8-byte word holds its own offset, scrambled per file. */
static inline uint64_t word(uint64_t seed, uint64_t off)
{
	return off ^ seed;
}

static void fill(uint64_t *map, size_t size, uint64_t seed)
{
	for (size_t i = 0; i < size / 8; i++)
		map[i] = word(seed, i * 8);
}

/* Every word of @size bytes at @map; returns the number of bad pages. */
static long verify(const uint64_t *map, size_t size, uint64_t seed)
{
	long bad = 0;

	for (size_t page = 0; page < size / 4096; page++) {
		const uint64_t *p = map + page * 512;
		bool ok = true;

		for (size_t i = 0; i < 512; i++)
			ok &= p[i] == word(seed, (page * 512 + i) * 8);
		bad += !ok;
	}
	return bad;
}

static void mem_session(char *buf, const char *kind, long mib)
{
	snprintf(buf, LIVEUPDATE_SESSION_NAME_LENGTH, "bench-%s-%ld", kind, mib);
}

/*
 * The shmem THP policy of memfds ("always", "never", ...). The guest kernel
 * has no madvise(), so THP is turned on for the one memfd that wants it.
 */
static bool thp_policy(const char *mode)
{
	int fd = open("/sys/kernel/mm/transparent_hugepage/shmem_enabled", O_WRONLY);
	bool ok = fd >= 0 && write(fd, mode, strlen(mode)) == (ssize_t)strlen(mode);

	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * One memfd of @mib MiB, every byte written through a mapping (with @thp,
 * while shmem's THP policy is "always", so that it gets 2 MiB folios),
 * preserved in its own session.
 */
static void preserve_memfd(const char *kind, long mib, bool thp)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	size_t size = mib * MiB;
	long long meta0, meta1;
	long thp0, free0;
	int session, fd;
	uint64_t *map;
	double t;
	long err;

	mem_session(name, kind, mib);
	session = lu_create_session(dev, name);
	if (session < 0)
		BAIL("create session %s: %s", name, lu_errname(session));
	/* Before the mmap: only then is the mapping 2 MiB-aligned for THP. */
	if (thp && !CHECK(thp_policy("always"), "shmem THP policy \"always\""))
		return;
	fd = memfd_create(name, MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, size))
		BAIL("memfd of %ld MiB: %s", mib, strerror(errno));
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		BAIL("mmap %ld MiB: %s", mib, strerror(errno));
	thp0 = meminfo_kib("ShmemHugePages");
	t = now();
	fill(map, size, SEED + mib + thp);
	reportf(now() - t, "fill_%s_%ld", kind, mib);
	if (thp && !CHECK(thp_policy("never"), "shmem THP policy back to \"never\""))
		return;
	if (thp)
		reportf(meminfo_kib("ShmemHugePages") - thp0, "thp_kib_before_%ld", mib);
	munmap(map, size);

	meta0 = metadata_bytes();
	free0 = meminfo_kib("MemFree");
	t = now();
	err = lu_preserve_fd(session, fd, 1);
	reportf(now() - t, "preserve_%s_%ld", kind, mib);
	CHECK_ERR(err, 0, "preserve the %ld MiB %s memfd", mib, kind);
	reportf((free0 - meminfo_kib("MemFree")) * 1024.0, "memfree_drop_%s_%ld", kind, mib);
	meta1 = metadata_bytes();
	if (meta0 >= 0)
		reportf(meta1 - meta0, "metadata_%s_%ld", kind, mib);
	close(fd);
	/* The session fd stays open until the reboot: closing it unpreserves. */
}

static int small_memfd(uint64_t seed)
{
	uint64_t buf[SMALL_SIZE / 8];
	int fd = memfd_create("bench-small", 0);

	if (fd < 0)
		BAIL("memfd_create: %s", strerror(errno));
	for (size_t i = 0; i < SMALL_SIZE / 8; i++)
		buf[i] = word(seed, i * 8);
	if (pwrite(fd, buf, SMALL_SIZE, 0) != SMALL_SIZE)
		BAIL("write a small memfd: %s", strerror(errno));
	return fd;
}

/* One session of @n small memfds; times the PRESERVE_FD calls only. */
static void preserve_files(long n)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	long long meta0;
	int *fds = calloc(n, sizeof(*fds));
	int session, failed = 0;
	long free0;
	double t;

	mem_session(name, "files", n);
	session = lu_create_session(dev, name);
	if (session < 0 || !fds)
		BAIL("create session %s: %s", name, lu_errname(session));
	for (long i = 0; i < n; i++)
		fds[i] = small_memfd(SEED + i);
	meta0 = metadata_bytes();
	free0 = meminfo_kib("MemFree");
	t = now();
	for (long i = 0; i < n; i++)
		failed += lu_preserve_fd(session, fds[i], i + 1) != 0;
	reportf(now() - t, "preserve_files_%ld", n);
	reportf((free0 - meminfo_kib("MemFree")) * 1024.0, "memfree_drop_files_%ld", n);
	if (meta0 >= 0)
		reportf(metadata_bytes() - meta0, "metadata_files_%ld", n);
	CHECK(!failed, "preserve %ld small memfds in one session (%d failed)", n, failed);
	for (long i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

static void session_name(char *buf, long i)
{
	snprintf(buf, LIVEUPDATE_SESSION_NAME_LENGTH, "bench-s-%06ld", i);
}

static void create_sessions(long n)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	long long meta0 = metadata_bytes();
	int failed = 0, c = 0;
	double t = now();

	for (long i = 0; i < n; i++) {
		session_name(name, i);
		failed += lu_create_session(dev, name) < 0;
		while (c < (int)ARRAY_SIZE(checkpoints) &&
		       checkpoints[c] == i + 1)
			reportf(now() - t, "create_sessions_%d", checkpoints[c++]);
	}
	reportf(now() - t, "create_sessions_all");
	if (meta0 >= 0)
		reportf(metadata_bytes() - meta0, "metadata_sessions_%ld", n);
	CHECK(!failed, "create %ld sessions (%d failed)", n, failed);
}

/* The same command line, next stage (as qemu/guest/init does it). */
static void next_cmdline(char *out, size_t len)
{
	char line[4096], *tok, *save = NULL;
	FILE *f = fopen("/proc/cmdline", "r");
	size_t used = 0;

	if (!f || !fgets(line, sizeof(line), f))
		BAIL("read /proc/cmdline");
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	out[0] = '\0';
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strncmp(tok, "lu.stage=", 9))
			tok = "lu.stage=2";
		used += snprintf(out + used, len - used, "%s%s", used ? " " : "", tok);
		if (used >= len)
			BAIL("command line too long");
	}
}

static _Noreturn void kexec(const struct opts *o)
{
	char cmdline[4096];
	int kfd, ifd;
	double t;

	next_cmdline(cmdline, sizeof(cmdline));
	kfd = open(o->kernel, O_RDONLY | O_CLOEXEC);
	ifd = open(o->initrd, O_RDONLY | O_CLOEXEC);
	if (kfd < 0 || ifd < 0)
		BAIL("open %s / %s: %s", o->kernel, o->initrd, strerror(errno));
	t = now();
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline, 0UL))
		BAIL("kexec_file_load: %s", strerror(errno));
	reportf(now() - t, "kexec_file_load");
	if (dev >= 0) {
		struct liveupdate_mod_status st;

		if (mod_status(&st))
			reportf(st.ready, "ready");
	}
	sync();
	/* The last userspace line: the host's blackout clock starts here. */
	printf("LU-BENCH-REBOOT\n");
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
	reboot(LINUX_REBOOT_CMD_KEXEC);
	BAIL("reboot(LINUX_REBOOT_CMD_KEXEC): %s", strerror(errno));
}

static void stage_1(const struct opts *o)
{
	reportf(meminfo_kib("MemTotal") * 1024.0, "memtotal_stage1");
	if (o->module) {
		/* A cold boot: nothing to adopt. Timed for reference only. */
		int fd = open(o->module, O_RDONLY | O_CLOEXEC);
		double t = now();

		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			BAIL("load %s: %s", o->module, strerror(errno));
		reportf(now() - t, "module_load_cold");
		close(fd);
	}
	open_dev();
	for (int i = 0; i < o->nr_mib; i++)
		preserve_memfd("mem", o->mib[i], false);
	if (o->thp_mib)
		preserve_memfd("thp", o->thp_mib, true);
	for (int i = 0; i < o->nr_files; i++)
		preserve_files(o->files[i]);
	create_sessions(o->sessions);
	reportf(meminfo_kib("MemTotal") * 1024.0, "memtotal_preserved");
	if (!o->kernel)
		BAIL("stage 1 needs --kexec KERNEL INITRD");
	if (lu_failures)
		BAIL("stage 1 had failures: not rebooting");
	kexec(o);
}

/* Retrieve one big memfd and time how soon its data can be read. */
static void retrieve_memfd(const char *kind, long mib, bool thp)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	size_t size = mib * MiB;
	uint64_t first;
	double t0, t1, t2, t3;
	int session, fd;
	struct stat st;
	uint64_t *map;
	long bad;

	mem_session(name, kind, mib);
	session = lu_retrieve_session(dev, name);
	if (session < 0) {
		CHECK(false, "retrieve session %s: %s", name, lu_errname(session));
		return;
	}
	t0 = now();
	fd = lu_retrieve_fd(session, 1);
	t1 = now();
	if (fd < 0) {
		CHECK(false, "retrieve the %ld MiB %s memfd: %s", mib, kind, lu_errname(fd));
		return;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		BAIL("mmap: %s", strerror(errno));
	/* The first byte, read for real: an empty asm keeps the load. */
	first = map[0];
	asm volatile("" : : "r"(first));
	t2 = now();
	bad = verify(map, size, SEED + mib + thp);
	t3 = now();
	reportf(t1 - t0, "retrieve_%s_%ld", kind, mib);
	reportf(t2 - t0, "first_byte_%s_%ld", kind, mib);
	reportf(t2 - origin, "readable_since_start_%s_%ld", kind, mib);
	reportf(t3 - t0, "full_read_%s_%ld", kind, mib);
	/* From boot: our module may have restored it before RETRIEVE_FD. */
	if (thp)
		reportf(meminfo_kib("ShmemHugePages") - thp_boot, "thp_kib_after_%ld", mib);
	CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)size && !bad,
	      "the %ld MiB %s memfd came back whole (%ld bad pages)", mib, kind, bad);
	munmap(map, size);
	close(fd);
	CHECK_ERR(lu_finish(session), 0, "finish %s", name);
	close(session);
}

static void retrieve_files(long n)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int *fds = calloc(n, sizeof(*fds));
	int session, failed = 0;
	uint64_t w;
	double t;

	mem_session(name, "files", n);
	session = lu_retrieve_session(dev, name);
	if (session < 0 || !fds) {
		CHECK(false, "retrieve session %s: %s", name, lu_errname(session));
		free(fds);
		return;
	}
	t = now();
	for (long i = 0; i < n; i++)
		fds[i] = lu_retrieve_fd(session, i + 1);
	reportf(now() - t, "retrieve_files_%ld", n);
	for (long i = 0; i < n; i++) {
		if (fds[i] < 0 || pread(fds[i], &w, 8, SMALL_SIZE - 8) != 8 ||
		    w != word(SEED + i, SMALL_SIZE - 8))
			failed++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	CHECK(!failed, "%ld small memfds came back (%d failed)", n, failed);
	CHECK_ERR(lu_finish(session), 0, "finish %s", name);
	close(session);
	free(fds);
}

static void retrieve_sessions(long n)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int *fds = calloc(n, sizeof(*fds));
	int failed = 0, c = 0;
	double t = now();

	if (!fds)
		BAIL("out of memory");
	for (long i = 0; i < n; i++) {
		session_name(name, i);
		fds[i] = lu_retrieve_session(dev, name);
		failed += fds[i] < 0;
		while (c < (int)ARRAY_SIZE(checkpoints) &&
		       checkpoints[c] == i + 1)
			reportf(now() - t, "retrieve_sessions_%d", checkpoints[c++]);
	}
	reportf(now() - t, "retrieve_sessions_all");
	t = now();
	for (long i = 0; i < n; i++) {
		if (fds[i] >= 0) {
			failed += lu_finish(fds[i]) != 0;
			close(fds[i]);
		}
	}
	reportf(now() - t, "finish_sessions_all");
	CHECK(!failed, "retrieve and finish %ld sessions (%d failed)", n, failed);
	free(fds);
}

/*
 * Our module restores memfds from the moment it loads, on workers; its
 * debugfs file says when each one (of 1 MiB or more) was queued, started
 * and ready, in microseconds since the load.
 */
static void report_restores(void)
{
	FILE *f = fopen("/sys/kernel/debug/liveupdate_memfd", "r");
	char line[256], name[64];
	unsigned long long size, queued, started, ready;

	while (f && fgets(line, sizeof(line), f)) {
		char kind[16];
		long mib;

		if (sscanf(line, "%63s %llu %llu %llu %llu", name, &size, &queued,
			   &started, &ready) != 5 ||
		    sscanf(name, "memfd:bench-%15[a-z]-%ld", kind, &mib) != 2)
			continue;
		reportf(started / 1e6, "restore_start_%s_%ld", kind, mib);
		reportf(ready / 1e6, "restore_ready_%s_%ld", kind, mib);
	}
	if (f)
		fclose(f);
}

static void stage_2(const struct opts *o)
{
	struct liveupdate_mod_status st;
	double t;

	origin = now();
	reportf(meminfo_kib("MemTotal") * 1024.0, "memtotal_stage2_boot");
	thp_boot = meminfo_kib("ShmemHugePages");
	if (o->module) {
		int fd = open(o->module, O_RDONLY | O_CLOEXEC);

		t = now();
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			BAIL("load %s: %s", o->module, strerror(errno));
		reportf(now() - t, "module_load");
		close(fd);
	}
	t = now();
	open_dev();
	reportf(now() - t, "open_dev");
	reportf(meminfo_kib("MemTotal") * 1024.0, "memtotal_stage2_loaded");
	if (o->settle_ms) {
		/* A service that asks for its files a while after the boot. */
		struct timespec ts = { o->settle_ms / 1000, o->settle_ms % 1000 * 1000000 };

		nanosleep(&ts, NULL);
		reportf(o->settle_ms / 1e3, "settle");
	}
	for (int i = 0; i < o->nr_mib; i++)
		retrieve_memfd("mem", o->mib[i], false);
	if (o->thp_mib)
		retrieve_memfd("thp", o->thp_mib, true);
	for (int i = 0; i < o->nr_files; i++)
		retrieve_files(o->files[i]);
	retrieve_sessions(o->sessions);
	report_restores();
	if (mod_status(&st))
		CHECK(!st.incoming_sessions && !st.incoming_files,
		      "nothing incoming is left (%llu sessions, %llu files)",
		      (unsigned long long)st.incoming_sessions,
		      (unsigned long long)st.incoming_files);
	close(dev);
	reportf(meminfo_kib("MemTotal") * 1024.0, "memtotal_finished");
	reportf(meminfo_kib("MemFree") * 1024.0, "memfree_finished");
}

int main(int argc, char **argv)
{
	struct opts o;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(argc, argv, &o);
	raise_nofile();
	if (o.stage == 1)
		stage_1(&o);
	else
		stage_2(&o);
	return lu_exit_status();
}
