// SPDX-License-Identifier: GPL-2.0
/*
 * The file-handler API other modules use (include/liveupdate.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/export.h>
#include <linux/printk.h>

#include "liveupdate.h"
#include "lu_glue.h"
#include "lu_module.h"

/**
 * liveupdate_register_file_handler() - make @fh's file type preservable.
 * @fh: the handler; it must stay valid until unregistered.
 *
 * Return: 0, -EINVAL when a required op is missing or the compatible string
 * is empty or not NUL-terminated, -EEXIST when the compatible string is
 * taken, -ENOMEM.
 */
int liveupdate_register_file_handler(struct liveupdate_file_handler *fh)
{
	const struct liveupdate_file_ops *ops = fh->ops;
	int err;

	if (!ops || !ops->preserve || !ops->unpreserve || !ops->retrieve ||
	    !ops->finish || !ops->can_preserve)
		return -EINVAL;
	err = lu_core_register_handler(lu_core, (struct lu_handler *)fh);
	if (err == -EEXIST)
		pr_err("file handler '%.*s' is already registered\n",
		       (int)sizeof(fh->compatible), fh->compatible);
	return err;
}
EXPORT_SYMBOL_GPL(liveupdate_register_file_handler);

/**
 * liveupdate_unregister_file_handler() - undo liveupdate_register_file_handler().
 * @fh: the handler. Files it preserves keep its module pinned, so the module
 * cannot be unloaded while they exist.
 */
void liveupdate_unregister_file_handler(struct liveupdate_file_handler *fh)
{
	if (lu_core_unregister_handler(lu_core, (struct lu_handler *)fh))
		pr_warn("file handler '%.*s' was not registered\n",
			(int)sizeof(fh->compatible), fh->compatible);
}
EXPORT_SYMBOL_GPL(liveupdate_unregister_file_handler);
