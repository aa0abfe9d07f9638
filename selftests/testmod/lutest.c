// SPDX-License-Identifier: GPL-2.0
/*
 * lutest: a file handler for the tests of liveupdate's handler API.
 *
 * Each open of /dev/lutest is a file carrying a u64 value (ioctls in
 * lutest_uapi.h). The handler "lutest-v1" preserves it through the
 * exported API: the value is the serialized handle, the file's declared
 * dependencies (LUTEST_DEPEND) are declared in preserve and looked up by
 * token in freeze, and every file uses the FLB "lutest-flb-v1", whose
 * object carries a cookie across the kexec.
 *
 * Fault injection (module parameters, writable): fail_preserve (errno),
 * fail_freeze_nth (the freeze of the Nth file preserved since load fails
 * with EIO), refuse_finish (can_finish says no while set), fail_retrieve
 * (errno). Counters of every op are read-only parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "liveupdate.h"
#include "lutest_uapi.h"

#define LUTEST_MAX_DEPS 4
#define LUTEST_COOKIE_BASE 0xf1b0000000000000ULL

static int fail_preserve;
module_param(fail_preserve, int, 0644);
MODULE_PARM_DESC(fail_preserve, "errno for preserve to fail with (0: succeed)");
static int fail_freeze_nth;
module_param(fail_freeze_nth, int, 0644);
MODULE_PARM_DESC(fail_freeze_nth, "the freeze of the Nth file preserved since load fails (0: none)");
static bool refuse_finish;
module_param(refuse_finish, bool, 0644);
MODULE_PARM_DESC(refuse_finish, "can_finish refuses while set");
static int fail_retrieve;
module_param(fail_retrieve, int, 0644);
MODULE_PARM_DESC(fail_retrieve, "errno for retrieve to fail with (0: succeed)");

/* Counters, read by the tests. */
static int preserves, unpreserves, freezes, unfreezes, retrieves, finishes;
static int finished_unretrieved, flb_preserves, flb_unpreserves, flb_retrieves;
static int flb_finishes, dep_lookups_failed;
module_param(preserves, int, 0444);
module_param(unpreserves, int, 0444);
module_param(freezes, int, 0444);
module_param(unfreezes, int, 0444);
module_param(retrieves, int, 0444);
module_param(finishes, int, 0444);
module_param(finished_unretrieved, int, 0444);
module_param(flb_preserves, int, 0444);
module_param(flb_unpreserves, int, 0444);
module_param(flb_retrieves, int, 0444);
module_param(flb_finishes, int, 0444);
module_param(dep_lookups_failed, int, 0444);

static atomic_t lutest_seq = ATOMIC_INIT(0);

/**
 * struct lutest_file - one /dev/lutest file.
 * @lock:  guards the fields below against ioctls racing the handler ops.
 * @value: the value userspace set; the serialized handle.
 * @seq:   the file's preserve number since load (for fail_freeze_nth).
 * @deps:  files this one depends on (referenced).
 */
struct lutest_file {
	struct mutex lock;
	u64 value;
	int seq;
	int ndeps;
	struct file *deps[LUTEST_MAX_DEPS];
};

static const struct file_operations lutest_fops;

static struct lutest_file *lutest_alloc(u64 value)
{
	struct lutest_file *lf = kzalloc(sizeof(*lf), GFP_KERNEL);

	if (lf) {
		mutex_init(&lf->lock);
		lf->value = value;
	}
	return lf;
}

static int lutest_open(struct inode *inode, struct file *file)
{
	struct lutest_file *lf = lutest_alloc(0);

	if (!lf)
		return -ENOMEM;
	file->private_data = lf;
	return 0;
}

static int lutest_release(struct inode *inode, struct file *file)
{
	struct lutest_file *lf = file->private_data;
	int i;

	for (i = 0; i < lf->ndeps; i++)
		fput(lf->deps[i]);
	kfree(lf);
	return 0;
}

/* ---- the FLB ----------------------------------------------------------- */

struct lutest_flb_obj {
	u64 cookie;
};

static int lutest_flb_preserve(struct liveupdate_flb_op_args *argp)
{
	struct lutest_flb_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL);

	if (!obj)
		return -ENOMEM;
	flb_preserves++;
	obj->cookie = LUTEST_COOKIE_BASE + flb_preserves;
	argp->obj = obj;
	argp->data = obj->cookie;
	return 0;
}

static void lutest_flb_unpreserve(struct liveupdate_flb_op_args *argp)
{
	flb_unpreserves++;
	kfree(argp->obj);
}

static int lutest_flb_retrieve(struct liveupdate_flb_op_args *argp)
{
	struct lutest_flb_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL);

	if (!obj)
		return -ENOMEM;
	flb_retrieves++;
	obj->cookie = argp->data;
	argp->obj = obj;
	return 0;
}

static void lutest_flb_finish(struct liveupdate_flb_op_args *argp)
{
	flb_finishes++;
	kfree(argp->obj);
}

static const struct liveupdate_flb_ops lutest_flb_ops = {
	.preserve = lutest_flb_preserve,
	.unpreserve = lutest_flb_unpreserve,
	.retrieve = lutest_flb_retrieve,
	.finish = lutest_flb_finish,
	.owner = THIS_MODULE,
};

static struct liveupdate_flb lutest_flb = {
	.ops = &lutest_flb_ops,
	.compatible = "lutest-flb-v1",
};

/* ---- the file handler -------------------------------------------------- */

static bool lutest_can_preserve(struct liveupdate_file_handler *handler,
				struct file *file)
{
	return file->f_op == &lutest_fops;
}

static unsigned long lutest_get_id(struct file *file)
{
	return (unsigned long)file->private_data;
}

static int lutest_preserve(struct liveupdate_file_op_args *args)
{
	struct lutest_file *lf = args->file->private_data;
	int i, err;

	if (fail_preserve)
		return -abs(fail_preserve);
	guard(mutex)(&lf->lock);
	for (i = 0; i < lf->ndeps; i++) {
		err = liveupdate_declare_dependency(args, lf->deps[i]);
		if (err)
			return err;
	}
	lf->seq = atomic_inc_return(&lutest_seq);
	args->serialized_data = lf->value;
	args->private_data = lf;
	preserves++;
	return 0;
}

static void lutest_unpreserve(struct liveupdate_file_op_args *args)
{
	unpreserves++;
}

static int lutest_freeze(struct liveupdate_file_op_args *args)
{
	struct lutest_file *lf = args->private_data;
	u64 token;
	int i;

	if (fail_freeze_nth && lf->seq == fail_freeze_nth)
		return -EIO;
	/* The proposal's rule: dependencies' tokens are looked up in freeze. */
	for (i = 0; i < lf->ndeps; i++)
		if (liveupdate_get_token_outgoing(args->session, lf->deps[i], &token))
			dep_lookups_failed++;
	args->serialized_data = lf->value;
	freezes++;
	return 0;
}

static void lutest_unfreeze(struct liveupdate_file_op_args *args)
{
	unfreezes++;
}

static int lutest_retrieve(struct liveupdate_file_op_args *args)
{
	struct lutest_file *lf;
	struct file *file;

	if (fail_retrieve)
		return -abs(fail_retrieve);
	lf = lutest_alloc(args->serialized_data);
	if (!lf)
		return -ENOMEM;
	file = anon_inode_getfile("[lutest]", &lutest_fops, lf, O_RDWR);
	if (IS_ERR(file)) {
		kfree(lf);
		return PTR_ERR(file);
	}
	args->file = file;
	retrieves++;
	return 0;
}

static bool lutest_can_finish(struct liveupdate_file_op_args *args)
{
	return !READ_ONCE(refuse_finish);
}

static void lutest_finish(struct liveupdate_file_op_args *args)
{
	finishes++;
	if (args->retrieve_status == 0)
		finished_unretrieved++;
}

static const struct liveupdate_file_ops lutest_ops = {
	.can_preserve = lutest_can_preserve,
	.preserve = lutest_preserve,
	.unpreserve = lutest_unpreserve,
	.freeze = lutest_freeze,
	.unfreeze = lutest_unfreeze,
	.retrieve = lutest_retrieve,
	.can_finish = lutest_can_finish,
	.finish = lutest_finish,
	.get_id = lutest_get_id,
	.owner = THIS_MODULE,
};

static struct liveupdate_file_handler lutest_handler = {
	.ops = &lutest_ops,
	.compatible = "lutest-v1",
};

static DEFINE_MUTEX(lutest_registration);

static int lutest_register(void)
{
	int err = liveupdate_register_file_handler(&lutest_handler);

	if (err)
		return err;
	err = liveupdate_register_flb(&lutest_handler, &lutest_flb);
	if (err)
		liveupdate_unregister_file_handler(&lutest_handler);
	return err;
}

static const struct liveupdate_file_ops lutest_ops_no_preserve = {
	.can_preserve = lutest_can_preserve,
	.unpreserve = lutest_unpreserve,
	.retrieve = lutest_retrieve,
	.finish = lutest_finish,
	.owner = THIS_MODULE,
};

static const struct liveupdate_flb_ops lutest_flb_ops_no_finish = {
	.preserve = lutest_flb_preserve,
	.unpreserve = lutest_flb_unpreserve,
	.retrieve = lutest_flb_retrieve,
	.owner = THIS_MODULE,
};

#define LUTEST_EXPECT(expr, want)                                          \
	do {                                                               \
		int __got = (expr);                                        \
		if (__got != (want)) {                                     \
			pr_err("%s: %d, want %d\n", #expr, __got, (want)); \
			err = -EPROTO;                                     \
			goto out;                                          \
		}                                                          \
	} while (0)

/* The registration rules, with handlers and FLBs that never get files. */
static long lutest_api_checks(void)
{
	static struct liveupdate_file_handler no_preserve = {
		.ops = &lutest_ops_no_preserve, .compatible = "lutest-bad-v1",
	};
	static struct liveupdate_file_handler duplicate = {
		.ops = &lutest_ops, .compatible = "lutest-v1",
	};
	static struct liveupdate_file_handler unterminated = {
		.ops = &lutest_ops,
		.compatible = "012345678901234567890123456789012345678901234567",
	};
	static struct liveupdate_file_handler spare = {
		.ops = &lutest_ops, .compatible = "lutest-spare-v1",
	};
	static struct liveupdate_flb flb_no_finish = {
		.ops = &lutest_flb_ops_no_finish, .compatible = "lutest-flb-bad-v1",
	};
	static struct liveupdate_flb flb_duplicate = {
		.ops = &lutest_flb_ops, .compatible = "lutest-flb-v1",
	};
	static struct liveupdate_flb flb_spare = {
		.ops = &lutest_flb_ops, .compatible = "lutest-flb-spare-v1",
	};
	int err = 0;

	LUTEST_EXPECT(liveupdate_register_file_handler(&no_preserve), -EINVAL);
	LUTEST_EXPECT(liveupdate_register_file_handler(&duplicate), -EEXIST);
	LUTEST_EXPECT(liveupdate_register_file_handler(&unterminated), -EINVAL);
	LUTEST_EXPECT(liveupdate_register_flb(&spare, &flb_spare), -EINVAL);
	LUTEST_EXPECT(liveupdate_register_file_handler(&spare), 0);
	LUTEST_EXPECT(liveupdate_register_flb(&spare, &flb_no_finish), -EINVAL);
	LUTEST_EXPECT(liveupdate_register_flb(&spare, &flb_duplicate), -EEXIST);
	LUTEST_EXPECT(liveupdate_register_flb(&spare, &lutest_flb), 0);
	LUTEST_EXPECT(liveupdate_register_flb(&spare, &lutest_flb), -EEXIST);
	liveupdate_unregister_flb(&spare, &lutest_flb);
	LUTEST_EXPECT(liveupdate_unregister_file_handler(&spare), 0);
	LUTEST_EXPECT(liveupdate_unregister_file_handler(&spare), -ENOENT);
	return 0;
out:
	liveupdate_unregister_file_handler(&spare);
	return err;
}

static long lutest_flb_cookie(u64 __user *uarg)
{
	struct lutest_flb_obj *obj;
	void *ptr;
	u64 cookie;
	int err;

	err = liveupdate_flb_get_outgoing(&lutest_flb, &ptr);
	if (!err) {
		obj = ptr;
		cookie = obj->cookie;
		liveupdate_flb_put_outgoing(&lutest_flb);
	} else {
		err = liveupdate_flb_get_incoming(&lutest_flb, &ptr);
		if (err)
			return err;
		obj = ptr;
		cookie = obj->cookie;
		liveupdate_flb_put_incoming(&lutest_flb);
	}
	return put_user(cookie, uarg);
}

static long lutest_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct lutest_file *lf = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct file *dep;
	u64 value;
	s32 fd;

	switch (cmd) {
	case LUTEST_SET_VALUE:
		if (get_user(value, (u64 __user *)uarg))
			return -EFAULT;
		scoped_guard(mutex, &lf->lock)
			lf->value = value;
		return 0;
	case LUTEST_GET_VALUE:
		scoped_guard(mutex, &lf->lock)
			value = lf->value;
		return put_user(value, (u64 __user *)uarg);
	case LUTEST_DEPEND:
		if (get_user(fd, (s32 __user *)uarg))
			return -EFAULT;
		dep = fget(fd);
		if (!dep)
			return -EBADF;
		scoped_guard(mutex, &lf->lock) {
			if (lf->ndeps < LUTEST_MAX_DEPS) {
				lf->deps[lf->ndeps++] = dep;
				return 0;
			}
		}
		fput(dep);
		return -ENOSPC;
	case LUTEST_FLB_COOKIE:
		return lutest_flb_cookie(uarg);
	case LUTEST_UNREGISTER: {
		guard(mutex)(&lutest_registration);
		return liveupdate_unregister_file_handler(&lutest_handler);
	}
	case LUTEST_REGISTER: {
		guard(mutex)(&lutest_registration);
		return lutest_register();
	}
	case LUTEST_API_CHECKS: {
		guard(mutex)(&lutest_registration);
		return lutest_api_checks();
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations lutest_fops = {
	.owner = THIS_MODULE,
	.open = lutest_open,
	.release = lutest_release,
	.unlocked_ioctl = lutest_ioctl,
};

static struct miscdevice lutest_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "lutest",
	.fops = &lutest_fops,
};

static int __init lutest_init(void)
{
	int err = lutest_register();

	if (err)
		return err;
	err = misc_register(&lutest_misc);
	if (err)
		liveupdate_unregister_file_handler(&lutest_handler);
	return err;
}

static void __exit lutest_exit(void)
{
	misc_deregister(&lutest_misc);
	/* Unregistered already through LUTEST_UNREGISTER: -ENOENT, fine. */
	liveupdate_unregister_file_handler(&lutest_handler);
}

module_init(lutest_init);
module_exit(lutest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test file handler for the liveupdate handler API");
