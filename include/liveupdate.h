/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The file-handler API of the liveupdate module, for kernel code that
 * preserves its own file type across a live update.
 *
 * Names, structs and signatures are those of the in-kernel LUO's
 * <linux/liveupdate.h> in Linux 7.3, so a handler written for upstream
 * builds against this module by including this header instead. It uses the
 * same include guard, so a later #include <linux/liveupdate.h> (whose
 * CONFIG_LIVEUPDATE=n stubs would collide with these functions) is a no-op.
 *
 * Lifecycle of a preserved file, as the module drives it:
 *   can_preserve  cheap: is @file of this handler's type?
 *   preserve      heavy, at PRESERVE_FD: save state, return a u64 handle in
 *                 args->serialized_data (the next kernel gets it back)
 *   unpreserve    the session was closed before the reboot: undo preserve
 *   freeze        at the reboot (and in the module's trial freeze): make the
 *                 saved state final; may fail
 *   unfreeze      undo freeze (a later file failed, or a trial freeze)
 *   retrieve      in the new kernel: rebuild args->file from the handle
 *   can_finish    may the session finish? (retrieve_status tells whether
 *                 the file was retrieved: 1, failed: <0, or never: 0)
 *   finish        release everything the handle referred to
 */
#ifndef _LINUX_LIVEUPDATE_H
#define _LINUX_LIVEUPDATE_H

#include <linux/list.h>
#include <linux/types.h>

#define LIVEUPDATE_HNDL_COMPAT_LENGTH 48

struct file;
struct module;
struct liveupdate_file_handler;

struct liveupdate_file_op_args {
	struct liveupdate_file_handler *handler;
	int retrieve_status;
	struct file *file;
	u64 serialized_data;
	void *private_data;
};

struct liveupdate_file_ops {
	bool (*can_preserve)(struct liveupdate_file_handler *handler,
			     struct file *file);
	int (*preserve)(struct liveupdate_file_op_args *args);
	void (*unpreserve)(struct liveupdate_file_op_args *args);
	int (*freeze)(struct liveupdate_file_op_args *args);
	void (*unfreeze)(struct liveupdate_file_op_args *args);
	int (*retrieve)(struct liveupdate_file_op_args *args);
	bool (*can_finish)(struct liveupdate_file_op_args *args);
	void (*finish)(struct liveupdate_file_op_args *args);
	unsigned long (*get_id)(struct file *file);
	struct module *owner;
};

struct liveupdate_file_handler {
	const struct liveupdate_file_ops *ops;
	const char compatible[LIVEUPDATE_HNDL_COMPAT_LENGTH];
	/* private: owned by the liveupdate module */
	struct list_head list;
	struct list_head flb_list;
};

int liveupdate_register_file_handler(struct liveupdate_file_handler *fh);
void liveupdate_unregister_file_handler(struct liveupdate_file_handler *fh);

#endif /* _LINUX_LIVEUPDATE_H */
