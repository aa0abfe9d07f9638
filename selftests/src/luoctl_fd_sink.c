// SPDX-License-Identifier: GPL-2.0
/*
 * luoctl-fd-sink: the receiving end of `luoctl retrieve --to-socket`, for
 * the luoctl guest tests (busybox cannot receive SCM_RIGHTS).
 *
 *   luoctl-fd-sink [--stream] SOCKET -- COMMAND [ARG...]
 *       Listens on the Unix socket SOCKET (SOCK_SEQPACKET, or SOCK_STREAM
 *       with --stream), accepts one connection and receives one message:
 *       a header line and one descriptor (SCM_RIGHTS). Runs COMMAND with
 *       the descriptor inherited, its number in $SINK_FD and the header
 *       (without its newline) in $SINK_HEADER, and exits with COMMAND's
 *       status. SOCKET appears only once it listens (bound as SOCKET.tmp,
 *       then renamed), so a test may wait for it with [ -S SOCKET ].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "luoctl-fd-sink: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_at(const char *path, int type)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char tmp[sizeof(addr.sun_path)];
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0)
		die("socket");
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(addr.sun_path, tmp);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) || listen(fd, 1))
		die("bind/listen");
	if (rename(tmp, path))
		die("rename");
	return fd;
}

/* Receives the header into header (NUL-terminated, newline dropped). */
static int receive(int conn, char *header, size_t size)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = header, .iov_len = size - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n = recvmsg(conn, &msg, 0);
	int fd = -1;

	if (n < 0)
		die("recvmsg");
	header[n] = '\0';
	header[strcspn(header, "\n")] = '\0';
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if (fd < 0) {
		fprintf(stderr, "luoctl-fd-sink: no descriptor came with '%s'\n", header);
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	int type = SOCK_SEQPACKET, arg = 1, listener, conn, fd, status;
	char header[512], num[32];
	pid_t child;

	if (arg < argc && strcmp(argv[arg], "--stream") == 0) {
		type = SOCK_STREAM;
		arg++;
	}
	if (argc - arg < 3 || strcmp(argv[arg + 1], "--") != 0) {
		fprintf(stderr, "usage: luoctl-fd-sink [--stream] SOCKET -- COMMAND...\n");
		return 2;
	}
	listener = listen_at(argv[arg], type);
	conn = accept(listener, NULL, NULL);
	if (conn < 0)
		die("accept");
	fd = receive(conn, header, sizeof(header));
	close(conn);
	close(listener);
	unlink(argv[arg]);
	snprintf(num, sizeof(num), "%d", fd);
	setenv("SINK_FD", num, 1);
	setenv("SINK_HEADER", header, 1);
	child = fork();
	if (child == 0) {
		execvp(argv[arg + 2], argv + arg + 2);
		fprintf(stderr, "luoctl-fd-sink: %s: %s\n", argv[arg + 2], strerror(errno));
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
