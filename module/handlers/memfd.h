/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The memfd file handler ("memfd-v1"): preserves memfds across a live update.
 * See memfd.c for what is preserved and which file does what, and
 * memfd_format.h for the handover format.
 */
#ifndef LU_HANDLERS_MEMFD_H
#define LU_HANDLERS_MEMFD_H

#include <linux/types.h>

/**
 * lu_memfd_register() - register the memfd handler with the module.
 * @restore_ahead: the previous kernel's handover was accepted: check its
 *                 memfds now and restore them before they are retrieved,
 *                 from the first open of /dev/liveupdate on.
 *
 * Return: 0, or the errno of liveupdate_register_file_handler() or of
 * publishing the handler's KHO subtree.
 */
int lu_memfd_register(bool restore_ahead);

/**
 * lu_memfd_opened() - /dev/liveupdate was opened: start restoring the
 * previous kernel's memfds ahead (if lu_memfd_register() was asked to),
 * charged to the memory cgroup of the calling process. Idempotent.
 */
void lu_memfd_opened(void);

/** lu_memfd_unregister() - undo lu_memfd_register(). */
void lu_memfd_unregister(void);

/**
 * lu_memfd_metadata_bytes() - preserved memory the handler hands over
 * besides the files' data: its list root, and each memfd's descriptor and
 * folio table (with KHO's pages describing the table).
 */
u64 lu_memfd_metadata_bytes(void);

#endif /* LU_HANDLERS_MEMFD_H */
