// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-scale --stage 1|2: many sessions and many files across a live update.
 *
 * Stage 1 preserves SESSIONS sessions with one small memfd each, and one
 * session with FILES memfds (each memfd's own fd is closed once preserved:
 * the session holds the file), then holds them all until the kexec. Stage 2
 * retrieves every session and file, compares every byte, and finishes
 * everything. Each memfd has its own length (1..200 bytes) and byte pattern,
 * so a file handed back under the wrong token or session shows.
 *
 * One result line per phase, with the first failure as a diagnostic and the
 * phase's time as "# " lines.
 */
#include "lu_test.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define SESSIONS 5000
#define FILES 5000
#define BIG "scale-big"
#define READY "/tmp/uapi-scale.ready"
#define str(x) #x
#define xstr(x) str(x)

static int dev;

static size_t len_of(uint32_t seed)
{
	return 1 + seed % 200;
}

static uint8_t pattern(uint32_t seed, size_t i)
{
	return (uint8_t)(seed * 13 + i * 7 + 1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void session_name(char *buf, int i)
{
	snprintf(buf, LIVEUPDATE_SESSION_NAME_LENGTH, "scale-%05d", i);
}

/* Preserve a fresh memfd of pattern(@seed) in @s under @token; 0 or -errno. */
static long preserve_one(int s, uint64_t token, uint32_t seed)
{
	uint8_t buf[256];
	size_t len = len_of(seed);
	int m = memfd_create("uapi-scale", 0);
	long err;

	if (m < 0)
		return -errno;
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(seed, i);
	err = pwrite(m, buf, len, 0) == (ssize_t)len ? lu_preserve_fd(s, m, token) : -EIO;
	close(m);
	return err;
}

/* Retrieve @token from @s and compare it with pattern(@seed); 0 or -errno. */
static long check_one(int s, uint64_t token, uint32_t seed)
{
	uint8_t buf[257];
	size_t len = len_of(seed);
	int m = lu_retrieve_fd(s, token);
	long err = 0;

	if (m < 0)
		return m;
	if (pread(m, buf, sizeof(buf), 0) != (ssize_t)len)
		err = -EIO;
	for (size_t i = 0; !err && i < len; i++)
		if (buf[i] != pattern(seed, i))
			err = -EILSEQ;
	close(m);
	return err;
}

/* Room for every session fd at once, plus slack. */
static void raise_nofile(void)
{
	struct rlimit lim = { SESSIONS + 256, SESSIONS + 256 };

	if (setrlimit(RLIMIT_NOFILE, &lim))
		BAIL("setrlimit(RLIMIT_NOFILE, %d): %s", SESSIONS + 256, strerror(errno));
}

/* One result per phase: @failed counts, @first describes the first failure. */
static void phase_result(const char *what, double start, int failed, const char *first)
{
	lu_diag("%s: %.2f s", what, now() - start);
	if (failed)
		lu_diag("%d failed, first: %s", failed, first);
	lu_result(!failed, "%s", what);
}

#define NOTE_FAILURE(failed, first, ...)                                   \
	do {                                                               \
		if (!(failed)++)                                           \
			snprintf(first, sizeof(first), __VA_ARGS__);       \
	} while (0)

static void stage_1(void)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH], first[160] = "";
	int failed = 0, s, i;
	double t = now();
	long err;

	for (i = 0; i < SESSIONS; i++) {
		session_name(name, i);
		s = lu_create_session(dev, name);
		err = s < 0 ? s : preserve_one(s, i, i);
		if (err)
			NOTE_FAILURE(failed, first, "session %d: %s", i, lu_errname(err));
		if (s < 0 && failed > 10)
			break; /* a limit: stop hammering it */
	}
	phase_result("stage 1: " xstr(SESSIONS) " sessions with one memfd each", t, failed, first);

	failed = 0;
	t = now();
	s = lu_create_session(dev, BIG);
	if (s < 0)
		BAIL("create session " BIG ": %s", lu_errname(s));
	for (i = 0; i < FILES; i++) {
		err = preserve_one(s, i, SESSIONS + i);
		if (err)
			NOTE_FAILURE(failed, first, "file %d: %s", i, lu_errname(err));
	}
	phase_result("stage 1: one session with " xstr(FILES) " memfds", t, failed, first);
	lu_hold_until_kexec(READY);
}

static void stage_2(void)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH], first[160] = "";
	int failed = 0, s, i;
	double t = now();
	long err;

	for (i = 0; i < SESSIONS; i++) {
		session_name(name, i);
		s = lu_retrieve_session(dev, name);
		err = s < 0 ? s : check_one(s, i, i);
		if (!err)
			err = lu_finish(s);
		if (err)
			NOTE_FAILURE(failed, first, "session %d: %s", i, lu_errname(err));
		if (s >= 0)
			close(s);
	}
	phase_result("stage 2: " xstr(SESSIONS) " sessions retrieved, checked, finished", t, failed, first);

	failed = 0;
	t = now();
	s = lu_retrieve_session(dev, BIG);
	if (s < 0)
		BAIL("retrieve session " BIG ": %s", lu_errname(s));
	for (i = 0; i < FILES; i++) {
		err = check_one(s, i, SESSIONS + i);
		if (err)
			NOTE_FAILURE(failed, first, "file %d: %s", i, lu_errname(err));
	}
	phase_result("stage 2: " xstr(FILES) " memfds of one session retrieved and checked", t, failed, first);
	t = now();
	CHECK_ERR(lu_finish(s), 0, "stage 2: FINISH the big session");
	lu_diag("FINISH: %.2f s", now() - t);
	close(s);
}

int main(int argc, char **argv)
{
	int stage = lu_stage(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	lu_diag("provider: %s, stage %d", lu_provider(), stage);
	raise_nofile();
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	if (stage == 1)
		stage_1();
	else
		stage_2();
	return lu_exit_status();
}
