// SPDX-License-Identifier: GPL-2.0
/*
 * handover-corrupt: the sessions selftests/handover_corrupt.sh hands over
 * and damages (with lucorrupt.ko) between two kernels.
 *
 *   handover-corrupt preserve      preserve the workload below, hold until
 *                                  the kexec (background; writes READY)
 *   handover-corrupt check [--eio|--lenient] [--collateral] [--refused LIST]
 *                          [--any LIST]
 *                                  retrieve everything and judge it:
 *     --eio        the handover is unusable: /dev/liveupdate opens with
 *                  EIO (and nothing else is checked)
 *     --lenient    the core's records were damaged at random: EIO, or
 *                  whatever sessions and files can be retrieved
 *     --refused L  these descriptors' RETRIEVE_FD fails with EINVAL
 *     --any L      these were damaged at random: a retrieve may succeed
 *                  (the damage was harmless, or hit data only) or fail
 *                  with any errno; either is reported
 *     --collateral a damaged run table may name another file's preserved
 *                  page, which its restore then takes: an untouched file
 *                  may be refused with EINVAL (never come back wrong)
 *     every other file comes back with its size and every byte intact
 *   handover-corrupt usable        a new session preserves a memfd
 *
 * LIST is "I[-J][=LABEL],...": descriptor numbers, in the order the memfds
 * were preserved (the memfd handler's list order), labelled for the report.
 *
 * The workload, in preservation order (descriptor numbers on the left):
 *   session lc-mix (session 0 of the sessions chain):
 *     0, 1   thp-a, thp-b: 4 MiB written with shmem THP "always"
 *            (two 2 MiB folios each, when the kernel has them)
 *     2..7   frag-a..frag-f: 1000 pages each, written one page per file in
 *            turn, so that their pages are not contiguous: up to 1000
 *            runs, more than fit in the descriptor's page (469): a
 *            vmalloc'ed table
 *     8      multi: 16 pages
 *     9      empty: 0 bytes
 *   sessions lc-00..lc-49 (sessions 1..50): one 1-page memfd each, 10..59
 *   session lc-many (session 51): 60 1-page memfds, 60..119, in a files
 *     chain of two blocks
 *   session lc-deps (session 52), when lutest.ko is loaded: two lutest
 *     files, token 2 depending on token 1 (a dependency chain and an FLB)
 * Memfd number N has token 1000 + N; its bytes are pattern(N, offset).
 */
#include "lu_test.h"

#include <sys/mman.h>

#include "../testmod/lutest_uapi.h"

#define READY "/tmp/handover-corrupt.ready"
#define THP_CTL "/sys/kernel/mm/transparent_hugepage/shmem_enabled"
#define PAGE 4096UL
#define MiB (1024UL * 1024)
#define NR_FILES 120
#define NR_FRAG 6
#define FRAG_PAGES 1000
#define LUTEST_VALUE_A 0xa11ceULL
#define LUTEST_VALUE_B 0xb0bULL

struct memfd_spec {
	char name[16];
	size_t size;
	const char *session;
};

static struct memfd_spec specs[NR_FILES];

/* The memfds of the workload, in preservation order. */
static void workload(void)
{
	static char sessions[50][8];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(specs[i].name, sizeof(specs[i].name), "thp-%c", 'a' + i);
		specs[i].size = 4 * MiB;
	}
	for (i = 0; i < NR_FRAG; i++) {
		snprintf(specs[2 + i].name, sizeof(specs[2 + i].name), "frag-%c", 'a' + i);
		specs[2 + i].size = FRAG_PAGES * PAGE;
	}
	snprintf(specs[8].name, sizeof(specs[8].name), "multi");
	specs[8].size = 16 * PAGE;
	snprintf(specs[9].name, sizeof(specs[9].name), "empty");
	specs[9].size = 0;
	for (i = 0; i < 10; i++)
		specs[i].session = "lc-mix";
	for (i = 0; i < 50; i++) {
		snprintf(sessions[i], sizeof(sessions[i]), "lc-%02d", i);
		snprintf(specs[10 + i].name, sizeof(specs[10 + i].name), "one-%02d", i);
		specs[10 + i].size = PAGE;
		specs[10 + i].session = sessions[i];
	}
	for (i = 0; i < 60; i++) {
		snprintf(specs[60 + i].name, sizeof(specs[60 + i].name), "many-%02d", i);
		specs[60 + i].size = PAGE;
		specs[60 + i].session = "lc-many";
	}
}

static inline uint8_t pattern(int n, uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + n * 31 + 1);
}

static void fill(uint8_t *buf, int n, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(n, off + i);
}

static bool write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The word in [brackets] of a sysfs policy line. */
static void thp_current(char *out, size_t len)
{
	char line[256] = "", *open_b, *close_b;
	FILE *f = fopen(THP_CTL, "r");

	snprintf(out, len, "never");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		open_b = strchr(line, '[');
		close_b = open_b ? strchr(open_b, ']') : NULL;
		if (open_b && close_b) {
			*close_b = '\0';
			snprintf(out, len, "%s", open_b + 1);
		}
	}
	fclose(f);
}

static int make_memfd(int n)
{
	static uint8_t buf[2 * MiB];
	const struct memfd_spec *s = &specs[n];
	int fd = memfd_create(s->name, MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)s->size))
		BAIL("memfd %s: %s", s->name, strerror(errno));
	/* The frag files are written page by page in turn, elsewhere. */
	if (n >= 2 && n < 2 + NR_FRAG)
		return fd;
	for (size_t off = 0; off < s->size; off += sizeof(buf)) {
		size_t len = s->size - off < sizeof(buf) ? s->size - off : sizeof(buf);

		fill(buf, n, off, len);
		if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
			BAIL("write %s: %s", s->name, strerror(errno));
	}
	return fd;
}

static int session_of(int dev, const char *name)
{
	static char names[64][16];
	static int fds[64], nr;
	int i, fd;

	for (i = 0; i < nr; i++)
		if (!strcmp(names[i], name))
			return fds[i];
	fd = lu_create_session(dev, name);
	if (fd < 0)
		BAIL("create session %s: %s", name, lu_errname(fd));
	snprintf(names[nr], sizeof(names[nr]), "%s", name);
	fds[nr++] = fd;
	return fd;
}

static void preserve_lutest(int dev)
{
	int session, a, b;
	__u64 value;
	__s32 dep;

	a = open("/dev/lutest", O_RDWR);
	if (a < 0) {
		lu_diag("no /dev/lutest: no dependency or FLB records this time");
		return;
	}
	b = open("/dev/lutest", O_RDWR);
	value = LUTEST_VALUE_A;
	if (b < 0 || ioctl(a, LUTEST_SET_VALUE, &value))
		BAIL("lutest files: %s", strerror(errno));
	value = LUTEST_VALUE_B;
	dep = a;
	if (ioctl(b, LUTEST_SET_VALUE, &value) || ioctl(b, LUTEST_DEPEND, &dep))
		BAIL("lutest dependency: %s", strerror(errno));
	session = session_of(dev, "lc-deps");
	if (lu_preserve_fd(session, a, 1) || lu_preserve_fd(session, b, 2))
		BAIL("preserve the lutest files");
}

static void preserve(void)
{
	static uint8_t page[PAGE];
	char thp[32];
	int dev, fds[NR_FILES], n;
	long err;

	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate to preserve: %s", lu_errname(dev));

	thp_current(thp, sizeof(thp));
	if (!write_text(THP_CTL, "always"))
		lu_diag("cannot set %s: thp-a and thp-b have 4 KiB folios", THP_CTL);
	fds[0] = make_memfd(0);
	fds[1] = make_memfd(1);
	write_text(THP_CTL, thp);

	for (n = 2; n < NR_FILES; n++)
		fds[n] = make_memfd(n);
	for (size_t p = 0; p < FRAG_PAGES; p++) {
		for (n = 2; n < 2 + NR_FRAG; n++) {
			fill(page, n, p * PAGE, PAGE);
			if (pwrite(fds[n], page, PAGE, (off_t)(p * PAGE)) != (ssize_t)PAGE)
				BAIL("write %s: %s", specs[n].name, strerror(errno));
		}
	}

	/* One preserve after the other: the memfd list is in this order. */
	for (n = 0; n < NR_FILES; n++) {
		err = lu_preserve_fd(session_of(dev, specs[n].session), fds[n], 1000 + n);
		if (err)
			BAIL("preserve %s: %s", specs[n].name, lu_errname(err));
	}
	preserve_lutest(dev);
	CHECK(true, "preserved %d memfds in 52 sessions for the next kernel", NR_FILES);
	lu_hold_until_kexec(READY);
}

/* ---- check ---------------------------------------------------------------- */

enum expect { EXPECT_INTACT, EXPECT_REFUSED, EXPECT_ANY };

static enum expect expects[NR_FILES];
static char labels[NR_FILES][48];

/* "I[-J][=LABEL],..." */
static void parse_list(const char *arg, enum expect what)
{
	char *copy = strdup(arg), *item, *save = NULL;

	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *label = strchr(item, '=');
		int a, b;

		if (label)
			*label++ = '\0';
		if (sscanf(item, "%d-%d", &a, &b) == 1)
			b = a;
		if (a < 0 || b >= NR_FILES || a > b)
			BAIL("bad descriptor list item '%s'", item);
		for (int n = a; n <= b; n++) {
			expects[n] = what;
			snprintf(labels[n], sizeof(labels[n]), "%s", label ? label : "");
		}
	}
	free(copy);
}

/* Bytes of the memfd that differ from what was preserved (0: intact). */
static long differences(int fd, int n, size_t *size)
{
	static uint8_t buf[MiB], want[MiB];
	struct stat st;
	long bad = 0;

	if (fstat(fd, &st))
		return -1;
	*size = (size_t)st.st_size;
	if (*size != specs[n].size)
		return -1;
	for (size_t off = 0; off < *size; off += sizeof(buf)) {
		size_t len = *size - off < sizeof(buf) ? *size - off : sizeof(buf);

		if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
			return -1;
		fill(want, n, off, len);
		for (size_t i = 0; i < len; i++)
			bad += buf[i] != want[i];
	}
	return bad;
}

struct tally {
	int intact, broken, refused, wrong_refusal, random_ok, random_refused, collateral;
};

static bool collateral;

static void judge(int session, int n, struct tally *t)
{
	const char *label = labels[n][0] ? labels[n] : "untouched";
	int fd = lu_retrieve_fd(session, 1000 + n);
	size_t size = 0;
	long bad;

	if (fd < 0) {
		switch (expects[n]) {
		case EXPECT_INTACT:
			if (collateral && fd == -EINVAL) {
				t->collateral++;
				lu_diag("memfd %d (%s): refused, its memory taken by a damaged table",
					n, specs[n].name);
				break;
			}
			t->broken++;
			CHECK(false, "memfd %d (%s, %s) comes back", n, specs[n].name, label);
			lu_diag("RETRIEVE_FD: %s", lu_errname(fd));
			break;
		case EXPECT_REFUSED:
			t->refused++;
			if (!CHECK_ERR(fd, -EINVAL, "memfd %d (%s) is refused: %s", n, specs[n].name,
				       label))
				t->wrong_refusal++;
			break;
		case EXPECT_ANY:
			t->random_refused++;
			CHECK(true, "memfd %d (%s) refused: %s", n, label, lu_errname(fd));
			break;
		}
		return;
	}
	bad = differences(fd, n, &size);
	switch (expects[n]) {
	case EXPECT_INTACT:
		if (bad == 0) {
			t->intact++;
		} else {
			t->broken++;
			CHECK(false, "memfd %d (%s, %s) comes back intact", n, specs[n].name, label);
			lu_diag("size %zu (want %zu), %ld bytes differ", size, specs[n].size, bad);
		}
		break;
	case EXPECT_REFUSED:
		CHECK(false, "memfd %d (%s) is refused: %s", n, specs[n].name, label);
		lu_diag("RETRIEVE_FD succeeded: size %zu, %ld bytes differ", size, bad);
		break;
	case EXPECT_ANY:
		t->random_ok++;
		CHECK(true, "memfd %d (%s) accepted: %s", n, label,
		      bad == 0 ? "intact" : bad < 0 ? "another size" : "other bytes");
		break;
	}
	close(fd);
}

/* The lutest session; @lenient: whatever comes back is reported. */
static void check_lutest(int dev, bool lenient)
{
	int session = lu_retrieve_session(dev, "lc-deps");
	__u64 a = 0, b = 0;
	int fa, fb;
	long err;
	bool same;

	if (session == -ENOENT && !lenient) {
		lu_diag("no lc-deps session (no lutest.ko in the previous kernel)");
		return;
	}
	if (lenient && session < 0) {
		CHECK(true, "session lc-deps: %s", lu_errname(session));
		return;
	}
	if (!CHECK_OK(session, "retrieve session lc-deps"))
		return;
	fa = lu_retrieve_fd(session, 1);
	fb = lu_retrieve_fd(session, 2);
	same = fa >= 0 && fb >= 0 && !ioctl(fa, LUTEST_GET_VALUE, &a) &&
	       !ioctl(fb, LUTEST_GET_VALUE, &b) && a == LUTEST_VALUE_A && b == LUTEST_VALUE_B;
	err = lu_finish(session);
	if (lenient) {
		CHECK(true, "lc-deps: files %s, %s; FINISH %s", lu_errname(fa), lu_errname(fb),
		      lu_errname(err));
	} else {
		CHECK(same, "the lutest files and their dependency come back");
		CHECK_ERR(err, 0, "FINISH lc-deps");
	}
	close(session);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
}

static void check(int argc, char **argv)
{
	struct tally t = { 0 };
	bool eio = false, lenient = false;
	int dev, n;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--eio"))
			eio = true;
		else if (!strcmp(argv[i], "--lenient"))
			lenient = true;
		else if (!strcmp(argv[i], "--collateral"))
			collateral = true;
		else if (!strcmp(argv[i], "--refused") && i + 1 < argc)
			parse_list(argv[++i], EXPECT_REFUSED);
		else if (!strcmp(argv[i], "--any") && i + 1 < argc)
			parse_list(argv[++i], EXPECT_ANY);
		else
			BAIL("usage: handover-corrupt check [--eio|--lenient] [--collateral] [--refused LIST] [--any LIST]");
	}

	dev = lu_open_dev();
	if (eio || (lenient && dev == -EIO)) {
		CHECK_ERR(dev, -EIO, "/dev/liveupdate opens with EIO: nothing is handed over");
		if (dev >= 0)
			close(dev);
		return;
	}
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	if (lenient)
		parse_list("0-119=random", EXPECT_ANY);

	for (n = 0; n < NR_FILES;) {
		const char *name = specs[n].session;
		int session = lu_retrieve_session(dev, name);

		if (lenient && session < 0)
			CHECK(true, "session %s: %s", name, lu_errname(session));
		if (session < 0 && (lenient || !CHECK_OK(session, "retrieve session %s", name))) {
			while (n < NR_FILES && !strcmp(specs[n].session, name))
				n++;
			continue;
		}
		for (; n < NR_FILES && !strcmp(specs[n].session, name); n++)
			judge(session, n, &t);
		if (lenient)
			CHECK(true, "FINISH %s: %s", name, lu_errname(lu_finish(session)));
		else
			CHECK_ERR(lu_finish(session), 0, "FINISH %s", name);
		close(session);
	}
	check_lutest(dev, lenient);
	close(dev);

	CHECK(t.broken == 0, "%d untouched memfds come back intact", t.intact);
	if (t.refused || t.random_ok || t.random_refused)
		lu_diag("%d refused as expected (%d with another errno), random: %d accepted, %d refused; %d untouched refused as collateral",
			t.refused, t.wrong_refusal, t.random_ok, t.random_refused, t.collateral);
}

static void usable(void)
{
	int dev = lu_open_dev(), session, fd;

	if (!CHECK_OK(dev, "open /dev/liveupdate"))
		return;
	session = lu_create_session(dev, "lc-usable");
	fd = memfd_create("usable", 0);
	if (CHECK_OK(session, "create a session") && fd >= 0 && !ftruncate(fd, PAGE))
		CHECK_ERR(lu_preserve_fd(session, fd, 1), 0, "preserve a memfd in it");
	if (session >= 0)
		close(session);
	if (fd >= 0)
		close(fd);
	close(dev);
}

int main(int argc, char **argv)
{
	workload();
	if (argc >= 2 && !strcmp(argv[1], "preserve"))
		preserve();
	else if (argc >= 2 && !strcmp(argv[1], "check"))
		check(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "usable"))
		usable();
	else
		BAIL("usage: handover-corrupt preserve|check|usable");
	return lu_exit_status();
}
