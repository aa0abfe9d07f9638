// SPDX-License-Identifier: GPL-2.0
/*
 * idle-clients N PATH: connects N times to the Unix seqpacket socket PATH
 * (the luoctl agent's), says nothing, prints "connected N" and holds the
 * connections until killed: the clients a daemon must not wait for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int n, i;

	if (argc != 3 || (n = atoi(argv[1])) <= 0 ||
	    strlen(argv[2]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: idle-clients N PATH\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[2]);
	for (i = 0; i < n; i++) {
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
			perror("idle-clients");
			return 1;
		}
	}
	printf("connected %d\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
