/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wall between the core and the kernel: included last in every core
 * .cpp, it makes any later use of the hosted standard library or of a kernel
 * API a compile error, so the core only reaches the kernel through
 * glue/lu_glue.h. The build also rejects `#include <linux/` under core/.
 */
#pragma once

#pragma GCC poison std
#pragma GCC poison kmalloc kzalloc kfree vmalloc vfree printk pr_err pr_info
#pragma GCC poison mutex_lock mutex_unlock spin_lock spin_unlock
#pragma GCC poison copy_from_user copy_to_user get_user put_user
#pragma GCC poison malloc free new_handler
