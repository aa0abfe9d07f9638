// SPDX-License-Identifier: GPL-2.0
/*
 * The new kernel's side of the memfd handler: a preserved memfd's records
 * restored from KHO (checked by memfd_format.c first) and its folios put
 * into a fresh shmem file, or freed.
 *
 * The preserved folios go into a fresh shmem file without copying their
 * data. shmem_add_to_page_cache(), which the in-kernel LUO uses, is not
 * exported, and filemap_add_folio() refuses swap-backed folios; what is
 * exported is the page-cache swap that FUSE's splice uses,
 * replace_page_cache_folio(). So for each folio, shmem first allocates a
 * placeholder of the same size at the same index the way write() would
 * (shmem_get_folio(SGP_WRITE): no zeroing), which does all of shmem's own
 * bookkeeping (inode and superblock block counts, VM commitment, memcg
 * charge, NR_SHMEM and THP counters, the LRU); replace_page_cache_folio()
 * then puts the preserved folio in its place, moving the memcg charge and
 * the NR_FILE_PAGES/NR_SHMEM counts over, and the placeholder is freed
 * untouched. The page cache holds one reference per page of a folio, and
 * replace_page_cache_folio() (written for order-0 folios) moves only one:
 * the other nr - 1 are moved here. A file that had large folios is created
 * on a private tmpfs mount with huge=within_size (as DRM does for its
 * objects), so that shmem hands out large placeholders; where a placeholder
 * does not match the preserved folio (no large page free, an unaligned
 * folio), the data is copied into it instead, page by page. A folio that
 * holds only zeros is freed and its range left a hole, so a sparse memfd
 * comes back sparse (the preserve side had to fill its holes).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": memfd: " fmt

#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>

#include "memfd_internal.h"

/* tmpfs with huge=within_size, for files that had large folios. */
static DEFINE_MUTEX(lu_memfd_mnt_lock);
static struct vfsmount *lu_memfd_huge_mnt;

void lu_memfd_desc_free(struct lu_memfd_desc *desc)
{
	folio_put(virt_to_folio(desc));
}

/*
 * The descriptor at @phys, checked where the previous kernel left it,
 * before KHO is asked to restore its page: first that it is a page KHO
 * holds (so it is RAM, and not taken yet: a list that loops, or two
 * records that name one descriptor, stop here), then its fields. Return:
 * the restored, checked descriptor (free with lu_memfd_desc_free()), or
 * ERR_PTR(-EINVAL).
 */
struct lu_memfd_desc *lu_memfd_desc_restore(u64 phys)
{
	struct folio *folio;

	if (!phys || !PAGE_ALIGNED(phys) || !lu_memfd_kho_block(PHYS_PFN(phys), 0)) {
		pr_err("descriptor address %#llx is not a page the previous kernel handed over\n",
		       phys);
		return ERR_PTR(-EINVAL);
	}
	if (!lu_memfd_desc_valid(phys_to_virt(phys)))
		return ERR_PTR(-EINVAL);
	folio = kho_restore_folio(phys);
	if (!folio) {
		pr_err("descriptor at %#llx was not preserved\n", phys);
		return ERR_PTR(-EINVAL);
	}
	return folio_address(folio);
}

static void lu_memfd_table_free(struct lu_memfd_desc *desc, u64 *table)
{
	if (!(desc->flags & LU_MEMFD_INLINE))
		vfree(table);
}

/*
 * Restore and check the table of @desc (which has runs). Return: the table
 * (free with lu_memfd_table_free()), or ERR_PTR(-EINVAL).
 */
static u64 *lu_memfd_table_restore(struct lu_memfd_desc *desc)
{
	unsigned long *pfns, chunks;
	u64 *table;

	if (desc->flags & LU_MEMFD_INLINE) {
		table = lu_memfd_inline_runs(desc);
	} else {
		pfns = lu_memfd_vmalloc_pages(&desc->table, &chunks);
		if (!pfns)
			return ERR_PTR(-EINVAL);
		kvfree(pfns);
		table = kho_restore_vmalloc(&desc->table);
	}
	if (!table) {
		pr_err("cannot restore the folio table\n");
		return ERR_PTR(-EINVAL);
	}
	if (!lu_memfd_table_valid(desc, table)) {
		lu_memfd_table_free(desc, table);
		return ERR_PTR(-EINVAL);
	}
	return table;
}

/**
 * struct lu_memfd_cursor - where the restore writes in the new file.
 * @inode:  the new file's inode.
 * @folio:  the current copy destination (locked, referenced), or NULL.
 * @filled: index of the first page of @folio not yet written or zeroed.
 * @fresh:  @folio was not uptodate: every page of it must be written or
 *          zeroed before it is marked uptodate.
 * @moved:  folios put in the file as they were (no copy).
 * @copied: pages copied.
 * @holes:  pages of all-zero folios left as holes.
 */
struct lu_memfd_cursor {
	struct inode *inode;
	struct folio *folio;
	pgoff_t filled;
	bool fresh;
	u64 moved, copied, holes;
};

static void lu_memfd_zero_pages(struct folio *folio, pgoff_t from, pgoff_t to)
{
	if (from < to)
		folio_zero_range(folio, (from - folio->index) << PAGE_SHIFT,
				 (to - from) << PAGE_SHIFT);
}

/* Done with the copy destination: its data is in, reclaim must keep it. */
static void lu_memfd_cursor_put(struct lu_memfd_cursor *c)
{
	struct folio *folio = c->folio;

	if (!folio)
		return;
	if (c->fresh) {
		lu_memfd_zero_pages(folio, c->filled, folio_next_index(folio));
		flush_dcache_folio(folio);
		folio_mark_uptodate(folio);
	}
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	c->folio = NULL;
}

/*
 * Put @src in the new file in place of @ph, a placeholder that shmem has
 * just allocated, accounted and inserted for the same pages (see the top of
 * the file). Both are locked; @src's reference (from KHO) and ours on @ph
 * are dropped, which frees the placeholder.
 */
static void lu_memfd_move_in(struct folio *ph, struct folio *src)
{
	long nr = folio_nr_pages(src);

	__folio_set_swapbacked(src);
	/* What shmem's own large allocations are (page_rmappable_folio()). */
	if (nr > 1)
		folio_set_large_rmappable(src);
	folio_mark_uptodate(src);
	replace_page_cache_folio(ph, src);
	if (nr > 1) {
		/* The page cache's other nr - 1 references move too. */
		folio_ref_add(src, nr - 1);
		folio_put_refs(ph, nr - 1);
	}
	folio_mark_dirty(src);
	folio_add_lru(src);
	folio_unlock(src);
	folio_put(src);
	folio_unlock(ph);
	folio_put(ph);
}

static bool lu_memfd_page_zero(struct folio *folio, long i)
{
	void *p = kmap_local_folio(folio, i * PAGE_SIZE);
	bool zero = !memchr_inv(p, 0, PAGE_SIZE);

	kunmap_local(p);
	return zero;
}

/*
 * Copy the pages of @src (file pages from @first on, below @nr_pages) into
 * the cursor's folios; all-zero pages are left as holes.
 */
static int lu_memfd_copy_folio(struct lu_memfd_cursor *c, struct folio *src,
			       pgoff_t first, pgoff_t nr_pages)
{
	long j;

	for (j = 0; j < folio_nr_pages(src) && first + j < nr_pages; j++) {
		pgoff_t index = first + j;
		void *from, *to;
		int err;

		if (lu_memfd_page_zero(src, j))
			continue;
		if (!c->folio || index >= folio_next_index(c->folio)) {
			lu_memfd_cursor_put(c);
			err = shmem_get_folio(c->inode, index,
					      (loff_t)(index + 1) << PAGE_SHIFT,
					      &c->folio, SGP_WRITE);
			if (err)
				return err;
			c->fresh = !folio_test_uptodate(c->folio);
			c->filled = c->folio->index;
		}
		if (c->fresh)
			lu_memfd_zero_pages(c->folio, c->filled, index);
		c->filled = index + 1;
		from = kmap_local_folio(src, j * PAGE_SIZE);
		to = kmap_local_folio(c->folio, (index - c->folio->index) << PAGE_SHIFT);
		copy_page(to, from);
		kunmap_local(to);
		kunmap_local(from);
		c->copied++;
	}
	return 0;
}

/*
 * Put preserved folio @src into the new file at page @index: as it is when
 * shmem gives a matching placeholder, else by copying. Consumes the
 * reference to @src. Return: 0 or -errno.
 */
static int lu_memfd_place(struct lu_memfd_cursor *c, struct folio *src,
			  pgoff_t index, pgoff_t nr_pages)
{
	long nr = folio_nr_pages(src), j;
	struct folio *ph;
	int err;

	for (j = 0; j < nr && lu_memfd_page_zero(src, j); j++)
		;
	if (j == nr) {
		c->holes += nr;
		err = 0;
		goto put;
	}
	if (!c->folio || index >= folio_next_index(c->folio)) {
		lu_memfd_cursor_put(c);
		err = shmem_get_folio(c->inode, index,
				      (loff_t)(index + nr) << PAGE_SHIFT, &ph,
				      SGP_WRITE);
		if (err)
			goto put;
		if (ph->index == index && folio_nr_pages(ph) == nr &&
		    !folio_test_uptodate(ph)) {
			__folio_set_locked(src);
			lu_memfd_move_in(ph, src);
			c->moved++;
			return 0;
		}
		c->folio = ph;
		c->fresh = !folio_test_uptodate(ph);
		c->filled = ph->index;
	}
	err = lu_memfd_copy_folio(c, src, index, nr_pages);
put:
	folio_put(src);
	return err;
}

/* Take a run of 4 KiB pages back from KHO as the one range it went as. */
static bool lu_memfd_restore_pages(u64 run)
{
	phys_addr_t phys = PFN_PHYS(lu_memfd_run_pfn(run));

	if (kho_restore_pages(phys, lu_memfd_run_count(run)))
		return true;
	pr_err("pages at %pa were not preserved\n", &phys);
	return false;
}

/*
 * Folio @j of @run in the new kernel: a 4 KiB page of a run already taken
 * back by lu_memfd_restore_pages(), or a large folio taken back from KHO
 * now. Return: the folio (one reference), or NULL if KHO does not have it.
 */
static struct folio *lu_memfd_run_folio(u64 run, u32 j)
{
	unsigned int order = lu_memfd_run_order(run);
	phys_addr_t phys = PFN_PHYS(lu_memfd_run_pfn(run) + ((unsigned long)j << order));
	struct folio *folio;

	if (!order)
		return pfn_folio(PHYS_PFN(phys));
	folio = kho_restore_folio(phys);
	if (!folio) {
		pr_err("folio at %pa was not preserved\n", &phys);
		return NULL;
	}
	if (folio_order(folio) != order) {
		pr_err("folio at %pa has order %u, recorded %u\n", &phys,
		       folio_order(folio), order);
		folio_put(folio);
		return NULL;
	}
	return folio;
}

/*
 * Restore every folio of @table and put it into @file (while no error has
 * happened yet), or free it. Every preserved folio is consumed, whatever
 * happens. Return: 0 or the first -errno.
 */
static int lu_memfd_fill(struct file *file, const struct lu_memfd_desc *desc,
			 const u64 *table)
{
	pgoff_t nr_pages = DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE);
	struct lu_memfd_cursor c = { .inode = file_inode(file) };
	u64 start = ktime_get_ns(), us, i;
	pgoff_t index = 0;
	int err = 0;
	u32 j;

	for (i = 0; i < desc->nr_runs; i++) {
		unsigned int order = lu_memfd_run_order(table[i]);
		u32 count = lu_memfd_run_count(table[i]);

		if (!order && !lu_memfd_restore_pages(table[i])) {
			err = err ?: -EINVAL;
			index += count;
			continue;
		}
		for (j = 0; j < count; j++, index += 1UL << order) {
			struct folio *src = lu_memfd_run_folio(table[i], j);

			if (!src)
				err = err ?: -EINVAL;
			else if (err)
				folio_put(src);
			else
				err = lu_memfd_place(&c, src, index, nr_pages);
			if (!(j % LU_MEMFD_PIN_BATCH))
				cond_resched();
		}
	}
	lu_memfd_cursor_put(&c);

	us = div_u64(ktime_get_ns() - start, NSEC_PER_USEC);
	if (desc->size >= LU_MEMFD_REPORT_SIZE)
		pr_info("%s: %llu bytes in %llu us: %llu folios moved, %llu pages copied, %llu left as holes\n",
			desc->name, desc->size, us, c.moved, c.copied, c.holes);
	return err;
}

/* Give a fresh shmem file what memfd_create() and the old file gave it. */
static int lu_memfd_set_attrs(struct file *file, const struct lu_memfd_desc *desc)
{
	struct inode *inode = file_inode(file);
	int err = 0;

	inode_lock(inode);
	inode->i_mode = (inode->i_mode & ~S_IALLUGO) | desc->mode;
	/* As memfd_add_seals(): F_SEAL_WRITE denies new writable mappings. */
	if (desc->seals & F_SEAL_WRITE)
		err = mapping_deny_writable(file->f_mapping);
	if (!err)
		SHMEM_I(inode)->seals = desc->seals;
	inode_unlock(inode);
	return err;
}

static void lu_memfd_set_fmode(struct file *file)
{
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file->f_flags |= O_LARGEFILE;
}

/* Free every preserved folio of @table without looking at its data. */
static void lu_memfd_discard(const struct lu_memfd_desc *desc, const u64 *table)
{
	u64 i;
	u32 j;

	for (i = 0; i < desc->nr_runs; i++) {
		if (!lu_memfd_run_order(table[i]) && !lu_memfd_restore_pages(table[i]))
			continue;
		for (j = 0; j < lu_memfd_run_count(table[i]); j++) {
			struct folio *folio = lu_memfd_run_folio(table[i], j);

			if (folio)
				folio_put(folio);
			if (!(j % LU_MEMFD_PIN_BATCH))
				cond_resched();
		}
	}
}

/* The private huge=within_size tmpfs, mounted at first use. */
static struct vfsmount *lu_memfd_huge_mount(void)
{
	struct file_system_type *type;
	struct fs_context *fc;
	struct vfsmount *mnt;
	int err;

	guard(mutex)(&lu_memfd_mnt_lock);
	if (lu_memfd_huge_mnt)
		return lu_memfd_huge_mnt;
	type = get_fs_type("tmpfs");
	if (!type)
		return ERR_PTR(-ENODEV);
	fc = fs_context_for_mount(type, SB_KERNMOUNT);
	if (IS_ERR(fc))
		return ERR_CAST(fc);
	err = vfs_parse_fs_string(fc, "source", "tmpfs");
	if (!err)
		err = vfs_parse_fs_string(fc, "huge", "within_size");
	mnt = err ? ERR_PTR(err) : fc_mount_longterm(fc);
	put_fs_context(fc);
	if (!IS_ERR(mnt))
		lu_memfd_huge_mnt = mnt;
	return mnt;
}

static bool lu_memfd_has_large(const struct lu_memfd_desc *desc, const u64 *table)
{
	u64 i;

	for (i = 0; i < desc->nr_runs; i++)
		if (lu_memfd_run_order(table[i]))
			return true;
	return false;
}

static struct file *lu_memfd_new_file(const struct lu_memfd_desc *desc,
				      const u64 *table)
{
	vma_flags_t flags = mk_vma_flags(VMA_NORESERVE_BIT);
	struct vfsmount *mnt;

	if (!table || !lu_memfd_has_large(desc, table))
		return shmem_file_setup(desc->name, desc->size, flags);
	mnt = lu_memfd_huge_mount();
	if (IS_ERR(mnt)) {
		pr_warn("%s: no huge tmpfs (%pe); large folios will be copied\n",
			desc->name, mnt);
		return shmem_file_setup(desc->name, desc->size, flags);
	}
	return shmem_file_setup_with_mnt(mnt, desc->name, desc->size, flags);
}

/*
 * Build the new file from a checked descriptor and table, consuming every
 * preserved folio on the way. Return: the file or ERR_PTR(-errno).
 */
static struct file *lu_memfd_build(const struct lu_memfd_desc *desc,
				   const u64 *table)
{
	struct file *file, *ro;
	int err;

	if (desc->seals & ~LU_MEMFD_SEALS) {
		pr_err("%s: unsupported seals %#x\n", desc->name, desc->seals);
		err = -EOPNOTSUPP;
		goto err_discard;
	}
	file = lu_memfd_new_file(desc, table);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_discard;
	}
	/* From here on lu_memfd_fill() consumes the folios, whatever happens. */
	err = desc->nr_runs ? lu_memfd_fill(file, desc, table) : 0;
	if (err)
		goto err_put;
	err = lu_memfd_set_attrs(file, desc);
	if (err)
		goto err_put;
	lu_memfd_set_fmode(file);

	if (!(desc->flags & LU_MEMFD_WRITABLE)) {
		ro = dentry_open(&file->f_path, O_RDONLY | O_LARGEFILE,
				 current_cred());
		if (IS_ERR(ro)) {
			err = PTR_ERR(ro);
			goto err_put;
		}
		fput(file);
		file = ro;
		lu_memfd_set_fmode(file);
	}
	vfs_setpos(file, desc->pos, MAX_LFS_FILESIZE);
	return file;

err_discard:
	if (desc->nr_runs)
		lu_memfd_discard(desc, table);
	return ERR_PTR(err);
err_put:
	fput(file);
	return ERR_PTR(err);
}

/*
 * Everything from a restored descriptor: the file (@discard false) or
 * nothing but freed memory (@discard true). Frees the descriptor.
 */
struct file *lu_memfd_restore(struct lu_memfd_desc *desc, bool discard)
{
	struct file *file = NULL;
	u64 *table = NULL;

	if (desc->nr_runs) {
		table = lu_memfd_table_restore(desc);
		if (IS_ERR(table)) {
			lu_memfd_desc_free(desc);
			return ERR_CAST(table);
		}
	}
	if (discard)
		lu_memfd_discard(desc, table);
	else
		file = lu_memfd_build(desc, table);
	if (table)
		lu_memfd_table_free(desc, table);
	lu_memfd_desc_free(desc);
	return file;
}

void lu_memfd_huge_unmount(void)
{
	if (lu_memfd_huge_mnt)
		kern_unmount(lu_memfd_huge_mnt);
}
