/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memfd file handler ("memfd-v1"): preserves memfds across a live update.
 * See memfd.c for what is preserved and the handover format.
 */
#ifndef LU_HANDLERS_MEMFD_H
#define LU_HANDLERS_MEMFD_H

/**
 * lu_memfd_register() - register the memfd handler with the module.
 *
 * Return: 0, or the errno of liveupdate_register_file_handler().
 */
int lu_memfd_register(void);

/** lu_memfd_unregister() - undo lu_memfd_register(). */
void lu_memfd_unregister(void);

#endif /* LU_HANDLERS_MEMFD_H */
