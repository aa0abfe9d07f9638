/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ioctls of /dev/lutest, the test file handler (lutest.ko), shared by
 * the module and the in-guest test programs.
 *
 * Every open of /dev/lutest is a file carrying one u64 value, preservable
 * through /dev/liveupdate (handler "lutest-v1"). All files of the handler
 * share one FLB ("lutest-flb-v1") whose object holds a cookie.
 */
#ifndef LUTEST_UAPI_H
#define LUTEST_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LUTEST_IOC 0xB7
/* The file's value. */
#define LUTEST_SET_VALUE _IOW(LUTEST_IOC, 1, __u64)
#define LUTEST_GET_VALUE _IOR(LUTEST_IOC, 2, __u64)
/*
 * The file depends on the file behind the given fd: its preserve declares
 * that dependency (liveupdate_declare_dependency()). May be repeated.
 */
#define LUTEST_DEPEND _IOW(LUTEST_IOC, 3, __s32)
/*
 * The FLB's cookie: the outgoing object's if preserved in this kernel, else
 * the incoming one (retrieved on demand by this call); ENODATA when
 * neither exists.
 */
#define LUTEST_FLB_COOKIE _IOR(LUTEST_IOC, 4, __u64)
/* liveupdate_unregister_file_handler()'s result / register again. */
#define LUTEST_UNREGISTER _IO(LUTEST_IOC, 5)
#define LUTEST_REGISTER _IO(LUTEST_IOC, 6)
/*
 * Registration rules of the exported API, checked in the kernel with
 * throw-away handlers and FLBs: 0, or -EPROTO after logging the first rule
 * that did not hold.
 */
#define LUTEST_API_CHECKS _IO(LUTEST_IOC, 7)

#endif /* LUTEST_UAPI_H */
