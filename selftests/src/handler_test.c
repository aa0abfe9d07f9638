// SPDX-License-Identifier: GPL-2.0
/*
 * handler-test SCENARIO --stage 1|2: the handler API of the liveupdate
 * module, driven through lutest.ko (selftests/testmod) across a real kexec.
 * Each selftests/handler_SCENARIO.sh runs one scenario:
 *
 *   flb         the FLB is preserved with the first file, unpreserved with
 *               the last, handed over, retrieved on demand and finished
 *               with the last file; lutest stays pinned meanwhile
 *   rollback    a failed preserve rolls the FLB back; a failed freeze of the
 *               2nd file unfreezes the 1st, and at the kexec costs its own
 *               session only: the next kernel reports it, restores the rest
 *   finish      can_finish refusal keeps everything retryable; a failed
 *               retrieve is remembered; unretrieved files finish too
 *   deps        declared dependencies: a missing one fails the freeze; a
 *               cycle crosses the kexec; FINISH waits for dependencies
 *   unregister  unregistering the handler is EBUSY while it has files;
 *               the registration rules (LUTEST_API_CHECKS)
 *
 * Stage 1 leaves its sessions open and holds until the kexec.
 */
#include "lu_test.h"

#include <sys/syscall.h>

#include "../testmod/lutest_uapi.h"

#define READY "/tmp/handler-test.ready"
#define PARAMS "/sys/module/lutest/parameters/"
#define COOKIE_BASE 0xf1b0000000000000ULL

static int param(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f)) {
		lu_diag("cannot read %s", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return atoi(buf);
}

static void set_param(const char *name, int value)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", value) < 0)
		BAIL("cannot write %s", path);
	fclose(f);
}

#define CHECK_PARAM(name, want) \
	CHECK_ERR(param(name), (want), "%s is %d", name, (want))

static int lutest_open(uint64_t value)
{
	int fd = open("/dev/lutest", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		BAIL("open /dev/lutest: %s", strerror(errno));
	if (ioctl(fd, LUTEST_SET_VALUE, &value))
		BAIL("LUTEST_SET_VALUE: %s", strerror(errno));
	return fd;
}

static long lutest_value(int fd, uint64_t *value)
{
	return lu_ioctl(fd, LUTEST_GET_VALUE, value);
}

static long lutest_cookie(uint64_t *cookie)
{
	int fd = open("/dev/lutest", O_RDWR | O_CLOEXEC);
	long err;

	if (fd < 0)
		return -errno;
	err = lu_ioctl(fd, LUTEST_FLB_COOKIE, cookie);
	close(fd);
	return err;
}

static long lutest_ctl(unsigned long cmd)
{
	int fd = open("/dev/lutest", O_RDWR | O_CLOEXEC);
	long err;

	if (fd < 0)
		return -errno;
	err = lu_ioctl(fd, cmd, NULL);
	close(fd);
	return err;
}

static long depend(int fd, int dep)
{
	int32_t arg = dep;

	return lu_ioctl(fd, LUTEST_DEPEND, &arg);
}

static long unload_lutest(void)
{
	return syscall(__NR_delete_module, "lutest", O_NONBLOCK) ? -errno : 0;
}

static int open_dev(void)
{
	int dev = lu_open_dev();

	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	return dev;
}

static int session(int dev, const char *name)
{
	int s = lu_create_session(dev, name);

	if (s < 0)
		BAIL("create session %s: %s", name, lu_errname(s));
	return s;
}

static int retrieve_session(int dev, const char *name)
{
	int s = lu_retrieve_session(dev, name);

	if (s < 0)
		BAIL("retrieve session %s: %s", name, lu_errname(s));
	return s;
}

/* Retrieves @token from @s and checks that it carries @want. */
static void check_retrieved(int s, uint64_t token, uint64_t want)
{
	uint64_t value = 0;
	int fd = lu_retrieve_fd(s, token);

	if (!CHECK(fd >= 0, "token %llu is retrieved", (unsigned long long)token)) {
		lu_diag("retrieve: %s", lu_errname(fd));
		return;
	}
	CHECK(lutest_value(fd, &value) == 0 && value == want,
	      "token %llu carries its value %llu (got %llu)", (unsigned long long)token,
	      (unsigned long long)want, (unsigned long long)value);
	close(fd);
}

static struct liveupdate_mod_status mod_status(int dev)
{
	struct liveupdate_mod_status st = { .size = sizeof(st) };

	if (lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, &st))
		BAIL("MOD_STATUS: %s", strerror(errno));
	return st;
}

/* ---- flb ------------------------------------------------------------- */

static void flb_1(void)
{
	int dev = open_dev();
	uint64_t cookie = 0;
	int tmp, a, b, fd;

	/* No outgoing object (ENOENT), and a cold boot has no incoming one. */
	CHECK_ERR(lutest_cookie(&cookie), -ENODATA, "no FLB before a file is preserved");
	tmp = session(dev, "flb-tmp");
	fd = lutest_open(1);
	CHECK_ERR(lu_preserve_fd(tmp, fd, 1), 0, "a file is preserved");
	CHECK_PARAM("flb_preserves", 1);
	CHECK_ERR(lutest_cookie(&cookie), 0, "the outgoing FLB object is there");
	CHECK(cookie == COOKIE_BASE + 1, "its cookie is the first");
	close(fd);
	close(tmp);
	CHECK_PARAM("flb_unpreserves", 1);
	CHECK_ERR(lutest_cookie(&cookie), -ENODATA, "the last file's unpreserve unpreserved it");

	a = session(dev, "flb-a");
	b = session(dev, "flb-b");
	CHECK_ERR(lu_preserve_fd(a, lutest_open(11), 1), 0, "a/1 preserved");
	CHECK_ERR(lu_preserve_fd(a, lutest_open(22), 2), 0, "a/2 preserved");
	CHECK_ERR(lu_preserve_fd(b, lutest_open(33), 1), 0, "b/1 preserved");
	CHECK_PARAM("flb_preserves", 2);
	CHECK_ERR(lutest_cookie(&cookie), 0, "the FLB is preserved again");
	CHECK(cookie == COOKIE_BASE + 2, "once, for three files in two sessions");
	CHECK(unload_lutest() < 0, "lutest cannot be unloaded while its files are preserved");
	lu_hold_until_kexec(READY);
}

static void flb_2(void)
{
	uint64_t cookie = 0;
	int dev, a, b;

	dev = open_dev();
	CHECK(unload_lutest() < 0,
	      "lutest stays pinned by the handed-over files before any is retrieved");
	CHECK_PARAM("flb_retrieves", 0);
	a = retrieve_session(dev, "flb-a");
	check_retrieved(a, 1, 11);
	CHECK_PARAM("flb_retrieves", 0);
	CHECK_ERR(lutest_cookie(&cookie), 0, "the incoming FLB object is retrieved on demand");
	CHECK(cookie == COOKIE_BASE + 2, "with the previous kernel's cookie");
	CHECK_PARAM("flb_retrieves", 1);
	CHECK_ERR(lutest_cookie(&cookie), 0, "asked again");
	CHECK_PARAM("flb_retrieves", 1);
	CHECK_ERR(lu_finish(a), 0, "session a finishes");
	CHECK_PARAM("flb_finishes", 0);
	b = retrieve_session(dev, "flb-b");
	CHECK_ERR(lu_finish(b), 0, "session b finishes (its file never retrieved)");
	CHECK_PARAM("flb_finishes", 1);
	CHECK_ERR(lutest_cookie(&cookie), -ENODATA, "the FLB is finished");
	close(a);
	close(b);
	close(dev);
	CHECK_ERR(unload_lutest(), 0, "lutest unloads once everything finished");
}

/* ---- rollback ------------------------------------------------------- */

static void rollback_1(void)
{
	int dev = open_dev();
	struct liveupdate_mod_status st;
	int s = session(dev, "rollback");

	set_param("fail_preserve", EIO);
	CHECK_ERR(lu_preserve_fd(s, lutest_open(1), 1), -EIO, "a failing preserve fails PRESERVE_FD");
	CHECK_PARAM("flb_preserves", 1);
	CHECK_PARAM("flb_unpreserves", 1);
	set_param("fail_preserve", 0);
	CHECK_ERR(lu_preserve_fd(s, lutest_open(1), 1), 0, "the token is free again");
	CHECK_ERR(lu_preserve_fd(s, lutest_open(2), 2), 0, "2nd file");
	CHECK_ERR(lu_preserve_fd(s, lutest_open(3), 3), 0, "3rd file");
	set_param("fail_freeze_nth", 2);
	st = mod_status(dev);
	CHECK_ERR(st.first_error, -EIO, "the trial freeze fails at the 2nd file");
	CHECK(st.failed_token == 2 && !strcmp((char *)st.failed_session, "rollback"),
	      "and names it (token %llu of %s)", (unsigned long long)st.failed_token,
	      st.failed_session);
	CHECK_PARAM("freezes", 1);
	CHECK_PARAM("unfreezes", 1);
	/* Armed at the kexec too: that costs "rollback", not the bystander. */
	CHECK_ERR(lu_preserve_fd(session(dev, "bystander"), lutest_open(42), 7), 0,
		  "a file in another session");
	lu_hold_until_kexec(READY);
}

static void rollback_2(void)
{
	int dev = open_dev();
	char report[512] = "";
	FILE *f = fopen("/sys/class/misc/liveupdate/handover", "r");
	int s;

	if (f) {
		if (!fgets(report, sizeof(report), f))
			report[0] = '\0';
		fclose(f);
	}
	lu_diag("handover: %s", report);
	CHECK(strstr(report, "not handed over: rollback (token 2 errno 5)") != NULL,
	      "the handover report names the session whose file refused to freeze");
	CHECK_ERR(lu_retrieve_session(dev, "rollback"), -EIO,
		  "its RETRIEVE_SESSION says it was not handed over");
	CHECK_ERR(lu_retrieve_session(dev, "rollback"), -EIO, "every time");
	s = retrieve_session(dev, "bystander");
	check_retrieved(s, 7, 42);
	CHECK_ERR(lu_finish(s), 0, "the other session is whole and finishes");
}

/* ---- finish ------------------------------------------------------------ */

static void finish_1(void)
{
	int dev = open_dev();
	int s = session(dev, "finish");

	for (uint64_t t = 1; t <= 3; t++)
		CHECK_ERR(lu_preserve_fd(s, lutest_open(100 * t), t), 0, "token %llu preserved",
			  (unsigned long long)t);
	lu_hold_until_kexec(READY);
}

static void finish_2(void)
{
	int dev = open_dev();
	int s = retrieve_session(dev, "finish");

	set_param("refuse_finish", 1);
	check_retrieved(s, 1, 100);
	set_param("fail_retrieve", EIO);
	CHECK_ERR(lu_retrieve_fd(s, 2), -EIO, "a failing retrieve fails RETRIEVE_FD");
	set_param("fail_retrieve", 0);
	CHECK_ERR(lu_retrieve_fd(s, 2), -EIO, "and is remembered");
	CHECK_ERR(lu_finish(s), -EBUSY, "FINISH is refused while a file cannot finish");
	CHECK_PARAM("finishes", 0);
	check_retrieved(s, 1, 100);
	set_param("refuse_finish", 0);
	CHECK_ERR(lu_finish(s), 0, "FINISH succeeds once every file agrees");
	CHECK_PARAM("finishes", 3);
	CHECK_PARAM("finished_unretrieved", 1);
	CHECK_PARAM("flb_finishes", 1);
}

/* ---- deps -------------------------------------------------------------- */

static void deps_1(void)
{
	int dev = open_dev();
	struct liveupdate_mod_status st;
	int bad, s, f[6], other;

	bad = session(dev, "deps-bad");
	other = session(dev, "deps-other");
	f[0] = lutest_open(7);
	f[1] = lutest_open(8);
	CHECK_ERR(depend(f[0], f[1]), 0, "x depends on y");
	CHECK_ERR(lu_preserve_fd(bad, f[0], 1), 0, "x is preserved before y");
	CHECK_ERR(lu_preserve_fd(other, f[1], 1), 0, "y is preserved in another session");
	st = mod_status(dev);
	CHECK_ERR(st.first_error, -ENOLINK, "the freeze fails: x's dependency is not in its session");
	CHECK(st.failed_token == 1 && !strcmp((char *)st.failed_session, "deps-bad"),
	      "naming x");
	CHECK_PARAM("freezes", 0);
	close(bad);
	close(other);
	st = mod_status(dev);
	CHECK_ERR(st.first_error, 0, "without it, the live update is ready");

	/* 1 -> 2 -> 3 -> 1, and 4 -> 5. */
	s = session(dev, "deps");
	for (int i = 1; i <= 5; i++)
		f[i] = lutest_open(1000 + i);
	CHECK_ERR(depend(f[1], f[2]), 0, "1 depends on 2");
	CHECK_ERR(depend(f[2], f[3]), 0, "2 depends on 3");
	CHECK_ERR(depend(f[3], f[1]), 0, "3 depends on 1");
	CHECK_ERR(depend(f[4], f[5]), 0, "4 depends on 5");
	for (int i = 1; i <= 5; i++)
		CHECK_ERR(lu_preserve_fd(s, f[i], i), 0, "file %d preserved", i);
	st = mod_status(dev);
	CHECK_ERR(st.first_error, 0, "a cycle freezes");
	CHECK_PARAM("dep_lookups_failed", 0);
	lu_hold_until_kexec(READY);
}

static void deps_2(void)
{
	int dev = open_dev();
	int s = retrieve_session(dev, "deps");

	check_retrieved(s, 1, 1001);
	CHECK_ERR(lu_finish(s), -EBUSY, "FINISH waits for 1's dependency");
	check_retrieved(s, 2, 1002);
	CHECK_ERR(lu_finish(s), -EBUSY, "and for 2's");
	check_retrieved(s, 3, 1003);
	check_retrieved(s, 5, 1005);
	CHECK_PARAM("finishes", 0);
	CHECK_ERR(lu_finish(s), 0, "the cycle is whole; 4 was never retrieved");
	CHECK_PARAM("finishes", 5);
	CHECK_PARAM("finished_unretrieved", 1);
}

/* ---- unregister -------------------------------------------------------- */

static void unregister_1(void)
{
	int dev = open_dev();
	int s = session(dev, "unregister");

	CHECK_ERR(lutest_ctl(LUTEST_API_CHECKS), 0,
		  "registration rules: required ops (EINVAL), unique compatibles (EEXIST), "
		  "48-byte compatibles, FLBs only on registered handlers");
	CHECK_ERR(lu_preserve_fd(s, lutest_open(5), 1), 0, "a file is preserved");
	CHECK_ERR(lutest_ctl(LUTEST_UNREGISTER), -EBUSY, "unregister is refused while it is");
	close(s);
	CHECK_ERR(lutest_ctl(LUTEST_UNREGISTER), 0, "unregister succeeds once it is not");
	CHECK_ERR(lutest_ctl(LUTEST_REGISTER), 0, "register again");
	CHECK_ERR(lutest_ctl(LUTEST_REGISTER), -EEXIST, "a second registration is EEXIST");
	s = session(dev, "unregister");
	CHECK_ERR(lu_preserve_fd(s, lutest_open(6), 1), 0, "a file is preserved again");
	lu_hold_until_kexec(READY);
}

static void unregister_2(void)
{
	int dev = open_dev();
	int s;

	CHECK_ERR(lutest_ctl(LUTEST_UNREGISTER), -EBUSY,
		  "unregister is refused while a handed-over file is held");
	s = retrieve_session(dev, "unregister");
	check_retrieved(s, 1, 6);
	CHECK_ERR(lu_finish(s), 0, "FINISH");
	CHECK_ERR(lutest_ctl(LUTEST_UNREGISTER), 0, "unregister succeeds after it");
	CHECK_ERR(lutest_ctl(LUTEST_REGISTER), 0, "register again");
}

static const struct {
	const char *name;
	void (*stage[2])(void);
} scenarios[] = {
	{ "flb", { flb_1, flb_2 } },
	{ "rollback", { rollback_1, rollback_2 } },
	{ "finish", { finish_1, finish_2 } },
	{ "deps", { deps_1, deps_2 } },
	{ "unregister", { unregister_1, unregister_2 } },
};

int main(int argc, char **argv)
{
	int stage = lu_stage(argc, argv);

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc > 1 && i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		if (strcmp(argv[1], scenarios[i].name) || stage < 1 || stage > 2)
			continue;
		scenarios[i].stage[stage - 1]();
		return lu_exit_status();
	}
	fprintf(stderr, "usage: handler-test flb|rollback|finish|deps|unregister --stage 1|2\n");
	return 2;
}
