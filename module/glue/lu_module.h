/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LU_MODULE_H
#define LU_MODULE_H

struct lu_core;

/* The module's one core instance, set before anything else can reach it. */
extern struct lu_core *lu_core;

struct liveupdate_file_op_args;

/*
 * lu_args_pending() - the core's pending file behind the args of a preserve
 * call (files.c builds every op's args), NULL for any other op's args.
 */
void *lu_args_pending(struct liveupdate_file_op_args *args);

int lu_device_register(void);
void lu_device_unregister(void);

#endif /* LU_MODULE_H */
