// SPDX-License-Identifier: GPL-2.0
/*
 * liveupdate: the Live Update Orchestrator as a loadable module.
 *
 * Load order: refuse without KHO or when /dev/liveupdate is taken, build the
 * core (which adopts the previous kernel's handover and publishes ours),
 * then expose the device and watch for the kexec. Unload is the reverse.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kexec_handover.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/reboot.h>
#include <linux/string.h>

#include "../handlers/memfd.h"
#include "lu_glue.h"
#include "lu_module.h"

struct lu_core *lu_core;

/*
 * A kexec cannot be vetoed from a module; the reboot notifier is the last
 * point where the core can make its handover final (see lu_core_seal()).
 */
static int lu_reboot_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	lu_core_seal(lu_core);
	return NOTIFY_DONE;
}

static struct notifier_block lu_reboot_nb = {
	.notifier_call = lu_reboot_notify,
};

/*
 * The in-kernel LUO (CONFIG_LIVEUPDATE) or another instance of this module
 * owns /dev/liveupdate. Ask the filesystem rather than letting
 * misc_register() trip over a duplicate sysfs name.
 */
static bool lu_device_taken(void)
{
	static const char *const paths[] = { "/sys/class/misc/liveupdate",
					     "/dev/liveupdate" };
	struct path path;
	int i;

	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		if (!kern_path(paths[i], 0, &path)) {
			path_put(&path);
			return true;
		}
	}
	return false;
}

/* A sealed, valid handover from the previous kernel (see lu_glue.h). */
static bool lu_handover_accepted(void)
{
	char status[16];

	lu_core_handover_status(lu_core, status, sizeof(status));
	return str_has_prefix(status, "accepted");
}

static int __init lu_init(void)
{
	int err;

	if (!kho_is_enabled()) {
		pr_err("kexec handover is disabled; boot with kho=on\n");
		return -EOPNOTSUPP;
	}
	if (lu_device_taken()) {
		pr_err("/dev/liveupdate already exists (in-kernel LUO or another instance); not loading\n");
		return -EEXIST;
	}

	err = lu_core_create(&lu_core);
	if (err)
		return err;

	err = lu_memfd_register(lu_handover_accepted());
	if (err)
		goto err_core;

	err = lu_device_register();
	if (err)
		goto err_memfd;

	err = register_reboot_notifier(&lu_reboot_nb);
	if (err)
		goto err_device;

	return 0;

err_device:
	lu_device_unregister();
err_memfd:
	lu_memfd_unregister();
err_core:
	lu_core_destroy(lu_core);
	return err;
}

static void __exit lu_exit(void)
{
	unregister_reboot_notifier(&lu_reboot_nb);
	lu_device_unregister();
	lu_memfd_unregister();
	lu_core_destroy(lu_core);
}

module_init(lu_init);
module_exit(lu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Live Update Orchestrator: preserve sessions and file descriptors across kexec");
MODULE_AUTHOR("The liveupdate authors");
MODULE_VERSION(LU_VERSION);
