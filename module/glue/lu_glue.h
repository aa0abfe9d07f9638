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

/**
 * lu_kho_free_restored() - free memory taken with lu_kho_restore() once the
 * core has read it. Never sleeps.
 */
void lu_kho_free_restored(void *mem);

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

/* ---- locks (core -> glue) ---------------------------------------------- */

/*
 * One lockdep class per kind of lock, so that lockdep checks the core's
 * hierarchy (orchestrator -> session) rather than lumping all core mutexes
 * into one class.
 */
enum lu_lock_class {
	LU_LOCK_ORCHESTRATOR,
	LU_LOCK_SESSION,
	LU_LOCK_REGISTRY,
	LU_LOCK_FILE_INDEX,
	LU_LOCK_FLB_REGISTRY,
	LU_LOCK_CLASSES
};

struct lu_mutex;

/** lu_mutex_create() - a new sleeping mutex; NULL when out of memory. */
struct lu_mutex *lu_mutex_create(enum lu_lock_class cls);
/** lu_mutex_destroy() - free an unlocked mutex; NULL is ignored. */
void lu_mutex_destroy(struct lu_mutex *mutex);
void lu_mutex_lock(struct lu_mutex *mutex);
void lu_mutex_unlock(struct lu_mutex *mutex);

/* ---- files (core -> glue) ----------------------------------------------- */

/* struct lu_file is the kernel's struct file; the core only holds references. */
struct lu_file;

/**
 * lu_file_get() - a reference to the file behind @fd in the caller's table.
 * Return: the file, or NULL when @fd is not an open file descriptor.
 */
struct lu_file *lu_file_get(int fd);
/** lu_file_ref() - take another reference to @file. Never sleeps. */
void lu_file_ref(struct lu_file *file);
/** lu_file_put() - drop a reference from lu_file_get()/lu_file_ref(). */
void lu_file_put(struct lu_file *file);

/* ---- file handlers (core -> glue) --------------------------------------- */

/* struct lu_handler is a registered struct liveupdate_file_handler. */
struct lu_handler;
struct lu_session;

/*
 * The argument block of one handler call, mirrored into the handler's
 * struct liveupdate_file_op_args and back: @file, @data and @priv are
 * updated from what the handler left there. @session is the core's session
 * (struct liveupdate_session for the handler), @pending the core's state of
 * the file being preserved, for lu_core_declare_dependency() during the
 * preserve call (NULL in every other call).
 */
struct lu_handler_call {
	struct lu_handler *handler;
	struct lu_file *file;
	uint64_t data;
	void *priv;
	int retrieve_status;
	struct lu_session *session;
	void *pending;
};

/** lu_handler_compatible() - the handler's compatible string. */
const char *lu_handler_compatible(const struct lu_handler *handler);
/** lu_handler_can_preserve() - does @handler take @file? Never fails. */
bool lu_handler_can_preserve(struct lu_handler *handler, struct lu_file *file);
/** lu_handler_file_id() - the identity of @file for duplicate detection. */
unsigned long lu_handler_file_id(struct lu_handler *handler, struct lu_file *file);
/** lu_handler_pin() - pin the handler's module; false if it is going away. */
bool lu_handler_pin(struct lu_handler *handler);
void lu_handler_unpin(struct lu_handler *handler);
int lu_handler_preserve(struct lu_handler_call *call);
void lu_handler_unpreserve(struct lu_handler_call *call);
int lu_handler_freeze(struct lu_handler_call *call);
void lu_handler_unfreeze(struct lu_handler_call *call);
int lu_handler_retrieve(struct lu_handler_call *call);
bool lu_handler_can_finish(struct lu_handler_call *call);
void lu_handler_finish(struct lu_handler_call *call);

/* ---- File-Lifecycle-Bound objects (core -> glue) ------------------------ */

/* struct lu_flb is a registered struct liveupdate_flb. */
struct lu_flb;

/* One FLB op's argument block, mirrored into struct liveupdate_flb_op_args. */
struct lu_flb_call {
	struct lu_flb *flb;
	uint64_t data;
	void *obj;
};

/** lu_flb_compatible() - the FLB's compatible string (48 bytes capacity). */
const char *lu_flb_compatible(const struct lu_flb *flb);
/** lu_flb_pin() - pin the FLB's module; false if it is going away. */
bool lu_flb_pin(struct lu_flb *flb);
void lu_flb_unpin(struct lu_flb *flb);
/* The FLB's ops; called with the core's FLB registry lock held. */
int lu_flb_preserve(struct lu_flb_call *call);
void lu_flb_unpreserve(struct lu_flb_call *call);
int lu_flb_retrieve(struct lu_flb_call *call);
void lu_flb_finish(struct lu_flb_call *call);

/* ---- module lifetime (core -> glue) ------------------------------------- */

/**
 * lu_module_pin() / lu_module_unpin() - keep this module loaded while it
 * owns incoming state that nothing else references (rmmod: EBUSY).
 */
void lu_module_pin(void);
void lu_module_unpin(void);

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
 * "failed <reason>"; once the sessions are read (first open), followed by
 * "; not handed over: NAME (token T errno E), ..." for the sessions whose
 * files refused to freeze at the reboot.
 *
 * Return: the length written to @buf (NUL-terminated, truncated to @len).
 */
size_t lu_core_handover_status(const struct lu_core *core, char *buf, size_t len);

/**
 * lu_core_seal() - make the outgoing handover final; called from the reboot
 * notifier on the way to kexec. Never fails: a session whose files refuse to
 * freeze is unpreserved and written as failed, which the next kernel
 * reports (its RETRIEVE_SESSION: -EIO); every other session is handed over.
 */
void lu_core_seal(struct lu_core *core);

/*
 * Sessions. struct lu_session is the core's Session; the glue keeps it as
 * the private data of the session's file and hands it back on each call.
 * @name arguments are the 64-byte uAPI fields, terminated or not.
 */
/** lu_core_open() - /dev/liveupdate opened; -EIO after a failed handover. */
int lu_core_open(struct lu_core *core);
/** lu_core_create_session() - -EINVAL bad name, -EEXIST, -EBUSY once sealed. */
int lu_core_create_session(struct lu_core *core, const uint8_t *name, struct lu_session **out);
/**
 * lu_core_retrieve_session() - -ENOENT unknown, -EINVAL retrieved already,
 * -EIO not handed over (its files refused to freeze at the reboot).
 */
int lu_core_retrieve_session(struct lu_core *core, const uint8_t *name, struct lu_session **out);
/**
 * lu_core_unretrieve_session() - undo lu_core_retrieve_session() when no
 * file could be made for the session.
 */
void lu_core_unretrieve_session(struct lu_core *core, struct lu_session *session);
/** lu_core_release_session() - the session's file was released. */
void lu_core_release_session(struct lu_core *core, struct lu_session *session);
/** lu_core_session_name() - NUL-terminated, valid while the session lives. */
const char *lu_core_session_name(const struct lu_session *session);
/** lu_core_session_incoming() - handed over by the previous kernel? */
bool lu_core_session_incoming(const struct lu_session *session);
int lu_core_preserve_fd(struct lu_core *core, struct lu_session *session, int fd, uint64_t token);
/**
 * lu_core_retrieve_fd() - @out receives a new reference to the file, for
 * the caller's fd; the session keeps its own until finish.
 */
int lu_core_retrieve_fd(struct lu_core *core, struct lu_session *session, uint64_t token,
			struct lu_file **out);
int lu_core_finish(struct lu_core *core, struct lu_session *session);

struct lu_status {
	uint64_t generation;
	uint64_t outgoing_sessions;
	uint64_t outgoing_files;
	uint64_t incoming_sessions;
	uint64_t incoming_files;
	uint64_t metadata_bytes;
	int first_error;
	uint64_t failed_token;
	char failed_session[64];
};

/** lu_core_status() - counts, and a trial freeze of all outgoing files. */
void lu_core_status(struct lu_core *core, struct lu_status *out);

/**
 * lu_core_register_handler() - -EINVAL bad compatible, -EEXIST taken,
 * -ENOMEM. lu_core_unregister_handler(): -ENOENT when not registered,
 * -EBUSY while a file of the handler is preserved (outgoing) or held
 * (incoming, not finished yet); the handler stays registered then.
 */
int lu_core_register_handler(struct lu_core *core, struct lu_handler *handler);
int lu_core_unregister_handler(struct lu_core *core, struct lu_handler *handler);

/**
 * lu_core_register_flb() - link @flb to the registered @handler: every file
 * the handler preserves from now on keeps the FLB preserved.
 *
 * Return: 0, -EINVAL (@handler not registered, bad compatible), -EEXIST
 * (linked already, or another FLB has the compatible), -ENOMEM.
 */
int lu_core_register_flb(struct lu_core *core, struct lu_handler *handler, struct lu_flb *flb);
/**
 * lu_core_unregister_flb() - undo lu_core_register_flb(). -ENOENT when not
 * linked, -EBUSY (nothing changes) while the FLB is preserved or its
 * incoming object is retrieved and not finished.
 */
int lu_core_unregister_flb(struct lu_core *core, struct lu_handler *handler, struct lu_flb *flb);
/**
 * lu_core_flb_get_incoming() - the FLB's object from the previous kernel,
 * retrieved at the first call; each success takes a use to drop with
 * lu_core_flb_put_incoming(). -ENODATA nothing handed over (or finished
 * already, or the sessions were not read yet: /dev/liveupdate never
 * opened), -ENOENT not registered, the retrieve's errno.
 */
int lu_core_flb_get_incoming(struct lu_core *core, struct lu_flb *flb, void **obj);
void lu_core_flb_put_incoming(struct lu_core *core, struct lu_flb *flb);
/**
 * lu_core_flb_get_outgoing() - the FLB's preserved object in this kernel
 * (-ENOENT when no file preserves it); each success takes a use to drop
 * with lu_core_flb_put_outgoing().
 */
int lu_core_flb_get_outgoing(struct lu_core *core, struct lu_flb *flb, void **obj);
void lu_core_flb_put_outgoing(struct lu_core *core, struct lu_flb *flb);

/*
 * Files of a session, for handlers. Only from inside a file op called for
 * @session (the core holds the session's lock around every op).
 */
/**
 * lu_core_session_token_outgoing() - the token under which @file is
 * preserved in the outgoing @session. -ENOENT when it is not.
 */
int lu_core_session_token_outgoing(struct lu_session *session, struct lu_file *file,
				   uint64_t *token);
/**
 * lu_core_session_file_incoming() - the file handed over under @token in
 * the incoming @session, retrieved now if it was not yet. The reference
 * stays the session's (valid until finish): the caller takes its own with
 * lu_file_ref() if it keeps it. -ENOENT unknown token, -EDEADLK the file is
 * being retrieved (a retrieve that asks for itself through a cycle), the
 * retrieve's errno.
 */
int lu_core_session_file_incoming(struct lu_session *session, uint64_t token,
				  struct lu_file **file);
/**
 * lu_core_declare_dependency() - from inside a preserve call: the file
 * being preserved (@pending, from struct lu_handler_call) depends on @dep,
 * which must be preserved in the same session by the live update (checked
 * at freeze; it may be preserved later than the dependent file). The core
 * takes a reference to @dep. -EINVAL outside a preserve call or when @dep
 * is the file itself, -ENOMEM.
 */
int lu_core_declare_dependency(void *pending, struct lu_file *dep);

#ifdef __cplusplus
}
#endif

#endif /* LU_GLUE_H */
