/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ABI facts of one copy of <linux/liveupdate.h> as a table of
 * {name, value}: every constant, every ioctl number, and for every struct
 * its size and alignment and for every member its offset, size and
 * signedness. uapi_layout_table.c is compiled twice, once against our
 * uapi/linux/liveupdate.h and once against the upstream kernel's installed
 * header (the two cannot share a translation unit: they define the same
 * names), and uapi_layout_test.cpp compares the two tables.
 *
 * Names: "LIVEUPDATE_IOCTL_TYPE" for a constant, "struct S/sizeof" and
 * "struct S/alignof" for a struct, "struct S.m/offset", "struct S.m/size"
 * and "struct S.m/signed" for a member.
 */
#ifndef UAPI_LAYOUT_TABLE_H
#define UAPI_LAYOUT_TABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct uapi_abi_item {
	const char *name;
	uint64_t value;
};

/* Built from our uapi/linux/liveupdate.h. */
extern const struct uapi_abi_item uapi_abi_ours[];
extern const size_t uapi_abi_ours_count;

/* Built from the upstream kernel's installed linux/liveupdate.h. */
extern const struct uapi_abi_item uapi_abi_upstream[];
extern const size_t uapi_abi_upstream_count;

#ifdef __cplusplus
}
#endif

#endif /* UAPI_LAYOUT_TABLE_H */
