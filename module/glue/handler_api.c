// SPDX-License-Identifier: GPL-2.0
/*
 * The file-handler API other modules use (include/liveupdate.h): handler
 * and FLB registration, the FLB getters and the session lookups. Each
 * function is the one place its core errno is returned or reported.
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
 * Context: process context; may sleep.
 * Return: 0, -EINVAL when a required op (can_preserve, preserve,
 * unpreserve, retrieve, finish) is missing or the compatible string is
 * empty or not NUL-terminated, -EEXIST when the compatible string is taken,
 * -ENOMEM.
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
 * @fh: the handler. Its FLB links are dropped with it.
 *
 * Files the handler preserves (or holds from the previous kernel until
 * they finish) keep its module pinned and the handler registered.
 * Upstream's returns void; callers that ignore the result still build.
 *
 * Context: process context; may sleep.
 * Return: 0, -EBUSY while a file of the handler is preserved or held (the
 * handler stays registered), -ENOENT when it was not registered.
 */
int liveupdate_unregister_file_handler(struct liveupdate_file_handler *fh)
{
	int err = lu_core_unregister_handler(lu_core, (struct lu_handler *)fh);

	if (err == -ENOENT)
		pr_warn("file handler '%.*s' was not registered\n",
			(int)sizeof(fh->compatible), fh->compatible);
	else if (err == -EBUSY)
		pr_warn("file handler '%.*s' still has files; not unregistered\n",
			(int)sizeof(fh->compatible), fh->compatible);
	return err;
}
EXPORT_SYMBOL_GPL(liveupdate_unregister_file_handler);

/**
 * liveupdate_register_flb() - tie the File-Lifecycle-Bound object @flb to
 * the files of @fh.
 * @fh:  a registered file handler.
 * @flb: the FLB; it must stay valid until unregistered. One FLB may be
 *       registered with several handlers; its compatible string is unique.
 *
 * From now on the first preserved file of any of its handlers preserves
 * the FLB and the last one unpreserves it; in the next kernel, the last
 * such file's finish finishes it.
 *
 * Context: process context; may sleep.
 * Return: 0, -EINVAL (a required op is missing, @fh is not registered, bad
 * compatible), -EEXIST (linked already, or another FLB has the compatible
 * string), -ENOMEM.
 */
int liveupdate_register_flb(struct liveupdate_file_handler *fh,
			    struct liveupdate_flb *flb)
{
	const struct liveupdate_flb_ops *ops = flb->ops;

	if (!ops || !ops->preserve || !ops->unpreserve || !ops->retrieve ||
	    !ops->finish)
		return -EINVAL;
	return lu_core_register_flb(lu_core, (struct lu_handler *)fh,
				    (struct lu_flb *)flb);
}
EXPORT_SYMBOL_GPL(liveupdate_register_flb);

/**
 * liveupdate_unregister_flb() - undo liveupdate_register_flb().
 * @fh:  the file handler.
 * @flb: the FLB.
 *
 * Refused (with a warning, the link stays) while the FLB is preserved or
 * its incoming object is retrieved and not finished.
 *
 * Context: process context; may sleep.
 */
void liveupdate_unregister_flb(struct liveupdate_file_handler *fh,
			       struct liveupdate_flb *flb)
{
	int err = lu_core_unregister_flb(lu_core, (struct lu_handler *)fh,
					 (struct lu_flb *)flb);

	if (err)
		pr_warn("FLB '%.*s' not unregistered (errno %d)\n",
			(int)sizeof(flb->compatible), flb->compatible, -err);
}
EXPORT_SYMBOL_GPL(liveupdate_unregister_flb);

/**
 * liveupdate_flb_get_incoming() - the FLB's object handed over by the
 * previous kernel, retrieved (its retrieve op) at the first call.
 * @flb:  a registered FLB.
 * @objp: receives the object.
 *
 * Each success takes a use; drop it with liveupdate_flb_put_incoming().
 *
 * Context: process context; may sleep; not from the FLB's own ops.
 * Return: 0, -ENODATA (nothing handed over, finished already, or the
 * previous kernel's sessions are not read yet: /dev/liveupdate was not
 * opened), -ENOENT (not registered), -ENODEV (its module is going away),
 * or the retrieve op's errno (remembered).
 */
int liveupdate_flb_get_incoming(struct liveupdate_flb *flb, void **objp)
{
	return lu_core_flb_get_incoming(lu_core, (struct lu_flb *)flb, objp);
}
EXPORT_SYMBOL_GPL(liveupdate_flb_get_incoming);

/**
 * liveupdate_flb_put_incoming() - drop a use taken by
 * liveupdate_flb_get_incoming(); the last use finishes the FLB.
 * @flb: the FLB.
 */
void liveupdate_flb_put_incoming(struct liveupdate_flb *flb)
{
	lu_core_flb_put_incoming(lu_core, (struct lu_flb *)flb);
}
EXPORT_SYMBOL_GPL(liveupdate_flb_put_incoming);

/**
 * liveupdate_flb_get_outgoing() - the FLB's object in this kernel, created
 * by its preserve op when the first dependent file was preserved.
 * @flb:  a registered FLB.
 * @objp: receives the object.
 *
 * Each success takes a use; drop it with liveupdate_flb_put_outgoing().
 *
 * Context: process context; may sleep; not from the FLB's own ops.
 * Return: 0, -ENOENT when the FLB is not preserved (or not registered).
 */
int liveupdate_flb_get_outgoing(struct liveupdate_flb *flb, void **objp)
{
	return lu_core_flb_get_outgoing(lu_core, (struct lu_flb *)flb, objp);
}
EXPORT_SYMBOL_GPL(liveupdate_flb_get_outgoing);

/**
 * liveupdate_flb_put_outgoing() - drop a use taken by
 * liveupdate_flb_get_outgoing().
 * @flb: the FLB.
 */
void liveupdate_flb_put_outgoing(struct liveupdate_flb *flb)
{
	lu_core_flb_put_outgoing(lu_core, (struct lu_flb *)flb);
}
EXPORT_SYMBOL_GPL(liveupdate_flb_put_outgoing);

/**
 * liveupdate_get_token_outgoing() - the token under which @file is
 * preserved in @session.
 * @session: args->session of the running op.
 * @file:    another file of the session.
 * @tokenp:  receives the token.
 *
 * As the June 2026 proposal agreed, look tokens up in freeze, not in
 * preserve: userspace may preserve the files in any order.
 *
 * Context: only from inside a file op of @session.
 * Return: 0, -ENOENT when @file is not preserved in @session.
 */
int liveupdate_get_token_outgoing(struct liveupdate_session *session,
				  struct file *file, u64 *tokenp)
{
	uint64_t token;
	int err;

	err = lu_core_session_token_outgoing((struct lu_session *)session,
					     (struct lu_file *)file, &token);
	if (!err)
		*tokenp = token;
	return err;
}
EXPORT_SYMBOL_GPL(liveupdate_get_token_outgoing);

/**
 * liveupdate_get_file_incoming() - the file handed over under @token in
 * @session, retrieved now if userspace did not retrieve it yet.
 * @session: args->session of the running op.
 * @token:   the file's token (from the dependent file's own handle).
 * @filep:   receives the file; the session keeps the reference (valid until
 *           the session finishes): get_file() to keep it longer.
 *
 * Context: only from inside a file op of @session (retrieve, can_finish).
 * Return: 0, -ENOENT unknown token, -EDEADLK the file is being retrieved
 * (a retrieve cycle), or its retrieve op's errno.
 */
int liveupdate_get_file_incoming(struct liveupdate_session *session, u64 token,
				 struct file **filep)
{
	struct lu_file *file;
	int err;

	err = lu_core_session_file_incoming((struct lu_session *)session, token,
					    &file);
	if (!err)
		*filep = (struct file *)file;
	return err;
}
EXPORT_SYMBOL_GPL(liveupdate_get_file_incoming);

/**
 * liveupdate_declare_dependency() - from a preserve op: the file being
 * preserved depends on @dep.
 * @args: the preserve op's argument block.
 * @dep:  a file that must be preserved in the same session by the live
 *        update (in any order: it is checked at freeze).
 *
 * The module keeps a reference to @dep while the dependent file is
 * preserved, hands the dependency graph to the next kernel, fails the live
 * update at freeze (-ENOLINK) when @dep is not preserved in the session,
 * and in the next kernel refuses FINISH (-EBUSY) while a retrieved file's
 * dependency was never retrieved. Cycles are allowed.
 *
 * Context: only from inside a preserve op, with its own @args.
 * Return: 0, -EINVAL (not a preserve op's args, or @dep is the file
 * itself), -ENOMEM.
 */
int liveupdate_declare_dependency(struct liveupdate_file_op_args *args,
				  struct file *dep)
{
	void *pending = lu_args_pending(args);

	if (!pending)
		return -EINVAL;
	return lu_core_declare_dependency(pending, (struct lu_file *)dep);
}
EXPORT_SYMBOL_GPL(liveupdate_declare_dependency);
