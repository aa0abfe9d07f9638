/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LU_DEVICE_H
#define LU_DEVICE_H

struct lu_core;

int lu_device_register(struct lu_core *core);
void lu_device_unregister(void);

#endif /* LU_DEVICE_H */
