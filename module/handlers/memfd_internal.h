/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of the memfd handler share (memfd.c lists them): the
 * functions and state that cross from one file to another. Nothing outside
 * module/handlers/memfd*.c includes it; the module's glue uses memfd.h.
 */
#ifndef LU_HANDLERS_MEMFD_INTERNAL_H
#define LU_HANDLERS_MEMFD_INTERNAL_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "liveupdate.h"
#include "memfd_format.h"

struct file;

/* Restores of at least this size are logged and listed in debugfs. */
#define LU_MEMFD_REPORT_SIZE BIT_ULL(20)

/* memfd_pin.c: the folios of a memfd being preserved. */
int lu_memfd_pin_folios(struct file *file, loff_t size,
			struct lu_memfd_desc *desc, u64 **tablep, u64 *nrp);
void lu_memfd_release_folios(const u64 *table, u64 nr);

/* memfd_preserve.c: the old kernel's handler ops and the outgoing list. */
extern struct lu_memfd_root *lu_memfd_root;
extern atomic64_t lu_memfd_meta_bytes;
void lu_memfd_root_update(void);
int lu_memfd_preserve(struct liveupdate_file_op_args *args);
void lu_memfd_unpreserve(struct liveupdate_file_op_args *args);
int lu_memfd_freeze(struct liveupdate_file_op_args *args);
void lu_memfd_unfreeze(struct liveupdate_file_op_args *args);

/* memfd_restore.c: a preserved memfd back in the new kernel. */
void lu_memfd_desc_free(struct lu_memfd_desc *desc);
struct lu_memfd_desc *lu_memfd_desc_restore(u64 phys);
struct file *lu_memfd_restore(struct lu_memfd_desc *desc, bool discard);
void lu_memfd_huge_unmount(void);

/* memfd_restore_queue.c: the previous kernel's memfds restored ahead. */
enum lu_memfd_pf_state { LU_MEMFD_QUEUED, LU_MEMFD_RUNNING, LU_MEMFD_DONE };

/**
 * struct lu_memfd_pf - one memfd of the previous kernel, restored ahead.
 * @hnode:    in lu_memfd_pfs, by @phys, until taken.
 * @node:     in lu_memfd_pf_log once taken, if big enough to be reported.
 * @pending:  in lu_memfd_pf_pending until the restores start.
 * @phys:     its descriptor's address: the handle the session passes.
 * @desc:     the restored descriptor, until the restore consumes it.
 * @size:     the file size.
 * @work:     the worker's share.
 * @done:     completed when @state becomes LU_MEMFD_DONE.
 * @state:    LU_MEMFD_*, under lu_memfd_pf_lock.
 * @discard:  free the memory instead of building a file (finish came first).
 * @file:     when done: the file, or ERR_PTR(-errno), or NULL (discarded).
 * @queued, @started, @ready: ktime_get_ns() of each step.
 * @name:     the file name, for the report.
 */
struct lu_memfd_pf {
	struct hlist_node hnode;
	struct list_head node;
	struct list_head pending;
	u64 phys;
	struct lu_memfd_desc *desc;
	u64 size;
	struct work_struct work;
	struct completion done;
	enum lu_memfd_pf_state state;
	bool discard;
	struct file *file;
	u64 queued, started, ready;
	char name[32];
};

#define LU_MEMFD_PFS_BITS 10

extern struct mutex lu_memfd_pf_lock;
extern DECLARE_HASHTABLE(lu_memfd_pfs, LU_MEMFD_PFS_BITS);
extern struct list_head lu_memfd_pf_log;
extern struct completion lu_memfd_walked;
extern u64 lu_memfd_load_ns;
struct lu_memfd_pf *lu_memfd_pf_find(u64 phys);
struct file *lu_memfd_pf_take(struct lu_memfd_pf *pf, bool discard);
void lu_memfd_pf_start(void);
void lu_memfd_pf_stop(void);

/* memfd_debugfs.c: the restore-ahead timings. */
void lu_memfd_debugfs_create(void);
void lu_memfd_debugfs_remove(void);

#endif /* LU_HANDLERS_MEMFD_INTERNAL_H */
