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
 *
 * Every op's argument block names the session the file belongs to
 * (args->session), so that a handler can find the other files of that
 * session with liveupdate_get_token_outgoing() (in freeze) and
 * liveupdate_get_file_incoming() (in retrieve and can_finish), and declare
 * in preserve which files it depends on (liveupdate_declare_dependency()).
 *
 * A File-Lifecycle-Bound object (struct liveupdate_flb) is global state
 * shared by every file of the handlers it is registered with: preserved
 * with the first such file, unpreserved with the last, retrieved on demand
 * in the next kernel and finished when the last such file finishes.
 */
#ifndef _LINUX_LIVEUPDATE_H
#define _LINUX_LIVEUPDATE_H

#include <linux/list.h>
#include <linux/types.h>

#define LIVEUPDATE_HNDL_COMPAT_LENGTH 48
#define LIVEUPDATE_FLB_COMPAT_LENGTH 48

struct file;
struct module;
struct liveupdate_file_handler;
struct liveupdate_flb;
/* Opaque: the session a file belongs to, valid for the op's duration. */
struct liveupdate_session;

/**
 * struct liveupdate_file_op_args - the argument block of every file op.
 * @handler:         the handler being called.
 * @retrieve_status: for can_finish/finish: 1 retrieved, <0 the failed
 *                   retrieve's errno, 0 never retrieved.
 * @file:            the file; for retrieve, [OUT] the new file.
 * @serialized_data: the opaque u64 handed over; preserve and freeze set it.
 * @private_data:    runtime state of preserve, freed by unpreserve/finish.
 * @session:         the session the file belongs to (June 2026 proposal).
 */
struct liveupdate_file_op_args {
	struct liveupdate_file_handler *handler;
	int retrieve_status;
	struct file *file;
	u64 serialized_data;
	void *private_data;
	struct liveupdate_session *session;
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

/**
 * struct liveupdate_flb_op_args - the argument block of every FLB op.
 * @flb:  the FLB.
 * @data: preserve: [OUT] the u64 handed over; unpreserve, retrieve: [IN].
 * @obj:  preserve, retrieve: [OUT] the live object; unpreserve, finish: [IN].
 */
struct liveupdate_flb_op_args {
	struct liveupdate_flb *flb;
	u64 data;
	void *obj;
};

/**
 * struct liveupdate_flb_ops - callbacks of a File-Lifecycle-Bound object.
 * @preserve:   the first file that uses the FLB is being preserved.
 * @unpreserve: the last such file was unpreserved before the reboot.
 * @retrieve:   in the new kernel, the first liveupdate_flb_get_incoming()
 *              (or the last file's finish): rebuild the object from data.
 * @finish:     in the new kernel, the last file using the FLB finished.
 * @owner:      the module implementing the ops, pinned while preserved.
 * All four ops are required.
 */
struct liveupdate_flb_ops {
	int (*preserve)(struct liveupdate_flb_op_args *argp);
	void (*unpreserve)(struct liveupdate_flb_op_args *argp);
	int (*retrieve)(struct liveupdate_flb_op_args *argp);
	void (*finish)(struct liveupdate_flb_op_args *argp);
	struct module *owner;
};

/* The module keeps an FLB's state in its core, found by address. */
struct luo_flb_private {
	unsigned long reserved;
};

/**
 * struct liveupdate_flb - a shared object bound to the lifetime of files.
 * @ops:        callbacks.
 * @compatible: unique name, matched against the previous kernel's FLBs.
 */
struct liveupdate_flb {
	const struct liveupdate_flb_ops *ops;
	const char compatible[LIVEUPDATE_FLB_COMPAT_LENGTH];
	/* private: owned by the liveupdate module */
	struct luo_flb_private __private private;
};

int liveupdate_register_file_handler(struct liveupdate_file_handler *fh);
int liveupdate_unregister_file_handler(struct liveupdate_file_handler *fh);

int liveupdate_register_flb(struct liveupdate_file_handler *fh,
			    struct liveupdate_flb *flb);
void liveupdate_unregister_flb(struct liveupdate_file_handler *fh,
			       struct liveupdate_flb *flb);

int liveupdate_flb_get_incoming(struct liveupdate_flb *flb, void **objp);
void liveupdate_flb_put_incoming(struct liveupdate_flb *flb);

int liveupdate_flb_get_outgoing(struct liveupdate_flb *flb, void **objp);
void liveupdate_flb_put_outgoing(struct liveupdate_flb *flb);

int liveupdate_get_token_outgoing(struct liveupdate_session *session,
				  struct file *file, u64 *tokenp);
int liveupdate_get_file_incoming(struct liveupdate_session *session, u64 token,
				 struct file **filep);
int liveupdate_declare_dependency(struct liveupdate_file_op_args *args,
				  struct file *dep);

#endif /* _LINUX_LIVEUPDATE_H */
