// SPDX-License-Identifier: GPL-2.0
/*
 * The kexec handover (KHO) calls the core uses (see lu_glue.h). All of them
 * are exported by the kernel; nothing here reaches into KHO internals.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/io.h>
#include <linux/kexec_handover.h>
#include <linux/memblock.h>
#include <linux/mm.h>

#include "lu_glue.h"
#include "lu_kho.h"

int lu_kho_find_incoming(uint64_t *phys, uint64_t *size)
{
	phys_addr_t addr;
	size_t len;
	int err;

	if (!is_kho_boot())
		return -ENOENT;
	err = kho_retrieve_subtree(LU_KHO_SUBTREE, &addr, &len);
	if (err)
		return err;
	*phys = addr;
	*size = len;
	return 0;
}

const void *lu_kho_peek(uint64_t phys, uint64_t size)
{
	unsigned long pfn, last;

	if (!size || phys + size < phys)
		return NULL;
	last = PHYS_PFN(phys + size - 1);
	for (pfn = PHYS_PFN(phys); pfn <= last; pfn++) {
		if (!pfn_to_online_page(pfn))
			return NULL;
	}
	return phys_to_virt(phys);
}

void *lu_kho_restore(uint64_t phys)
{
	struct folio *folio;

	if (!PAGE_ALIGNED(phys))
		return NULL;
	folio = kho_restore_folio(phys);
	return folio ? folio_address(folio) : NULL;
}

void lu_kho_free_restored(void *mem)
{
	folio_put(virt_to_folio(mem));
}

void *lu_kho_alloc_preserved(size_t size)
{
	void *mem = kho_alloc_preserve(size);

	return IS_ERR(mem) ? NULL : mem;
}

void lu_kho_free_preserved(void *mem)
{
	kho_unpreserve_free(mem);
}

uint64_t lu_kho_phys(const void *mem)
{
	return virt_to_phys((void *)mem);
}

int lu_kho_publish(void *blob, size_t size)
{
	return kho_add_subtree(LU_KHO_SUBTREE, blob, size);
}

void lu_kho_unpublish(void *blob)
{
	kho_remove_subtree(blob);
}
