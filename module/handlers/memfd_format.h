/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handover format of a preserved memfd: the records the old kernel's
 * preserve writes (memfd_preserve.c, memfd_pin.c) and the new kernel reads
 * (memfd_restore.c, memfd_restore_queue.c), and the checks of what the
 * previous kernel wrote (memfd_format.c). Nothing here touches a file.
 *
 * The handover format (all fields native-endian, this is one machine):
 *
 *   root, one page published as the KHO subtree "liveupdate-memfd": magic
 *     "LUMR", version, the first and last descriptor of the list of every
 *     preserved memfd, and their count (so that the next kernel can start
 *     restoring them before anyone asks, see memfd_restore_queue.c);
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
 */
#ifndef LU_HANDLERS_MEMFD_FORMAT_H
#define LU_HANDLERS_MEMFD_FORMAT_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/fcntl.h>
#include <linux/kho/abi/kexec_handover.h>
#include <linux/limits.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <asm/page.h>

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

static inline u64 *lu_memfd_inline_runs(struct lu_memfd_desc *desc)
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

static inline u64 lu_memfd_run(unsigned long pfn, unsigned int order, u32 count)
{
	return FIELD_PREP(LU_MEMFD_RUN_PFN, pfn) |
	       FIELD_PREP(LU_MEMFD_RUN_ORDER, order) |
	       FIELD_PREP(LU_MEMFD_RUN_COUNT, count - 1);
}

static inline unsigned long lu_memfd_run_pfn(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_PFN, run);
}

static inline unsigned int lu_memfd_run_order(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_ORDER, run);
}

static inline u32 lu_memfd_run_count(u64 run)
{
	return FIELD_GET(LU_MEMFD_RUN_COUNT, run) + 1;
}

/*
 * Memory a record names: PFNs [start, end), and whose record it is (an
 * entry of memfd_restore_queue.c, when its records are checked together).
 */
struct lu_memfd_pf;
struct lu_memfd_extent {
	unsigned long start;
	unsigned long end;
	struct lu_memfd_pf *pf;
};

u32 lu_memfd_crc(const void *data, size_t len);
u32 lu_memfd_desc_crc(struct lu_memfd_desc *desc);
u32 lu_memfd_root_crc(const struct lu_memfd_root *root);
bool lu_memfd_kho_block(unsigned long pfn, unsigned int order);
bool lu_memfd_desc_valid(struct lu_memfd_desc *desc);
int lu_memfd_extent_cmp(const void *a, const void *b);
bool lu_memfd_table_valid(const struct lu_memfd_desc *desc, const u64 *table);
unsigned long *lu_memfd_vmalloc_pages(const struct kho_vmalloc *v,
				      unsigned long *nr_chunks);

#endif /* LU_HANDLERS_MEMFD_FORMAT_H */
