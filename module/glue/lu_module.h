/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LU_MODULE_H
#define LU_MODULE_H

struct lu_core;

/* The module's one core instance, set before anything else can reach it. */
extern struct lu_core *lu_core;

int lu_device_register(void);
void lu_device_unregister(void);

#endif /* LU_MODULE_H */
