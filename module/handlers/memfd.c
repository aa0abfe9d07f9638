// SPDX-License-Identifier: GPL-2.0
/*
 * memfd across a live update: the "memfd-v1" file handler.
 *
 * What comes back in the next kernel, exactly as it was at the reboot:
 * every byte of [0, size), the size, the file position, the seals as
 * F_GET_SEALS shows them, the permission bits (0666 for MFD_NOEXEC_SEAL,
 * 0777 otherwise, or whatever fchmod() made of them), read-only-ness (an fd
 * reopened O_RDONLY through /proc/self/fd comes back read-only) and the name
 * ("memfd:NAME" in /proc/PID/fd). Not kept: FD_CLOEXEC (the new fd is
 * installed by the session), owner, timestamps, other status flags.
 *
 * Preserve (old kernel). Under the inode lock, the mapping is frozen
 * (shmem_freeze(): ftruncate and fallocate fail with EPERM from now on,
 * writes within the size still work) and every folio of [0, size) is pinned
 * with memfd_pin_folios(), which allocates the holes: a write after preserve
 * can only land in a folio that is preserved. (So a file larger than all of
 * the machine's memory is refused up front with E2BIG; any other size is
 * fine, the table has no cap.) The pins also mean that, as with the
 * in-kernel LUO, F_SEAL_WRITE cannot be added while the file is preserved
 * (EBUSY from memfd_wait_for_pins()). Each folio is handed to KHO as
 * it is (a large folio stays large) and recorded in a table that KHO
 * preserves as vmalloc memory. Fallocated folios that were never written
 * (not uptodate) are zeroed now, because a write after preserve would make
 * them uptodate behind our back.
 *
 * The handover format (all fields native-endian, this is one machine):
 *
 *   descriptor, one page from kho_alloc_preserve(); its physical address is
 *   the u64 handle the session hands over (args->serialized_data):
 *     magic "LUMF", version 1, desc_size, crc (CRC-32C of the descriptor
 *     with crc = 0), flags (WRITABLE), size, pos, seals, mode (i_mode &
 *     07777), nr_folios, table_crc (CRC-32C of the table), entry_size,
 *     name_len, the table's struct kho_vmalloc, name (NUL-terminated)
 *   table, nr_folios entries of { pgoff, phys, order, flags }, sorted by
 *     pgoff, non-overlapping, each folio naturally aligned in the file and
 *     in physical memory.
 *
 * Freeze rewrites pos (and the crc): it may have moved since preserve.
 *
 * Retrieve (new kernel). The descriptor is restored and checked (magic,
 * version, size of the record, crc, every field's range) before anything
 * it points to is touched; then the table is restored and checked the same
 * way (crc, ordering, alignment, bounds). A bad record fails with EINVAL and
 * leaves whatever it refers to alone: memory we cannot trust stays
 * reserved. Each preserved folio is then restored, its data copied into a
 * fresh shmem file and the folio freed at once, so the copy never needs
 * more than one extra folio of memory beyond the file itself.
 *
 * How the way in works and what it costs. The new file is a plain
 * shmem_file_setup() file whose folios shmem allocates and accounts itself.
 * Each page goes in the way write() puts it there: shmem_get_folio(SGP_WRITE)
 * gives a locked folio that is not zeroed when new, the page is copied in
 * through kmap_local_folio(), the parts of the folio no data went to are
 * zeroed, and the folio is marked uptodate and dirty (so reclaim never drops
 * it). Pages that are all zeros are not copied: they stay holes, so a sparse
 * memfd comes back sparse (the preserve side had to fill its holes).
 * Splicing the preserved folios in directly (what mm/memfd_luo.c does)
 * would avoid the copy but means redoing shmem's private bookkeeping
 * (shmem_add_to_page_cache(), inode and superblock block counts, VM
 * accounting), none of which is exported; the copy is the safe way.
 *
 * Measured in the 2-core TCG guest (QEMU -accel tcg -cpu max, 2 GiB), one
 * memfd full of data, order-0 folios (the kernel log has one line per
 * retrieve with the figures):
 *   512 MiB: copy 0.94 s (~540 MiB/s); 1 GiB: 1.4 s (~730 MiB/s)
 *   the first version, shmem_read_folio_gfp() (which zeroes each new
 *   folio before the copy overwrites it): 1.7 s and 5.7 s (~300, ~180 MiB/s)
 *   the in-kernel LUO's zero-copy retrieve of the same files: 0.27 s, 0.57 s
 *   preserve (pin + KHO bookkeeping): 0.2 s for either size
 *   an all-zero page costs a scan only (~125 MiB/s of zeros under TCG).
 * TCG timings vary by +-30% with the host's load.
 *
 * Finish frees everything a never-retrieved file's record refers to. A
 * retrieve that ran, successful or not, has already freed everything
 * (LUO never calls retrieve twice for one file), so there is nothing left.
 *
 * Locking: preserve and unpreserve hold the inode lock while they freeze or
 * thaw the mapping and pin or unpin folios, as shmem_freeze() requires.
 * Freeze only writes to the descriptor; the session core serializes the
 * calls for one file.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": memfd: " fmt

#include <linux/crc32.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/kho/abi/kexec_handover.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "liveupdate.h"
#include "memfd.h"

#define LU_MEMFD_COMPATIBLE "memfd-v1"

#define LU_MEMFD_MAGIC 0x464d554c /* "LUMF" in memory order */
#define LU_MEMFD_VERSION 1

/* lu_memfd_desc.flags */
#define LU_MEMFD_WRITABLE BIT(0) /* the preserved file had FMODE_WRITE */
#define LU_MEMFD_DESC_FLAGS LU_MEMFD_WRITABLE

/* lu_memfd_folio.flags */
#define LU_MEMFD_FOLIO_ZEROED BIT(0) /* was not uptodate; zeroed at preserve */
#define LU_MEMFD_FOLIO_FLAGS LU_MEMFD_FOLIO_ZEROED

/* Every seal 7.3 knows; anything else is refused rather than dropped. */
#define LU_MEMFD_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
			F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

/* Folios pinned per memfd_pin_folios() call (a page of pointers). */
#define LU_MEMFD_PIN_BATCH (PAGE_SIZE / sizeof(struct folio *))

/**
 * struct lu_memfd_folio - one preserved folio (an entry of the table).
 * @pgoff: index of the folio's first page in the file.
 * @phys:  physical address of the folio.
 * @order: folio order, as KHO preserved it.
 * @flags: LU_MEMFD_FOLIO_*.
 */
struct lu_memfd_folio {
	u64 pgoff;
	u64 phys;
	u32 order;
	u32 flags;
};
static_assert(sizeof(struct lu_memfd_folio) == 24);

/**
 * struct lu_memfd_desc - the handover record of one memfd.
 * @magic:      LU_MEMFD_MAGIC.
 * @version:    LU_MEMFD_VERSION; any other version is refused.
 * @desc_size:  sizeof(struct lu_memfd_desc) of the writer.
 * @crc:        CRC-32C of the whole record, computed with @crc = 0.
 * @flags:      LU_MEMFD_WRITABLE.
 * @size:       i_size in bytes.
 * @pos:        f_pos at freeze (at preserve until then).
 * @seals:      the seals, as F_GET_SEALS returns them.
 * @mode:       i_mode & 07777.
 * @nr_folios:  entries in the table; 0 (and no table) for an empty file.
 * @table_crc:  CRC-32C of the @nr_folios entries.
 * @entry_size: sizeof(struct lu_memfd_folio) of the writer.
 * @name_len:   strlen(@name).
 * @table:      KHO's descriptor of the vmalloc'ed table.
 * @name:       the dentry name ("memfd:NAME"), NUL-terminated.
 */
struct lu_memfd_desc {
	u32 magic;
	u16 version;
	u16 desc_size;
	u32 crc;
	u32 flags;
	u64 size;
	u64 pos;
	u32 seals;
	u32 mode;
	u64 nr_folios;
	u32 table_crc;
	u16 entry_size;
	u16 name_len;
	struct kho_vmalloc table;
	char name[NAME_MAX + 1];
};
static_assert(offsetof(struct lu_memfd_desc, table) == 56);
static_assert(sizeof(struct lu_memfd_desc) == 72 + NAME_MAX + 1);
static_assert(sizeof(struct lu_memfd_desc) <= PAGE_SIZE);

/**
 * struct lu_memfd_state - what preserve leaves in args->private_data.
 * @desc:  the descriptor (KHO-preserved page).
 * @table: the table (KHO-preserved vmalloc), NULL for an empty file.
 */
struct lu_memfd_state {
	struct lu_memfd_desc *desc;
	struct lu_memfd_folio *table;
};

static u32 lu_memfd_crc(const void *data, size_t len)
{
	return ~crc32c(~0U, data, len);
}

static u32 lu_memfd_desc_crc(struct lu_memfd_desc *desc)
{
	u32 saved = desc->crc;
	u32 crc;

	desc->crc = 0;
	crc = lu_memfd_crc(desc, sizeof(*desc));
	desc->crc = saved;
	return crc;
}

static bool lu_memfd_can_preserve(struct liveupdate_file_handler *handler,
				  struct file *file)
{
	/* hugetlbfs files are not shmem files: refused here. */
	return shmem_file(file) && !file_inode(file)->i_nlink;
}

static unsigned long lu_memfd_get_id(struct file *file)
{
	return (unsigned long)file_inode(file);
}

/* Unpreserve and unpin the first @nr folios of @table. */
static void lu_memfd_release_folios(const struct lu_memfd_folio *table,
				    u64 nr)
{
	u64 i;

	for (i = 0; i < nr; i++) {
		struct folio *folio = pfn_folio(PHYS_PFN(table[i].phys));

		kho_unpreserve_folio(folio);
		unpin_folio(folio);
	}
}

/*
 * Make a pinned folio ready to be handed over: a folio that fallocate()
 * reserved but nobody wrote is not uptodate and holds garbage. Zero it
 * now: once uptodate, a later write cannot change its state behind us.
 */
static u32 lu_memfd_prepare_folio(struct folio *folio)
{
	u32 flags = 0;

	folio_lock(folio);
	if (!folio_test_uptodate(folio)) {
		folio_zero_range(folio, 0, folio_size(folio));
		flush_dcache_folio(folio);
		folio_mark_uptodate(folio);
		flags |= LU_MEMFD_FOLIO_ZEROED;
	}
	folio_unlock(folio);
	return flags;
}

/*
 * Pin and KHO-preserve every folio of [0, @size) of @file, in batches, and
 * record them in a vmalloc'ed table sized for the worst case (one order-0
 * folio per page), then trimmed to what was used.
 *
 * Called with the inode locked and the mapping frozen. On success the table
 * and its length are returned through @tablep and @nrp (the table itself is
 * not yet KHO-preserved); on failure nothing is left pinned or preserved.
 */
static int lu_memfd_pin_folios(struct file *file, loff_t size,
			       struct lu_memfd_folio **tablep, u64 *nrp)
{
	pgoff_t nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	struct lu_memfd_folio *table, *trimmed;
	struct folio **batch;
	loff_t pos = 0;
	u64 nr = 0;
	int err = 0;

	batch = kmalloc_array(LU_MEMFD_PIN_BATCH, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	table = vcalloc(nr_pages, sizeof(*table));
	if (!table) {
		err = -ENOMEM;
		goto err_batch;
	}

	while (pos < size) {
		pgoff_t offset;
		long got, i;

		got = memfd_pin_folios(file, pos, size - 1, batch,
				       LU_MEMFD_PIN_BATCH, &offset);
		if (got < 0) {
			err = got;
			goto err_release;
		}
		if (!got) {
			err = -EINVAL;
			goto err_release;
		}
		for (i = 0; i < got; i++) {
			struct folio *folio = batch[i];
			struct lu_memfd_folio *e = &table[nr];

			/*
			 * With the mapping frozen and every folio so far
			 * pinned, the next folio starts where the last one
			 * ended; anything else means the mapping changed
			 * under us.
			 */
			if (folio->index != pos >> PAGE_SHIFT || nr == nr_pages)
				err = -EBUSY;
			if (!err) {
				e->flags = lu_memfd_prepare_folio(folio);
				err = kho_preserve_folio(folio);
			}
			if (err) {
				unpin_folios(&batch[i], got - i);
				goto err_release;
			}
			e->pgoff = folio->index;
			e->phys = PFN_PHYS(folio_pfn(folio));
			e->order = folio_order(folio);
			nr++;
			pos = folio_pos(folio) + folio_size(folio);
		}
		cond_resched();
	}

	if (nr < nr_pages) {
		trimmed = vcalloc(nr, sizeof(*table));
		if (!trimmed) {
			err = -ENOMEM;
			goto err_release;
		}
		memcpy(trimmed, table, nr * sizeof(*table));
		vfree(table);
		table = trimmed;
	}
	kfree(batch);
	*tablep = table;
	*nrp = nr;
	return 0;

err_release:
	lu_memfd_release_folios(table, nr);
	vfree(table);
err_batch:
	kfree(batch);
	return err;
}

static void lu_memfd_record_name(struct lu_memfd_desc *desc, struct file *file)
{
	struct name_snapshot snap;
	size_t len;

	take_dentry_name_snapshot(&snap, file->f_path.dentry);
	len = min_t(size_t, snap.name.len, NAME_MAX);
	memcpy(desc->name, snap.name.name, len);
	desc->name[len] = '\0';
	desc->name_len = len;
	release_dentry_name_snapshot(&snap);
}

static int lu_memfd_preserve(struct liveupdate_file_op_args *args)
{
	struct file *file = args->file;
	struct inode *inode = file_inode(file);
	struct lu_memfd_folio *table = NULL;
	struct lu_memfd_state *state;
	struct lu_memfd_desc *desc;
	unsigned int seals;
	u64 nr = 0;
	loff_t size;
	int err;

	if (!shmem_file(file))
		return -EOPNOTSUPP;

	state = kzalloc_obj(*state);
	if (!state)
		return -ENOMEM;
	desc = kho_alloc_preserve(sizeof(*desc));
	if (IS_ERR(desc)) {
		err = PTR_ERR(desc);
		goto err_state;
	}

	inode_lock(inode);
	seals = SHMEM_I(inode)->seals;
	if (seals & ~LU_MEMFD_SEALS) {
		err = -EOPNOTSUPP;
		goto err_unlock;
	}
	if (SHMEM_I(inode)->flags & SHMEM_F_MAPPING_FROZEN) {
		err = -EBUSY;
		goto err_unlock;
	}
	shmem_freeze(inode, true);

	size = i_size_read(inode);
	/*
	 * Every page gets a folio (holes are filled): a sparse file larger
	 * than the machine's memory can never be preserved. Refuse it before
	 * the filling runs the machine out of memory.
	 */
	if (DIV_ROUND_UP_ULL(size, PAGE_SIZE) > totalram_pages()) {
		err = -E2BIG;
		goto err_thaw;
	}
	if (size) {
		err = lu_memfd_pin_folios(file, size, &table, &nr);
		if (err)
			goto err_thaw;
		err = kho_preserve_vmalloc(table, &desc->table);
		if (err)
			goto err_folios;
	}

	desc->magic = LU_MEMFD_MAGIC;
	desc->version = LU_MEMFD_VERSION;
	desc->desc_size = sizeof(*desc);
	desc->flags = (file->f_mode & FMODE_WRITE) ? LU_MEMFD_WRITABLE : 0;
	desc->size = size;
	desc->pos = file->f_pos;
	desc->seals = seals;
	desc->mode = inode->i_mode & S_IALLUGO;
	desc->nr_folios = nr;
	desc->table_crc = nr ? lu_memfd_crc(table, nr * sizeof(*table)) : 0;
	desc->entry_size = sizeof(*table);
	lu_memfd_record_name(desc, file);
	desc->crc = lu_memfd_desc_crc(desc);
	inode_unlock(inode);

	state->desc = desc;
	state->table = table;
	args->private_data = state;
	args->serialized_data = virt_to_phys(desc);
	return 0;

err_folios:
	lu_memfd_release_folios(table, nr);
	vfree(table);
err_thaw:
	shmem_freeze(inode, false);
err_unlock:
	inode_unlock(inode);
	kho_unpreserve_free(desc);
err_state:
	kfree(state);
	return err;
}

static void lu_memfd_unpreserve(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_state *state = args->private_data;
	struct inode *inode = file_inode(args->file);
	struct lu_memfd_desc *desc;

	if (WARN_ON_ONCE(!state))
		return;
	desc = state->desc;

	inode_lock(inode);
	lu_memfd_release_folios(state->table, desc->nr_folios);
	shmem_freeze(inode, false);
	inode_unlock(inode);

	if (state->table) {
		kho_unpreserve_vmalloc(&desc->table);
		vfree(state->table);
	}
	kho_unpreserve_free(desc);
	kfree(state);
	args->private_data = NULL;
}

static int lu_memfd_freeze(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_state *state = args->private_data;

	if (WARN_ON_ONCE(!state))
		return -EINVAL;
	state->desc->pos = READ_ONCE(args->file->f_pos);
	state->desc->crc = lu_memfd_desc_crc(state->desc);
	return 0;
}

static void lu_memfd_unfreeze(struct liveupdate_file_op_args *args)
{
	/* Freeze only refreshed the position; nothing to undo. */
}

/* ---- the new kernel ------------------------------------------------------ */

static void lu_memfd_desc_free(struct lu_memfd_desc *desc)
{
	folio_put(virt_to_folio(desc));
}

/* Every field of a restored descriptor, before any of them is used. */
static bool lu_memfd_desc_valid(struct lu_memfd_desc *desc)
{
	u64 table_bytes;

	if (desc->magic != LU_MEMFD_MAGIC) {
		pr_err("bad descriptor magic %#x\n", desc->magic);
		return false;
	}
	if (desc->version != LU_MEMFD_VERSION ||
	    desc->desc_size != sizeof(*desc) ||
	    desc->entry_size != sizeof(struct lu_memfd_folio)) {
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
	    desc->nr_folios > DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE) ||
	    desc->name_len > NAME_MAX || desc->name[desc->name_len] ||
	    strlen(desc->name) != desc->name_len) {
		pr_err("descriptor fields out of range\n");
		return false;
	}
	if (!desc->nr_folios)
		return true;
	if (check_mul_overflow(desc->nr_folios, (u64)desc->entry_size,
			       &table_bytes) ||
	    desc->table.order ||
	    (u64)desc->table.total_pages << PAGE_SHIFT < table_bytes ||
	    !desc->table.first.phys) {
		pr_err("descriptor's table does not fit its entries\n");
		return false;
	}
	return true;
}

/*
 * Restore the descriptor at @phys and check it. Return: the descriptor
 * (free with lu_memfd_desc_free()), or ERR_PTR(-EINVAL).
 */
static struct lu_memfd_desc *lu_memfd_desc_restore(u64 phys)
{
	struct lu_memfd_desc *desc;
	struct folio *folio;

	if (!phys || !PAGE_ALIGNED(phys)) {
		pr_err("bad descriptor address %#llx\n", phys);
		return ERR_PTR(-EINVAL);
	}
	folio = kho_restore_folio(phys);
	if (!folio) {
		pr_err("descriptor at %#llx was not preserved\n", phys);
		return ERR_PTR(-EINVAL);
	}
	desc = folio_address(folio);
	if (folio_size(folio) < sizeof(*desc) || !lu_memfd_desc_valid(desc)) {
		folio_put(folio);
		return ERR_PTR(-EINVAL);
	}
	return desc;
}

/* Ordering, alignment and bounds of every entry of a restored table. */
static bool lu_memfd_table_valid(const struct lu_memfd_desc *desc,
				 const struct lu_memfd_folio *table)
{
	u64 nr_pages = DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE);
	u64 next = 0, i;

	if (lu_memfd_crc(table, desc->nr_folios * sizeof(*table)) !=
	    desc->table_crc) {
		pr_err("folio table checksum mismatch\n");
		return false;
	}
	for (i = 0; i < desc->nr_folios; i++) {
		const struct lu_memfd_folio *e = &table[i];
		u64 pages = 1ULL << min_t(u32, e->order, 63);

		if (e->order > MAX_PAGE_ORDER || e->flags & ~LU_MEMFD_FOLIO_FLAGS ||
		    e->pgoff < next || e->pgoff >= nr_pages ||
		    !IS_ALIGNED(e->pgoff, pages) ||
		    !IS_ALIGNED(e->phys, PAGE_SIZE * pages) || !e->phys) {
			pr_err("folio table entry %llu is invalid\n", i);
			return false;
		}
		next = e->pgoff + pages;
	}
	return true;
}

/*
 * Restore and check the table of @desc (which has folios). Return: the
 * table (vfree() it), or ERR_PTR(-EINVAL).
 */
static struct lu_memfd_folio *lu_memfd_table_restore(struct lu_memfd_desc *desc)
{
	struct lu_memfd_folio *table = kho_restore_vmalloc(&desc->table);

	if (!table) {
		pr_err("cannot restore the folio table\n");
		return ERR_PTR(-EINVAL);
	}
	if (!lu_memfd_table_valid(desc, table)) {
		vfree(table);
		return ERR_PTR(-EINVAL);
	}
	return table;
}

/**
 * struct lu_memfd_cursor - where the copy writes in the new file.
 * @inode:  the new file's inode.
 * @folio:  the current destination folio (locked, referenced), or NULL.
 * @filled: index of the first page of @folio not yet written or zeroed.
 * @fresh:  @folio was not uptodate: every page of it must be written or
 *          zeroed before it is marked uptodate.
 */
struct lu_memfd_cursor {
	struct inode *inode;
	struct folio *folio;
	pgoff_t filled;
	bool fresh;
};

static void lu_memfd_zero_pages(struct folio *folio, pgoff_t from, pgoff_t to)
{
	if (from < to)
		folio_zero_range(folio, (from - folio->index) << PAGE_SHIFT,
				 (to - from) << PAGE_SHIFT);
}

/* Done with the destination folio: its data is in, reclaim must keep it. */
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
 * The address of page @index of the new file, ready to be overwritten.
 * shmem_get_folio(SGP_WRITE) is write()'s way in: it allocates without
 * zeroing, so a fresh folio is zeroed here only where no data goes.
 */
static void *lu_memfd_cursor_map(struct lu_memfd_cursor *c, pgoff_t index)
{
	struct folio *folio = c->folio;
	int err;

	if (!folio || index >= folio_next_index(folio)) {
		lu_memfd_cursor_put(c);
		err = shmem_get_folio(c->inode, index,
				      (loff_t)(index + 1) << PAGE_SHIFT, &folio,
				      SGP_WRITE);
		if (err)
			return ERR_PTR(err);
		c->folio = folio;
		c->fresh = !folio_test_uptodate(folio);
		c->filled = folio->index;
	}
	if (c->fresh)
		lu_memfd_zero_pages(folio, c->filled, index);
	c->filled = index + 1;
	return kmap_local_folio(folio, (index - folio->index) << PAGE_SHIFT);
}

/*
 * Copy the pages of @src (file pages from @first on, below @nr_pages) into
 * the new file at @c; all-zero pages are left as holes. Return: 0 or -errno.
 */
static int lu_memfd_copy_folio(struct lu_memfd_cursor *c, struct folio *src,
			       pgoff_t first, pgoff_t nr_pages, u64 *copied)
{
	long j;

	for (j = 0; j < folio_nr_pages(src) && first + j < nr_pages; j++) {
		void *from = kmap_local_folio(src, j * PAGE_SIZE);
		void *to;

		if (!memchr_inv(from, 0, PAGE_SIZE)) {
			kunmap_local(from);
			continue;
		}
		to = lu_memfd_cursor_map(c, first + j);
		if (IS_ERR(to)) {
			kunmap_local(from);
			return PTR_ERR(to);
		}
		copy_page(to, from);
		kunmap_local(to);
		kunmap_local(from);
		(*copied)++;
	}
	return 0;
}

/*
 * Restore every folio of @table, copy it into @file (while no error has
 * happened yet) and free it. Every preserved folio is freed, whatever
 * happens. Return: 0 or the first -errno.
 */
static int lu_memfd_copy_in(struct file *file, const struct lu_memfd_desc *desc,
			    const struct lu_memfd_folio *table)
{
	pgoff_t nr_pages = DIV_ROUND_UP_ULL(desc->size, PAGE_SIZE);
	struct lu_memfd_cursor c = { .inode = file_inode(file) };
	u64 start = ktime_get_ns(), copied = 0, us, kib, i;
	int err = 0;

	for (i = 0; i < desc->nr_folios; i++) {
		const struct lu_memfd_folio *e = &table[i];
		struct folio *src = kho_restore_folio(e->phys);

		if (!src) {
			pr_err("folio at %#llx was not preserved\n", e->phys);
			err = err ?: -EINVAL;
			continue;
		}
		if (folio_order(src) != e->order) {
			pr_err("folio at %#llx has order %u, recorded %u\n",
			       e->phys, folio_order(src), e->order);
			err = err ?: -EINVAL;
		}
		if (!err)
			err = lu_memfd_copy_folio(&c, src, e->pgoff,
						  nr_pages, &copied);
		folio_put(src);
		cond_resched();
	}
	lu_memfd_cursor_put(&c);

	us = max(div_u64(ktime_get_ns() - start, NSEC_PER_USEC), 1ULL);
	kib = copied << (PAGE_SHIFT - 10);
	pr_info("%s: %llu bytes in %llu folios, %llu pages copied in %llu us (%llu MiB/s)\n",
		desc->name, desc->size, desc->nr_folios, copied, us,
		div64_u64(kib * USEC_PER_SEC, us << 10));
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
static void lu_memfd_discard(const struct lu_memfd_desc *desc,
			     const struct lu_memfd_folio *table)
{
	u64 i;

	for (i = 0; i < desc->nr_folios; i++) {
		struct folio *folio = kho_restore_folio(table[i].phys);

		if (folio)
			folio_put(folio);
		else
			pr_warn_ratelimited("folio at %#llx was not preserved\n",
					    table[i].phys);
		cond_resched();
	}
}

/*
 * Build the new file from a checked descriptor and table, freeing every
 * preserved folio on the way. Return: the file or ERR_PTR(-errno).
 */
static struct file *lu_memfd_build(const struct lu_memfd_desc *desc,
				   const struct lu_memfd_folio *table)
{
	struct file *file, *ro;
	int err;

	if (desc->seals & ~LU_MEMFD_SEALS) {
		pr_err("%s: unsupported seals %#x\n", desc->name, desc->seals);
		err = -EOPNOTSUPP;
		goto err_discard;
	}
	file = shmem_file_setup(desc->name, desc->size,
				mk_vma_flags(VMA_NORESERVE_BIT));
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_discard;
	}
	/* From here on lu_memfd_copy_in() frees the folios, whatever happens. */
	err = desc->nr_folios ? lu_memfd_copy_in(file, desc, table) : 0;
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
	lu_memfd_discard(desc, table);
	return ERR_PTR(err);
err_put:
	fput(file);
	return ERR_PTR(err);
}

static int lu_memfd_retrieve(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_folio *table = NULL;
	struct lu_memfd_desc *desc;
	struct file *file;

	desc = lu_memfd_desc_restore(args->serialized_data);
	if (IS_ERR(desc))
		return PTR_ERR(desc);
	if (desc->nr_folios) {
		table = lu_memfd_table_restore(desc);
		if (IS_ERR(table)) {
			lu_memfd_desc_free(desc);
			return PTR_ERR(table);
		}
	}

	file = lu_memfd_build(desc, table);
	vfree(table);
	lu_memfd_desc_free(desc);
	if (IS_ERR(file))
		return PTR_ERR(file);
	args->file = file;
	return 0;
}

static bool lu_memfd_can_finish(struct liveupdate_file_op_args *args)
{
	return true;
}

static void lu_memfd_finish(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_folio *table;
	struct lu_memfd_desc *desc;

	/*
	 * A retrieve that ran (successful or not) freed everything the record
	 * referred to; only a file that was never retrieved has memory left.
	 */
	if (args->retrieve_status)
		return;

	desc = lu_memfd_desc_restore(args->serialized_data);
	if (IS_ERR(desc))
		return;
	if (desc->nr_folios) {
		table = lu_memfd_table_restore(desc);
		if (!IS_ERR(table)) {
			lu_memfd_discard(desc, table);
			vfree(table);
		}
	}
	lu_memfd_desc_free(desc);
}

static const struct liveupdate_file_ops lu_memfd_ops = {
	.can_preserve = lu_memfd_can_preserve,
	.preserve = lu_memfd_preserve,
	.unpreserve = lu_memfd_unpreserve,
	.freeze = lu_memfd_freeze,
	.unfreeze = lu_memfd_unfreeze,
	.retrieve = lu_memfd_retrieve,
	.can_finish = lu_memfd_can_finish,
	.finish = lu_memfd_finish,
	.get_id = lu_memfd_get_id,
	.owner = THIS_MODULE,
};

static struct liveupdate_file_handler lu_memfd_handler = {
	.ops = &lu_memfd_ops,
	.compatible = LU_MEMFD_COMPATIBLE,
};

int lu_memfd_register(void)
{
	return liveupdate_register_file_handler(&lu_memfd_handler);
}

void lu_memfd_unregister(void)
{
	liveupdate_unregister_file_handler(&lu_memfd_handler);
}
