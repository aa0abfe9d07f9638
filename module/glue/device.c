// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/liveupdate, session files, and their ioctls.
 *
 * The ioctl ABI is the in-kernel LUO's (uapi/linux/liveupdate.h) and so are
 * its errors, in the same order: a command number outside the table is
 * EINVAL, an unreadable argument EFAULT, a known number with other
 * direction/size bits ENOTTY, a command for the other kind of session
 * EINVAL, a size below the last required member EINVAL, a larger size with
 * non-zero trailing bytes E2BIG. Every command does all that can fail
 * before its irreversible step (fd_install).
 *
 * The device opens exclusively: one agent drives the live update. Its node
 * is root-only (0600). Attributes, in /sys/class/misc/liveupdate/:
 *   generation  1 on a cold boot, +1 at each live update this module saw
 *   handover    what became of the previous kernel's handover: "none",
 *               "accepted", "rejected <reason>" or "failed <reason>"
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>

#include "../../uapi/linux/liveupdate.h"
#include "../handlers/memfd.h"
#include "lu_glue.h"
#include "lu_module.h"

/* The caller's argument: its pointer, the size it claims, and our copy. */
struct lu_ucmd {
	void __user *ubuf;
	u32 usize;
	void *cmd;
};

/* Copies the reply back, as much of it as the caller's struct holds. */
static int lu_respond(struct lu_ucmd *ucmd, size_t ksize)
{
	if (copy_to_user(ucmd->ubuf, ucmd->cmd, min_t(size_t, ucmd->usize, ksize)))
		return -EFAULT;
	return 0;
}

struct lu_ioctl_op {
	unsigned int cmd;
	unsigned int size;
	unsigned int min_size;
	int (*run)(struct file *file, struct lu_ucmd *ucmd);
	/* Session commands only: which sessions it applies to. */
	enum { LU_ANY, LU_OUTGOING, LU_INCOMING } kind;
};

#define LU_OP(_cmd, _struct, _last, _run, _kind)                        \
	{ .cmd = _cmd, .size = sizeof(_struct),                         \
	  .min_size = offsetofend(_struct, _last), .run = _run,         \
	  .kind = _kind }

/* Looks up @cmd in @ops (indexed from @base) and copies its argument in. */
static long lu_dispatch(struct file *file, unsigned int cmd, unsigned long arg,
			const struct lu_ioctl_op *ops, unsigned int nops,
			unsigned int base, void *buf)
{
	const struct lu_ioctl_op *op;
	struct lu_ucmd ucmd = { .ubuf = (void __user *)arg, .cmd = buf };
	unsigned int nr = _IOC_NR(cmd);
	int err;

	if (nr < base || nr - base >= nops || !ops[nr - base].run)
		return -EINVAL;
	op = &ops[nr - base];
	if (get_user(ucmd.usize, (u32 __user *)ucmd.ubuf))
		return -EFAULT;
	if (op->cmd != cmd)
		return -ENOIOCTLCMD;
	if (op->kind != LU_ANY &&
	    lu_core_session_incoming(file->private_data) != (op->kind == LU_INCOMING))
		return -EINVAL;
	if (ucmd.usize < op->min_size)
		return -EINVAL;
	err = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuf, ucmd.usize);
	if (err)
		return err;
	return op->run(file, &ucmd);
}

/* ---- session files ----------------------------------------------------- */

static int lu_session_release(struct inode *inode, struct file *file)
{
	lu_core_release_session(lu_core, file->private_data);
	return 0;
}

static int lu_session_preserve_fd(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_session_preserve_fd *arg = ucmd->cmd;
	int err;

	err = lu_core_preserve_fd(lu_core, file->private_data, arg->fd,
				  arg->token);
	if (err)
		return err;
	return lu_respond(ucmd, sizeof(*arg));
}

static int lu_session_retrieve_fd(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_session_retrieve_fd *arg = ucmd->cmd;
	struct lu_file *retrieved;
	int fd, err;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	err = lu_core_retrieve_fd(lu_core, file->private_data, arg->token,
				  &retrieved);
	if (err)
		goto err_put_fd;
	arg->fd = fd;
	err = lu_respond(ucmd, sizeof(*arg));
	if (err)
		goto err_put_file;
	fd_install(fd, (struct file *)retrieved);
	return 0;

err_put_file:
	fput((struct file *)retrieved);
err_put_fd:
	put_unused_fd(fd);
	return err;
}

static int lu_session_finish(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_session_finish *arg = ucmd->cmd;
	int err;

	if (arg->reserved)
		return -EINVAL;
	err = lu_core_finish(lu_core, file->private_data);
	if (err)
		return err;
	return lu_respond(ucmd, sizeof(*arg));
}

static int lu_session_get_name(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_session_get_name *arg = ucmd->cmd;

	if (arg->reserved)
		return -EINVAL;
	strscpy((char *)arg->name, lu_core_session_name(file->private_data),
		sizeof(arg->name));
	return lu_respond(ucmd, sizeof(*arg));
}

static const struct lu_ioctl_op lu_session_ops[] = {
	LU_OP(LIVEUPDATE_SESSION_PRESERVE_FD, struct liveupdate_session_preserve_fd,
	      token, lu_session_preserve_fd, LU_OUTGOING),
	LU_OP(LIVEUPDATE_SESSION_RETRIEVE_FD, struct liveupdate_session_retrieve_fd,
	      token, lu_session_retrieve_fd, LU_INCOMING),
	LU_OP(LIVEUPDATE_SESSION_FINISH, struct liveupdate_session_finish,
	      reserved, lu_session_finish, LU_INCOMING),
	LU_OP(LIVEUPDATE_SESSION_GET_NAME, struct liveupdate_session_get_name,
	      name, lu_session_get_name, LU_ANY),
};

union lu_session_buf {
	struct liveupdate_session_preserve_fd preserve;
	struct liveupdate_session_retrieve_fd retrieve;
	struct liveupdate_session_finish finish;
	struct liveupdate_session_get_name get_name;
};

static long lu_session_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	union lu_session_buf buf;

	return lu_dispatch(file, cmd, arg, lu_session_ops,
			   ARRAY_SIZE(lu_session_ops),
			   LIVEUPDATE_CMD_SESSION_BASE, &buf);
}

static const struct file_operations lu_session_fops = {
	.owner = THIS_MODULE,
	.release = lu_session_release,
	.unlocked_ioctl = lu_session_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct file *lu_session_file(struct lu_session *session)
{
	char name[32 + LIVEUPDATE_SESSION_NAME_LENGTH];

	snprintf(name, sizeof(name), "[luo_session] %s",
		 lu_core_session_name(session));
	return anon_inode_getfile(name, &lu_session_fops, session, O_RDWR);
}

/* ---- /dev/liveupdate ---------------------------------------------------- */

static atomic_t lu_dev_in_use = ATOMIC_INIT(0);

static int lu_open(struct inode *inode, struct file *file)
{
	int err;

	if (atomic_cmpxchg(&lu_dev_in_use, 0, 1))
		return -EBUSY;
	err = lu_core_open(lu_core);
	if (err) {
		atomic_set(&lu_dev_in_use, 0);
		return err;
	}
	lu_memfd_opened();
	return 0;
}

static int lu_release(struct inode *inode, struct file *file)
{
	atomic_set(&lu_dev_in_use, 0);
	return 0;
}

/*
 * CREATE_SESSION and RETRIEVE_SESSION: the core hands out the session,
 * which then belongs to the new file; the fd appears only once the reply
 * reached the caller.
 */
static int lu_install_session(struct lu_ucmd *ucmd, size_t ksize, s32 *fdp,
			      struct lu_session *session, bool incoming)
{
	struct file *file;
	int fd, err;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto err_session;
	}
	file = lu_session_file(session);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_put_fd;
	}
	*fdp = fd;
	err = lu_respond(ucmd, ksize);
	if (err) {
		/* Releasing the file gives the session back. */
		fput(file);
		put_unused_fd(fd);
		return err;
	}
	fd_install(fd, file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
err_session:
	if (incoming)
		lu_core_unretrieve_session(lu_core, session);
	else
		lu_core_release_session(lu_core, session);
	return err;
}

static int lu_create_session(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_ioctl_create_session *arg = ucmd->cmd;
	struct lu_session *session;
	int err;

	err = lu_core_create_session(lu_core, arg->name, &session);
	if (err)
		return err;
	return lu_install_session(ucmd, sizeof(*arg), &arg->fd, session, false);
}

static int lu_retrieve_session(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_ioctl_retrieve_session *arg = ucmd->cmd;
	struct lu_session *session;
	int err;

	err = lu_core_retrieve_session(lu_core, arg->name, &session);
	if (err)
		return err;
	return lu_install_session(ucmd, sizeof(*arg), &arg->fd, session, true);
}

static int lu_mod_status(struct file *file, struct lu_ucmd *ucmd)
{
	struct liveupdate_mod_status *arg = ucmd->cmd;
	struct lu_status status = {};
	u32 size = arg->size;

	/* Like every extensible struct here, size stays what the caller said. */
	lu_core_status(lu_core, &status);
	memset(arg, 0, sizeof(*arg));
	arg->size = size;
	arg->ready = status.first_error == 0;
	arg->generation = status.generation;
	arg->outgoing_sessions = status.outgoing_sessions;
	arg->outgoing_files = status.outgoing_files;
	arg->incoming_sessions = status.incoming_sessions;
	arg->incoming_files = status.incoming_files;
	/* The core's records, and what the built-in memfd handler adds. */
	arg->metadata_bytes = status.metadata_bytes + lu_memfd_metadata_bytes();
	arg->first_error = status.first_error;
	arg->failed_token = status.failed_token;
	memcpy(arg->failed_session, status.failed_session,
	       sizeof(arg->failed_session));
	return lu_respond(ucmd, sizeof(*arg));
}

static const struct lu_ioctl_op lu_dev_ops[] = {
	LU_OP(LIVEUPDATE_IOCTL_CREATE_SESSION, struct liveupdate_ioctl_create_session,
	      name, lu_create_session, LU_ANY),
	LU_OP(LIVEUPDATE_IOCTL_RETRIEVE_SESSION,
	      struct liveupdate_ioctl_retrieve_session, name,
	      lu_retrieve_session, LU_ANY),
};

static const struct lu_ioctl_op lu_mod_ops[] = {
	LU_OP(LIVEUPDATE_IOCTL_MOD_STATUS, struct liveupdate_mod_status,
	      failed_session, lu_mod_status, LU_ANY),
};

union lu_dev_buf {
	struct liveupdate_ioctl_create_session create;
	struct liveupdate_ioctl_retrieve_session retrieve;
	struct liveupdate_mod_status status;
};

static long lu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	union lu_dev_buf buf;

	if (_IOC_NR(cmd) >= LIVEUPDATE_CMD_MOD_BASE)
		return lu_dispatch(file, cmd, arg, lu_mod_ops,
				   ARRAY_SIZE(lu_mod_ops),
				   LIVEUPDATE_CMD_MOD_BASE, &buf);
	return lu_dispatch(file, cmd, arg, lu_dev_ops, ARRAY_SIZE(lu_dev_ops),
			   LIVEUPDATE_CMD_BASE, &buf);
}

static const struct file_operations lu_fops = {
	.owner = THIS_MODULE,
	.open = lu_open,
	.release = lu_release,
	.unlocked_ioctl = lu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static ssize_t generation_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", lu_core_generation(lu_core));
}
static DEVICE_ATTR_RO(generation);

static ssize_t handover_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	size_t len = lu_core_handover_status(lu_core, buf, PAGE_SIZE - 1);

	buf[len] = '\n';
	return len + 1;
}
static DEVICE_ATTR_RO(handover);

static struct attribute *lu_attrs[] = {
	&dev_attr_generation.attr,
	&dev_attr_handover.attr,
	NULL,
};
ATTRIBUTE_GROUPS(lu);

static struct miscdevice lu_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "liveupdate",
	.fops = &lu_fops,
	.mode = 0600,
	.groups = lu_groups,
};

int lu_device_register(void)
{
	return misc_register(&lu_misc);
}

void lu_device_unregister(void)
{
	misc_deregister(&lu_misc);
}
