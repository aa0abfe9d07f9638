// SPDX-License-Identifier: GPL-2.0
/*
 * One <linux/liveupdate.h> as a table (see uapi_layout_table.h). The
 * Makefile compiles this file twice with a different include path and
 * UAPI_ABI_TABLE naming the table: uapi_abi_ours and uapi_abi_upstream.
 */
#include <linux/liveupdate.h>

#include "uapi_layout_table.h"

#ifndef UAPI_ABI_TABLE
#error "UAPI_ABI_TABLE must name the table (uapi_abi_ours or uapi_abi_upstream)"
#endif

#define PASTE_(a, b) a##b
#define PASTE(a, b) PASTE_(a, b)

#define CONST(c) { #c, (uint64_t)(c) }

#define FIELD(s, m) (((struct s *)0)->m)
/* -Wno-type-limits: "< 0" is always false for the unsigned members. */
#define SIGNED(expr) ((uint64_t)((__typeof__(expr))-1 < 0))

#define STRUCT(s)                                              \
	{ "struct " #s "/sizeof", sizeof(struct s) },          \
	{ "struct " #s "/alignof", _Alignof(struct s) }

/* A scalar member: where it is, how big, how aligned, signed or not. */
#define MEMBER(s, m)                                                       \
	{ "struct " #s "." #m "/offset", offsetof(struct s, m) },          \
	{ "struct " #s "." #m "/size", sizeof(FIELD(s, m)) },              \
	{ "struct " #s "." #m "/alignof", __alignof__(FIELD(s, m)) },      \
	{ "struct " #s "." #m "/signed", SIGNED(FIELD(s, m)) }

/* An array member: the same, with its element's size and signedness. */
#define ARRAY(s, m)                                                        \
	{ "struct " #s "." #m "/offset", offsetof(struct s, m) },          \
	{ "struct " #s "." #m "/size", sizeof(FIELD(s, m)) },              \
	{ "struct " #s "." #m "/alignof", __alignof__(FIELD(s, m)) },      \
	{ "struct " #s "." #m "[0]/size", sizeof(FIELD(s, m)[0]) },        \
	{ "struct " #s "." #m "[0]/signed", SIGNED(FIELD(s, m)[0]) }

const struct uapi_abi_item UAPI_ABI_TABLE[] = {
	CONST(LIVEUPDATE_IOCTL_TYPE),
	CONST(LIVEUPDATE_SESSION_NAME_LENGTH),

	CONST(LIVEUPDATE_CMD_BASE),
	CONST(LIVEUPDATE_CMD_CREATE_SESSION),
	CONST(LIVEUPDATE_CMD_RETRIEVE_SESSION),
	CONST(LIVEUPDATE_CMD_SESSION_BASE),
	CONST(LIVEUPDATE_CMD_SESSION_PRESERVE_FD),
	CONST(LIVEUPDATE_CMD_SESSION_RETRIEVE_FD),
	CONST(LIVEUPDATE_CMD_SESSION_FINISH),
	CONST(LIVEUPDATE_CMD_SESSION_GET_NAME),

	CONST(LIVEUPDATE_IOCTL_CREATE_SESSION),
	CONST(LIVEUPDATE_IOCTL_RETRIEVE_SESSION),
	CONST(LIVEUPDATE_SESSION_PRESERVE_FD),
	CONST(LIVEUPDATE_SESSION_RETRIEVE_FD),
	CONST(LIVEUPDATE_SESSION_FINISH),
	CONST(LIVEUPDATE_SESSION_GET_NAME),

	STRUCT(liveupdate_ioctl_create_session),
	MEMBER(liveupdate_ioctl_create_session, size),
	MEMBER(liveupdate_ioctl_create_session, fd),
	ARRAY(liveupdate_ioctl_create_session, name),

	STRUCT(liveupdate_ioctl_retrieve_session),
	MEMBER(liveupdate_ioctl_retrieve_session, size),
	MEMBER(liveupdate_ioctl_retrieve_session, fd),
	ARRAY(liveupdate_ioctl_retrieve_session, name),

	STRUCT(liveupdate_session_preserve_fd),
	MEMBER(liveupdate_session_preserve_fd, size),
	MEMBER(liveupdate_session_preserve_fd, fd),
	MEMBER(liveupdate_session_preserve_fd, token),

	STRUCT(liveupdate_session_retrieve_fd),
	MEMBER(liveupdate_session_retrieve_fd, size),
	MEMBER(liveupdate_session_retrieve_fd, fd),
	MEMBER(liveupdate_session_retrieve_fd, token),

	STRUCT(liveupdate_session_finish),
	MEMBER(liveupdate_session_finish, size),
	MEMBER(liveupdate_session_finish, reserved),

	STRUCT(liveupdate_session_get_name),
	MEMBER(liveupdate_session_get_name, size),
	MEMBER(liveupdate_session_get_name, reserved),
	ARRAY(liveupdate_session_get_name, name),

#ifdef LIVEUPDATE_IOCTL_MOD_STATUS
	/* The module's extension: only in our header. */
	CONST(LIVEUPDATE_CMD_MOD_BASE),
	CONST(LIVEUPDATE_CMD_MOD_STATUS),
	CONST(LIVEUPDATE_IOCTL_MOD_STATUS),

	STRUCT(liveupdate_mod_status),
	MEMBER(liveupdate_mod_status, size),
	MEMBER(liveupdate_mod_status, ready),
	MEMBER(liveupdate_mod_status, generation),
	MEMBER(liveupdate_mod_status, outgoing_sessions),
	MEMBER(liveupdate_mod_status, outgoing_files),
	MEMBER(liveupdate_mod_status, incoming_sessions),
	MEMBER(liveupdate_mod_status, incoming_files),
	MEMBER(liveupdate_mod_status, metadata_bytes),
	MEMBER(liveupdate_mod_status, first_error),
	MEMBER(liveupdate_mod_status, reserved),
	MEMBER(liveupdate_mod_status, failed_token),
	ARRAY(liveupdate_mod_status, failed_session),
#endif
};

const size_t PASTE(UAPI_ABI_TABLE, _count) =
	sizeof(UAPI_ABI_TABLE) / sizeof(UAPI_ABI_TABLE[0]);
