/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The /dev/liveupdate ioctl ABI: identical, byte for byte, to the in-kernel
 * Live Update Orchestrator of Linux 7.3, so programs written for it run
 * unchanged against the liveupdate module. Module-specific extensions are at
 * the end, in their own command range (LIVEUPDATE_CMD_MOD_BASE).
 *
 * Every command takes a pointer to its argument struct, whose first member
 * `size` is sizeof() of the struct as the caller knows it. The kernel accepts
 * a larger size when the extra bytes are zero (E2BIG otherwise) and a smaller
 * one down to the last required member (EINVAL below it).
 */
#ifndef _UAPI_LIVEUPDATE_H
#define _UAPI_LIVEUPDATE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LIVEUPDATE_IOCTL_TYPE 0xBA

/* Session names are NUL-terminated within this many bytes, and not empty. */
#define LIVEUPDATE_SESSION_NAME_LENGTH 64

/* Commands on /dev/liveupdate. */
enum {
	LIVEUPDATE_CMD_BASE = 0x00,
	LIVEUPDATE_CMD_CREATE_SESSION = LIVEUPDATE_CMD_BASE,
	LIVEUPDATE_CMD_RETRIEVE_SESSION = 0x01,
};

/* Commands on a session file descriptor. */
enum {
	LIVEUPDATE_CMD_SESSION_BASE = 0x40,
	LIVEUPDATE_CMD_SESSION_PRESERVE_FD = LIVEUPDATE_CMD_SESSION_BASE,
	LIVEUPDATE_CMD_SESSION_RETRIEVE_FD = 0x41,
	LIVEUPDATE_CMD_SESSION_FINISH = 0x42,
	LIVEUPDATE_CMD_SESSION_GET_NAME = 0x43,
};

/*
 * LIVEUPDATE_IOCTL_CREATE_SESSION: a new, empty outgoing session named
 * @name. Returns its fd (O_CLOEXEC) in @fd. Closing that fd before the
 * reboot unpreserves everything in it.
 */
struct liveupdate_ioctl_create_session {
	__u32 size;
	__s32 fd;
	__u8 name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_IOCTL_CREATE_SESSION \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_CREATE_SESSION)

/*
 * LIVEUPDATE_IOCTL_RETRIEVE_SESSION: after a live update, the fd of the
 * incoming session named @name, once.
 */
struct liveupdate_ioctl_retrieve_session {
	__u32 size;
	__s32 fd;
	__u8 name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_IOCTL_RETRIEVE_SESSION \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_RETRIEVE_SESSION)

/*
 * LIVEUPDATE_SESSION_PRESERVE_FD: preserve the file behind @fd under
 * @token (unique within the session) across the next live update.
 */
struct liveupdate_session_preserve_fd {
	__u32 size;
	__s32 fd;
	__aligned_u64 token;
};
#define LIVEUPDATE_SESSION_PRESERVE_FD \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_PRESERVE_FD)

/*
 * LIVEUPDATE_SESSION_RETRIEVE_FD: in the new kernel, a new fd (O_CLOEXEC)
 * for the file preserved under @token.
 */
struct liveupdate_session_retrieve_fd {
	__u32 size;
	__s32 fd;
	__aligned_u64 token;
};
#define LIVEUPDATE_SESSION_RETRIEVE_FD \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_RETRIEVE_FD)

/*
 * LIVEUPDATE_SESSION_FINISH: end an incoming session's live update; its
 * files are then ordinary files. @reserved must be zero.
 */
struct liveupdate_session_finish {
	__u32 size;
	__u32 reserved;
};
#define LIVEUPDATE_SESSION_FINISH \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_FINISH)

/* LIVEUPDATE_SESSION_GET_NAME: the session's name. @reserved must be zero. */
struct liveupdate_session_get_name {
	__u32 size;
	__u32 reserved;
	__u8 name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_SESSION_GET_NAME \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_GET_NAME)

/*
 * Extensions of the liveupdate module (not in the in-kernel LUO).
 *
 * LIVEUPDATE_IOCTL_MOD_STATUS on /dev/liveupdate: whether the handover for
 * the next kernel is ready. The module cannot veto a kexec, so a caller asks
 * this before rebooting: @ready is 1 when every outgoing session and file
 * is recorded in preserved memory and every file agreed to a trial freeze
 * (each handler's freeze ran and was undone); otherwise @first_error is the
 * negative errno of the first file that refused, and @failed_token its
 * token in @failed_session.
 */
enum {
	LIVEUPDATE_CMD_MOD_BASE = 0x80,
	LIVEUPDATE_CMD_MOD_STATUS = LIVEUPDATE_CMD_MOD_BASE,
};

struct liveupdate_mod_status {
	__u32 size;
	__u32 ready;
	__aligned_u64 generation;
	__aligned_u64 outgoing_sessions;
	__aligned_u64 outgoing_files;
	__aligned_u64 incoming_sessions;
	__aligned_u64 incoming_files;
	__aligned_u64 metadata_bytes;
	__s32 first_error;
	__u32 reserved;
	__aligned_u64 failed_token;
	__u8 failed_session[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_IOCTL_MOD_STATUS \
	_IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_MOD_STATUS)

#endif /* _UAPI_LIVEUPDATE_H */
