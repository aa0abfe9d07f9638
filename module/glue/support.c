// SPDX-License-Identifier: GPL-2.0
/*
 * Memory and diagnostics for the C++ core (see lu_glue.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/printk.h>
#include <linux/slab.h>

#include "lu_glue.h"

void *lu_alloc(size_t size)
{
	return kzalloc(size, GFP_KERNEL);
}

void lu_free(void *ptr)
{
	kfree(ptr);
}

void lu_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	switch (level) {
	case LU_LOG_ERR:
		pr_err("%pV\n", &vaf);
		break;
	case LU_LOG_WARN:
		pr_warn("%pV\n", &vaf);
		break;
	case LU_LOG_INFO:
		pr_info("%pV\n", &vaf);
		break;
	default:
		pr_debug("%pV\n", &vaf);
		break;
	}
	va_end(args);
}

void lu_bug(const char *expr, const char *file, int line)
{
	WARN(1, KBUILD_MODNAME ": core invariant broken: %s at %s:%d\n", expr,
	     file, line);
}
