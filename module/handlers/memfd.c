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
 * The handler is split by concern:
 *
 *   memfd_format.{h,c}     the handover format and the checks of what the
 *                          previous kernel wrote;
 *   memfd_preserve.c       preserve, unpreserve, freeze (the old kernel) and
 *                          the list of preserved memfds;
 *   memfd_pin.c            the preserved folios: pinned, recorded as runs,
 *                          handed to KHO;
 *   memfd_restore.c        a preserved memfd back into a fresh shmem file
 *                          (the new kernel);
 *   memfd_restore_queue.c  the previous kernel's memfds restored ahead;
 *   memfd_debugfs.c        the restore-ahead timings;
 *   memfd.c                the handler's ops and its registration.
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
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kexec_handover.h>
#include <linux/module.h>
#include <linux/shmem_fs.h>

#include "memfd.h"
#include "memfd_internal.h"

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
	lu_memfd_debugfs_create();
	return 0;

err_subtree:
	kho_remove_subtree(lu_memfd_root);
err_root:
	kho_unpreserve_free(lu_memfd_root);
	return err;
}

void lu_memfd_unregister(void)
{
	lu_memfd_debugfs_remove();
	liveupdate_unregister_file_handler(&lu_memfd_handler);
	lu_memfd_pf_stop();
	kho_remove_subtree(lu_memfd_root);
	kho_unpreserve_free(lu_memfd_root);
	lu_memfd_huge_unmount();
}
