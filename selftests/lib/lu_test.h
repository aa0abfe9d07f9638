/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small TAP library for the in-guest C tests, matching lib.sh: every
 * result is one line, "ok - DESC" or "not ok - DESC", with no number (the
 * host numbers them across stages); diagnostics are "# " lines.
 *
 * Tests call the /dev/liveupdate ABI through the lu_* wrappers below, which
 * return the fd or 0 on success and -errno on failure, so a check is one
 * line: CHECK_ERR(lu_create_session(dev, ""), -EINVAL, "empty name").
 */
#ifndef LU_TEST_H
#define LU_TEST_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/liveupdate.h>

static int lu_failures;

static inline void lu_diag(const char *fmt, ...)
{
	va_list args;

	printf("# ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

/* One result line; returns @pass so a caller can stop on failure. */
static inline bool lu_result(bool pass, const char *fmt, ...)
{
	va_list args;

	printf(pass ? "ok - " : "not ok - ");
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
	fflush(stdout);
	if (!pass)
		lu_failures++;
	return pass;
}

static inline const char *lu_errname(long err)
{
	const char *name;

	if (err >= 0)
		return "success";
	name = strerrorname_np((int)-err);
	return name ? name : "unknown errno";
}

#define CHECK(cond, ...) lu_result((cond), __VA_ARGS__)

/* @expr must return exactly @want (0, an fd is not 0, or -errno). */
#define CHECK_ERR(expr, want, ...)                                          \
	({                                                                  \
		long _got = (expr);                                         \
		bool _pass = (_got == (want));                              \
		if (!_pass)                                                 \
			lu_diag("%s: got %ld (%s), want %ld (%s)", #expr,   \
				_got, lu_errname(_got), (long)(want),       \
				lu_errname(want));                          \
		lu_result(_pass, __VA_ARGS__);                              \
	})

/* @expr must succeed (return >= 0); yields its value. */
#define CHECK_OK(expr, ...)                                                 \
	({                                                                  \
		long _got = (expr);                                         \
		if (_got < 0)                                               \
			lu_diag("%s: %s", #expr, lu_errname(_got));         \
		lu_result(_got >= 0, __VA_ARGS__);                          \
		_got;                                                       \
	})

/* A failure that makes the rest of the stage pointless. */
#define BAIL(...)                                  \
	do {                                       \
		lu_result(false, __VA_ARGS__);     \
		exit(125);                         \
	} while (0)

static inline int lu_exit_status(void)
{
	return lu_failures ? 1 : 0;
}

/* ---- the ABI, errno-returning ------------------------------------------ */

static inline long lu_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* Open file descriptors of this process: a leak check around an ioctl. */
static inline int lu_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static inline int lu_open_dev(void)
{
	int fd = open("/dev/liveupdate", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Session names are fixed 64-byte fields: a name of exactly 64 bytes is
 * deliberately left unterminated, so tests can send one.
 */
static inline void lu_set_name(__u8 dst[64], const char *name)
{
	memset(dst, 0, 64);
	memcpy(dst, name, strnlen(name, 64));
}

static inline int lu_create_session(int dev, const char *name)
{
	struct liveupdate_ioctl_create_session arg = { .size = sizeof(arg) };
	long err;

	lu_set_name(arg.name, name);
	err = lu_ioctl(dev, LIVEUPDATE_IOCTL_CREATE_SESSION, &arg);
	return err ? (int)err : arg.fd;
}

static inline int lu_retrieve_session(int dev, const char *name)
{
	struct liveupdate_ioctl_retrieve_session arg = { .size = sizeof(arg) };
	long err;

	lu_set_name(arg.name, name);
	err = lu_ioctl(dev, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, &arg);
	return err ? (int)err : arg.fd;
}

static inline long lu_preserve_fd(int session, int fd, uint64_t token)
{
	struct liveupdate_session_preserve_fd arg = {
		.size = sizeof(arg), .fd = fd, .token = token,
	};

	return lu_ioctl(session, LIVEUPDATE_SESSION_PRESERVE_FD, &arg);
}

static inline int lu_retrieve_fd(int session, uint64_t token)
{
	struct liveupdate_session_retrieve_fd arg = {
		.size = sizeof(arg), .token = token,
	};
	long err = lu_ioctl(session, LIVEUPDATE_SESSION_RETRIEVE_FD, &arg);

	return err ? (int)err : arg.fd;
}

static inline long lu_finish(int session)
{
	struct liveupdate_session_finish arg = { .size = sizeof(arg) };

	return lu_ioctl(session, LIVEUPDATE_SESSION_FINISH, &arg);
}

static inline long lu_get_name(int session, char name[LIVEUPDATE_SESSION_NAME_LENGTH])
{
	struct liveupdate_session_get_name arg = { .size = sizeof(arg) };
	long err = lu_ioctl(session, LIVEUPDATE_SESSION_GET_NAME, &arg);

	if (!err)
		memcpy(name, arg.name, sizeof(arg.name));
	return err;
}

/* ---- living across the kexec ------------------------------------------- */

/* Which implementation is under test: "module" or "in-kernel". */
static inline const char *lu_provider(void)
{
	struct stat st;

	return stat("/sys/module/liveupdate", &st) == 0 ? "module" : "in-kernel";
}

static inline bool lu_is_module(void)
{
	return strcmp(lu_provider(), "module") == 0;
}

/*
 * Session fds must stay open until the reboot (closing one unpreserves it),
 * so a stage that preserves ends here: it signals @ready_path and sleeps
 * until the kexec ends it. The shell side starts the program in the
 * background and waits for @ready_path (see lu_wait_ready in lib.sh).
 */
static inline void __attribute__((noreturn)) lu_hold_until_kexec(const char *ready_path)
{
	int fd;

	fflush(stdout);
	fd = open(ready_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, lu_failures ? "1\n" : "0\n", 2) < 0)
			perror("write ready file");
		close(fd);
	}
	for (;;)
		pause();
}

/* "--stage N" on the command line, 1 when absent. */
static inline int lu_stage(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--stage"))
			return atoi(argv[i + 1]);
	return 1;
}

#endif /* LU_TEST_H */
