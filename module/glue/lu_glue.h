/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boundary between the C++ core and the kernel.
 *
 * This header is plain C with fixed-width types and opaque handles; it
 * includes no kernel header, so the freestanding C++ core and the hosted unit
 * tests compile it as is. Functions named lu_core_* are implemented by the
 * core and called by the glue; every other function is implemented by the
 * glue (or by the fake glue of the unit tests) and called by the core. These
 * are the only extern "C" symbols in the tree.
 *
 * Unless stated otherwise a function may sleep, must not be called in atomic
 * context, and returns 0 or a negative errno.
 */
#ifndef LU_GLUE_H
#define LU_GLUE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The core must not see kernel headers; it gets the same types spelled out. */
#if defined(__KERNEL__) && !defined(__cplusplus)
#include <linux/types.h>
#else
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __SIZE_TYPE__ size_t;
#endif

/* ---- memory (core -> glue) ---------------------------------------------- */

/**
 * lu_alloc() - allocate zeroed kernel memory (GFP_KERNEL).
 * @size: bytes; 0 is allowed and returns a unique pointer.
 *
 * Return: the memory, or NULL when out of memory. Free with lu_free().
 */
void *lu_alloc(size_t size);

/** lu_free() - free memory from lu_alloc(); NULL is ignored. Never sleeps. */
void lu_free(void *ptr);

/* ---- diagnostics (core -> glue) ----------------------------------------- */

enum lu_log_level { LU_LOG_ERR = 3, LU_LOG_WARN = 4, LU_LOG_INFO = 6, LU_LOG_DEBUG = 7 };

/**
 * lu_log() - print one line to the kernel log, prefixed with the module name.
 * @level: one of enum lu_log_level.
 * @fmt:   printk format, without the trailing newline. Never sleeps.
 */
void lu_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * lu_bug() - report a broken core invariant (WARN with the location) and
 * return; the caller then fails the operation. Never sleeps.
 */
void lu_bug(const char *expr, const char *file, int line);

/* ---- kexec handover (core -> glue) -------------------------------------- */

/**
 * lu_kho_find_incoming() - locate our subtree in the previous kernel's KHO
 * tree.
 * @phys: receives the physical address of the root record.
 * @size: receives its size in bytes as the previous kernel published it.
 *
 * Return: 0, -ENOENT when this is not a KHO boot or the previous kernel did
 * not publish our subtree, or -EINVAL for a malformed KHO node.
 */
int lu_kho_find_incoming(uint64_t *phys, uint64_t *size);

/**
 * lu_kho_peek() - map preserved memory of the previous kernel for reading,
 * before it is restored.
 *
 * Return: the kernel address of @phys, or NULL when [@phys, @phys + @size)
 * is not RAM of this kernel. The memory stays reserved (not restored).
 */
const void *lu_kho_peek(uint64_t phys, uint64_t size);

/**
 * lu_kho_restore() - take ownership of memory the previous kernel preserved
 * with lu_kho_alloc_preserved().
 *
 * Return: its kernel address, or NULL when KHO does not know it as preserved
 * (it was restored already, or @phys is not the start of a preservation).
 * The memory then belongs to the caller for the rest of the boot.
 */
void *lu_kho_restore(uint64_t phys);

/**
 * lu_kho_alloc_preserved() - allocate zeroed, physically contiguous memory
 * that KHO preserves across the next kexec.
 *
 * Return: the memory, or NULL (out of memory or KHO refused). Release with
 * lu_kho_free_preserved().
 */
void *lu_kho_alloc_preserved(size_t size);

/** lu_kho_free_preserved() - unpreserve and free; NULL is ignored. */
void lu_kho_free_preserved(void *mem);

/** lu_kho_phys() - the physical address of memory from lu_kho_alloc_preserved(). */
uint64_t lu_kho_phys(const void *mem);

/**
 * lu_kho_publish() - add @blob (from lu_kho_alloc_preserved()) as our
 * subtree of the outgoing KHO tree, so the next kernel finds it.
 *
 * Return: 0, -EEXIST when published already, -ENOMEM.
 */
int lu_kho_publish(void *blob, size_t size);

/** lu_kho_unpublish() - remove the subtree added by lu_kho_publish(). */
void lu_kho_unpublish(void *blob);

/* ---- the core (glue -> core) -------------------------------------------- */

struct lu_core;

/**
 * lu_core_create() - build the orchestrator: adopt the previous kernel's
 * handover if there is one, and publish ours.
 * @out: receives the core; destroy it with lu_core_destroy().
 *
 * A handover that fails validation does not fail the load: it is reported in
 * the log and through lu_core_handover_status().
 */
int lu_core_create(struct lu_core **out);

/** lu_core_destroy() - unpublish and free everything the core owns. */
void lu_core_destroy(struct lu_core *core);

/** lu_core_generation() - 1 on a cold boot, +1 at each live update. */
uint64_t lu_core_generation(const struct lu_core *core);

/**
 * lu_core_handover_status() - what became of the previous kernel's handover,
 * as one line without newline: "none", "accepted", "rejected <reason>" or
 * "failed <reason>".
 *
 * Return: the length written to @buf (NUL-terminated, truncated to @len).
 */
size_t lu_core_handover_status(const struct lu_core *core, char *buf, size_t len);

/**
 * lu_core_seal() - make the outgoing handover final; called from the reboot
 * notifier on the way to kexec. Never fails: a state that cannot be handed
 * over is written as a failed handover, which the next kernel reports.
 */
void lu_core_seal(struct lu_core *core);

#ifdef __cplusplus
}
#endif

#endif /* LU_GLUE_H */
