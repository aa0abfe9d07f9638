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

/*
 * Only RAM is in the direct map: a page of a firmware-reserved range has a
 * struct page (pfn_to_online_page() finds it) but reading it faults.
 */
const void *lu_kho_peek(uint64_t phys, uint64_t size)
{
	unsigned long pfn, last;

	if (!size || phys + size < phys)
		return NULL;
	last = PHYS_PFN(phys + size - 1);
	for (pfn = PHYS_PFN(phys); pfn <= last; pfn++) {
		if (!pfn_to_online_page(pfn) || !page_is_ram(pfn))
			return NULL;
	}
	return phys_to_virt(phys);
}

/*
 * KHO marks the first page of every block the previous kernel preserved
 * (kexec_handover.c's union kho_page_info in page->private: the order and
 * this magic) until it is restored; kho_restore_folio() warns about
 * anything else, e.g. a damaged link to a page that merely holds a copy of
 * a valid block.
 */
#define LU_KHO_PAGE_MAGIC 0x4b484f50U /* "KHOP" */

union lu_kho_page_info {
	unsigned long page_private;
	struct {
		unsigned int order;
		unsigned int magic;
	};
};

void *lu_kho_restore(uint64_t phys)
{
	union lu_kho_page_info info;
	struct folio *folio;
	struct page *page;

	if (!PAGE_ALIGNED(phys))
		return NULL;
	page = pfn_to_online_page(PHYS_PFN(phys));
	if (!page)
		return NULL;
	info.page_private = READ_ONCE(page->private);
	if (info.magic != LU_KHO_PAGE_MAGIC)
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
