// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/liveupdate and its sysfs attributes.
 *
 * The device opens exclusively, as the in-kernel LUO's does: one agent
 * drives the live update. Its node is root-only (0600). Attributes, in
 * /sys/class/misc/liveupdate/:
 *   generation  1 on a cold boot, +1 at each live update this module saw
 *   handover    what became of the previous kernel's handover: "none",
 *               "accepted", "rejected <reason>" or "failed <reason>"
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "lu_device.h"
#include "lu_glue.h"

struct lu_device {
	struct miscdevice misc;
	struct lu_core *core;
	atomic_t in_use;
};

static struct lu_device lu_dev;

static int lu_open(struct inode *inode, struct file *file)
{
	if (atomic_cmpxchg(&lu_dev.in_use, 0, 1))
		return -EBUSY;
	return 0;
}

static int lu_release(struct inode *inode, struct file *file)
{
	atomic_set(&lu_dev.in_use, 0);
	return 0;
}

static long lu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return -EINVAL;
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
	return sysfs_emit(buf, "%llu\n", lu_core_generation(lu_dev.core));
}
static DEVICE_ATTR_RO(generation);

static ssize_t handover_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	size_t len = lu_core_handover_status(lu_dev.core, buf, PAGE_SIZE - 1);

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

int lu_device_register(struct lu_core *core)
{
	lu_dev.core = core;
	lu_dev.misc.minor = MISC_DYNAMIC_MINOR;
	lu_dev.misc.name = "liveupdate";
	lu_dev.misc.fops = &lu_fops;
	lu_dev.misc.mode = 0600;
	lu_dev.misc.groups = lu_groups;
	atomic_set(&lu_dev.in_use, 0);
	return misc_register(&lu_dev.misc);
}

void lu_device_unregister(void)
{
	misc_deregister(&lu_dev.misc);
	lu_dev.core = NULL;
}
