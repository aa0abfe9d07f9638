// SPDX-License-Identifier: GPL-2.0
/*
 * lu-kexec KERNEL INITRD CMDLINE
 *
 * Loads KERNEL and INITRD with kexec_file_load() and jumps into them.
 * busybox has no kexec applet and kexec-tools is not static, so the guest
 * carries this instead. kexec_file_load (not kexec_load) is what puts the
 * image into the KHO scratch areas and hands the KHO tree to the next kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_or_die(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "lu-kexec: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

int main(int argc, char **argv)
{
	int kernel_fd, initrd_fd;
	const char *cmdline;

	if (argc != 4) {
		fprintf(stderr, "usage: lu-kexec KERNEL INITRD CMDLINE\n");
		return 1;
	}
	kernel_fd = open_or_die(argv[1]);
	initrd_fd = open_or_die(argv[2]);
	cmdline = argv[3];

	/* The length counts the terminating NUL: the kernel insists on it. */
	if (syscall(SYS_kexec_file_load, kernel_fd, initrd_fd,
		    strlen(cmdline) + 1, cmdline, 0UL) != 0) {
		fprintf(stderr, "lu-kexec: kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	sync();
	reboot(LINUX_REBOOT_CMD_KEXEC);
	/* Only reached if the jump itself was refused. */
	fprintf(stderr, "lu-kexec: reboot(KEXEC): %s\n", strerror(errno));
	return 1;
}
