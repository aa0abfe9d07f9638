// SPDX-License-Identifier: GPL-2.0
/*
 * File references, file-handler and FLB calls for the core (see lu_glue.h).
 * struct lu_file is struct file, struct lu_handler is
 * struct liveupdate_file_handler, struct lu_flb is struct liveupdate_flb and
 * struct lu_session is struct liveupdate_session: the casts below are the
 * whole mapping.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/string.h>

#include "liveupdate.h"
#include "lu_glue.h"
#include "lu_module.h"

static struct file *lu_to_file(struct lu_file *file)
{
	return (struct file *)file;
}

static struct liveupdate_file_handler *lu_to_fh(struct lu_handler *handler)
{
	return (struct liveupdate_file_handler *)handler;
}

struct lu_file *lu_file_get(int fd)
{
	return (struct lu_file *)fget(fd);
}

void lu_file_ref(struct lu_file *file)
{
	get_file(lu_to_file(file));
}

void lu_file_put(struct lu_file *file)
{
	fput(lu_to_file(file));
}

const char *lu_handler_compatible(const struct lu_handler *handler)
{
	return ((const struct liveupdate_file_handler *)handler)->compatible;
}

bool lu_handler_can_preserve(struct lu_handler *handler, struct lu_file *file)
{
	struct liveupdate_file_handler *fh = lu_to_fh(handler);

	return fh->ops->can_preserve(fh, lu_to_file(file));
}

unsigned long lu_handler_file_id(struct lu_handler *handler,
				 struct lu_file *file)
{
	struct liveupdate_file_handler *fh = lu_to_fh(handler);

	if (fh->ops->get_id)
		return fh->ops->get_id(lu_to_file(file));
	return (unsigned long)file_inode(lu_to_file(file));
}

bool lu_handler_pin(struct lu_handler *handler)
{
	return try_module_get(lu_to_fh(handler)->ops->owner);
}

void lu_handler_unpin(struct lu_handler *handler)
{
	module_put(lu_to_fh(handler)->ops->owner);
}

/*
 * Every op's argument block lives in one of these, so that
 * liveupdate_declare_dependency() can find the core's pending file from the
 * args of a preserve call (NULL in every other call).
 */
struct lu_op_args {
	struct liveupdate_file_op_args args;
	void *pending;
};

void *lu_args_pending(struct liveupdate_file_op_args *args)
{
	return container_of(args, struct lu_op_args, args)->pending;
}

/* Mirrors a core call block into the handler's argument block and back. */
static void lu_args_from(struct liveupdate_file_op_args *args,
			 const struct lu_handler_call *call)
{
	struct lu_op_args *op = container_of(args, struct lu_op_args, args);

	memset(op, 0, sizeof(*op));
	op->pending = call->pending;
	args->handler = lu_to_fh(call->handler);
	args->file = lu_to_file(call->file);
	args->serialized_data = call->data;
	args->private_data = call->priv;
	args->retrieve_status = call->retrieve_status;
	args->session = (struct liveupdate_session *)call->session;
}

static void lu_args_to(struct lu_handler_call *call,
		       const struct liveupdate_file_op_args *args)
{
	call->file = (struct lu_file *)args->file;
	call->data = args->serialized_data;
	call->priv = args->private_data;
}

int lu_handler_preserve(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;
	int err;

	lu_args_from(args, call);
	err = args->handler->ops->preserve(args);
	lu_args_to(call, args);
	return err;
}

void lu_handler_unpreserve(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;

	lu_args_from(args, call);
	args->handler->ops->unpreserve(args);
}

int lu_handler_freeze(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;
	int err;

	lu_args_from(args, call);
	if (!args->handler->ops->freeze)
		return 0;
	err = args->handler->ops->freeze(args);
	lu_args_to(call, args);
	return err;
}

void lu_handler_unfreeze(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;

	lu_args_from(args, call);
	if (args->handler->ops->unfreeze)
		args->handler->ops->unfreeze(args);
}

int lu_handler_retrieve(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;
	int err;

	lu_args_from(args, call);
	err = args->handler->ops->retrieve(args);
	if (!err)
		lu_args_to(call, args);
	return err;
}

bool lu_handler_can_finish(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;

	lu_args_from(args, call);
	return !args->handler->ops->can_finish ||
	       args->handler->ops->can_finish(args);
}

void lu_handler_finish(struct lu_handler_call *call)
{
	struct lu_op_args op;
	struct liveupdate_file_op_args *args = &op.args;

	lu_args_from(args, call);
	args->handler->ops->finish(args);
}

static struct liveupdate_flb *lu_to_flb(struct lu_flb *flb)
{
	return (struct liveupdate_flb *)flb;
}

const char *lu_flb_compatible(const struct lu_flb *flb)
{
	return ((const struct liveupdate_flb *)flb)->compatible;
}

bool lu_flb_pin(struct lu_flb *flb)
{
	return try_module_get(lu_to_flb(flb)->ops->owner);
}

void lu_flb_unpin(struct lu_flb *flb)
{
	module_put(lu_to_flb(flb)->ops->owner);
}

static void lu_flb_args_from(struct liveupdate_flb_op_args *args,
			     const struct lu_flb_call *call)
{
	args->flb = lu_to_flb(call->flb);
	args->data = call->data;
	args->obj = call->obj;
}

int lu_flb_preserve(struct lu_flb_call *call)
{
	struct liveupdate_flb_op_args args;
	int err;

	lu_flb_args_from(&args, call);
	err = args.flb->ops->preserve(&args);
	if (!err) {
		call->data = args.data;
		call->obj = args.obj;
	}
	return err;
}

void lu_flb_unpreserve(struct lu_flb_call *call)
{
	struct liveupdate_flb_op_args args;

	lu_flb_args_from(&args, call);
	args.flb->ops->unpreserve(&args);
}

int lu_flb_retrieve(struct lu_flb_call *call)
{
	struct liveupdate_flb_op_args args;
	int err;

	lu_flb_args_from(&args, call);
	err = args.flb->ops->retrieve(&args);
	if (!err)
		call->obj = args.obj;
	return err;
}

void lu_flb_finish(struct lu_flb_call *call)
{
	struct liveupdate_flb_op_args args;

	lu_flb_args_from(&args, call);
	args.flb->ops->finish(&args);
}

void lu_module_pin(void)
{
	__module_get(THIS_MODULE);
}

void lu_module_unpin(void)
{
	module_put(THIS_MODULE);
}
