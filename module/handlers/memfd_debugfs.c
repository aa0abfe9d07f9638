// SPDX-License-Identifier: GPL-2.0
/*
 * The restore-ahead timings in debugfs, for whoever tunes a live update:
 * "liveupdate_memfd" lists each memfd of 1 MiB or more that the new kernel
 * restored ahead (memfd_restore_queue.c), with when it was queued, started
 * and ready, in microseconds since the module loaded.
 */
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/time64.h>

#include "memfd_internal.h"

static struct dentry *lu_memfd_debugfs;

static u64 lu_memfd_us(u64 ns)
{
	return ns > lu_memfd_load_ns ? div_u64(ns - lu_memfd_load_ns, NSEC_PER_USEC) : 0;
}

static int lu_memfd_debugfs_show(struct seq_file *m, void *unused)
{
	struct lu_memfd_pf *pf;
	int bkt;

	guard(mutex)(&lu_memfd_pf_lock);
	seq_puts(m, "# name size queued_us started_us ready_us (since module load)\n");
	list_for_each_entry(pf, &lu_memfd_pf_log, node)
		seq_printf(m, "%s %llu %llu %llu %llu\n", pf->name, pf->size,
			   lu_memfd_us(pf->queued), lu_memfd_us(pf->started),
			   lu_memfd_us(pf->ready));
	hash_for_each(lu_memfd_pfs, bkt, pf, hnode)
		if (pf->size >= LU_MEMFD_REPORT_SIZE)
			seq_printf(m, "%s %llu %llu %llu %llu\n", pf->name, pf->size,
				   lu_memfd_us(pf->queued),
				   pf->state != LU_MEMFD_QUEUED ? lu_memfd_us(pf->started) : 0,
				   pf->state == LU_MEMFD_DONE ? lu_memfd_us(pf->ready) : 0);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lu_memfd_debugfs);

void lu_memfd_debugfs_create(void)
{
	lu_memfd_debugfs = debugfs_create_file("liveupdate_memfd", 0400, NULL,
					       NULL, &lu_memfd_debugfs_fops);
}

void lu_memfd_debugfs_remove(void)
{
	debugfs_remove(lu_memfd_debugfs);
}
