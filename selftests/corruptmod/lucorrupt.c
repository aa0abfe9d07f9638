// SPDX-License-Identifier: GPL-2.0
/*
 * lucorrupt: damages the previous kernel's liveupdate handover in place,
 * for selftests/handover_corrupt.sh.
 *
 * Loaded in the new kernel before liveupdate.ko, it finds the two KHO
 * subtrees the previous kernel's module published:
 *
 *   "liveupdate-module"  the core's root record (module/core/
 *                        handover_header.hpp) and its record chains: the
 *                        sessions, each session's files and dependencies,
 *                        the FLBs (module/core/record_chain.hpp);
 *   "liveupdate-memfd"   the memfd handler's root, its list of
 *                        descriptors, their run tables (in the
 *                        descriptor's page, or vmalloc'ed and handed over
 *                        as KHO's struct kho_vmalloc chunks) and the folios
 *                        (module/handlers/memfd.c);
 *
 * and damages them through the direct map: the memory is preserved and
 * reserved, nobody touches it until liveupdate.ko restores it. The layouts
 * are copied here on purpose: a test of the format must not share its code.
 *
 * Parameters, read once at load:
 *   cases=NAME[@I[:J]],...  targeted cases (lc_cases[] below); I and J pick
 *                           the instance: a descriptor in list order, a
 *                           session in chain order, a file of a session
 *   mode=flip|flip-crc target=STRUCT first=N count=M seed=S
 *                           M seeded random corruptions of instances
 *                           N..N+M-1 of STRUCT (desc, table, chunk, mroot,
 *                           root, sessions, files, deps, flb), instance i
 *                           with seed S+i. flip-crc recomputes the
 *                           checksums afterwards, so that the fields
 *                           themselves have to be validated.
 * A case without a target (so that a test never corrupts nothing without
 * noticing) is counted in the read-only parameter failures (the load
 * itself succeeds: insmod may retry a failed one, which would damage
 * everything twice); every change is logged as "lucorrupt: case NAME:
 * what", every random one with its seed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/crc32.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kexec_handover.h>
#include <linux/kho/abi/kexec_handover.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/string.h>
#include <linux/unaligned.h>

static char *cases = "";
module_param(cases, charp, 0444);
MODULE_PARM_DESC(cases, "targeted cases: NAME[@I[:J]],...");
static char *mode = "";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "random corruptions: flip or flip-crc");
static char *target = "";
module_param(target, charp, 0444);
MODULE_PARM_DESC(target, "what mode= corrupts: desc, table, chunk, mroot, root, sessions, files, deps, flb");
static uint first;
module_param(first, uint, 0444);
MODULE_PARM_DESC(first, "first instance mode= corrupts");
static uint count = 1;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "instances mode= corrupts");
static ulong seed;
module_param(seed, ulong, 0444);
MODULE_PARM_DESC(seed, "seed of the first random corruption (+1 per instance)");
static uint applied;
module_param(applied, uint, 0444);
MODULE_PARM_DESC(applied, "corruptions applied at load");
static uint failures;
module_param(failures, uint, 0444);
MODULE_PARM_DESC(failures, "cases or instances that had no target");

/* ---- the core's format (module/core) ---------------------------------- */

#define LC_CORE_SUBTREE "liveupdate-module"
#define LC_ROOT_MAGIC 0x004f48444f4d554cULL
#define LC_ROOT_VERSION 8
#define LC_ROOT_SIZE 12
#define LC_ROOT_GENERATION 16
#define LC_ROOT_STATE 24
#define LC_ROOT_PAYLOAD 32
#define LC_ROOT_CRC 48
#define LC_ROOT_CONSUMED 56
#define LC_ROOT_FLB 64
#define LC_ROOT_LEN 80
#define LC_CONSUMED_OK 0x4b4f4450 /* "PDOK" */

#define LC_BLOCK_SIZE 4096
#define LC_BLOCK_MAGIC 0x4b42554c /* "LUBK" */
#define LC_BLOCK_ENTRY_SIZE 4
#define LC_BLOCK_CAPACITY 6
#define LC_BLOCK_NEXT 8
#define LC_BLOCK_CRC 16
#define LC_BLOCK_KIND 20
#define LC_BLOCK_HEADER 24
#define LC_ENTRY_HEADER 8
#define LC_KIND_FILES 2

#define LC_SESSION_FILES 64
#define LC_SESSION_DEPS 72
#define LC_FILE_TOKEN 0
#define LC_FILE_DATA 8
#define LC_FILE_COMPATIBLE 16
#define LC_DEP_TOKEN 8
#define LC_FLB_VERSION 0
#define LC_FLB_COUNT 16

/* ---- the memfd handler's format (module/handlers/memfd.c) ------------ */

#define LC_MEMFD_SUBTREE "liveupdate-memfd"
#define LC_MEMFD_INLINE BIT(1)
#define LC_RUN_PFN GENMASK_ULL(39, 0)
#define LC_RUN_ORDER GENMASK_ULL(44, 40)
#define LC_RUN_COUNT GENMASK_ULL(63, 45)

struct lc_memfd_root {
	u32 magic;
	u16 version;
	u16 adopted;
	u32 crc;
	u32 reserved;
	u64 head;
	u64 tail;
	u64 count;
};
static_assert(sizeof(struct lc_memfd_root) == 40);

struct lc_memfd_desc {
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
static_assert(sizeof(struct lc_memfd_desc) == 344);

#define LC_INLINE_RUNS ((PAGE_SIZE - sizeof(struct lc_memfd_desc)) / sizeof(u64))
#define LC_RUNS_PER_PAGE (PAGE_SIZE / sizeof(u64))

/* An address beyond any RAM this machine can have. */
#define LC_NONRAM BIT_ULL(50)

/* Pages of this kernel that were never preserved: zeroes, and a copy. */
static struct page *lc_zero_page, *lc_copy_page;

static u8 *lc_root;
static struct lc_memfd_root *lc_mroot;

/*
 * The descriptors in list order, found before anything is damaged (a case
 * that breaks a link must not move the ones after it).
 */
#define LC_MAX_DESCS 4096
static u64 lc_descs[LC_MAX_DESCS];
static unsigned int lc_nr_descs;

/* ---- reading the handover in place ------------------------------------ */

/* RAM of this kernel in the direct map; NULL for anything else. */
static void *lc_map(u64 phys, u64 len)
{
	unsigned long pfn;

	if (!phys || !len || phys + len < phys)
		return NULL;
	for (pfn = PHYS_PFN(phys); pfn <= PHYS_PFN(phys + len - 1); pfn++)
		if (!pfn_to_online_page(pfn) || !page_is_ram(pfn))
			return NULL;
	return phys_to_virt(phys);
}

static u64 lc_phys(void *p)
{
	return virt_to_phys(p);
}

/* A page of our own kernel image. */
static u64 lc_kernel_phys(void)
{
	return __pa_symbol(kho_retrieve_subtree) & PAGE_MASK;
}

/*
 * A page that has a struct page (so pfn_to_online_page() accepts it) but is
 * not RAM: a firmware-reserved range inside a memory section, above 1 MiB.
 * 0 when the machine has none.
 */
static u64 lc_hole_phys(void)
{
	static u64 hole = 1;
	unsigned long pfn;

	if (hole != 1)
		return hole;
	hole = 0;
	for (pfn = PHYS_PFN(SZ_1M); pfn < PHYS_PFN(SZ_4G); pfn++) {
		if (!pfn_to_online_page(pfn)) {
			/* Skip the rest of an absent section. */
			pfn |= PAGES_PER_SECTION - 1;
			continue;
		}
		if (!page_is_ram(pfn)) {
			hole = PFN_PHYS(pfn);
			break;
		}
	}
	return hole;
}

static u32 lc_root_crc(const u8 *r)
{
	return ~crc32c(crc32c(~0U, r, LC_ROOT_CRC), r + LC_ROOT_FLB, LC_ROOT_LEN - LC_ROOT_FLB);
}

static void lc_root_seal(void)
{
	put_unaligned_le32(lc_root_crc(lc_root), lc_root + LC_ROOT_CRC);
}

static u32 lc_block_crc(const u8 *b)
{
	return ~crc32c(crc32c(~0U, b, LC_BLOCK_CRC), b + LC_BLOCK_CRC + 4,
		       LC_BLOCK_SIZE - LC_BLOCK_CRC - 4);
}

static void lc_block_seal(u8 *b)
{
	put_unaligned_le32(lc_block_crc(b), b + LC_BLOCK_CRC);
}

static u8 *lc_block(u64 phys)
{
	u8 *b = PAGE_ALIGNED(phys) ? lc_map(phys, LC_BLOCK_SIZE) : NULL;

	return b && get_unaligned_le32(b) == LC_BLOCK_MAGIC ? b : NULL;
}

static u64 lc_block_next(const u8 *b)
{
	return get_unaligned_le64(b + LC_BLOCK_NEXT);
}

/* The last block of the chain at @head (at most 4096 blocks). */
static u8 *lc_chain_last(u64 head)
{
	u8 *b = lc_block(head);
	int n;

	for (n = 0; b && lc_block_next(b) && n < 4096; n++)
		b = lc_block(lc_block_next(b));
	return b;
}

/* The payload of used entry @i of the chain at @head; its block in *@bp. */
static u8 *lc_chain_entry(u64 head, unsigned int i, u8 **bp)
{
	u8 *b = lc_block(head);
	int n;

	for (n = 0; b && n < 4096; n++) {
		u16 size = get_unaligned_le16(b + LC_BLOCK_ENTRY_SIZE);
		u16 cap = get_unaligned_le16(b + LC_BLOCK_CAPACITY);
		u16 e;

		for (e = 0; e < cap && LC_BLOCK_HEADER + (e + 1) * size <= LC_BLOCK_SIZE; e++) {
			u8 *entry = b + LC_BLOCK_HEADER + e * size;

			if (get_unaligned_le32(entry) == 1 && i-- == 0) {
				*bp = b;
				return entry + LC_ENTRY_HEADER;
			}
		}
		b = lc_block(lc_block_next(b));
	}
	return NULL;
}

/* Bytes of @b up to the end of its last used entry. */
static size_t lc_block_used(const u8 *b)
{
	u16 size = get_unaligned_le16(b + LC_BLOCK_ENTRY_SIZE);
	u16 cap = get_unaligned_le16(b + LC_BLOCK_CAPACITY);
	size_t used = LC_BLOCK_HEADER;
	u16 e;

	for (e = 0; e < cap && LC_BLOCK_HEADER + (e + 1) * size <= LC_BLOCK_SIZE; e++)
		if (get_unaligned_le32(b + LC_BLOCK_HEADER + e * size) == 1)
			used = LC_BLOCK_HEADER + (e + 1) * size;
	return used;
}

static u64 lc_payload(void)
{
	return get_unaligned_le64(lc_root + LC_ROOT_PAYLOAD);
}

/* Session record @i; its block in *@bp. */
static u8 *lc_session(unsigned int i, u8 **bp)
{
	return lc_chain_entry(lc_payload(), i, bp);
}

/* The head of chain @off (LC_SESSION_FILES/DEPS) of session @i. */
static u64 lc_session_chain(unsigned int i, size_t off)
{
	u8 *b, *s = lc_session(i, &b);

	return s ? get_unaligned_le64(s + off) : 0;
}

static u32 lc_memfd_crc(const void *p, size_t len)
{
	return ~crc32c(~0U, p, len);
}

static void lc_mroot_seal(void)
{
	struct lc_memfd_root copy = *lc_mroot;

	copy.crc = 0;
	copy.adopted = 0;
	lc_mroot->crc = lc_memfd_crc(&copy, sizeof(copy));
}

static struct lc_memfd_desc *lc_desc(unsigned int i)
{
	return i < lc_nr_descs ? lc_map(lc_descs[i], PAGE_SIZE) : NULL;
}

static bool lc_inline(const struct lc_memfd_desc *d)
{
	return d->flags & LC_MEMFD_INLINE;
}

/* Chunk @k of a vmalloc'ed table (KHO's struct kho_vmalloc_chunk). */
static struct kho_vmalloc_chunk *lc_chunk(const struct lc_memfd_desc *d, unsigned int k)
{
	struct kho_vmalloc_chunk *chunk = lc_map(d->table.first.phys, PAGE_SIZE);

	while (chunk && k--)
		chunk = lc_map(chunk->hdr.next.phys, PAGE_SIZE);
	return chunk;
}

/* Where run @i of @d's table is, in place. */
static u64 *lc_run(const struct lc_memfd_desc *d, u64 i)
{
	struct kho_vmalloc_chunk *chunk;
	u64 page = div_u64(i, LC_RUNS_PER_PAGE);
	u64 *p;

	if (i >= d->nr_runs)
		return NULL;
	if (lc_inline(d))
		return i < LC_INLINE_RUNS ? (u64 *)(d + 1) + i : NULL;
	chunk = lc_chunk(d, div_u64(page, KHO_VMALLOC_SIZE));
	if (!chunk)
		return NULL;
	p = lc_map(chunk->phys[page % KHO_VMALLOC_SIZE], PAGE_SIZE);
	return p ? p + i % LC_RUNS_PER_PAGE : NULL;
}

static void lc_desc_seal(struct lc_memfd_desc *d)
{
	u32 crc = ~0U;
	u64 i;

	for (i = 0; i < d->nr_runs; i++) {
		u64 *run = lc_run(d, i);

		if (!run)
			break;
		crc = crc32c(crc, run, sizeof(*run));
	}
	if (i && i == d->nr_runs)
		d->table_crc = ~crc;
	d->crc = 0;
	d->crc = lc_memfd_crc(d, sizeof(*d));
}

static u64 lc_run_make(u64 pfn, unsigned int order, u64 count)
{
	return FIELD_PREP(LC_RUN_PFN, pfn) | FIELD_PREP(LC_RUN_ORDER, order) |
	       FIELD_PREP(LC_RUN_COUNT, count - 1);
}

static u64 lc_run_pfn(u64 run)
{
	return FIELD_GET(LC_RUN_PFN, run);
}

static unsigned int lc_run_order(u64 run)
{
	return FIELD_GET(LC_RUN_ORDER, run);
}

static u64 lc_run_count(u64 run)
{
	return FIELD_GET(LC_RUN_COUNT, run) + 1;
}

/* ---- the cases --------------------------------------------------------- */

struct lc_case;
typedef int (*lc_fn)(const struct lc_case *c, unsigned int i, unsigned int j);

struct lc_case {
	const char *name;
	lc_fn fn;
	u64 arg;
};

#define lc_log(c, i, fmt, ...) pr_info("case %s@%u: " fmt "\n", (c)->name, i, ##__VA_ARGS__)

/* The address a case points something at (c->arg selects it). */
enum { LC_AT_NONRAM, LC_AT_HOLE, LC_AT_KERNEL, LC_AT_UNPRESERVED, LC_AT_COPY,
	LC_AT_ZERO, LC_AT_MISALIGNED };

static u64 lc_address(u64 kind, u64 base)
{
	switch (kind) {
	case LC_AT_NONRAM:
		return LC_NONRAM;
	case LC_AT_HOLE:
		return lc_hole_phys();
	case LC_AT_KERNEL:
		return lc_kernel_phys();
	case LC_AT_UNPRESERVED:
		return page_to_phys(lc_zero_page);
	case LC_AT_COPY:
		return page_to_phys(lc_copy_page);
	case LC_AT_MISALIGNED:
		return base + 64;
	default:
		return 0;
	}
}

/* Core root record. */

static int lc_root_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	switch (c->arg) {
	case 0: /* magic, no checksum fix */
		lc_root[0] ^= 0x01;
		lc_log(c, i, "root magic byte 0 flipped");
		return 0;
	case 1:
		put_unaligned_le32(3, lc_root + LC_ROOT_VERSION);
		lc_root_seal();
		lc_log(c, i, "root version 3, checksum recomputed");
		return 0;
	case 2: /* a field, no checksum fix */
		lc_root[LC_ROOT_GENERATION] ^= 0x10;
		lc_log(c, i, "root generation bit 4 flipped, checksum kept");
		return 0;
	case 3:
		put_unaligned_le32(9, lc_root + LC_ROOT_STATE);
		lc_root_seal();
		lc_log(c, i, "root state 9, checksum recomputed");
		return 0;
	case 4:
		put_unaligned_le32(4096, lc_root + LC_ROOT_SIZE);
		lc_root_seal();
		lc_log(c, i, "root size 4096, checksum recomputed");
		return 0;
	case 5: /* outside the checksum */
		put_unaligned_le32(LC_CONSUMED_OK, lc_root + LC_ROOT_CONSUMED);
		lc_log(c, i, "root marked consumed though never adopted");
		return 0;
	}
	return -EINVAL;
}

static int lc_payload_at(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u64 old = lc_payload(), to;

	if (c->arg == LC_AT_COPY) {
		u8 *head = lc_block(old);

		if (!head)
			return -ENOENT;
		memcpy(page_address(lc_copy_page), head, LC_BLOCK_SIZE);
	}
	to = lc_address(c->arg, old);
	if (!to)
		return -ENOENT;
	put_unaligned_le64(to, lc_root + LC_ROOT_PAYLOAD);
	lc_root_seal();
	lc_log(c, i, "sessions chain head %#llx -> %#llx, checksum recomputed", old, to);
	return 0;
}

/* Core chains. */

enum { LC_CHAIN_SESSIONS, LC_CHAIN_FILES, LC_CHAIN_DEPS, LC_CHAIN_FLB };

static u64 lc_chain_head(u64 which, unsigned int i)
{
	switch (which) {
	case LC_CHAIN_FILES:
		return lc_session_chain(i, LC_SESSION_FILES);
	case LC_CHAIN_DEPS:
		return lc_session_chain(i, LC_SESSION_DEPS);
	case LC_CHAIN_FLB:
		return get_unaligned_le64(lc_root + LC_ROOT_FLB);
	default:
		return lc_payload();
	}
}

/* c->arg: the chain (LC_CHAIN_*) whose last block links back to its head. */
static int lc_chain_loop(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u64 head = lc_chain_head(c->arg, i);
	u8 *last = lc_chain_last(head);

	if (!last)
		return -ENOENT;
	put_unaligned_le64(head, last + LC_BLOCK_NEXT);
	lc_block_seal(last);
	lc_log(c, i, "last block %#llx of the chain at %#llx links back to its head",
	       lc_phys(last), head);
	return 0;
}

static int lc_sessions_header(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b = lc_block(lc_payload());

	if (!b)
		return -ENOENT;
	if (c->arg == 0) {
		put_unaligned_le32(LC_KIND_FILES, b + LC_BLOCK_KIND);
		lc_log(c, i, "sessions block kind 'files', checksum recomputed");
	} else {
		put_unaligned_le16(get_unaligned_le16(b + LC_BLOCK_ENTRY_SIZE) + 8,
				   b + LC_BLOCK_ENTRY_SIZE);
		lc_log(c, i, "sessions block entry size +8, checksum recomputed");
	}
	lc_block_seal(b);
	return 0;
}

static int lc_sessions_state(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *s = lc_session(i, &b);

	if (!s)
		return -ENOENT;
	put_unaligned_le32(3, s - LC_ENTRY_HEADER);
	lc_block_seal(b);
	lc_log(c, i, "session entry state 3 (neither free nor used), checksum recomputed");
	return 0;
}

static int lc_sessions_crc(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *s = lc_session(i, &b);

	if (!s)
		return -ENOENT;
	s[1] ^= 0x20;
	lc_log(c, i, "session name byte 1 flipped, checksum kept");
	return 0;
}

/* Session @j takes session @i's chain (c->arg: LC_SESSION_FILES/DEPS). */
static int lc_session_share(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *s = lc_session(j, &b);
	u64 head = lc_session_chain(i, c->arg);

	if (!s || !head || i == j)
		return -ENOENT;
	put_unaligned_le64(head, s + c->arg);
	lc_block_seal(b);
	lc_log(c, i, "session %u names the same chain %#llx, checksum recomputed", j, head);
	return 0;
}

static int lc_session_files_at(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *s = lc_session(i, &b);
	u64 old, to;

	if (!s)
		return -ENOENT;
	old = get_unaligned_le64(s + LC_SESSION_FILES);
	to = lc_address(c->arg, old);
	if (!to)
		return -ENOENT;
	put_unaligned_le64(to, s + LC_SESSION_FILES);
	lc_block_seal(b);
	lc_log(c, i, "files chain head %#llx -> %#llx, checksum recomputed", old, to);
	return 0;
}

/* File @j of session @i. */
static u8 *lc_file(unsigned int i, unsigned int j, u8 **bp)
{
	return lc_chain_entry(lc_session_chain(i, LC_SESSION_FILES), j, bp);
}

static int lc_file_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *pb, *f = lc_file(i, j, &b), *prev = j ? lc_file(i, j - 1, &pb) : NULL;
	u64 old, to;

	if (!f)
		return -ENOENT;
	switch (c->arg) {
	case 0: /* the previous file's token */
		if (!prev)
			return -ENOENT;
		memcpy(f + LC_FILE_TOKEN, prev + LC_FILE_TOKEN, 8);
		lc_log(c, i, "file %u takes the token of file %u, checksum recomputed", j, j - 1);
		break;
	case 1:
		strscpy_pad(f + LC_FILE_COMPATIBLE, "memfd-v9", 48);
		lc_log(c, i, "file %u handler 'memfd-v9', checksum recomputed", j);
		break;
	case 2: /* the previous file's data: two records, one descriptor */
		if (!prev)
			return -ENOENT;
		memcpy(f + LC_FILE_DATA, prev + LC_FILE_DATA, 8);
		lc_log(c, i, "file %u names the descriptor of file %u, checksum recomputed",
		       j, j - 1);
		break;
	default:
		old = get_unaligned_le64(f + LC_FILE_DATA);
		to = lc_address(c->arg - 3, old);
		if (!to)
			return -ENOENT;
		put_unaligned_le64(to, f + LC_FILE_DATA);
		lc_log(c, i, "file %u data %#llx -> %#llx, checksum recomputed", j, old, to);
		break;
	}
	lc_block_seal(b);
	return 0;
}

static int lc_deps_token(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *e = lc_chain_entry(lc_session_chain(i, LC_SESSION_DEPS), j, &b);

	if (!e)
		return -ENOENT;
	put_unaligned_le64(0xdead, e + LC_DEP_TOKEN);
	lc_block_seal(b);
	lc_log(c, i, "dependency %u names token 0xdead, checksum recomputed", j);
	return 0;
}

static int lc_flb_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	u8 *b, *e = lc_chain_entry(get_unaligned_le64(lc_root + LC_ROOT_FLB), i, &b);

	if (!e)
		return -ENOENT;
	if (c->arg == 0) {
		put_unaligned_le64(0, e + LC_FLB_COUNT);
		lc_log(c, i, "FLB count 0, checksum recomputed");
	} else {
		put_unaligned_le32(2, e + LC_FLB_VERSION);
		lc_log(c, i, "FLB version 2, checksum recomputed");
	}
	lc_block_seal(b);
	return 0;
}

/* The memfd list. */

static int lc_mroot_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	switch (c->arg) {
	case 0:
		lc_mroot->magic ^= 0x01;
		lc_log(c, i, "memfd root magic flipped");
		return 0;
	case 1:
		lc_mroot->count = 1ULL << 40;
		lc_log(c, i, "memfd root count 2^40, checksum recomputed");
		break;
	case 2:
		lc_mroot->head = LC_NONRAM;
		lc_log(c, i, "memfd root head %#llx, checksum recomputed", LC_NONRAM);
		break;
	}
	lc_mroot_seal();
	return 0;
}

static int lc_mroot_loop(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i);

	if (!d)
		return -ENOENT;
	d->next = lc_descs[0];
	lc_desc_seal(d);
	lc_log(c, i, "descriptor %u links back to the list's head", i);
	return 0;
}

/* Descriptors. */

static int lc_desc_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i);
	bool seal = true;

	if (!d)
		return -ENOENT;
	switch (c->arg) {
	case 0:
		d->magic ^= 0x01;
		seal = false;
		lc_log(c, i, "descriptor magic flipped");
		break;
	case 1:
		d->version = 3;
		lc_log(c, i, "descriptor version 3");
		break;
	case 2:
		d->size ^= 0x01;
		seal = false;
		lc_log(c, i, "descriptor size bit 0 flipped, checksum kept");
		break;
	case 3:
		d->size = 1ULL << 50;
		lc_log(c, i, "descriptor size 2^50");
		break;
	case 4:
		if (!d->nr_runs)
			return -ENOENT;
		d->nr_runs = 0;
		lc_log(c, i, "descriptor of %llu bytes with 0 runs", d->size);
		break;
	case 5:
		if (!lc_inline(d))
			return -ENOENT;
		d->nr_runs = LC_INLINE_RUNS + 1;
		d->size = (LC_INLINE_RUNS + 1) * PAGE_SIZE;
		lc_log(c, i, "inline table of %llu runs", d->nr_runs);
		break;
	case 6:
		d->name_len = 300;
		lc_log(c, i, "descriptor name length 300");
		break;
	case 7:
		d->flags |= BIT(7);
		lc_log(c, i, "descriptor flag 0x80");
		break;
	case 8:
		d->pos = 1ULL << 63;
		lc_log(c, i, "descriptor position 2^63");
		break;
	case 9:
		if (lc_inline(d) || !d->nr_runs)
			return -ENOENT;
		d->table.total_pages = 1U << 30;
		lc_log(c, i, "table of 2^30 pages");
		break;
	}
	if (seal) {
		lc_desc_seal(d);
		pr_info("case %s@%u: checksums recomputed\n", c->name, i);
	}
	return 0;
}

static int lc_desc_table_at(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i);
	u64 old, to;

	if (!d || lc_inline(d) || !d->nr_runs)
		return -ENOENT;
	old = d->table.first.phys;
	to = lc_address(c->arg, old);
	if (!to)
		return -ENOENT;
	d->table.first.phys = to;
	lc_desc_seal(d);
	lc_log(c, i, "table's first chunk %#llx -> %#llx, checksum recomputed", old, to);
	return 0;
}

static int lc_chunk_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i);
	struct kho_vmalloc_chunk *chunk = d && !lc_inline(d) && d->nr_runs ? lc_chunk(d, 0) : NULL;
	u64 old, to;

	if (!chunk || !chunk->phys[0])
		return -ENOENT;
	switch (c->arg) {
	case 100: /* the chunk list loops */
		chunk->hdr.next.phys = lc_phys(chunk);
		lc_log(c, i, "table chunk %#llx links to itself", lc_phys(chunk));
		return 0;
	case 101: /* one page twice: two table pages, or the chunk and its page */
		if (chunk->phys[1]) {
			chunk->phys[1] = chunk->phys[0];
			lc_log(c, i, "table pages 0 and 1 are both %#llx", chunk->phys[0]);
		} else {
			chunk->phys[0] = lc_phys(chunk);
			lc_log(c, i, "table page 0 is its chunk %#llx", chunk->phys[0]);
		}
		return 0;
	}
	old = chunk->phys[0];
	to = lc_address(c->arg, old);
	if (!to)
		return -ENOENT;
	chunk->phys[0] = to;
	lc_log(c, i, "table page 0 %#llx -> %#llx (KHO's chunk has no checksum)", old, to);
	return 0;
}

/* Runs: c->arg picks the change; the checksums are recomputed after. */
enum { LC_RUN_AT, LC_RUN_PAST_END = 100, LC_RUN_MISALIGNED, LC_RUN_ORDER_CHANGE,
	LC_RUN_OVERLAP, LC_RUN_CRC, LC_RUN_PFN_ZERO };

static int lc_run_field(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i);
	u64 *run, *other, old, k;

	if (!d || !d->nr_runs)
		return -ENOENT;
	run = lc_run(d, 0);
	if (!run)
		return -ENOENT;
	old = *run;
	switch (c->arg) {
	case LC_RUN_PAST_END:
		run = lc_run(d, d->nr_runs - 1);
		old = *run;
		if (lc_run_count(old) + 2 > FIELD_MAX(LC_RUN_COUNT) + 1)
			return -ENOENT;
		*run = lc_run_make(lc_run_pfn(old), lc_run_order(old), lc_run_count(old) + 2);
		break;
	case LC_RUN_MISALIGNED:
	case LC_RUN_ORDER_CHANGE:
		for (k = 0; k < d->nr_runs; k++) {
			run = lc_run(d, k);
			if (run && lc_run_order(*run))
				break;
		}
		if (k == d->nr_runs)
			return -ENOENT;
		old = *run;
		if (c->arg == LC_RUN_MISALIGNED)
			*run = old + 1; /* the PFN is bits 0-39 */
		else
			*run = lc_run_make(lc_run_pfn(old), lc_run_order(old) - 1,
					   lc_run_count(old) * 2);
		break;
	case LC_RUN_OVERLAP: /* run 1 starts where run 0 does; coverage unchanged */
		other = d->nr_runs > 1 ? lc_run(d, 1) : NULL;
		if (!other || lc_run_order(*other) != lc_run_order(old))
			return -ENOENT;
		run = other;
		old = *run;
		*run = lc_run_make(lc_run_pfn(*lc_run(d, 0)), lc_run_order(old), lc_run_count(old));
		break;
	case LC_RUN_CRC:
		*run ^= BIT_ULL(45);
		lc_log(c, i, "run 0 %#llx -> %#llx, table checksum kept", old, *run);
		return 0;
	case LC_RUN_PFN_ZERO:
		*run = lc_run_make(0, lc_run_order(old), lc_run_count(old));
		break;
	default: {
		u64 to = lc_address(c->arg, 0);

		if (!to)
			return -ENOENT;
		*run = lc_run_make(PHYS_PFN(to), lc_run_order(old), lc_run_count(old));
		break;
	}
	}
	lc_desc_seal(d);
	lc_log(c, i, "run %#llx -> %#llx, checksums recomputed", old, *run);
	return 0;
}

/* Descriptor @i's first run becomes descriptor @j's: one page, two files. */
static int lc_run_same_page(const struct lc_case *c, unsigned int i, unsigned int j)
{
	struct lc_memfd_desc *d = lc_desc(i), *e = lc_desc(j);
	u64 *run, *theirs;

	if (!d || !e || i == j || !d->nr_runs || !e->nr_runs)
		return -ENOENT;
	run = lc_run(d, 0);
	theirs = lc_run(e, 0);
	if (!run || !theirs || lc_run_count(*run) != lc_run_count(*theirs) ||
	    lc_run_order(*run) != lc_run_order(*theirs))
		return -ENOENT;
	*run = *theirs;
	lc_desc_seal(d);
	lc_log(c, i, "run 0 is descriptor %u's run 0 %#llx, checksums recomputed", j, *run);
	return 0;
}

static const struct lc_case lc_cases[] = {
	/* the core's root record: the whole handover is refused */
	{ "root-magic", lc_root_field, 0 },
	{ "root-version", lc_root_field, 1 },
	{ "root-crc", lc_root_field, 2 },
	{ "root-state", lc_root_field, 3 },
	{ "root-size", lc_root_field, 4 },
	{ "root-consumed", lc_root_field, 5 },
	/* the core's chains: the sessions cannot be read */
	{ "payload-nonram", lc_payload_at, LC_AT_NONRAM },
	{ "payload-hole", lc_payload_at, LC_AT_HOLE },
	{ "payload-kernel", lc_payload_at, LC_AT_KERNEL },
	{ "payload-unpreserved", lc_payload_at, LC_AT_UNPRESERVED },
	{ "payload-copy", lc_payload_at, LC_AT_COPY },
	{ "payload-misaligned", lc_payload_at, LC_AT_MISALIGNED },
	{ "sessions-loop", lc_chain_loop, LC_CHAIN_SESSIONS },
	{ "sessions-kind", lc_sessions_header, 0 },
	{ "sessions-entry-size", lc_sessions_header, 1 },
	{ "sessions-state", lc_sessions_state, 0 },
	{ "sessions-crc", lc_sessions_crc, 0 },
	{ "session-share-files", lc_session_share, LC_SESSION_FILES },
	{ "files-nonram", lc_session_files_at, LC_AT_NONRAM },
	{ "files-loop", lc_chain_loop, LC_CHAIN_FILES },
	{ "file-token-dup", lc_file_field, 0 },
	{ "file-compat", lc_file_field, 1 },
	{ "deps-token", lc_deps_token, 0 },
	{ "deps-loop", lc_chain_loop, LC_CHAIN_DEPS },
	{ "flb-count-zero", lc_flb_field, 0 },
	{ "flb-version", lc_flb_field, 1 },
	{ "flb-loop", lc_chain_loop, LC_CHAIN_FLB },
	/* file records: that file is refused, the handover is read */
	{ "file-data-other", lc_file_field, 2 },
	{ "file-data-nonram", lc_file_field, 3 + LC_AT_NONRAM },
	{ "file-data-hole", lc_file_field, 3 + LC_AT_HOLE },
	{ "file-data-kernel", lc_file_field, 3 + LC_AT_KERNEL },
	{ "file-data-unpreserved", lc_file_field, 3 + LC_AT_UNPRESERVED },
	{ "file-data-misaligned", lc_file_field, 3 + LC_AT_MISALIGNED },
	/* the memfd list: nothing is restored ahead past the damage */
	{ "mroot-magic", lc_mroot_field, 0 },
	{ "mroot-count", lc_mroot_field, 1 },
	{ "mroot-head-nonram", lc_mroot_field, 2 },
	{ "mroot-loop", lc_mroot_loop, 0 },
	/* descriptors: that file is refused */
	{ "desc-magic", lc_desc_field, 0 },
	{ "desc-version", lc_desc_field, 1 },
	{ "desc-crc", lc_desc_field, 2 },
	{ "desc-size", lc_desc_field, 3 },
	{ "desc-runs-zero", lc_desc_field, 4 },
	{ "desc-runs-huge", lc_desc_field, 5 },
	{ "desc-name", lc_desc_field, 6 },
	{ "desc-flags", lc_desc_field, 7 },
	{ "desc-pos", lc_desc_field, 8 },
	{ "desc-table-pages", lc_desc_field, 9 },
	{ "desc-table-nonram", lc_desc_table_at, LC_AT_NONRAM },
	{ "desc-table-hole", lc_desc_table_at, LC_AT_HOLE },
	{ "desc-table-kernel", lc_desc_table_at, LC_AT_KERNEL },
	{ "desc-table-unpreserved", lc_desc_table_at, LC_AT_UNPRESERVED },
	{ "desc-table-misaligned", lc_desc_table_at, LC_AT_MISALIGNED },
	/* KHO's vmalloc chunks of a table */
	{ "chunk-nonram", lc_chunk_field, LC_AT_NONRAM },
	{ "chunk-kernel", lc_chunk_field, LC_AT_KERNEL },
	{ "chunk-unpreserved", lc_chunk_field, LC_AT_UNPRESERVED },
	{ "chunk-loop", lc_chunk_field, 100 },
	{ "chunk-dup", lc_chunk_field, 101 },
	/* runs of a table */
	{ "run-nonram", lc_run_field, LC_AT_NONRAM },
	{ "run-hole", lc_run_field, LC_AT_HOLE },
	{ "run-kernel", lc_run_field, LC_AT_KERNEL },
	{ "run-unpreserved", lc_run_field, LC_AT_UNPRESERVED },
	{ "run-past-end", lc_run_field, LC_RUN_PAST_END },
	{ "run-misaligned", lc_run_field, LC_RUN_MISALIGNED },
	{ "run-order", lc_run_field, LC_RUN_ORDER_CHANGE },
	{ "run-overlap", lc_run_field, LC_RUN_OVERLAP },
	{ "run-crc", lc_run_field, LC_RUN_CRC },
	{ "run-pfn-zero", lc_run_field, LC_RUN_PFN_ZERO },
	{ "run-same-page", lc_run_same_page, 0 },
};

/* ---- random corruptions ------------------------------------------------ */

/*
 * Flip one bit (three times in four) or replace one byte of [@from, @to) of
 * @p, skipping [@skip, @skip + @skip_len) (the checksum that flip-crc
 * recomputes anyway).
 */
static void lc_flip(struct rnd_state *rnd, const char *what, unsigned int i, u64 s,
		    u8 *p, size_t from, size_t to, size_t skip, size_t skip_len)
{
	size_t span = to - from - skip_len, off;
	u32 r = prandom_u32_state(rnd);
	u8 old;

	off = from + prandom_u32_state(rnd) % span;
	if (off >= skip && skip_len)
		off += skip_len;
	old = p[off];
	if (r % 4)
		p[off] ^= 1 << (r % 8);
	else
		p[off] = prandom_u32_state(rnd) ?: 0xff;
	if (p[off] == old)
		p[off] ^= 0x80;
	pr_info("case %s %s@%u seed %llu: byte %zu %#04x -> %#04x\n", mode, what, i, s, off,
		old, p[off]);
}

/* splitmix64's finalizer: every bit of the seed moves every bit. */
static u64 lc_mix(u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static int lc_random_one(unsigned int i, u64 s, bool fix)
{
	struct rnd_state rnd;
	u8 *b;

	/* Consecutive seeds must not start the generator alike. */
	prandom_seed_state(&rnd, lc_mix(s));
	if (!strcmp(target, "desc") || !strcmp(target, "table") || !strcmp(target, "chunk")) {
		struct lc_memfd_desc *d = lc_desc(i);
		struct kho_vmalloc_chunk *chunk;
		u64 *run;
		u64 k;

		if (!d)
			return -ENOENT;
		if (!strcmp(target, "desc")) {
			size_t end = offsetof(struct lc_memfd_desc, name) +
				     min(d->name_len, NAME_MAX) + 1;

			lc_flip(&rnd, target, i, s, (u8 *)d, 0, end,
				fix ? offsetof(struct lc_memfd_desc, crc) : 0, fix ? 4 : 0);
		} else if (!strcmp(target, "table")) {
			if (!d->nr_runs)
				return -ENOENT;
			k = prandom_u32_state(&rnd) % d->nr_runs;
			run = lc_run(d, k);
			if (!run)
				return -ENOENT;
			pr_info("case %s table@%u: run %llu of %llu\n", mode, i, k, d->nr_runs);
			lc_flip(&rnd, target, i, s, (u8 *)run, 0, sizeof(*run), 0, 0);
		} else {
			chunk = !lc_inline(d) && d->nr_runs ? lc_chunk(d, 0) : NULL;
			if (!chunk)
				return -ENOENT;
			for (k = 0; k < KHO_VMALLOC_SIZE && chunk->phys[k]; k++)
				;
			lc_flip(&rnd, target, i, s, (u8 *)chunk, 0, (k + 1) * sizeof(u64), 0, 0);
			return 0; /* KHO's chunks carry no checksum */
		}
		if (fix)
			lc_desc_seal(d);
		return 0;
	}
	if (!strcmp(target, "mroot")) {
		if (!lc_mroot)
			return -ENOENT;
		lc_flip(&rnd, target, i, s, (u8 *)lc_mroot, 0, sizeof(*lc_mroot),
			fix ? offsetof(struct lc_memfd_root, crc) : 0, fix ? 4 : 0);
		if (fix)
			lc_mroot_seal();
		return 0;
	}
	if (!lc_root)
		return -ENOENT;
	if (!strcmp(target, "root")) {
		lc_flip(&rnd, target, i, s, lc_root, 0, LC_ROOT_LEN,
			fix ? LC_ROOT_CRC : 0, fix ? 12 : 0);
		if (fix)
			lc_root_seal();
		return 0;
	}
	if (!strcmp(target, "sessions"))
		b = lc_block(lc_payload());
	else if (!strcmp(target, "files"))
		b = lc_block(lc_session_chain(i, LC_SESSION_FILES));
	else if (!strcmp(target, "deps"))
		b = lc_block(lc_session_chain(i, LC_SESSION_DEPS));
	else if (!strcmp(target, "flb"))
		b = lc_block(get_unaligned_le64(lc_root + LC_ROOT_FLB));
	else
		return -EINVAL;
	if (!b)
		return -ENOENT;
	lc_flip(&rnd, target, i, s, b, 0, lc_block_used(b), fix ? LC_BLOCK_CRC : 0, fix ? 4 : 0);
	if (fix)
		lc_block_seal(b);
	return 0;
}

/* ---- load -------------------------------------------------------------- */

static void lc_find(void)
{
	phys_addr_t phys;
	size_t len;

	if (!is_kho_boot())
		return;
	if (!kho_retrieve_subtree(LC_CORE_SUBTREE, &phys, &len) && len >= LC_ROOT_LEN) {
		lc_root = lc_map(phys, len);
		if (lc_root && get_unaligned_le64(lc_root) != LC_ROOT_MAGIC)
			lc_root = NULL;
	}
	if (!kho_retrieve_subtree(LC_MEMFD_SUBTREE, &phys, &len) && len >= sizeof(*lc_mroot))
		lc_mroot = lc_map(phys, len);
	for (phys = lc_mroot ? lc_mroot->head : 0; phys && lc_nr_descs < LC_MAX_DESCS;) {
		struct lc_memfd_desc *d = PAGE_ALIGNED(phys) ? lc_map(phys, PAGE_SIZE) : NULL;

		if (!d)
			break;
		lc_descs[lc_nr_descs++] = phys;
		phys = d->next;
	}
	pr_info("handover: core root %s, memfd root %s (%u descriptors)\n",
		lc_root ? "found" : "absent", lc_mroot ? "found" : "absent", lc_nr_descs);
}

/* "NAME[@I[:J]]" */
static int lc_apply(char *spec)
{
	unsigned int i = 0, j = 0, k;
	char *at = strchr(spec, '@');
	int err;

	if (at) {
		*at++ = '\0';
		if (sscanf(at, "%u:%u", &i, &j) < 1)
			return -EINVAL;
	}
	for (k = 0; k < ARRAY_SIZE(lc_cases); k++) {
		const struct lc_case *c = &lc_cases[k];

		if (strcmp(c->name, spec))
			continue;
		if (!strncmp(c->name, "mroot", 5) || !strncmp(c->name, "desc", 4) ||
		    !strncmp(c->name, "chunk", 5) || !strncmp(c->name, "run", 3)) {
			if (!lc_mroot)
				return -ENOENT;
		} else if (!lc_root) {
			return -ENOENT;
		}
		err = c->fn(c, i, j);
		if (err)
			pr_err("case %s@%u: no such target (%d)\n", c->name, i, err);
		else
			applied++;
		return err;
	}
	pr_err("unknown case '%s'\n", spec);
	return -EINVAL;
}

/*
 * Once anything is damaged the load succeeds, whatever else fails (a failed
 * load may be retried by insmod, which would damage everything twice):
 * the failures parameter counts what found no target.
 */
static int __init lc_init(void)
{
	char *list, *spec, *p;
	unsigned int n;
	int err;

	lc_zero_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	lc_copy_page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	list = kstrdup(cases, GFP_KERNEL);
	if (!lc_zero_page || !lc_copy_page || !list) {
		kfree(list);
		if (lc_zero_page)
			__free_page(lc_zero_page);
		if (lc_copy_page)
			__free_page(lc_copy_page);
		return -ENOMEM;
	}
	lc_find();

	p = list;
	while ((spec = strsep(&p, ",")))
		if (*spec && lc_apply(spec))
			failures++;
	kfree(list);

	if (*mode) {
		bool fix = !strcmp(mode, "flip-crc");

		for (n = 0; n < count; n++) {
			err = fix || !strcmp(mode, "flip") ? lc_random_one(first + n, seed + n, fix)
							   : -EINVAL;
			if (err) {
				pr_err("%s %s@%u: no such target (%d)\n", mode, target, first + n,
				       err);
				failures++;
			} else {
				applied++;
			}
		}
	}
	pr_info("%u corruptions applied, %u without a target\n", applied, failures);
	return 0;
}

static void __exit lc_exit(void)
{
	__free_page(lc_zero_page);
	__free_page(lc_copy_page);
}

module_init(lc_init);
module_exit(lc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Damages the previous kernel's liveupdate handover, for tests");
