// SPDX-License-Identifier: GPL-2.0
/*
 * Mutexes for the core (see lu_glue.h), one lockdep class per
 * enum lu_lock_class so lockdep checks the core's lock hierarchy.
 */
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "lu_glue.h"

struct lu_mutex {
	struct mutex mutex;
};

static struct lock_class_key lu_lock_keys[LU_LOCK_CLASSES];
static const char *const lu_lock_names[LU_LOCK_CLASSES] = {
	[LU_LOCK_ORCHESTRATOR] = "liveupdate_orchestrator",
	[LU_LOCK_SESSION] = "liveupdate_session",
	[LU_LOCK_REGISTRY] = "liveupdate_registry",
	[LU_LOCK_FILE_INDEX] = "liveupdate_file_index",
	[LU_LOCK_FLB_REGISTRY] = "liveupdate_flb_registry",
};

struct lu_mutex *lu_mutex_create(enum lu_lock_class cls)
{
	struct lu_mutex *m = kzalloc(sizeof(*m), GFP_KERNEL);

	if (!m)
		return NULL;
	__mutex_init(&m->mutex, lu_lock_names[cls], &lu_lock_keys[cls]);
	return m;
}

void lu_mutex_destroy(struct lu_mutex *m)
{
	if (!m)
		return;
	mutex_destroy(&m->mutex);
	kfree(m);
}

void lu_mutex_lock(struct lu_mutex *m)
{
	mutex_lock(&m->mutex);
}

void lu_mutex_unlock(struct lu_mutex *m)
{
	mutex_unlock(&m->mutex);
}
