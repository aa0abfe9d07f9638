// SPDX-License-Identifier: GPL-2.0
/*
 * The folios of a memfd being preserved: pinned, made ready to be handed
 * over, recorded as runs (see memfd_format.h) and handed to KHO; and all of
 * that undone. memfd_preserve.c freezes the mapping around it.
 */
#include <linux/highmem.h>
#include <linux/kexec_handover.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "memfd_internal.h"

/* Folio @j of @run in this kernel. */
static struct folio *lu_memfd_run_pinned(u64 run, u32 j)
{
	return pfn_folio(lu_memfd_run_pfn(run) + ((unsigned long)j << lu_memfd_run_order(run)));
}

/*
 * KHO-preserve the folios of @run: a run of 4 KiB pages as one range of
 * pages (KHO records it as a few naturally aligned blocks, not one entry
 * per page), large folios one by one. All or nothing.
 */
static int lu_memfd_preserve_run(u64 run)
{
	u32 count = lu_memfd_run_count(run), j;
	int err;

	if (!lu_memfd_run_order(run))
		return kho_preserve_pages(pfn_to_page(lu_memfd_run_pfn(run)), count);
	for (j = 0; j < count; j++) {
		err = kho_preserve_folio(lu_memfd_run_pinned(run, j));
		if (err) {
			while (j--)
				kho_unpreserve_folio(lu_memfd_run_pinned(run, j));
			return err;
		}
	}
	return 0;
}

static void lu_memfd_unpreserve_run(u64 run)
{
	u32 count = lu_memfd_run_count(run), j;

	if (!lu_memfd_run_order(run)) {
		kho_unpreserve_pages(pfn_to_page(lu_memfd_run_pfn(run)), count);
		return;
	}
	for (j = 0; j < count; j++)
		kho_unpreserve_folio(lu_memfd_run_pinned(run, j));
}

/* Unpin every folio of the first @nr runs of @table. */
static void lu_memfd_unpin_runs(const u64 *table, u64 nr)
{
	u64 i;
	u32 j;

	for (i = 0; i < nr; i++)
		for (j = 0; j < lu_memfd_run_count(table[i]); j++)
			unpin_folio(lu_memfd_run_pinned(table[i], j));
}

/* Unpreserve and unpin every folio of the first @nr runs of @table. */
void lu_memfd_release_folios(const u64 *table, u64 nr)
{
	u64 i;

	for (i = 0; i < nr; i++)
		lu_memfd_unpreserve_run(table[i]);
	lu_memfd_unpin_runs(table, nr);
}

/*
 * Make a pinned folio ready to be handed over: a folio that fallocate()
 * reserved but nobody wrote is not uptodate and holds garbage. Zero it
 * now: once uptodate, a later write cannot change its state behind us.
 */
static void lu_memfd_prepare_folio(struct folio *folio)
{
	/* Pinned in a frozen mapping: once uptodate, it stays so. */
	if (folio_test_uptodate(folio))
		return;
	folio_lock(folio);
	if (!folio_test_uptodate(folio)) {
		folio_zero_range(folio, 0, folio_size(folio));
		flush_dcache_folio(folio);
		folio_mark_uptodate(folio);
	}
	folio_unlock(folio);
}

/* Append @folio to the run table: extend the last run or start one. */
static void lu_memfd_add_run(u64 *table, u64 *nr, struct folio *folio)
{
	unsigned long pfn = folio_pfn(folio);
	unsigned int order = folio_order(folio);

	if (*nr) {
		u64 last = table[*nr - 1];
		u32 count = lu_memfd_run_count(last);

		if (lu_memfd_run_order(last) == order && count < LU_MEMFD_RUN_MAX &&
		    lu_memfd_run_pfn(last) + ((unsigned long)count << order) == pfn) {
			table[*nr - 1] = lu_memfd_run(lu_memfd_run_pfn(last), order,
						      count + 1);
			return;
		}
	}
	table[(*nr)++] = lu_memfd_run(pfn, order, 1);
}

/*
 * Pin and KHO-preserve every folio of [0, @size) of @file, in batches, and
 * record them as runs: in a scratch table sized for the worst case (one run
 * per page), then in @desc's own page when they fit (LU_MEMFD_INLINE) or
 * else in a vmalloc'ed table of just the right size.
 *
 * Called with the inode locked and the mapping frozen. On success the table
 * and its length are returned through @tablep and @nrp (a vmalloc'ed table
 * is not yet KHO-preserved); on failure nothing is left pinned or preserved.
 */
int lu_memfd_pin_folios(struct file *file, loff_t size,
			       struct lu_memfd_desc *desc, u64 **tablep, u64 *nrp)
{
	pgoff_t nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	size_t nr_batch = min_t(size_t, nr_pages, LU_MEMFD_PIN_BATCH);
	struct folio **batch;
	u64 *scratch, *table;
	loff_t pos = 0;
	u64 nr = 0, i;
	int err = 0;

	batch = kmalloc_array(nr_batch, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	scratch = kvcalloc(nr_pages, sizeof(*scratch), GFP_KERNEL);
	if (!scratch) {
		err = -ENOMEM;
		goto err_batch;
	}

	while (pos < size) {
		pgoff_t offset;
		long got, i;

		got = memfd_pin_folios(file, pos, size - 1, batch, nr_batch, &offset);
		if (got < 0) {
			err = got;
			goto err_unpin;
		}
		if (!got) {
			err = -EINVAL;
			goto err_unpin;
		}
		for (i = 0; i < got; i++) {
			struct folio *folio = batch[i];

			/*
			 * With the mapping frozen and every folio so far
			 * pinned, the next folio starts where the last one
			 * ended; anything else means the mapping changed
			 * under us. The runs rely on it: offsets are implied.
			 */
			if (folio->index != pos >> PAGE_SHIFT ||
			    folio_order(folio) > MAX_PAGECACHE_ORDER) {
				unpin_folios(&batch[i], got - i);
				err = -EBUSY;
				goto err_unpin;
			}
			lu_memfd_prepare_folio(folio);
			lu_memfd_add_run(scratch, &nr, folio);
			pos = folio_pos(folio) + folio_size(folio);
		}
		cond_resched();
	}

	for (i = 0; i < nr; i++) {
		err = lu_memfd_preserve_run(scratch[i]);
		if (err) {
			while (i--)
				lu_memfd_unpreserve_run(scratch[i]);
			goto err_unpin;
		}
	}

	if (nr <= LU_MEMFD_INLINE_RUNS) {
		table = lu_memfd_inline_runs(desc);
		desc->flags |= LU_MEMFD_INLINE;
	} else {
		table = vcalloc(nr, sizeof(*table));
		if (!table) {
			err = -ENOMEM;
			lu_memfd_release_folios(scratch, nr);
			goto err_free;
		}
	}
	memcpy(table, scratch, nr * sizeof(*table));
	kvfree(scratch);
	kfree(batch);
	*tablep = table;
	*nrp = nr;
	return 0;

err_unpin:
	lu_memfd_unpin_runs(scratch, nr);
err_free:
	kvfree(scratch);
err_batch:
	kfree(batch);
	return err;
}
