// SPDX-License-Identifier: GPL-2.0
/*
 * The memfd handover format's checksums, and the checks of the records the
 * previous kernel wrote, made where it left them before KHO or anything else
 * trusts them. Nothing here touches a file: it reads records and KHO's
 * marks in struct page, nothing more.
 *
 * Restore (new kernel). Every descriptor is checked in place (magic,
 * version, size of the record, crc, every field's range) before it is
 * restored from KHO or anything it points to is touched; then the table is
 * restored and checked the same way (crc, alignment, coverage). A bad
 * record fails with EINVAL and leaves whatever it refers to alone: memory
 * we cannot trust stays reserved.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": memfd: " fmt

#include <linux/crc32.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "memfd_format.h"

u32 lu_memfd_crc(const void *data, size_t len)
{
	return ~crc32c(~0U, data, len);
}

u32 lu_memfd_desc_crc(struct lu_memfd_desc *desc)
{
	u32 saved = desc->crc;
	u32 crc;

	desc->crc = 0;
	crc = lu_memfd_crc(desc, sizeof(*desc));
	desc->crc = saved;
	return crc;
}

u32 lu_memfd_root_crc(const struct lu_memfd_root *root)
{
	struct lu_memfd_root copy = *root;

	copy.crc = 0;
	copy.adopted = 0;
	return lu_memfd_crc(&copy, sizeof(copy));
}

/*
 * KHO marks the first page of every block the previous kernel preserved, in
 * its struct page (kexec_handover.c's union kho_page_info in page->private:
 * the block's order and a magic), and clears the mark when the block is
 * restored. Restoring anything else is a kernel warning (or, for two
 * restores of one block at once, two owners of one page), so every address
 * a record holds is checked against the mark before KHO sees it or its
 * page is read.
 */
#define LU_MEMFD_KHO_MAGIC 0x4b484f50U /* "KHOP" */

union lu_memfd_kho_info {
	unsigned long page_private;
	struct {
		unsigned int order;
		unsigned int magic;
	};
};
static_assert(sizeof(union lu_memfd_kho_info) == sizeof(unsigned long));

/* A block of 2^@order pages at @pfn that KHO holds and nobody restored. */
bool lu_memfd_kho_block(unsigned long pfn, unsigned int order)
{
	union lu_memfd_kho_info info;
	struct page *page;

	if (!pfn || !IS_ALIGNED(pfn, 1UL << order))
		return false;
	page = pfn_to_online_page(pfn);
	if (!page)
		return false;
	info.page_private = READ_ONCE(page->private);
	return info.magic == LU_MEMFD_KHO_MAGIC && info.order == order;
}

/* @nr pages at @pfn, as the blocks kho_restore_pages() takes them in. */
static bool lu_memfd_kho_pages(unsigned long pfn, unsigned long nr)
{
	unsigned long end = pfn + nr;

	if (!pfn || end <= pfn)
		return false;
	while (pfn < end) {
		unsigned int order = min_t(unsigned int, __ffs(pfn), ilog2(end - pfn));

		if (!lu_memfd_kho_block(pfn, order))
			return false;
		pfn += 1UL << order;
	}
	return true;
}

/* Every field of a descriptor, before any of them is used. */
bool lu_memfd_desc_valid(struct lu_memfd_desc *desc)
{
	u64 table_bytes;

	if (desc->magic != LU_MEMFD_MAGIC) {
		pr_err("bad descriptor magic %#x\n", desc->magic);
		return false;
	}
	if (desc->version != LU_MEMFD_VERSION ||
	    desc->desc_size != sizeof(*desc) || desc->entry_size != sizeof(u64)) {
		pr_err("descriptor version %u (size %u, entry %u) is not ours (%u)\n",
		       desc->version, desc->desc_size, desc->entry_size,
		       LU_MEMFD_VERSION);
		return false;
	}
	if (desc->crc != lu_memfd_desc_crc(desc)) {
		pr_err("descriptor checksum mismatch\n");
		return false;
	}
	if (desc->flags & ~LU_MEMFD_DESC_FLAGS || desc->mode & ~S_IALLUGO ||
	    desc->size > MAX_LFS_FILESIZE || desc->pos > MAX_LFS_FILESIZE ||
	    desc->nr_runs > DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE) ||
	    desc->name_len > NAME_MAX || desc->name[desc->name_len] ||
	    strlen(desc->name) != desc->name_len ||
	    !PAGE_ALIGNED(desc->prev) || !PAGE_ALIGNED(desc->next)) {
		pr_err("descriptor fields out of range\n");
		return false;
	}
	if (!desc->nr_runs)
		return !desc->size;
	if (desc->flags & LU_MEMFD_INLINE) {
		if (desc->nr_runs > LU_MEMFD_INLINE_RUNS || desc->table.first.phys) {
			pr_err("descriptor's inline table does not fit\n");
			return false;
		}
		return true;
	}
	/*
	 * Exactly the pages the entries need: kho_restore_vmalloc() allocates
	 * an array for total_pages before it looks at any of them.
	 */
	if (check_mul_overflow(desc->nr_runs, (u64)desc->entry_size,
			       &table_bytes) ||
	    desc->table.order ||
	    desc->table.total_pages != DIV_ROUND_UP_ULL(table_bytes, PAGE_SIZE) ||
	    !desc->table.first.phys || !PAGE_ALIGNED(desc->table.first.phys)) {
		pr_err("descriptor's table does not fit its entries\n");
		return false;
	}
	return true;
}

int lu_memfd_extent_cmp(const void *a, const void *b)
{
	const struct lu_memfd_extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int lu_memfd_pfn_cmp(const void *a, const void *b)
{
	const unsigned long *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/*
 * Every run of @table (the restored table, or the previous kernel's in
 * place): aligned, within the file (no folio starts past its last page)
 * and covering it, no two naming the same page, and each a block KHO holds
 * with the order the run says (kho_restore_folio() and kho_restore_pages()
 * warn about anything else, and would take a larger block whole).
 */
bool lu_memfd_table_valid(const struct lu_memfd_desc *desc,
				 const u64 *table)
{
	u64 nr_pages = DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE);
	struct lu_memfd_extent *extents;
	u64 next = 0, i;
	bool apart = true;
	u32 j;

	if (lu_memfd_crc(table, desc->nr_runs * sizeof(*table)) !=
	    desc->table_crc) {
		pr_err("folio table checksum mismatch\n");
		return false;
	}
	for (i = 0; i < desc->nr_runs; i++) {
		unsigned int order = lu_memfd_run_order(table[i]);
		unsigned long pfn = lu_memfd_run_pfn(table[i]);
		u64 count = lu_memfd_run_count(table[i]);

		if (order > MAX_PAGECACHE_ORDER || !pfn ||
		    !IS_ALIGNED(next, 1UL << order) ||
		    !IS_ALIGNED(pfn, 1UL << order) ||
		    next + ((count - 1) << order) >= nr_pages) {
			pr_err("folio table entry %llu is invalid\n", i);
			return false;
		}
		next += count << order;
	}
	if (next < nr_pages) {
		pr_err("folio table covers %llu of %llu pages\n", next, nr_pages);
		return false;
	}

	extents = kvmalloc_array(desc->nr_runs, sizeof(*extents), GFP_KERNEL | __GFP_NOWARN);
	if (!extents) {
		pr_err("no memory to check the folio table\n");
		return false;
	}
	for (i = 0; i < desc->nr_runs; i++) {
		extents[i].start = lu_memfd_run_pfn(table[i]);
		extents[i].end = extents[i].start +
			((unsigned long)lu_memfd_run_count(table[i]) << lu_memfd_run_order(table[i]));
	}
	sort(extents, desc->nr_runs, sizeof(*extents), lu_memfd_extent_cmp, NULL);
	/* Sorted by start, a run overlaps another only if it overlaps the one before. */
	for (i = 1; i < desc->nr_runs && apart; i++)
		apart = extents[i].start >= extents[i - 1].end;
	kvfree(extents);
	if (!apart) {
		pr_err("folio table names a page twice\n");
		return false;
	}

	for (i = 0; i < desc->nr_runs; i++) {
		unsigned int order = lu_memfd_run_order(table[i]);
		unsigned long pfn = lu_memfd_run_pfn(table[i]);
		u32 count = lu_memfd_run_count(table[i]);
		bool held = true;

		if (!order)
			held = lu_memfd_kho_pages(pfn, count);
		for (j = 0; order && j < count && held; j++) {
			held = lu_memfd_kho_block(pfn + ((unsigned long)j << order), order);
			if (!(j % LU_MEMFD_PIN_BATCH))
				cond_resched();
		}
		if (!held) {
			pr_err("folio table entry %llu names memory the previous kernel did not hand over\n",
			       i);
			return false;
		}
	}
	return true;
}

/*
 * KHO's own record of a vmalloc'ed table (struct kho_vmalloc: a list of
 * chunk pages, each listing data pages), checked where the previous kernel
 * left it, because kho_restore_vmalloc() follows every address in it: each
 * a block KHO holds, none twice, the list exactly as long as the table.
 * Return: the PFNs of the data pages (total_pages of them, in order), then
 * of the chunks (*@nr_chunks), kvmalloc'ed; NULL if the record is bad.
 */
unsigned long *lu_memfd_vmalloc_pages(const struct kho_vmalloc *v,
					     unsigned long *nr_chunks)
{
	/* KHO starts a new chunk whenever one is full, even for nothing. */
	unsigned long total = v->total_pages, max_chunks = total / KHO_VMALLOC_SIZE + 1;
	unsigned long pages = 0, chunks = 0, *pfns, *sorted, i;
	u64 phys = v->first.phys;
	bool ok = true;

	pfns = kvmalloc_array(total + max_chunks, sizeof(*pfns), GFP_KERNEL | __GFP_NOWARN);
	if (!pfns)
		return NULL;
	while (phys && ok) {
		const struct kho_vmalloc_chunk *chunk;

		if (chunks == max_chunks || !PAGE_ALIGNED(phys) ||
		    !lu_memfd_kho_block(PHYS_PFN(phys), 0)) {
			ok = false;
			break;
		}
		pfns[total + chunks++] = PHYS_PFN(phys);
		chunk = phys_to_virt(phys);
		for (i = 0; i < KHO_VMALLOC_SIZE && chunk->phys[i] && ok; i++) {
			ok = pages < total && PAGE_ALIGNED(chunk->phys[i]) &&
			     lu_memfd_kho_block(PHYS_PFN(chunk->phys[i]), v->order);
			if (ok)
				pfns[pages++] = PHYS_PFN(chunk->phys[i]);
		}
		phys = chunk->hdr.next.phys;
	}
	ok = ok && pages == total;
	if (ok) {
		sorted = kvmemdup(pfns, (total + chunks) * sizeof(*pfns), GFP_KERNEL | __GFP_NOWARN);
		ok = sorted;
		if (sorted) {
			sort(sorted, total + chunks, sizeof(*sorted), lu_memfd_pfn_cmp, NULL);
			for (i = 1; i < total + chunks && ok; i++)
				ok = sorted[i] != sorted[i - 1];
			kvfree(sorted);
		}
	}
	if (!ok) {
		pr_err("the folio table's pages are not the ones the previous kernel handed over\n");
		kvfree(pfns);
		return NULL;
	}
	*nr_chunks = chunks;
	return pfns;
}
