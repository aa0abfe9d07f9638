// SPDX-License-Identifier: GPL-2.0
/*
 * The new kernel's memfds restored ahead: the previous kernel's list of
 * preserved memfds walked at module load, each entry queued (QUEUED),
 * restored by a worker or by the retrieve that gets to it first (RUNNING)
 * and handed over when done (DONE).
 *
 * When the module loads in the new kernel after an accepted handover, it
 * checks every descriptor of the list, and once /dev/liveupdate is first
 * opened it restores them all at once, in preservation order, on an unbound
 * workqueue (one worker per CPU), charged to the memory cgroup of the
 * process that opened the device (the agent that drives the live update;
 * a module-load worker would charge the root cgroup): RETRIEVE_FD then
 * hands over a file that is ready, waits for one that is being restored, or
 * restores a file no worker started yet itself, in the retriever's cgroup.
 * The workers' timings are in debugfs (liveupdate_memfd: each file of
 * 1 MiB or more, when it was queued, started and ready, in microseconds
 * since the module loaded).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": memfd: " fmt

#include <linux/completion.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "memfd.h"
#include "memfd_internal.h"

DEFINE_MUTEX(lu_memfd_pf_lock);
DEFINE_HASHTABLE(lu_memfd_pfs, LU_MEMFD_PFS_BITS);
LIST_HEAD(lu_memfd_pf_log);
/*
 * The restores wait for the first open of /dev/liveupdate, then run charged
 * to the opener's memory cgroup (see the top of the file); until then the
 * walk leaves its entries on lu_memfd_pf_pending, in preservation order.
 */
static LIST_HEAD(lu_memfd_pf_pending);
static bool lu_memfd_pf_started;
static struct mem_cgroup *lu_memfd_memcg;
static struct workqueue_struct *lu_memfd_wq;
static struct lu_memfd_root *lu_memfd_in_root;
/* Complete when every entry the walk will queue is in lu_memfd_pfs. */
DECLARE_COMPLETION(lu_memfd_walked);
u64 lu_memfd_load_ns;

static void lu_memfd_pf_run(struct lu_memfd_pf *pf)
{
	struct file *file;

	pf->started = ktime_get_ns();
	file = lu_memfd_restore(pf->desc, pf->discard);
	pf->desc = NULL;
	scoped_guard(mutex, &lu_memfd_pf_lock) {
		pf->file = file;
		pf->ready = ktime_get_ns();
		pf->state = LU_MEMFD_DONE;
	}
	complete_all(&pf->done);
}

static void lu_memfd_pf_work(struct work_struct *work)
{
	struct lu_memfd_pf *pf = container_of(work, struct lu_memfd_pf, work);
	struct mem_cgroup *old;

	scoped_guard(mutex, &lu_memfd_pf_lock) {
		if (pf->state != LU_MEMFD_QUEUED)
			return;
		pf->state = LU_MEMFD_RUNNING;
	}
	old = set_active_memcg(lu_memfd_memcg);
	lu_memfd_pf_run(pf);
	set_active_memcg(old);
}

/* Queue @pf's restore, or keep it for lu_memfd_opened(); pf lock held. */
static void lu_memfd_pf_queue(struct lu_memfd_pf *pf)
{
	lockdep_assert_held(&lu_memfd_pf_lock);
	if (lu_memfd_pf_started)
		queue_work(lu_memfd_wq, &pf->work);
	else
		list_add_tail(&pf->pending, &lu_memfd_pf_pending);
}

void lu_memfd_opened(void)
{
	struct lu_memfd_pf *pf, *tmp;

	guard(mutex)(&lu_memfd_pf_lock);
	if (lu_memfd_pf_started || !lu_memfd_wq)
		return;
	lu_memfd_pf_started = true;
	lu_memfd_memcg = get_mem_cgroup_from_mm(current->mm);
	list_for_each_entry_safe(pf, tmp, &lu_memfd_pf_pending, pending) {
		list_del_init(&pf->pending);
		queue_work(lu_memfd_wq, &pf->work);
	}
}

/* Remove the entry for descriptor @phys from the queue; NULL if none. */
struct lu_memfd_pf *lu_memfd_pf_find(u64 phys)
{
	struct lu_memfd_pf *pf;

	wait_for_completion(&lu_memfd_walked);
	guard(mutex)(&lu_memfd_pf_lock);
	hash_for_each_possible(lu_memfd_pfs, pf, hnode, phys) {
		if (pf->phys == phys) {
			hash_del(&pf->hnode);
			list_del_init(&pf->pending);
			return pf;
		}
	}
	return NULL;
}

/*
 * The result of @pf (already off the queue): restored here if no worker
 * started it, else waited for. @discard: only the memory matters. Frees
 * @pf, or keeps it for the debugfs report. Return: as lu_memfd_restore().
 */
struct file *lu_memfd_pf_take(struct lu_memfd_pf *pf, bool discard)
{
	struct file *file;
	bool mine;

	scoped_guard(mutex, &lu_memfd_pf_lock) {
		mine = pf->state == LU_MEMFD_QUEUED;
		if (mine) {
			pf->state = LU_MEMFD_RUNNING;
			pf->discard = discard;
		}
	}
	if (mine)
		lu_memfd_pf_run(pf);
	else
		wait_for_completion(&pf->done);
	/* The work item may still be queued (we ran it) or returning. */
	cancel_work_sync(&pf->work);
	file = pf->file;
	if (discard && !IS_ERR_OR_NULL(file)) {
		fput(file);
		file = NULL;
	}
	scoped_guard(mutex, &lu_memfd_pf_lock) {
		if (pf->size >= LU_MEMFD_REPORT_SIZE) {
			pf->file = NULL;
			list_add_tail(&pf->node, &lu_memfd_pf_log);
			pf = NULL;
		}
	}
	kfree(pf);
	return file;
}

/* @pf is not restored: its descriptor goes, what it names stays reserved. */
static void lu_memfd_pf_refuse(struct lu_memfd_pf *pf)
{
	if (pf->state == LU_MEMFD_DONE)
		return;
	lu_memfd_desc_free(pf->desc);
	pf->desc = NULL;
	pf->file = ERR_PTR(-EINVAL);
	pf->ready = ktime_get_ns();
	pf->state = LU_MEMFD_DONE;
}

/*
 * What @pf's table names: its runs and a vmalloc'ed table's own pages, read
 * in place (the table checked as its restore will check it). Return: the
 * extents (kvmalloc'ed, *@nr of them), or NULL if there are none or the
 * table is bad (its restore refuses it then, before KHO sees any of it).
 */
static struct lu_memfd_extent *lu_memfd_pf_extents(struct lu_memfd_pf *pf, size_t *nr)
{
	struct lu_memfd_desc *desc = pf->desc;
	unsigned long *pfns = NULL, chunks = 0, i, total = desc->table.total_pages;
	struct lu_memfd_extent *e = NULL;
	struct page **pages = NULL;
	u64 *table = NULL;

	*nr = 0;
	if (!desc->nr_runs)
		return NULL;
	if (desc->flags & LU_MEMFD_INLINE) {
		table = lu_memfd_inline_runs(desc);
	} else {
		pfns = lu_memfd_vmalloc_pages(&desc->table, &chunks);
		pages = pfns ? kvmalloc_array(total, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN) : NULL;
		if (!pages)
			goto out;
		for (i = 0; i < total; i++)
			pages[i] = pfn_to_page(pfns[i]);
		table = vmap(pages, total, VM_MAP, PAGE_KERNEL_RO);
		if (!table)
			goto out;
	}
	if (!lu_memfd_table_valid(desc, table))
		goto out;
	e = kvmalloc_array(desc->nr_runs + (pfns ? total + chunks : 0), sizeof(*e),
			   GFP_KERNEL | __GFP_NOWARN);
	if (!e)
		goto out;
	for (i = 0; i < desc->nr_runs; i++) {
		e[*nr].start = lu_memfd_run_pfn(table[i]);
		e[*nr].end = e[*nr].start +
			((unsigned long)lu_memfd_run_count(table[i]) << lu_memfd_run_order(table[i]));
		e[(*nr)++].pf = pf;
	}
	for (i = 0; pfns && i < total + chunks; i++) {
		e[*nr].start = pfns[i];
		e[*nr].end = pfns[i] + 1;
		e[(*nr)++].pf = pf;
	}
out:
	if (pages && table)
		vunmap(table);
	kvfree(pages);
	kvfree(pfns);
	return e;
}

/*
 * The restores of @taken run in parallel, each after checking its own
 * records: two files whose records name the same memory would both pass
 * and then both restore it. So the memory of all of them is checked
 * together first, and a file that shares any with another is not restored,
 * nor is that other one (which of the two was damaged cannot be told).
 */
static void lu_memfd_refuse_shared(struct list_head *taken)
{
	struct lu_memfd_extent *all = NULL, *e, *reach = NULL;
	size_t nr = 0, cap = 0, n, i;
	struct lu_memfd_pf *pf;

	list_for_each_entry(pf, taken, node) {
		e = lu_memfd_pf_extents(pf, &n);
		if (!e)
			continue;
		if (nr + n > cap) {
			size_t want = max(2 * cap, nr + n);
			struct lu_memfd_extent *grown;

			grown = kvrealloc(all, array_size(want, sizeof(*all)),
					  GFP_KERNEL | __GFP_NOWARN);
			if (!grown) {
				pr_warn("no memory to check the files' memory against each other\n");
				kvfree(e);
				goto out;
			}
			all = grown;
			cap = want;
		}
		memcpy(all + nr, e, n * sizeof(*e));
		nr += n;
		kvfree(e);
		cond_resched();
	}
	if (!nr)
		goto out;
	sort(all, nr, sizeof(*all), lu_memfd_extent_cmp, NULL);
	for (i = 0; i < nr; i++) {
		if (reach && all[i].start < reach->end) {
			pr_err("%s and %s name the same page (pfn %#lx); neither is restored\n",
			       reach->pf->name, all[i].pf->name, all[i].start);
			lu_memfd_pf_refuse(reach->pf);
			lu_memfd_pf_refuse(all[i].pf);
		}
		if (!reach || all[i].end > reach->end)
			reach = &all[i];
	}
out:
	kvfree(all);
}

/*
 * Walk the list the previous kernel's module left (lu_memfd_pf_start() took
 * its root) and queue a restore for each descriptor, from a worker so that
 * the module's load does not wait for it. Every descriptor is checked in
 * place before KHO restores it; the walk stops at the first bad record
 * (a link back to a descriptor already taken is one) or failed allocation,
 * and the files it did not reach are restored when retrieved, as without
 * the list. Nothing is queued before all the files' memory was checked
 * together (lu_memfd_refuse_shared()).
 */
static void lu_memfd_walk(struct work_struct *work)
{
	u64 next = lu_memfd_in_root->head, n;
	struct lu_memfd_pf *pf, *tmp;
	LIST_HEAD(taken);

	for (n = 0; next && n < lu_memfd_in_root->count; n++) {
		struct lu_memfd_desc *desc;

		pf = kzalloc_obj(*pf);
		if (!pf)
			break;
		desc = lu_memfd_desc_restore(next);
		if (IS_ERR(desc)) {
			kfree(pf);
			break;
		}
		pf->phys = next;
		pf->desc = desc;
		pf->size = desc->size;
		strscpy(pf->name, desc->name);
		INIT_WORK(&pf->work, lu_memfd_pf_work);
		INIT_LIST_HEAD(&pf->pending);
		init_completion(&pf->done);
		pf->queued = ktime_get_ns();
		next = desc->next;
		/* pf->node is free until the entry is taken. */
		list_add_tail(&pf->node, &taken);
		cond_resched();
	}
	lu_memfd_refuse_shared(&taken);
	list_for_each_entry_safe(pf, tmp, &taken, node) {
		list_del(&pf->node);
		scoped_guard(mutex, &lu_memfd_pf_lock) {
			hash_add(lu_memfd_pfs, &pf->hnode, pf->phys);
			if (pf->state != LU_MEMFD_DONE)
				lu_memfd_pf_queue(pf);
		}
		if (pf->state == LU_MEMFD_DONE)
			complete_all(&pf->done);
	}
	pr_info("restoring %llu of %llu memfds ahead\n", n, lu_memfd_in_root->count);
	complete_all(&lu_memfd_walked);
}

static DECLARE_WORK(lu_memfd_walk_work, lu_memfd_walk);

/* Take the previous kernel's list, if it is ours and sound, and walk it. */
void lu_memfd_pf_start(void)
{
	struct lu_memfd_root *root;
	phys_addr_t phys;
	size_t len;

	lu_memfd_load_ns = ktime_get_ns();
	if (!is_kho_boot() || kho_retrieve_subtree(LU_MEMFD_SUBTREE, &phys, &len))
		return;
	if (len < sizeof(*root) || !PAGE_ALIGNED(phys) ||
	    !pfn_to_online_page(PHYS_PFN(phys)) || !page_is_ram(PHYS_PFN(phys)))
		return;
	root = phys_to_virt(phys);
	if (root->adopted)
		return; /* an earlier load of the module took it */
	if (!lu_memfd_kho_block(PHYS_PFN(phys), 0) ||
	    root->magic != LU_MEMFD_ROOT_MAGIC ||
	    root->version != LU_MEMFD_ROOT_VERSION ||
	    root->crc != lu_memfd_root_crc(root)) {
		pr_err("the previous kernel's memfd list is not ours; not restoring ahead\n");
		return;
	}
	lu_memfd_wq = alloc_workqueue("lu_memfd", WQ_UNBOUND, num_online_cpus());
	if (!lu_memfd_wq)
		return;
	/* Kept for the rest of the boot, like the core's root record. */
	if (!kho_restore_folio(phys)) {
		destroy_workqueue(lu_memfd_wq);
		lu_memfd_wq = NULL;
		return;
	}
	root->adopted = 1;
	lu_memfd_in_root = root;
	reinit_completion(&lu_memfd_walked);
	/* Not on lu_memfd_wq: the walk must not take a restore worker's turn. */
	queue_work(system_dfl_wq, &lu_memfd_walk_work);
}

static struct lu_memfd_pf *lu_memfd_pf_pop(void)
{
	struct lu_memfd_pf *pf;
	int bkt;

	guard(mutex)(&lu_memfd_pf_lock);
	hash_for_each(lu_memfd_pfs, bkt, pf, hnode) {
		hash_del(&pf->hnode);
		list_del_init(&pf->pending);
		return pf;
	}
	return NULL;
}

void lu_memfd_pf_stop(void)
{
	struct lu_memfd_pf *pf, *tmp;

	/*
	 * Files no session asked for: the core keeps the module loaded while
	 * it holds incoming files, so only a handover it refused leaves any.
	 */
	flush_work(&lu_memfd_walk_work);
	while ((pf = lu_memfd_pf_pop()))
		lu_memfd_pf_take(pf, true);
	if (lu_memfd_wq)
		destroy_workqueue(lu_memfd_wq);
	mem_cgroup_put(lu_memfd_memcg);
	list_for_each_entry_safe(pf, tmp, &lu_memfd_pf_log, node)
		kfree(pf);
}
