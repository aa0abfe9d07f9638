// SPDX-License-Identifier: GPL-2.0
/*
 * The old kernel's side of the memfd handler: preserve, unpreserve, freeze
 * and unfreeze, and the list of preserved memfds the next kernel reads.
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
 * memfd_format.h) and handed to KHO as they are: a large folio as one
 * folio, a run of 4 KiB pages as one range of pages (kho_preserve_pages(),
 * which KHO tracks as a few naturally aligned blocks instead of one entry
 * per page; the next kernel takes it back with kho_restore_pages()).
 * Fallocated folios that were never written (not uptodate) are zeroed now,
 * because a write after preserve would make them uptodate behind our back.
 */
#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "memfd.h"
#include "memfd_internal.h"

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
struct lu_memfd_root *lu_memfd_root;

/* Handover metadata of every preserved memfd (lu_memfd_metadata_bytes()). */
atomic64_t lu_memfd_meta_bytes = ATOMIC64_INIT(0);

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

void lu_memfd_root_update(void)
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

int lu_memfd_preserve(struct liveupdate_file_op_args *args)
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

void lu_memfd_unpreserve(struct liveupdate_file_op_args *args)
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
int lu_memfd_freeze(struct liveupdate_file_op_args *args)
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

void lu_memfd_unfreeze(struct liveupdate_file_op_args *args)
{
	/*
	 * Freeze only refreshed what the descriptor says of the file; the
	 * next freeze refreshes it again.
	 */
}
