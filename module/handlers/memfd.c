// SPDX-License-Identifier: GPL-2.0
/*
 * memfd across a live update: the "memfd-v1" file handler.
 *
 * What comes back in the next kernel, exactly as it was at the reboot:
 * every byte of [0, size), the size, the file position, the seals as
 * F_GET_SEALS shows them, the permission bits (0666 for MFD_NOEXEC_SEAL,
 * 0777 otherwise, or whatever fchmod() made of them), read-only-ness (an fd
 * reopened O_RDONLY through /proc/self/fd comes back read-only), the name
 * ("memfd:NAME" in /proc/PID/fd) and the folios themselves: the very pages
 * of the old kernel, large folios (shmem THP) still large. Not kept:
 * FD_CLOEXEC (the new fd is installed by the session), owner, timestamps,
 * other status flags. Folios that hold only zeros come back as holes.
 *
 * Preserve (old kernel). Under the inode lock, the mapping is frozen
 * (shmem_freeze(): ftruncate and fallocate fail with EPERM from now on,
 * writes within the size still work) and every folio of [0, size) is pinned
 * with memfd_pin_folios(), which allocates the holes: a write after preserve
 * can only land in a folio that is preserved. (So a file larger than all of
 * the machine's memory is refused up front with E2BIG; any other size is
 * fine, the table has no cap.) The pins also mean that, as with the
 * in-kernel LUO, F_SEAL_WRITE cannot be added while the file is preserved
 * (EBUSY from memfd_wait_for_pins()). The folios are recorded as runs (see
 * the table below) and handed to KHO as they are: a large folio as one
 * folio, a run of 4 KiB pages as one range of pages (kho_preserve_pages(),
 * which KHO tracks as a few naturally aligned blocks instead of one entry
 * per page; the next kernel takes it back with kho_restore_pages()).
 * Fallocated folios that were never written (not uptodate) are zeroed now,
 * because a write after preserve would make them uptodate behind our back.
 *
 * The handover format (all fields native-endian, this is one machine):
 *
 *   root, one page published as the KHO subtree "liveupdate-memfd": magic
 *     "LUMR", version, the first and last descriptor of the list of every
 *     preserved memfd, and their count (so that the next kernel can start
 *     restoring them before anyone asks, see "Restore" below);
 *   descriptor, one page from kho_alloc_preserve() per memfd; its physical
 *     address is the u64 handle the session hands over
 *     (args->serialized_data): magic "LUMF", version 2, desc_size, crc
 *     (CRC-32C of the descriptor's fields with crc = 0), flags (WRITABLE,
 *     INLINE), size, pos, seals, mode (i_mode & 07777), nr_runs, table_crc
 *     (CRC-32C of the table), entry_size, name_len, prev and next (the
 *     neighbours in the list), the table's struct kho_vmalloc, name
 *     (NUL-terminated); a table of up to LU_MEMFD_INLINE_RUNS entries
 *     (INLINE) follows in the rest of the page instead;
 *   table, nr_runs 8-byte entries, each a run of folios of one order that
 *     are contiguous both in the file and in physical memory: bits 0-39 the
 *     first folio's PFN, 40-44 the order, 45-63 the number of folios - 1.
 *     Runs cover the file from page 0 on, in order, without gaps (preserve
 *     fills the holes), so a run's file offset is implied. A 1 GiB memfd of
 *     4 KiB pages needs at most 2 MiB of table (the in-kernel LUO's 16-byte
 *     entries: 4 MiB); pages the allocator handed out in order, and large
 *     folios, need much less.
 *
 * Freeze rewrites pos, seals and mode (and the crc): all three may have
 * changed since preserve.
 *
 * Restore (new kernel). Every descriptor is checked in place (magic,
 * version, size of the record, crc, every field's range) before it is
 * restored from KHO or anything it points to is touched; then the table is
 * restored and checked the same way (crc, alignment, coverage). A bad
 * record fails with EINVAL and leaves whatever it refers to alone: memory
 * we cannot trust stays reserved.
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
 *
 * Finish frees everything a never-retrieved file's record refers to (a
 * file a worker restored is simply dropped; if the core cannot read the
 * sessions at all, such files are dropped when the module unloads). A retrieve that ran,
 * successful or not, has already freed everything (LUO never calls retrieve
 * twice for one file), so there is nothing left.
 *
 * Locking: preserve and unpreserve hold the inode lock while they freeze or
 * thaw the mapping and pin or unpin folios, as shmem_freeze() requires, and
 * lu_memfd_list_lock (inside the inode lock) while they link or unlink the
 * descriptor, which rewrites the neighbours' crc. Freeze only writes to the
 * descriptor, under lu_memfd_list_lock for the same reason; the session
 * core serializes the calls for one file. In the new kernel lu_memfd_pf_lock
 * guards the restore list and each entry's state; it is never held while a
 * file is built.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": memfd: " fmt

#include <linux/atomic.h>
#include <linux/bitfield.h>
#include <linux/completion.h>
#include <linux/crc32.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/kho/abi/kexec_handover.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "liveupdate.h"
#include "memfd.h"

#define LU_MEMFD_COMPATIBLE "memfd-v1"
#define LU_MEMFD_SUBTREE "liveupdate-memfd"

#define LU_MEMFD_MAGIC 0x464d554c /* "LUMF" in memory order */
#define LU_MEMFD_VERSION 2
#define LU_MEMFD_ROOT_MAGIC 0x524d554c /* "LUMR" */
#define LU_MEMFD_ROOT_VERSION 1

/* lu_memfd_desc.flags */
#define LU_MEMFD_WRITABLE BIT(0) /* the preserved file had FMODE_WRITE */
#define LU_MEMFD_INLINE BIT(1) /* the table is in the descriptor's page */
#define LU_MEMFD_DESC_FLAGS (LU_MEMFD_WRITABLE | LU_MEMFD_INLINE)

/* A table entry: a run of folios, see the format above. */
#define LU_MEMFD_RUN_PFN GENMASK_ULL(39, 0)
#define LU_MEMFD_RUN_ORDER GENMASK_ULL(44, 40)
#define LU_MEMFD_RUN_COUNT GENMASK_ULL(63, 45)
#define LU_MEMFD_RUN_MAX ((u32)FIELD_MAX(LU_MEMFD_RUN_COUNT) + 1)

/* Every seal 7.3 knows; anything else is refused rather than dropped. */
#define LU_MEMFD_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | \
			F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

/* Folios pinned per memfd_pin_folios() call (a page of pointers). */
#define LU_MEMFD_PIN_BATCH (PAGE_SIZE / sizeof(struct folio *))

/* Restores of at least this size are logged and listed in debugfs. */
#define LU_MEMFD_REPORT_SIZE BIT_ULL(20)

/**
 * struct lu_memfd_desc - the handover record of one memfd.
 * @magic:      LU_MEMFD_MAGIC.
 * @version:    LU_MEMFD_VERSION; any other version is refused.
 * @desc_size:  sizeof(struct lu_memfd_desc) of the writer.
 * @crc:        CRC-32C of the whole record, computed with @crc = 0.
 * @flags:      LU_MEMFD_WRITABLE, LU_MEMFD_INLINE.
 * @size:       i_size in bytes.
 * @pos:        f_pos at freeze (at preserve until then).
 * @seals:      the seals, as F_GET_SEALS returns them.
 * @mode:       i_mode & 07777.
 * @nr_runs:    entries in the table; 0 (and no table) for an empty file.
 * @table_crc:  CRC-32C of the @nr_runs entries.
 * @entry_size: size of a table entry of the writer (8).
 * @name_len:   strlen(@name).
 * @prev:       physical address of the previous descriptor in the list of
 *              preserved memfds, 0 for the first.
 * @next:       the next one, 0 for the last.
 * @table:      KHO's descriptor of the vmalloc'ed table (zero if INLINE).
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
	u64 nr_runs;
	u32 table_crc;
	u16 entry_size;
	u16 name_len;
	u64 prev;
	u64 next;
	struct kho_vmalloc table;
	char name[NAME_MAX + 1];
};
static_assert(offsetof(struct lu_memfd_desc, table) == 72);
static_assert(sizeof(struct lu_memfd_desc) == 88 + NAME_MAX + 1);
static_assert(sizeof(struct lu_memfd_desc) % sizeof(u64) == 0);

/* Runs that fit in the descriptor's page after the descriptor. */
#define LU_MEMFD_INLINE_RUNS \
	((PAGE_SIZE - sizeof(struct lu_memfd_desc)) / sizeof(u64))
static_assert(LU_MEMFD_INLINE_RUNS >= 64);

static u64 *lu_memfd_inline_runs(struct lu_memfd_desc *desc)
{
	return (u64 *)(desc + 1);
}

/**
 * struct lu_memfd_root - the list of preserved memfds, for the next kernel.
 * @magic:   LU_MEMFD_ROOT_MAGIC.
 * @version: LU_MEMFD_ROOT_VERSION.
 * @adopted: set by the next kernel when it took the list (not in @crc), so
 *           that a reload of the module in that kernel does not take it
 *           again.
 * @crc:     CRC-32C of the record with @crc = 0 and @adopted = 0.
 * @head:    physical address of the first descriptor, 0 if none.
 * @tail:    the last one.
 * @count:   descriptors in the list.
 */
struct lu_memfd_root {
	u32 magic;
	u16 version;
	u16 adopted;
	u32 crc;
	u32 reserved;
	u64 head;
	u64 tail;
	u64 count;
};
static_assert(sizeof(struct lu_memfd_root) == 40);

/**
 * struct lu_memfd_state - what preserve leaves in args->private_data.
 * @desc:  the descriptor (KHO-preserved page).
 * @table: the table (KHO-preserved vmalloc, or in the descriptor's page
 *         when the descriptor is INLINE), NULL for an empty file.
 * @meta:  bytes of preserved memory the two take (lu_memfd_meta_bytes).
 */
struct lu_memfd_state {
	struct lu_memfd_desc *desc;
	u64 *table;
	u64 meta;
};

/* The outgoing list and its root; the root is published at register. */
static DEFINE_MUTEX(lu_memfd_list_lock);
static struct lu_memfd_root *lu_memfd_root;

/* Handover metadata of every preserved memfd (lu_memfd_metadata_bytes()). */
static atomic64_t lu_memfd_meta_bytes = ATOMIC64_INIT(0);

/* tmpfs with huge=within_size, for files that had large folios. */
static DEFINE_MUTEX(lu_memfd_mnt_lock);
static struct vfsmount *lu_memfd_huge_mnt;

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

static u32 lu_memfd_root_crc(const struct lu_memfd_root *root)
{
	struct lu_memfd_root copy = *root;

	copy.crc = 0;
	copy.adopted = 0;
	return lu_memfd_crc(&copy, sizeof(copy));
}

static u64 lu_memfd_run(unsigned long pfn, unsigned int order, u32 count)
{
	return FIELD_PREP(LU_MEMFD_RUN_PFN, pfn) |
	       FIELD_PREP(LU_MEMFD_RUN_ORDER, order) |
	       FIELD_PREP(LU_MEMFD_RUN_COUNT, count - 1);
}

static unsigned long lu_memfd_run_pfn(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_PFN, run);
}

static unsigned int lu_memfd_run_order(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_ORDER, run);
}

static u32 lu_memfd_run_count(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_COUNT, run) + 1;
}

/* Preserved bytes of a table of @nr entries: its pages and KHO's chunks. */
static u64 lu_memfd_table_bytes(u64 nr)
{
	u64 pages = DIV_ROUND_UP(nr * sizeof(u64), PAGE_SIZE);

	return nr ? (pages + DIV_ROUND_UP(pages, KHO_VMALLOC_SIZE)) * PAGE_SIZE : 0;
}

u64 lu_memfd_metadata_bytes(void)
{
	return atomic64_read(&lu_memfd_meta_bytes);
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

/* ---- the old kernel ------------------------------------------------------ */

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
static void lu_memfd_release_folios(const u64 *table, u64 nr)
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
static int lu_memfd_pin_folios(struct file *file, loff_t size,
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

static struct lu_memfd_desc *lu_memfd_desc_at(u64 phys)
{
	return phys ? phys_to_virt(phys) : NULL;
}

static void lu_memfd_root_update(void)
{
	lu_memfd_root->crc = lu_memfd_root_crc(lu_memfd_root);
}

/*
 * Append @desc to the list of preserved memfds and seal its crc: under the
 * list lock, since a neighbour's list change rewrites it too.
 */
static void lu_memfd_list_add(struct lu_memfd_desc *desc)
{
	u64 phys = virt_to_phys(desc);
	struct lu_memfd_desc *tail;

	guard(mutex)(&lu_memfd_list_lock);
	tail = lu_memfd_desc_at(lu_memfd_root->tail);
	desc->prev = lu_memfd_root->tail;
	desc->next = 0;
	if (tail) {
		tail->next = phys;
		tail->crc = lu_memfd_desc_crc(tail);
	} else {
		lu_memfd_root->head = phys;
	}
	lu_memfd_root->tail = phys;
	lu_memfd_root->count++;
	lu_memfd_root_update();
	desc->crc = lu_memfd_desc_crc(desc);
}

/*
 * The neighbours are read under the list lock too: a concurrent unpreserve
 * of a neighbour (another session's close) relinks @desc and may free the
 * page its old link pointed to.
 */
static void lu_memfd_list_del(struct lu_memfd_desc *desc)
{
	struct lu_memfd_desc *prev, *next;

	guard(mutex)(&lu_memfd_list_lock);
	prev = lu_memfd_desc_at(desc->prev);
	next = lu_memfd_desc_at(desc->next);
	if (prev) {
		prev->next = desc->next;
		prev->crc = lu_memfd_desc_crc(prev);
	} else {
		lu_memfd_root->head = desc->next;
	}
	if (next) {
		next->prev = desc->prev;
		next->crc = lu_memfd_desc_crc(next);
	} else {
		lu_memfd_root->tail = desc->prev;
	}
	lu_memfd_root->count--;
	lu_memfd_root_update();
}

static int lu_memfd_preserve(struct liveupdate_file_op_args *args)
{
	struct file *file = args->file;
	struct inode *inode = file_inode(file);
	struct lu_memfd_state *state;
	struct lu_memfd_desc *desc;
	unsigned int seals;
	u64 *table = NULL;
	u64 nr = 0;
	loff_t size;
	int err;

	if (!shmem_file(file))
		return -EOPNOTSUPP;

	state = kzalloc_obj(*state);
	if (!state)
		return -ENOMEM;
	/* A whole page: a small table goes after the descriptor. */
	desc = kho_alloc_preserve(PAGE_SIZE);
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
		err = lu_memfd_pin_folios(file, size, desc, &table, &nr);
		if (err)
			goto err_thaw;
		if (!(desc->flags & LU_MEMFD_INLINE)) {
			err = kho_preserve_vmalloc(table, &desc->table);
			if (err)
				goto err_folios;
		}
	}

	desc->magic = LU_MEMFD_MAGIC;
	desc->version = LU_MEMFD_VERSION;
	desc->desc_size = sizeof(*desc);
	desc->flags |= (file->f_mode & FMODE_WRITE) ? LU_MEMFD_WRITABLE : 0;
	desc->size = size;
	desc->pos = file->f_pos;
	desc->seals = seals;
	desc->mode = inode->i_mode & S_IALLUGO;
	desc->nr_runs = nr;
	desc->table_crc = nr ? lu_memfd_crc(table, nr * sizeof(*table)) : 0;
	desc->entry_size = sizeof(*table);
	lu_memfd_record_name(desc, file);
	lu_memfd_list_add(desc);
	inode_unlock(inode);

	state->desc = desc;
	state->table = table;
	state->meta = PAGE_SIZE +
		      (desc->flags & LU_MEMFD_INLINE ? 0 : lu_memfd_table_bytes(nr));
	atomic64_add(state->meta, &lu_memfd_meta_bytes);
	args->private_data = state;
	args->serialized_data = virt_to_phys(desc);
	return 0;

err_folios:
	lu_memfd_release_folios(table, nr);
	vfree(table); /* never the inline table: that cannot fail */
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
	lu_memfd_list_del(desc);
	lu_memfd_release_folios(state->table, desc->nr_runs);
	shmem_freeze(inode, false);
	inode_unlock(inode);

	if (state->table && !(desc->flags & LU_MEMFD_INLINE)) {
		kho_unpreserve_vmalloc(&desc->table);
		vfree(state->table);
	}
	kho_unpreserve_free(desc);
	atomic64_sub(state->meta, &lu_memfd_meta_bytes);
	kfree(state);
	args->private_data = NULL;
}

/*
 * What may change after preserve is taken again at the reboot: the position,
 * and the seals and mode under the inode lock (F_SEAL_FUTURE_WRITE,
 * F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL and fchmod() all work on a
 * preserved memfd; F_SEAL_WRITE does not, the pins refuse it).
 */
static int lu_memfd_freeze(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_state *state = args->private_data;
	struct inode *inode = file_inode(args->file);
	struct lu_memfd_desc *desc;
	unsigned int seals;
	umode_t mode;

	if (WARN_ON_ONCE(!state))
		return -EINVAL;
	desc = state->desc;
	inode_lock_shared(inode);
	seals = SHMEM_I(inode)->seals;
	mode = inode->i_mode & S_IALLUGO;
	inode_unlock_shared(inode);
	if (seals & ~LU_MEMFD_SEALS)
		return -EOPNOTSUPP;

	/* Under the list lock: a neighbour's unpreserve rewrites our crc too. */
	guard(mutex)(&lu_memfd_list_lock);
	desc->pos = READ_ONCE(args->file->f_pos);
	desc->seals = seals;
	desc->mode = mode;
	desc->crc = lu_memfd_desc_crc(desc);
	return 0;
}

static void lu_memfd_unfreeze(struct liveupdate_file_op_args *args)
{
	/*
	 * Freeze only refreshed what the descriptor says of the file; the
	 * next freeze refreshes it again.
	 */
}

/* ---- the new kernel: records --------------------------------------------- */

static void lu_memfd_desc_free(struct lu_memfd_desc *desc)
{
	folio_put(virt_to_folio(desc));
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
static bool lu_memfd_kho_block(unsigned long pfn, unsigned int order)
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
static bool lu_memfd_desc_valid(struct lu_memfd_desc *desc)
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

/*
 * The descriptor at @phys, checked where the previous kernel left it,
 * before KHO is asked to restore its page: first that it is a page KHO
 * holds (so it is RAM, and not taken yet: a list that loops, or two
 * records that name one descriptor, stop here), then its fields. Return:
 * the restored, checked descriptor (free with lu_memfd_desc_free()), or
 * ERR_PTR(-EINVAL).
 */
static struct lu_memfd_desc *lu_memfd_desc_restore(u64 phys)
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

/* Memory a record names: PFNs [start, end), and whose record it is. */
struct lu_memfd_extent {
	unsigned long start;
	unsigned long end;
	struct lu_memfd_pf *pf;
};

static int lu_memfd_extent_cmp(const void *a, const void *b)
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
static bool lu_memfd_table_valid(const struct lu_memfd_desc *desc,
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

static void lu_memfd_table_free(struct lu_memfd_desc *desc, u64 *table)
{
	if (!(desc->flags & LU_MEMFD_INLINE))
		vfree(table);
}

/*
 * KHO's own record of a vmalloc'ed table (struct kho_vmalloc: a list of
 * chunk pages, each listing data pages), checked where the previous kernel
 * left it, because kho_restore_vmalloc() follows every address in it: each
 * a block KHO holds, none twice, the list exactly as long as the table.
 * Return: the PFNs of the data pages (total_pages of them, in order), then
 * of the chunks (*@nr_chunks), kvmalloc'ed; NULL if the record is bad.
 */
static unsigned long *lu_memfd_vmalloc_pages(const struct kho_vmalloc *v,
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

/* ---- the new kernel: folios into the new file ---------------------------- */

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
static struct file *lu_memfd_restore(struct lu_memfd_desc *desc, bool discard)
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

/* ---- the new kernel: restoring before anyone asks ------------------------ */

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

static DEFINE_MUTEX(lu_memfd_pf_lock);
static DEFINE_HASHTABLE(lu_memfd_pfs, 10);
static LIST_HEAD(lu_memfd_pf_log);
/*
 * The restores wait for the first open of /dev/liveupdate, then run charged
 * to the opener's memory cgroup (see "Restore" above); until then the walk
 * leaves its entries on lu_memfd_pf_pending, in preservation order.
 */
static LIST_HEAD(lu_memfd_pf_pending);
static bool lu_memfd_pf_started;
static struct mem_cgroup *lu_memfd_memcg;
static struct workqueue_struct *lu_memfd_wq;
static struct lu_memfd_root *lu_memfd_in_root;
/* Complete when every entry the walk will queue is in lu_memfd_pfs. */
static DECLARE_COMPLETION(lu_memfd_walked);
static u64 lu_memfd_load_ns;
static struct dentry *lu_memfd_debugfs;

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
static struct lu_memfd_pf *lu_memfd_pf_find(u64 phys)
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
static struct file *lu_memfd_pf_take(struct lu_memfd_pf *pf, bool discard)
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
static void lu_memfd_pf_start(void)
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

static void lu_memfd_pf_stop(void)
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

/* ---- the new kernel: the file ops ---------------------------------------- */

static int lu_memfd_retrieve(struct liveupdate_file_op_args *args)
{
	struct lu_memfd_pf *pf = lu_memfd_pf_find(args->serialized_data);
	struct lu_memfd_desc *desc;
	struct file *file;

	if (pf) {
		file = lu_memfd_pf_take(pf, false);
	} else {
		desc = lu_memfd_desc_restore(args->serialized_data);
		if (IS_ERR(desc))
			return PTR_ERR(desc);
		file = lu_memfd_restore(desc, false);
	}
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
	struct lu_memfd_desc *desc;
	struct lu_memfd_pf *pf;

	/*
	 * A retrieve that ran (successful or not) freed everything the record
	 * referred to; only a file that was never retrieved has memory left.
	 */
	if (args->retrieve_status)
		return;

	pf = lu_memfd_pf_find(args->serialized_data);
	if (pf) {
		lu_memfd_pf_take(pf, true);
		return;
	}
	desc = lu_memfd_desc_restore(args->serialized_data);
	if (!IS_ERR(desc))
		lu_memfd_restore(desc, true);
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

int lu_memfd_register(bool restore_ahead)
{
	int err;

	lu_memfd_root = kho_alloc_preserve(sizeof(*lu_memfd_root));
	if (IS_ERR(lu_memfd_root))
		return PTR_ERR(lu_memfd_root);
	lu_memfd_root->magic = LU_MEMFD_ROOT_MAGIC;
	lu_memfd_root->version = LU_MEMFD_ROOT_VERSION;
	lu_memfd_root_update();
	atomic64_set(&lu_memfd_meta_bytes, PAGE_SIZE);
	err = kho_add_subtree(LU_MEMFD_SUBTREE, lu_memfd_root, sizeof(*lu_memfd_root));
	if (err)
		goto err_root;
	err = liveupdate_register_file_handler(&lu_memfd_handler);
	if (err)
		goto err_subtree;
	complete_all(&lu_memfd_walked);
	if (restore_ahead)
		lu_memfd_pf_start();
	lu_memfd_debugfs = debugfs_create_file("liveupdate_memfd", 0400, NULL,
					       NULL, &lu_memfd_debugfs_fops);
	return 0;

err_subtree:
	kho_remove_subtree(lu_memfd_root);
err_root:
	kho_unpreserve_free(lu_memfd_root);
	return err;
}

void lu_memfd_unregister(void)
{
	debugfs_remove(lu_memfd_debugfs);
	liveupdate_unregister_file_handler(&lu_memfd_handler);
	lu_memfd_pf_stop();
	kho_remove_subtree(lu_memfd_root);
	kho_unpreserve_free(lu_memfd_root);
	if (lu_memfd_huge_mnt)
		kern_unmount(lu_memfd_huge_mnt);
}
