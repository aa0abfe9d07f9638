// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-stress --stage 1|2 [--threads T] [--seconds S] [--seed N]: threads
 * sharing one /dev/liveupdate fd race every session ioctl, then a live
 * update carries what is left over to the next kernel.
 *
 * Stage 1, for S seconds (default 10), T threads (default 4) pick seeded
 * random operations (the seed is printed; --seed N repeats every thread's
 * choices, not how the threads interleave):
 *   - CREATE_SESSION of new names, of names that are taken (EEXIST), of
 *     names whose session was closed (free again), and one name at a time
 *     raced by every thread (one session, the others EEXIST);
 *   - PRESERVE_FD of a pool of memfds (0, 1 page, 64 KiB, 2 MiB and odd
 *     sizes) into sessions, half the time all threads aiming at the same
 *     memfd, with fresh tokens and with tokens raced within a session
 *     (EEXIST); duels: two threads meet and preserve one free memfd at the
 *     same instant, each into its session (exactly one succeeds, the other
 *     gets EBUSY); PRESERVE_FD of new memfds, of a token in use (EEXIST), of
 *     a bad fd (EBADF) and of files no handler takes (ENOENT);
 *   - close(session fd) while other threads preserve into it: the fd number
 *     is overwritten with dup2() of /dev/null, which closes the session just
 *     like close() but keeps the number from being reused under a thread
 *     that is about to use it (it gets ENOTTY from /dev/null instead); the
 *     release runs when the last ioctl in flight on it returns;
 *   - the module's LIVEUPDATE_IOCTL_MOD_STATUS (its trial freeze must not
 *     disturb anyone: ok, ready, no error); not on the in-kernel LUO;
 *   - on the memfds, preserved or not: write(), pwrite() and MAP_SHARED
 *     writes within the size (they land), writes past the end (EPERM while
 *     preserved), ftruncate (EPERM while preserved, else it resizes),
 *     F_ADD_SEALS (GROW/SHRINK work, WRITE is EBUSY while preserved: the
 *     pins, EPERM on a memfd without MFD_ALLOW_SEALING).
 * Every result is judged against the errnos the ABI allows for what the
 * bookkeeping knows: strictly while the session involved is not being
 * closed, loosely (either outcome of the race) while it is. Anything else is
 * a "not ok" naming the thread, the operation and the errno (the first
 * MAX_SHOWN of them), and one result line per invariant sums them up. After
 * the threads stop: every memfd holds exactly the bytes written to it, the
 * kernel agrees with the bookkeeping on which memfds are preserved (EBUSY)
 * and which are free, and MOD_STATUS counts what the bookkeeping counts.
 * Then every slot becomes a survivor session, all memfds with their
 * writes and a set of new memfds of every size are preserved in them, each
 * with a known position, and a manifest (a memfd in its own session) says
 * what each must hold: content is pattern(key, seed of its 512-byte block,
 * offset), and the seeds record every write. The sessions are held until
 * the kexec.
 *
 * Stage 2: T threads race RETRIEVE_SESSION of each name (one wins, the
 * others EINVAL), RETRIEVE_FD of each token through the shared session fd
 * (all succeed with the same open file: a repeated RETRIEVE_FD is not an
 * error in the ABI), then for S/2 seconds random ioctls on the incoming
 * sessions (RETRIEVE_FD known and unknown, GET_NAME, PRESERVE_FD EINVAL,
 * RETRIEVE_SESSION again, CREATE_SESSION of the same names as outgoing
 * sessions, MOD_STATUS) and reads; every survivor is checked byte for byte
 * with its size, position and seals; FINISH races FINISH and RETRIEVE_FD,
 * close races RETRIEVE_SESSION; after that every name is ENOENT, the
 * retrieved files are still intact, and (module) nothing is left incoming.
 */
#include "lu_test.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define READY "/tmp/uapi-stress.ready"
#define MANIFEST_SESSION "stress-manifest"
#define MANIFEST_MAGIC "LUSTRES1"
#define MAX_THREADS 16
#define NSLOTS 10
#define NPOOL 32
#define NGONE 16
#define NRACE 64
#define BLK 512
#define MAXSIZE (2UL << 20)
#define MAXBLK (MAXSIZE / BLK + 1)
#define MAX_SLOT_FILES 40
#define EPH_CAP (48UL << 20)
#define SMALL_TOKENS (1ULL << 20)
#define MAX_SHOWN 25
#define WRITE_BLKS 16

#define __printf(a, b) __attribute__((format(printf, a, b)))

#ifdef LIVEUPDATE_IOCTL_MOD_STATUS
#define HAVE_MOD_STATUS 1
#else
#define HAVE_MOD_STATUS 0
#endif

static const size_t sizes[] = {
	0, 4096, 65536, MAXSIZE, 1, 4095, 4097, 12345, 65537, 100003, 3 * 4096 + 5,
};
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NSIZES ARRAY_SIZE(sizes)

static int dev, nullfd, pipefd, tmpfd;
static int nthreads = 4;
static double seconds = 10;
static uint64_t seed;
static bool module;

/* ---- output: whole lines, one thread at a time ---------------------------- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int shown;

enum inv {
	INV_CREATE,
	INV_RACE,
	INV_PRESERVE,
	INV_EXCL,
	INV_TOKEN,
	INV_BADFD,
	INV_CLOSE,
	INV_NAME,
	INV_WRITE,
	INV_FROZEN,
	INV_TRUNC,
	INV_SEALS,
	INV_STATUS,
	INV_RETRIEVE,
	INV_INCOMING,
	INV_READ,
	INV_FINISH,
	NINV,
};

static const char *const inv_desc[NINV] = {
	[INV_CREATE] = "CREATE_SESSION: a new name is created, a taken one is EEXIST",
	[INV_RACE] = "CREATE_SESSION of one name by every thread at once: one session, the others EEXIST",
	[INV_PRESERVE] = "PRESERVE_FD of a free memfd, new or from the pool, succeeds",
	[INV_EXCL] = "a memfd is preserved in one session at a time: the second PRESERVE_FD is EBUSY",
	[INV_TOKEN] = "a token is used once per session: EEXIST, also when two threads race for it",
	[INV_BADFD] = "PRESERVE_FD of a bad fd is EBADF, of a pipe or a linked tmpfs file ENOENT",
	[INV_CLOSE] = "closing a session fd while others use it: it is gone, its name and files free",
	[INV_NAME] = "GET_NAME on a shared session fd",
	[INV_WRITE] = "write(), pwrite() and MAP_SHARED writes within the size land, preserved or not",
	[INV_FROZEN] = "a preserved memfd keeps its size: ftruncate and writes past the end are EPERM",
	[INV_TRUNC] = "a memfd nobody preserves can be resized",
	[INV_SEALS] = "F_ADD_SEALS: GROW/SHRINK work, WRITE is EBUSY while preserved, EPERM unsealable",
	[INV_STATUS] = "MOD_STATUS racing the other ioctls: ok, ready, no error",
	[INV_RETRIEVE] = "RETRIEVE_FD of a known token again: the same file; of an unknown one: ENOENT",
	[INV_INCOMING] = "incoming sessions: PRESERVE_FD, RETRIEVE_SESSION again: EINVAL; unknown: ENOENT",
	[INV_READ] = "reads of retrieved memfds, racing everything else, return the survivors' bytes",
	[INV_FINISH] = "FINISH raced by FINISH (ok) and RETRIEVE_FD (ok or ENOENT); "
		       "close raced by RETRIEVE_SESSION (EINVAL or ENOENT)",
};

struct inv_count {
	uint64_t checks, bad;
};
static struct inv_count invs[NINV];

struct tctx {
	int id;
	uint64_t rng;
	uint64_t ops;
	uint64_t opn[32];
	double optime[32];
	double busy;
	uint8_t *buf; /* MAXSIZE + BLK */
	pthread_t th;
};

static void show(const char *fmt, ...) __printf(1, 2);
static void show(const char *fmt, ...)
{
	char line[512];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	pthread_mutex_lock(&out_lock);
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

/* A result outside what the ABI allows: counted, and shown while few. */
static void violation(struct tctx *t, enum inv inv, const char *fmt, ...) __printf(3, 4);
static void violation(struct tctx *t, enum inv inv, const char *fmt, ...)
{
	char what[384];
	va_list args;
	bool print;

	va_start(args, fmt);
	vsnprintf(what, sizeof(what), fmt, args);
	va_end(args);
	__atomic_add_fetch(&invs[inv].bad, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&out_lock);
	lu_failures++;
	print = shown++ < MAX_SHOWN;
	if (print) {
		if (t)
			printf("not ok - [thread %d] %s\n", t->id, what);
		else
			printf("not ok - [main] %s\n", what);
		fflush(stdout);
	}
	pthread_mutex_unlock(&out_lock);
}

static void checked(enum inv inv)
{
	__atomic_add_fetch(&invs[inv].checks, 1, __ATOMIC_RELAXED);
}

static const char *errset(char *buf, size_t len, const long *set, int n)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < n && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? "|" : "",
				 set[i] ? lu_errname(set[i]) : "success");
	if (!n)
		snprintf(buf, len, "nothing");
	return buf;
}

/*
 * @got (>= 0 is success, else -errno) must be in @set (0 for success).
 * @what names the operation for the report.
 */
static bool expect(struct tctx *t, enum inv inv, long got, const long *set, int n,
		   const char *fmt, ...) __printf(6, 7);
static bool expect(struct tctx *t, enum inv inv, long got, const long *set, int n,
		   const char *fmt, ...)
{
	long g = got >= 0 ? 0 : got;
	char what[256], allowed[96];
	va_list args;

	checked(inv);
	for (int i = 0; i < n; i++)
		if (set[i] == g)
			return true;
	va_start(args, fmt);
	vsnprintf(what, sizeof(what), fmt, args);
	va_end(args);
	violation(t, inv, "%s: got %s, allowed %s", what, g ? lu_errname(g) : "success",
		  errset(allowed, sizeof(allowed), set, n));
	return false;
}

#define SET(...) ((const long[]){ __VA_ARGS__ }), \
	(int)(sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long))

/* ---- helpers ---------------------------------------------------------------- */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(struct tctx *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(struct tctx *t, uint32_t n)
{
	return n ? (uint32_t)(rnd(t) % n) : 0;
}

static long err_of(long ret)
{
	return ret < 0 ? -errno : ret;
}

/* The byte at @off of a file @key whose block holds write @seed. */
static inline uint8_t pattern(uint32_t key, uint32_t seed_, uint64_t off)
{
	uint32_t b = key * 0x9E3779B1u ^ seed_ * 0x85EBCA77u;

	b ^= b >> 15;
	return (uint8_t)(b + off * 7 + (off >> 8) * 13);
}

static void fill(uint8_t *buf, uint32_t key, const uint32_t *seeds, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(key, seeds[(off + i) / BLK], off + i);
}

static void fill_one(uint8_t *buf, uint32_t key, uint32_t seed_, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(key, seed_, off + i);
}

static size_t nblocks(size_t size)
{
	return (size + BLK - 1) / BLK;
}

static uint32_t write_seed;

static uint32_t next_seed(void)
{
	return __atomic_add_fetch(&write_seed, 1, __ATOMIC_RELAXED);
}

static uint64_t token_counter = SMALL_TOKENS;

static uint64_t fresh_token(void)
{
	return __atomic_add_fetch(&token_counter, 1, __ATOMIC_RELAXED);
}

static long mod_status(struct liveupdate_mod_status *st)
{
#if HAVE_MOD_STATUS
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return lu_ioctl(dev, LIVEUPDATE_IOCTL_MOD_STATUS, st);
#else
	(void)st;
	return -ENOTTY;
#endif
}

/* ---- stage 1: the bookkeeping ------------------------------------------------ */

/* Everything below marked "book" is under this lock, held only briefly. */
static pthread_mutex_t book = PTHREAD_MUTEX_INITIALIZER;
#define LOCK() pthread_mutex_lock(&book)
#define UNLOCK() pthread_mutex_unlock(&book)

struct held {
	uint64_t token;
	int pool;   /* index in pool[], or -1: a memfd of its own */
	uint32_t key; /* for pool < 0: content is pattern(key, 0, off) */
	uint32_t seals;
	uint64_t size, pos;
};

/*
 * A session slot. Its fd number, once created, never changes: it holds the
 * session or, once closed, /dev/null. A thread issuing an ioctl on it holds
 * rw for reading; closing drops the session (dup2) without it, then takes
 * it for writing to settle the books once no ioctl is in flight (and with
 * that the session's release has run); creating a session in it takes it
 * for writing too, so an ioctl never lands in a newer session than the one
 * it was judged for.
 */
struct slot {
	int fd;
	pthread_rwlock_t rw;
	/* book: */
	bool live, closing, reviving;
	uint32_t gen;
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int pending;
	uint64_t attempts;
	uint64_t next_small;
	struct held *files;
	int nfiles, cap;
};

struct pool_fd {
	int fd;
	uint32_t key;
	bool sealable;      /* MFD_ALLOW_SEALING */
	bool seal_sizes;    /* may get F_SEAL_GROW/SHRINK */
	pthread_mutex_t content; /* the file's bytes, size and seals, and: */
	size_t size;
	uint32_t seals;
	uint32_t seeds[MAXBLK];
	/* book: */
	int owner; /* slot, or -1 */
	uint32_t owner_gen;
	int pending;
	uint64_t attempts;
};

static struct slot slots[NSLOTS];
static struct pool_fd pool[NPOOL];
static uint64_t eph_bytes;   /* book */
static uint64_t hot_counter;
/* How often the races of interest happened (atomic). */
static uint64_t n_excl_raced, n_excl_busy, n_closed_under, n_enotty;

static struct {
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	bool busy;
} gone[NGONE]; /* book: names of sessions closed in this stage */
static int ngone;

static struct race {
	uint32_t n;
	uint64_t holder; /* 0: nobody */
	bool closing;    /* the holder is closing it */
	uint64_t ver;
	int inflight;
} races[NRACE]; /* book */
static uint32_t race_n;
static uint64_t holder_seq; /* book */

static bool owner_live(const struct pool_fd *p)
{
	return p->owner >= 0 && slots[p->owner].live && slots[p->owner].gen == p->owner_gen;
}

static bool owner_firm(const struct pool_fd *p)
{
	return owner_live(p) && !slots[p->owner].closing;
}

static struct held *slot_token(int s, uint64_t token)
{
	for (int i = 0; i < slots[s].nfiles; i++)
		if (slots[s].files[i].token == token)
			return &slots[s].files[i];
	return NULL;
}

static void slot_add(int s, struct held h)
{
	struct slot *sl = &slots[s];

	if (sl->nfiles == sl->cap) {
		sl->cap = sl->cap ? 2 * sl->cap : 16;
		sl->files = realloc(sl->files, sl->cap * sizeof(*sl->files));
		if (!sl->files)
			BAIL("out of memory");
	}
	sl->files[sl->nfiles++] = h;
}

/* Enter slot @s for an ioctl: false if it holds no session. */
static bool slot_enter(int s, uint32_t *gen, bool *closing)
{
	bool live;

	pthread_rwlock_rdlock(&slots[s].rw);
	LOCK();
	live = slots[s].live;
	*gen = slots[s].gen;
	*closing = slots[s].closing;
	UNLOCK();
	if (!live)
		pthread_rwlock_unlock(&slots[s].rw);
	return live;
}

static void slot_leave(int s)
{
	pthread_rwlock_unlock(&slots[s].rw);
}

/* ---- stage 1: operations on sessions ---------------------------------------- */

/* A new session in the empty slot @s. */
static void op_revive(struct tctx *t, int s)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int fd;

	LOCK();
	if (slots[s].live || slots[s].reviving) {
		UNLOCK();
		return;
	}
	slots[s].reviving = true;
	snprintf(name, sizeof(name), "stress-%02d-%u", s, slots[s].gen);
	UNLOCK();

	pthread_rwlock_wrlock(&slots[s].rw);
	fd = lu_create_session(dev, name);
	expect(t, INV_CREATE, fd, SET(0), "CREATE_SESSION %s (a new name)", name);
	if (fd >= 0) {
		if (slots[s].fd < 0) {
			slots[s].fd = fd;
		} else {
			if (dup2(fd, slots[s].fd) < 0)
				BAIL("dup2: %s", strerror(errno));
			close(fd);
		}
	}
	LOCK();
	slots[s].reviving = false;
	if (fd >= 0) {
		slots[s].live = true;
		slots[s].nfiles = 0;
		slots[s].next_small = 1;
		memcpy(slots[s].name, name, sizeof(name));
	}
	UNLOCK();
	pthread_rwlock_unlock(&slots[s].rw);
}

/* Close slot @s's session while other threads may be using it. */
static void close_slot(struct tctx *t, int s, uint32_t g, const char *name);

static void op_close(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int s = below(t, NSLOTS);
	uint32_t g;

	LOCK();
	if (!slots[s].live || slots[s].closing) {
		UNLOCK();
		return;
	}
	slots[s].closing = true;
	g = slots[s].gen;
	memcpy(name, slots[s].name, sizeof(name));
	UNLOCK();
	close_slot(t, s, g, name);
}

/* The rest of closing slot @s (generation @g, marked closing by the caller). */
static void close_slot(struct tctx *t, int s, uint32_t g, const char *name)
{
	int fd;

	/* close(), but the number stays taken (by /dev/null). */
	if (dup2(nullfd, slots[s].fd) < 0)
		BAIL("dup2: %s", strerror(errno));

	/* Once no ioctl is in flight on it, its release has run. */
	pthread_rwlock_wrlock(&slots[s].rw);
	LOCK();
	for (int i = 0; i < NPOOL; i++)
		if (pool[i].owner == s && pool[i].owner_gen == g)
			pool[i].owner = -1;
	for (int i = 0; i < slots[s].nfiles; i++)
		if (slots[s].files[i].pool < 0)
			eph_bytes -= slots[s].files[i].size;
	slots[s].nfiles = 0;
	slots[s].gen++;
	slots[s].live = false;
	slots[s].closing = false;
	UNLOCK();

	fd = lu_create_session(dev, name);
	expect(t, INV_CLOSE, fd, SET(0), "CREATE_SESSION %s right after closing it", name);
	if (fd >= 0)
		close(fd);
	pthread_rwlock_unlock(&slots[s].rw);

	LOCK();
	if (ngone < NGONE) {
		memcpy(gone[ngone].name, name, LIVEUPDATE_SESSION_NAME_LENGTH);
		ngone++;
	} else {
		int i = (int)below(t, NGONE);

		if (!gone[i].busy)
			memcpy(gone[i].name, name, LIVEUPDATE_SESSION_NAME_LENGTH);
	}
	UNLOCK();
}

/* CREATE_SESSION of a live session's name: EEXIST. */
static void op_dup_name(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int s = below(t, NSLOTS), fd;
	bool closing0, closing1;
	uint32_t g;

	if (!slot_enter(s, &g, &closing0)) {
		op_revive(t, s);
		return;
	}
	LOCK();
	memcpy(name, slots[s].name, sizeof(name));
	UNLOCK();
	fd = lu_create_session(dev, name);
	LOCK();
	closing1 = slots[s].closing;
	UNLOCK();
	if (!closing0 && !closing1)
		expect(t, INV_CREATE, fd, SET(-EEXIST), "CREATE_SESSION %s (taken)", name);
	else
		expect(t, INV_CREATE, fd, SET(-EEXIST, 0), "CREATE_SESSION %s (being closed)", name);
	if (fd >= 0)
		close(fd);
	slot_leave(s);
}

/* CREATE_SESSION of the name of a session closed earlier: free again. */
static void op_old_name(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int i, fd;

	LOCK();
	if (!ngone) {
		UNLOCK();
		return;
	}
	i = (int)below(t, ngone);
	if (gone[i].busy) {
		UNLOCK();
		return;
	}
	gone[i].busy = true;
	memcpy(name, gone[i].name, sizeof(name));
	UNLOCK();
	fd = lu_create_session(dev, name);
	expect(t, INV_CLOSE, fd, SET(0), "CREATE_SESSION %s (closed before)", name);
	if (fd >= 0)
		close(fd);
	LOCK();
	gone[i].busy = false;
	UNLOCK();
}

/*
 * CREATE_SESSION of a name every thread may be creating at the same time:
 * one gets the session (and closes it again), those that overlap it get
 * EEXIST. @r says who holds it: a holder marks itself closing before its
 * close(), so a success then is fine (and takes the name over).
 */
static void race_create(struct tctx *t, struct race *r, const char *name, enum inv inv)
{
	bool held0, conc, booked = false;
	uint64_t ver0, me;
	int inflight0;
	long fd;

	LOCK();
	held0 = r->holder != 0;
	ver0 = r->ver;
	inflight0 = r->inflight++;
	UNLOCK();
	fd = lu_create_session(dev, name);
	LOCK();
	r->inflight--;
	conc = held0 || r->holder || r->ver != ver0 || inflight0 > 0 || r->inflight > 0;
	if (r->holder && !r->closing)
		expect(t, inv, fd, SET(-EEXIST), "CREATE_SESSION %s (held by another thread)", name);
	else if (conc)
		expect(t, inv, fd, SET(0, -EEXIST), "CREATE_SESSION %s (raced)", name);
	else
		expect(t, inv, fd, SET(0), "CREATE_SESSION %s (not raced)", name);
	me = ++holder_seq;
	if (fd >= 0 && (!r->holder || r->closing)) {
		r->holder = me;
		r->closing = false;
		booked = true;
	}
	UNLOCK();
	if (fd < 0)
		return;
	LOCK();
	if (booked && r->holder == me)
		r->closing = true;
	UNLOCK();
	close(fd);
	LOCK();
	if (booked && r->holder == me) {
		r->holder = 0;
		r->closing = false;
		r->ver++;
	}
	UNLOCK();
}

static void op_race_name(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	struct race *r;
	uint32_t n;

	LOCK();
	n = race_n;
	r = &races[n % NRACE];
	if (r->n != n) {
		r->n = n;
		r->holder = 0;
		r->closing = false;
	}
	UNLOCK();
	snprintf(name, sizeof(name), "race-%u", n);
	race_create(t, r, name, INV_RACE);
	/* Every fourth attempt moves on to a new name. */
	if (!below(t, 4)) {
		LOCK();
		if (race_n == n)
			race_n++;
		UNLOCK();
	}
}

static void op_get_name(struct tctx *t)
{
	char want[LIVEUPDATE_SESSION_NAME_LENGTH], got[LIVEUPDATE_SESSION_NAME_LENGTH] = "";
	int s = below(t, NSLOTS);
	bool closing0, closing1;
	uint32_t g;
	long rc;

	if (!slot_enter(s, &g, &closing0))
		return;
	LOCK();
	memcpy(want, slots[s].name, sizeof(want));
	UNLOCK();
	rc = lu_get_name(slots[s].fd, got);
	LOCK();
	closing1 = slots[s].closing;
	UNLOCK();
	if (!closing0 && !closing1)
		expect(t, INV_NAME, rc, SET(0), "GET_NAME %s", want);
	else
		expect(t, INV_NAME, rc, SET(0, -ENOTTY), "GET_NAME %s (being closed)", want);
	if (!rc && strncmp(got, want, sizeof(got)))
		violation(t, INV_NAME, "GET_NAME %s: got \"%.64s\"", want, got);
	slot_leave(s);
}

static void op_status(struct tctx *t)
{
	struct liveupdate_mod_status st;
	long rc = mod_status(&st);

	if (expect(t, INV_STATUS, rc, SET(0), "MOD_STATUS") && (!st.ready || st.first_error))
		violation(t, INV_STATUS, "MOD_STATUS: ready %u, first_error %s, session \"%.64s\" token %llu",
			  st.ready, lu_errname(st.first_error), (const char *)st.failed_session,
			  (unsigned long long)st.failed_token);
}

/* ---- stage 1: PRESERVE_FD --------------------------------------------------- */

/*
 * PRESERVE_FD of pool memfd @m into slot @s (entered by the caller), judged
 * by what the books say; the result, and in *@strict whether the session
 * stayed open throughout.
 */
static long preserve_pool_into(struct tctx *t, int s, uint32_t g, bool closing0, int m, bool racy,
			       bool *strict, const char *why)
{
	bool closing1, live0, live1, tok_held0, tok_held1, conc_m, conc_s, firm1;
	struct pool_fd *p = &pool[m];
	enum inv inv = INV_PRESERVE;
	uint64_t tok, matt0, satt0;
	int n = 0, mpend0, spend0;
	long set[4], rc;

	LOCK();
	tok = racy ? slots[s].next_small : fresh_token();
	tok_held0 = slot_token(s, tok) != NULL;
	live0 = owner_live(p);
	mpend0 = p->pending++;
	matt0 = p->attempts++;
	spend0 = slots[s].pending++;
	satt0 = slots[s].attempts++;
	UNLOCK();

	rc = lu_preserve_fd(slots[s].fd, p->fd, tok);

	LOCK();
	p->pending--;
	slots[s].pending--;
	closing1 = slots[s].closing;
	conc_m = mpend0 > 0 || p->pending > 0 || p->attempts != matt0 + 1;
	conc_s = spend0 > 0 || slots[s].pending > 0 || slots[s].attempts != satt0 + 1;
	live1 = owner_live(p);
	firm1 = owner_firm(p);
	tok_held1 = slot_token(s, tok) != NULL;
	*strict = !closing0 && !closing1;
	if (!*strict) {
		set[n++] = 0;
		set[n++] = -EEXIST;
		set[n++] = -EBUSY;
		set[n++] = -ENOTTY;
	} else if (tok_held0) {
		set[n++] = -EEXIST;
	} else {
		/* Success only if nobody holds the memfd or the token now. */
		if (!firm1 && !tok_held1)
			set[n++] = 0;
		if (live0 || live1 || conc_m)
			set[n++] = -EBUSY;
		if (racy && (tok_held1 || conc_s))
			set[n++] = -EEXIST;
	}
	if (rc == 0) {
		if (!firm1 || *strict) {
			p->owner = s;
			p->owner_gen = g;
		}
		if (!tok_held1)
			slot_add(s, (struct held){ .token = tok, .pool = m });
		if (racy && tok >= slots[s].next_small)
			slots[s].next_small = tok + 1;
	}
	UNLOCK();

	if (conc_m) {
		__atomic_add_fetch(&n_excl_raced, 1, __ATOMIC_RELAXED);
		if (rc == -EBUSY)
			__atomic_add_fetch(&n_excl_busy, 1, __ATOMIC_RELAXED);
	}
	if (!*strict)
		__atomic_add_fetch(&n_closed_under, 1, __ATOMIC_RELAXED);
	if (rc == -ENOTTY)
		__atomic_add_fetch(&n_enotty, 1, __ATOMIC_RELAXED);
	if (rc == -EEXIST || tok_held0)
		inv = INV_TOKEN;
	else if (rc == -EBUSY || live0 || (rc == 0 && firm1))
		inv = INV_EXCL;
	expect(t, inv, rc, set, n, "PRESERVE_FD pool#%d (%zu bytes) into %s token %llu%s%s%s%s", m,
	       p->size, slots[s].name, (unsigned long long)tok, racy ? " (raced token)" : "",
	       live0 ? " (held at the start)" : "", conc_m ? " (memfd raced)" : "", why);
	return rc;
}

/* The last NDUEL memfds of the pool are only preserved by duels. */
#define NDUEL 4
#define NPRESERVE (NPOOL - NDUEL)

static void op_preserve_pool(struct tctx *t)
{
	int s = below(t, NSLOTS), m;
	bool closing0, strict;
	uint32_t g;

	if (!slot_enter(s, &g, &closing0)) {
		op_revive(t, s);
		return;
	}
	if (below(t, 2))
		m = (int)((__atomic_fetch_add(&hot_counter, 1, __ATOMIC_RELAXED) / 8) % NPRESERVE);
	else
		m = (int)below(t, NPRESERVE);
	LOCK();
	if (slots[s].nfiles >= MAX_SLOT_FILES) {
		UNLOCK();
		slot_leave(s);
		return;
	}
	UNLOCK();
	preserve_pool_into(t, s, g, closing0, m, below(t, 10) < 3, &strict, "");
	slot_leave(s);
}

/*
 * Two threads doing something at the same instant: the first to come
 * (meet_wait(), under book) waits up to a few ms for a partner; a partner
 * (meet_accept(), under book) wakes it; both then call meet_go() unlocked,
 * which spins until both are there, and go. meet_done() (unlocked) is true
 * for the second one to finish, which then judges and frees the meeting.
 */
struct meet {
	int state;   /* book: 0 free, 1 a thread waits, 2 paired */
	int arrived; /* atomic */
	int done;    /* book */
	pthread_cond_t cond;
};

static bool meet_wait(struct meet *m, int ms)
{
	struct timespec until;

	m->state = 1;
	m->arrived = 0;
	m->done = 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += ms * 1000L * 1000L;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	while (m->state == 1)
		if (pthread_cond_timedwait(&m->cond, &book, &until))
			break;
	if (m->state == 2)
		return true;
	m->state = 0; /* nobody came */
	return false;
}

static void meet_accept(struct meet *m)
{
	m->state = 2;
	pthread_cond_signal(&m->cond);
}

static void meet_go(struct meet *m)
{
	__atomic_add_fetch(&m->arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&m->arrived, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
}

/* Under book: true for the second to finish; the meeting is free again. */
static bool meet_done(struct meet *m)
{
	if (++m->done < 2)
		return false;
	m->state = 0;
	return true;
}

static bool waiting(struct meet *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED) == 1;
}

/*
 * Two threads preserve one free memfd at the same instant, each into its own
 * session (or both into one): exactly one succeeds, the other gets EBUSY.
 * The first to come waits up to a few ms for a partner; both then spin
 * until both are there, and go.
 */
static struct {
	struct meet meet;
	int m;              /* the memfd, free when the duel began */
	long rc[2];
	bool strict[2];
	int slot[2];
	uint32_t gen[2];
	bool free_at_start;
} duel = { .meet.cond = PTHREAD_COND_INITIALIZER };
static uint64_t n_duels, n_duels_strict;

static void op_duel(struct tctx *t)
{
	int s = below(t, NSLOTS), me, m = -1;
	bool closing0, strict;
	uint32_t g;
	long rc;

	if (!slot_enter(s, &g, &closing0))
		return;
	LOCK();
	if (slots[s].nfiles >= MAX_SLOT_FILES || duel.meet.state == 2) {
		UNLOCK();
		slot_leave(s);
		return;
	}
	if (duel.meet.state == 0) {
		/* Challenge: a duel memfd nobody holds or tries, if any. */
		int k = (int)below(t, NDUEL);

		for (int i = 0; i < NDUEL && m < 0; i++, k = (k + 1) % NDUEL)
			if (!owner_live(&pool[NPRESERVE + k]) && !pool[NPRESERVE + k].pending)
				m = NPRESERVE + k;
		if (m < 0) {
			UNLOCK();
			slot_leave(s);
			return;
		}
		duel.m = m;
		me = 0;
		if (!meet_wait(&duel.meet, 5)) {
			UNLOCK();
			slot_leave(s);
			return;
		}
	} else {
		m = duel.m;
		duel.free_at_start = !owner_live(&pool[m]) && !pool[m].pending;
		me = 1;
		meet_accept(&duel.meet);
	}
	UNLOCK();

	meet_go(&duel.meet);
	rc = preserve_pool_into(t, s, g, closing0, m, false, &strict, " (duel)");

	LOCK();
	duel.rc[me] = rc;
	duel.strict[me] = strict;
	duel.slot[me] = s;
	duel.gen[me] = g;
	if (duel.meet.done == 1) {
		/*
		 * Strict only if both sessions are still open now: one duelist
		 * may run late, after the winner's session was closed.
		 */
		bool open = true;

		for (int i = 0; i < 2; i++)
			open = open && slots[duel.slot[i]].live && !slots[duel.slot[i]].closing &&
			       slots[duel.slot[i]].gen == duel.gen[i];
		n_duels++;
		if (duel.strict[0] && duel.strict[1] && duel.free_at_start && open) {
			n_duels_strict++;
			checked(INV_EXCL);
			if (!((duel.rc[0] == 0 && duel.rc[1] == -EBUSY) ||
			      (duel.rc[1] == 0 && duel.rc[0] == -EBUSY)))
				violation(t, INV_EXCL,
					  "PRESERVE_FD of free pool#%d by two threads at once: %s and %s, "
					  "want one success and one EBUSY", m, duel.rc[0] ? lu_errname(duel.rc[0]) : "success",
					  duel.rc[1] ? lu_errname(duel.rc[1]) : "success");
		}
	}
	meet_done(&duel.meet);
	UNLOCK();
	slot_leave(s);
}

/* A memfd of @size pattern(key, 0) bytes at position @pos. */
static int new_memfd(struct tctx *t, uint32_t key, size_t size, uint64_t pos, bool sealable)
{
	int fd = memfd_create("stress", sealable ? MFD_ALLOW_SEALING : 0);

	if (fd < 0)
		BAIL("memfd_create: %s", strerror(errno));
	fill_one(t->buf, key, 0, 0, size);
	if (size && pwrite(fd, t->buf, size, 0) != (ssize_t)size)
		BAIL("fill a memfd of %zu bytes: %s", size, strerror(errno));
	if (lseek(fd, (off_t)pos, SEEK_SET) != (off_t)pos)
		BAIL("lseek: %s", strerror(errno));
	return fd;
}

static uint32_t eph_key(uint64_t token)
{
	return 0x40000000u | (uint32_t)(token & 0x3fffffff);
}

static void op_preserve_new(struct tctx *t)
{
	int s = below(t, NSLOTS), fd;
	bool closing0, closing1, sealable = below(t, 2);
	uint64_t tok = fresh_token(), pos;
	size_t size = sizes[below(t, NSIZES)];
	uint32_t g;
	long rc;

	LOCK();
	if (eph_bytes > EPH_CAP && size > 65537)
		size = 4097;
	UNLOCK();
	pos = (tok * 31) % (size + 1);
	fd = new_memfd(t, eph_key(tok), size, pos, sealable);
	if (!slot_enter(s, &g, &closing0)) {
		close(fd);
		op_revive(t, s);
		return;
	}
	LOCK();
	if (slots[s].nfiles >= MAX_SLOT_FILES) {
		UNLOCK();
		slot_leave(s);
		close(fd);
		return;
	}
	UNLOCK();
	rc = lu_preserve_fd(slots[s].fd, fd, tok);
	LOCK();
	closing1 = slots[s].closing;
	if (rc == 0) {
		slot_add(s, (struct held){ .token = tok, .pool = -1, .key = eph_key(tok),
					    .seals = sealable ? 0 : F_SEAL_SEAL, .size = size,
					    .pos = pos });
		eph_bytes += size;
	}
	UNLOCK();
	if (!closing0 && !closing1)
		expect(t, INV_PRESERVE, rc, SET(0), "PRESERVE_FD a new memfd of %zu bytes into %s",
		       size, slots[s].name);
	else
		expect(t, INV_PRESERVE, rc, SET(0, -ENOTTY),
		       "PRESERVE_FD a new memfd into %s (being closed)", slots[s].name);
	slot_leave(s);
	close(fd); /* the session holds the file */
}

/* A token the session already has: EEXIST before anything else. */
static void op_preserve_dup_token(struct tctx *t)
{
	int s = below(t, NSLOTS), fd = -1;
	bool closing0, closing1;
	uint64_t tok;
	uint32_t g;
	long rc;

	if (!slot_enter(s, &g, &closing0))
		return;
	LOCK();
	if (!slots[s].nfiles) {
		UNLOCK();
		slot_leave(s);
		return;
	}
	tok = slots[s].files[below(t, slots[s].nfiles)].token;
	UNLOCK();
	switch (below(t, 3)) {
	case 0:
		fd = pool[below(t, NPOOL)].fd; /* busy or not: EEXIST comes first */
		break;
	case 1:
		fd = -1;                        /* even a bad fd */
		break;
	default:
		fd = pipefd;
		break;
	}
	rc = lu_preserve_fd(slots[s].fd, fd, tok);
	LOCK();
	closing1 = slots[s].closing;
	UNLOCK();
	if (!closing0 && !closing1)
		expect(t, INV_TOKEN, rc, SET(-EEXIST), "PRESERVE_FD token %llu again into %s",
		       (unsigned long long)tok, slots[s].name);
	else
		expect(t, INV_TOKEN, rc, SET(-EEXIST, -ENOTTY),
		       "PRESERVE_FD token %llu again into %s (being closed)",
		       (unsigned long long)tok, slots[s].name);
	slot_leave(s);
}

static void op_preserve_bad(struct tctx *t)
{
	int s = below(t, NSLOTS), kind = (int)below(t, 3), fd;
	static const char *const what[] = { "fd -1", "a pipe", "a linked tmpfs file" };
	bool closing0, closing1;
	uint64_t tok = fresh_token();
	long want, rc;
	uint32_t g;

	fd = kind == 0 ? -1 : kind == 1 ? pipefd : tmpfd;
	want = kind == 0 ? -EBADF : -ENOENT;
	if (!slot_enter(s, &g, &closing0))
		return;
	rc = lu_preserve_fd(slots[s].fd, fd, tok);
	LOCK();
	closing1 = slots[s].closing;
	UNLOCK();
	if (!closing0 && !closing1)
		expect(t, INV_BADFD, rc, SET(want), "PRESERVE_FD %s into %s", what[kind], slots[s].name);
	else
		expect(t, INV_BADFD, rc, SET(want, -ENOTTY), "PRESERVE_FD %s into %s (being closed)",
		       what[kind], slots[s].name);
	slot_leave(s);
}

/*
 * A preserve in flight while its session is closed: the first thread starts
 * PRESERVE_FD of a new memfd (1 MiB of holes: a slow ioctl) into a
 * session, its partner closes that session a moment later. The preserve
 * succeeds (the release waits for it) or, if the close came first, gets
 * ENOTTY from /dev/null; either way, once the close is over, the memfd is
 * free again: ftruncate works.
 */
static struct {
	struct meet meet;
	int s;
	uint32_t g;
} cduel = { .meet.cond = PTHREAD_COND_INITIALIZER };
static uint64_t n_cduels, n_cduels_inflight;

static void op_close_duel(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int s = below(t, NSLOTS), fd;
	size_t size = MAXSIZE / 2;
	bool closing0;
	uint64_t tok;
	uint32_t g;
	long rc, prc;

	LOCK();
	if (cduel.meet.state == 1 && slots[cduel.s].live && !slots[cduel.s].closing &&
	    slots[cduel.s].gen == cduel.g) {
		/* Accept: close the challenger's session once it is under way. */
		s = cduel.s;
		g = cduel.g;
		slots[s].closing = true;
		memcpy(name, slots[s].name, sizeof(name));
		meet_accept(&cduel.meet);
		UNLOCK();
		meet_go(&cduel.meet);
		for (double until = now() + below(t, 400) * 1e-6; now() < until;)
			;
		close_slot(t, s, g, name);
		LOCK();
		meet_done(&cduel.meet);
		UNLOCK();
		return;
	}
	if (cduel.meet.state != 0) {
		UNLOCK();
		return;
	}
	UNLOCK();

	/* Holes: the preserve fills them, which makes it slow, and nothing here reads them. */
	tok = fresh_token();
	fd = memfd_create("stress-close-duel", 0);
	if (fd < 0 || ftruncate(fd, (off_t)size))
		BAIL("memfd for a close duel: %s", strerror(errno));
	if (!slot_enter(s, &g, &closing0)) {
		close(fd);
		return;
	}
	LOCK();
	if (closing0 || cduel.meet.state != 0) {
		UNLOCK();
		slot_leave(s);
		close(fd);
		return;
	}
	cduel.s = s;
	cduel.g = g;
	memcpy(name, slots[s].name, sizeof(name));
	if (!meet_wait(&cduel.meet, 5)) {
		UNLOCK();
		slot_leave(s);
		close(fd);
		return;
	}
	UNLOCK();

	meet_go(&cduel.meet);
	prc = lu_preserve_fd(slots[s].fd, fd, tok);
	slot_leave(s);
	expect(t, INV_CLOSE, prc, SET(0, -ENOTTY),
	       "PRESERVE_FD a new memfd of %zu bytes into %s while it is being closed", size, name);

	/* Once the close is over (it needs our read lock gone), the file is free. */
	for (;;) {
		bool over;

		LOCK();
		over = slots[s].gen != g;
		UNLOCK();
		if (over)
			break;
		usleep(100);
	}
	rc = err_of(ftruncate(fd, size + 4096));
	expect(t, INV_CLOSE, rc, SET(0),
	       "ftruncate of a memfd %s in %s while that was closed, once closed",
	       prc == 0 ? "preserved" : "offered", name);
	close(fd);
	LOCK();
	n_cduels++;
	if (prc == 0)
		n_cduels_inflight++;
	meet_done(&cduel.meet);
	UNLOCK();
}

/*
 * Two sessions closed at the same instant: their files are unpreserved side
 * by side (the memfd handler unlinks each from one list of all preserved
 * memfds, whose neighbours may belong to the other session).
 */
static struct {
	struct meet meet;
	int s;
} cpair = { .meet.cond = PTHREAD_COND_INITIALIZER };
static uint64_t n_cpairs;

static void op_close_pair(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	int s = below(t, NSLOTS);
	uint32_t g;

	LOCK();
	if (cpair.meet.state == 2) {
		UNLOCK();
		return;
	}
	for (int i = 0; i < NSLOTS; i++, s = (s + 1) % NSLOTS)
		if (slots[s].live && !slots[s].closing && slots[s].nfiles &&
		    (cpair.meet.state == 0 || s != cpair.s))
			break;
	if (!slots[s].live || slots[s].closing || !slots[s].nfiles ||
	    (cpair.meet.state == 1 && s == cpair.s)) {
		UNLOCK();
		return;
	}
	/* Marked closing now: nobody else closes it meanwhile. */
	slots[s].closing = true;
	g = slots[s].gen;
	memcpy(name, slots[s].name, sizeof(name));
	if (cpair.meet.state == 1) {
		meet_accept(&cpair.meet);
	} else {
		cpair.s = s;
		if (!meet_wait(&cpair.meet, 5)) {
			UNLOCK();
			close_slot(t, s, g, name); /* alone, then */
			return;
		}
	}
	UNLOCK();
	meet_go(&cpair.meet);
	close_slot(t, s, g, name);
	LOCK();
	if (meet_done(&cpair.meet))
		n_cpairs++;
	UNLOCK();
}

/*
 * Two threads each fill a session of their own with small memfds at the same
 * time, so that the two sessions' files alternate in whatever list the
 * implementation keeps of all preserved files, then close both at the same
 * instant: every unpreserve has a neighbour being unpreserved by the other
 * thread. Afterwards every memfd is free again (ftruncate works).
 */
#define WEAVE 24
static struct {
	struct meet meet;
	int arrived2; /* atomic: both filled */
} weave = { .meet.cond = PTHREAD_COND_INITIALIZER };
static uint64_t n_weaves;

static void op_weave(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	static uint32_t weave_n;
	int fds[WEAVE], s, n = 0, bad = 0;
	long rc;

	LOCK();
	if (weave.meet.state == 2) {
		UNLOCK();
		return;
	}
	snprintf(name, sizeof(name), "weave-%u", ++weave_n);
	if (weave.meet.state == 1) {
		meet_accept(&weave.meet);
	} else {
		weave.arrived2 = 0;
		if (!meet_wait(&weave.meet, 5)) {
			UNLOCK();
			return;
		}
	}
	UNLOCK();

	s = lu_create_session(dev, name);
	expect(t, INV_CREATE, s, SET(0), "CREATE_SESSION %s", name);
	meet_go(&weave.meet);
	for (int i = 0; i < WEAVE && s >= 0; i++) {
		fds[n] = memfd_create("stress-weave", 0);
		if (fds[n] < 0 || ftruncate(fds[n], 4096))
			BAIL("memfd: %s", strerror(errno));
		rc = lu_preserve_fd(s, fds[n], i + 1);
		expect(t, INV_PRESERVE, rc, SET(0), "PRESERVE_FD a new memfd into %s (woven)", name);
		n++;
	}
	__atomic_add_fetch(&weave.arrived2, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&weave.arrived2, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
	if (s >= 0)
		close(s);
	for (int i = 0; i < n; i++) {
		rc = err_of(ftruncate(fds[i], 8192));
		checked(INV_CLOSE);
		if (rc && bad++ == 0)
			violation(t, INV_CLOSE, "ftruncate of a memfd of %s once that was closed: %s",
				  name, lu_errname(rc));
		close(fds[i]);
	}
	LOCK();
	if (meet_done(&weave.meet))
		n_weaves++;
	UNLOCK();
}

/* ---- stage 1: the memfds themselves ------------------------------------------ */

/* Rewrite blocks [@from, @to) of @p (its content lock held) with a new seed. */
static bool rewrite_blocks(struct tctx *t, struct pool_fd *p, size_t from, size_t to,
			   const char *why)
{
	size_t off = from * BLK, end = to * BLK < p->size ? to * BLK : p->size;
	uint32_t sd = next_seed();
	ssize_t n;

	if (end <= off)
		return true;
	fill_one(t->buf, p->key, sd, off, end - off);
	n = pwrite(p->fd, t->buf, end - off, off);
	checked(INV_WRITE);
	if (n != (ssize_t)(end - off)) {
		violation(t, INV_WRITE, "pwrite %zu bytes at %zu of pool#%u (%s): %s", end - off, off,
			  p->key, why, n < 0 ? strerror(errno) : "short");
		return false;
	}
	for (size_t b = from; b < to && b < MAXBLK; b++)
		p->seeds[b] = sd;
	return true;
}

static bool write_sealed(const struct pool_fd *p)
{
	return p->seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
}

static void op_write(struct tctx *t, bool use_mmap)
{
	struct pool_fd *p = &pool[below(t, NPOOL)];
	size_t nb, b0, lb, off, end, len;
	uint32_t sd;
	ssize_t n;

	pthread_mutex_lock(&p->content);
	if (!p->size || write_sealed(p)) {
		pthread_mutex_unlock(&p->content);
		return;
	}
	nb = nblocks(p->size);
	b0 = below(t, nb);
	lb = 1 + below(t, nb - b0 < WRITE_BLKS ? nb - b0 : WRITE_BLKS);
	off = b0 * BLK;
	end = (b0 + lb) * BLK < p->size ? (b0 + lb) * BLK : p->size;
	len = end - off;
	sd = next_seed();
	fill_one(t->buf, p->key, sd, off, len);
	checked(INV_WRITE);
	if (use_mmap) {
		size_t moff = off & ~4095UL, mlen = end - moff;
		uint8_t *map = mmap(NULL, mlen, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, moff);

		if (map == MAP_FAILED) {
			violation(t, INV_WRITE, "mmap %zu bytes at %zu of pool#%u: %s", mlen, moff,
				  p->key, strerror(errno));
			pthread_mutex_unlock(&p->content);
			return;
		}
		memcpy(map + (off - moff), t->buf, len);
		munmap(map, mlen);
		n = (ssize_t)len;
	} else if (below(t, 2)) {
		n = pwrite(p->fd, t->buf, len, off);
	} else {
		n = lseek(p->fd, off, SEEK_SET) == (off_t)off ? write(p->fd, t->buf, len) : -1;
	}
	if (n != (ssize_t)len)
		violation(t, INV_WRITE, "write %zu bytes at %zu of pool#%u (%zu bytes): %s", len, off,
			  p->key, p->size, n < 0 ? strerror(errno) : "short");
	else
		for (size_t b = b0; b < b0 + lb; b++)
			p->seeds[b] = sd;
	pthread_mutex_unlock(&p->content);
}

/* A write starting at the end of a preserved memfd: EPERM (frozen size). */
static void op_write_past_end(struct tctx *t)
{
	struct pool_fd *p = &pool[below(t, NPOOL)];
	size_t len = 1 + below(t, 100), old;
	int own0;
	uint32_t gen0;
	bool firm0, firm1;
	long rc;

	pthread_mutex_lock(&p->content);
	LOCK();
	firm0 = owner_firm(p);
	own0 = p->owner;
	gen0 = p->owner_gen;
	UNLOCK();
	if (!firm0 || write_sealed(p) || p->size + len > MAXSIZE) {
		pthread_mutex_unlock(&p->content);
		return;
	}
	old = p->size;
	fill_one(t->buf, p->key, next_seed(), old, len);
	rc = err_of(pwrite(p->fd, t->buf, len, old));
	LOCK();
	firm1 = owner_firm(p) && p->owner == own0 && p->owner_gen == gen0;
	UNLOCK();
	if (firm1)
		expect(t, INV_FROZEN, rc, SET(-EPERM), "pwrite past the end of preserved pool#%u", p->key);
	else
		expect(t, INV_FROZEN, rc, SET(-EPERM, (long)len),
		       "pwrite past the end of pool#%u (its session closing)", p->key);
	if (rc > 0) {
		/* It grew: the tail blocks get one seed again. */
		p->size = old + rc;
		rewrite_blocks(t, p, old / BLK, nblocks(p->size), "after growing by a write");
	}
	pthread_mutex_unlock(&p->content);
}

static void op_truncate(struct tctx *t)
{
	struct pool_fd *p = &pool[below(t, NPOOL)];
	size_t size = sizes[below(t, NSIZES)], old;
	bool firm0, live0, firm1, live1, conc, sealed;
	uint64_t att0;
	int own0, pend0;
	uint32_t gen0;
	long rc;

	pthread_mutex_lock(&p->content);
	old = p->size;
	if (size == old || write_sealed(p)) {
		pthread_mutex_unlock(&p->content);
		return;
	}
	sealed = (size < old && (p->seals & F_SEAL_SHRINK)) || (size > old && (p->seals & F_SEAL_GROW));
	LOCK();
	firm0 = owner_firm(p);
	live0 = owner_live(p);
	own0 = p->owner;
	gen0 = p->owner_gen;
	pend0 = p->pending;
	att0 = p->attempts;
	UNLOCK();
	rc = err_of(ftruncate(p->fd, (off_t)size));
	LOCK();
	firm1 = owner_firm(p) && p->owner == own0 && p->owner_gen == gen0;
	live1 = owner_live(p);
	conc = pend0 > 0 || p->pending > 0 || p->attempts != att0;
	UNLOCK();
	if (sealed)
		expect(t, INV_SEALS, rc, SET(-EPERM), "ftruncate sealed pool#%u from %zu to %zu",
		       p->key, old, size);
	else if (firm0 && firm1)
		expect(t, INV_FROZEN, rc, SET(-EPERM), "ftruncate preserved pool#%u from %zu to %zu",
		       p->key, old, size);
	else if (!live0 && !live1 && !conc)
		expect(t, INV_TRUNC, rc, SET(0), "ftruncate free pool#%u from %zu to %zu", p->key, old,
		       size);
	else
		expect(t, INV_TRUNC, rc, SET(0, -EPERM), "ftruncate pool#%u from %zu to %zu (raced)",
		       p->key, old, size);
	if (rc == 0) {
		p->size = size;
		/* The block the old end was in, and anything new, get a seed. */
		rewrite_blocks(t, p, (old < size ? old : size) / BLK, nblocks(size), "after ftruncate");
	}
	pthread_mutex_unlock(&p->content);
}

static void op_seal(struct tctx *t)
{
	int m = (int)below(t, NPOOL);
	struct pool_fd *p = &pool[m];
	bool firm0, firm1;
	uint32_t gen0;
	int own0, seal;
	long rc;

	pthread_mutex_lock(&p->content);
	if (!p->sealable) {
		rc = err_of(fcntl(p->fd, F_ADD_SEALS, F_SEAL_GROW));
		expect(t, INV_SEALS, rc, SET(-EPERM), "F_ADD_SEALS on pool#%u (no MFD_ALLOW_SEALING)",
		       p->key);
	} else if (p->seal_sizes && below(t, 2)) {
		seal = below(t, 2) ? F_SEAL_GROW : F_SEAL_SHRINK;
		rc = err_of(fcntl(p->fd, F_ADD_SEALS, seal));
		expect(t, INV_SEALS, rc, SET(0), "F_ADD_SEALS %s on pool#%u",
		       seal == F_SEAL_GROW ? "F_SEAL_GROW" : "F_SEAL_SHRINK", p->key);
	} else if (p->size && !write_sealed(p) && !below(t, 4)) {
		LOCK();
		firm0 = owner_firm(p);
		own0 = p->owner;
		gen0 = p->owner_gen;
		UNLOCK();
		if (!firm0) {
			pthread_mutex_unlock(&p->content);
			return;
		}
		/* The preserve's pins make memfd_wait_for_pins() give up (~150 ms). */
		rc = err_of(fcntl(p->fd, F_ADD_SEALS, F_SEAL_WRITE));
		LOCK();
		firm1 = owner_firm(p) && p->owner == own0 && p->owner_gen == gen0;
		UNLOCK();
		if (firm1)
			expect(t, INV_SEALS, rc, SET(-EBUSY), "F_ADD_SEALS F_SEAL_WRITE on preserved pool#%u",
			       p->key);
		else
			expect(t, INV_SEALS, rc, SET(-EBUSY, 0),
			       "F_ADD_SEALS F_SEAL_WRITE on pool#%u (its session closing)", p->key);
	}
	rc = fcntl(p->fd, F_GET_SEALS);
	if (rc >= 0)
		p->seals = (uint32_t)rc;
	pthread_mutex_unlock(&p->content);
}

/* ---- stage 1: the threads ------------------------------------------------------ */

enum op {
	OP_REVIVE, OP_CLOSE, OP_DUP_NAME, OP_OLD_NAME, OP_RACE_NAME, OP_PRESERVE_POOL,
	OP_PRESERVE_NEW, OP_DUP_TOKEN, OP_BAD, OP_GET_NAME, OP_STATUS, OP_WRITE, OP_MMAP_WRITE,
	OP_PAST_END, OP_TRUNCATE, OP_SEAL, OP_DUEL, OP_CLOSE_DUEL, OP_CLOSE_PAIR, OP_WEAVE, NOPS,
};

/* Percent of the operations; MOD_STATUS's share goes to PRESERVE_FD upstream. */
static const unsigned int op_weight[NOPS] = {
	[OP_REVIVE] = 7, [OP_CLOSE] = 3, [OP_DUP_NAME] = 4, [OP_OLD_NAME] = 2,
	[OP_RACE_NAME] = 4, [OP_PRESERVE_POOL] = 16, [OP_PRESERVE_NEW] = 8,
	[OP_DUP_TOKEN] = 3, [OP_BAD] = 3, [OP_GET_NAME] = 3, [OP_STATUS] = 5,
	[OP_WRITE] = 12, [OP_MMAP_WRITE] = 6, [OP_PAST_END] = 3, [OP_TRUNCATE] = 8,
	[OP_SEAL] = 3, [OP_DUEL] = 6, [OP_CLOSE_DUEL] = 2, [OP_CLOSE_PAIR] = 2,
	[OP_WEAVE] = 1,
};

static const char *const op_name[NOPS] = {
	[OP_REVIVE] = "create", [OP_CLOSE] = "close", [OP_DUP_NAME] = "create-taken",
	[OP_OLD_NAME] = "create-closed", [OP_RACE_NAME] = "create-raced",
	[OP_PRESERVE_POOL] = "preserve-pool", [OP_PRESERVE_NEW] = "preserve-new",
	[OP_DUP_TOKEN] = "preserve-token-again", [OP_BAD] = "preserve-bad",
	[OP_GET_NAME] = "get-name", [OP_STATUS] = "mod-status", [OP_WRITE] = "write",
	[OP_MMAP_WRITE] = "mmap-write", [OP_PAST_END] = "write-past-end",
	[OP_TRUNCATE] = "ftruncate", [OP_SEAL] = "seal", [OP_DUEL] = "preserve-duel",
	[OP_CLOSE_DUEL] = "close-duel", [OP_CLOSE_PAIR] = "close-pair", [OP_WEAVE] = "weave",
};

static void op_revive_any(struct tctx *t)
{
	int s = (int)below(t, NSLOTS);

	LOCK();
	for (int i = 0; i < NSLOTS; i++, s = (s + 1) % NSLOTS)
		if (!slots[s].live)
			break;
	UNLOCK();
	op_revive(t, s);
}

static void op_write_plain(struct tctx *t)
{
	op_write(t, false);
}

static void op_write_mmap(struct tctx *t)
{
	op_write(t, true);
}

static void (*const op_fn[NOPS])(struct tctx *t) = {
	[OP_REVIVE] = op_revive_any, [OP_CLOSE] = op_close, [OP_DUP_NAME] = op_dup_name,
	[OP_OLD_NAME] = op_old_name, [OP_RACE_NAME] = op_race_name,
	[OP_PRESERVE_POOL] = op_preserve_pool, [OP_PRESERVE_NEW] = op_preserve_new,
	[OP_DUP_TOKEN] = op_preserve_dup_token, [OP_BAD] = op_preserve_bad,
	[OP_GET_NAME] = op_get_name, [OP_STATUS] = op_status, [OP_WRITE] = op_write_plain,
	[OP_MMAP_WRITE] = op_write_mmap, [OP_PAST_END] = op_write_past_end,
	[OP_TRUNCATE] = op_truncate, [OP_SEAL] = op_seal, [OP_DUEL] = op_duel,
	[OP_CLOSE_DUEL] = op_close_duel, [OP_CLOSE_PAIR] = op_close_pair, [OP_WEAVE] = op_weave,
};

static double deadline;

static void *stage1_thread(void *arg)
{
	struct tctx *t = arg;
	unsigned int total = 0;

	for (int i = 0; i < NOPS; i++)
		total += op_weight[i];
	while (now() < deadline) {
		unsigned int r = below(t, total);
		int op = 0;

		while (r >= op_weight[op])
			r -= op_weight[op++];
		if (op == OP_STATUS && !module)
			op = OP_PRESERVE_POOL;
		/* A duelist waiting for a partner gets one soon. */
		if (waiting(&duel.meet) && below(t, 2))
			op = OP_DUEL;
		else if (waiting(&cduel.meet) && below(t, 2))
			op = OP_CLOSE_DUEL;
		else if (waiting(&cpair.meet) && below(t, 2))
			op = OP_CLOSE_PAIR;
		else if (waiting(&weave.meet))
			op = OP_WEAVE;
		double t_op = now();

		op_fn[op](t);
		t->ops++;
		t->opn[op]++;
		t->optime[op] += now() - t_op;
	}
	return NULL;
}

static struct tctx threads[MAX_THREADS + 1];

static struct tctx *tctx_init(int id)
{
	struct tctx *t = &threads[id];

	t->id = id;
	t->rng = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)id * 0xD1B54A32D192ED03ULL + 1;
	if (!t->buf)
		t->buf = malloc(MAXSIZE + BLK);
	if (!t->buf)
		BAIL("out of memory");
	return t;
}

static void summary(const char *stage)
{
	for (int i = 0; i < NINV; i++) {
		if (!invs[i].checks)
			continue;
		if (i == INV_STATUS && !module)
			continue;
		if (invs[i].bad)
			printf("not ok - %s: %s (%llu of %llu results outside the ABI)\n", stage,
			       inv_desc[i], (unsigned long long)invs[i].bad,
			       (unsigned long long)invs[i].checks);
		else
			printf("ok - %s: %s (%llu checks)\n", stage, inv_desc[i],
			       (unsigned long long)invs[i].checks);
		if (invs[i].bad)
			lu_failures++;
	}
	if (shown > MAX_SHOWN)
		lu_diag("%d more results outside the ABI were not shown", shown - MAX_SHOWN);
	fflush(stdout);
	memset(invs, 0, sizeof(invs));
	shown = 0;
}

static const char *provider(void)
{
	return module ? "module" : "upstream";
}

/* ---- stage 1: after the storm --------------------------------------------------- */

/* @fd holds exactly @size bytes of pattern(@key, @seeds): the first difference. */
static bool holds(int fd, uint32_t key, const uint32_t *seeds, uint64_t size, uint8_t *buf,
		  char *why, size_t whylen)
{
	static const size_t chunk = 64 * 1024;
	uint8_t *want = buf + chunk;
	struct stat st;

	if (fstat(fd, &st)) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		return false;
	}
	if ((uint64_t)st.st_size != size) {
		snprintf(why, whylen, "size %lld, want %llu", (long long)st.st_size,
			 (unsigned long long)size);
		return false;
	}
	for (uint64_t off = 0; off < size; off += chunk) {
		size_t len = size - off < chunk ? size - off : chunk;
		ssize_t n = pread(fd, buf, len, off);

		if (n != (ssize_t)len) {
			snprintf(why, whylen, "pread %zu at %llu: %s", len, (unsigned long long)off,
				 n < 0 ? strerror(errno) : "short");
			return false;
		}
		fill(want, key, seeds, off, len);
		if (memcmp(buf, want, len)) {
			size_t i = 0;

			while (buf[i] == want[i])
				i++;
			snprintf(why, whylen, "byte %llu is %#x, want %#x (block seed %u)",
				 (unsigned long long)(off + i), buf[i], want[i],
				 seeds[(off + i) / BLK]);
			return false;
		}
	}
	return true;
}

static void check_after_storm(struct tctx *t)
{
	char why[160];
	int bad = 0, probe, owned = 0, free_ = 0;
	uint64_t bytes = 0;

	for (int m = 0; m < NPOOL; m++) {
		bytes += pool[m].size;
		if (!holds(pool[m].fd, pool[m].key, pool[m].seeds, pool[m].size, t->buf, why,
			   sizeof(why))) {
			if (bad++ < 5)
				lu_diag("pool#%u: %s", pool[m].key, why);
		}
	}
	CHECK(!bad,
	      "after the storm every pool memfd holds exactly what was written (%d memfds, %llu bytes)",
	      NPOOL, (unsigned long long)bytes);

	/* The kernel agrees with the books on who holds which memfd. */
	probe = lu_create_session(dev, "stress-probe");
	if (probe < 0)
		BAIL("CREATE_SESSION stress-probe: %s", lu_errname(probe));
	bad = 0;
	for (int m = 0; m < NPOOL; m++) {
		bool live = owner_live(&pool[m]);
		long rc = lu_preserve_fd(probe, pool[m].fd, m + 1);

		live ? owned++ : free_++;
		if (rc != (live ? -EBUSY : 0)) {
			if (bad++ < 5)
				lu_diag("pool#%u (%s by the books): PRESERVE_FD %s", pool[m].key,
					live ? slots[pool[m].owner].name : "free", lu_errname(rc));
		}
		if (live && pool[m].size + BLK <= MAXSIZE) {
			rc = err_of(ftruncate(pool[m].fd, pool[m].size + BLK));
			if (rc != -EPERM) {
				if (bad++ < 5)
					lu_diag("pool#%u (preserved in %s): ftruncate %s", pool[m].key,
						slots[pool[m].owner].name, lu_errname(rc));
				if (rc == 0 && ftruncate(pool[m].fd, pool[m].size))
					BAIL("ftruncate back: %s", strerror(errno));
			}
		}
	}
	close(probe);
	CHECK(!bad,
	      "the kernel agrees with the books: %d memfds preserved (EBUSY, ftruncate EPERM), %d free",
	      owned, free_);

	if (module) {
		struct liveupdate_mod_status st;
		uint64_t sessions = 0, files = 0;
		long rc = mod_status(&st);

		for (int s = 0; s < NSLOTS; s++) {
			if (slots[s].live) {
				sessions++;
				files += slots[s].nfiles;
			}
		}
		if (CHECK_ERR(rc, 0, "MOD_STATUS after the storm")) {
			if (st.outgoing_sessions != sessions || st.outgoing_files != files || !st.ready)
				lu_diag("MOD_STATUS: %llu sessions, %llu files, ready %u; the books: %llu, %llu",
					(unsigned long long)st.outgoing_sessions,
					(unsigned long long)st.outgoing_files, st.ready,
					(unsigned long long)sessions, (unsigned long long)files);
			CHECK(st.outgoing_sessions == sessions && st.outgoing_files == files && st.ready,
			      "MOD_STATUS counts what the books count (%llu sessions, %llu files), ready",
			      (unsigned long long)sessions, (unsigned long long)files);
		}
	} else {
		printf("ok - MOD_STATUS counts what the books count"
		       " # SKIP the in-kernel LUO has no MOD_STATUS\n");
	}
}

/* ---- the manifest ------------------------------------------------------------------ */

struct mf_header {
	char magic[8];
	uint32_t nsessions, nfiles, ngone, threads;
	uint64_t seed, ops, total_bytes;
	double seconds;
};

struct mf_session {
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];
	uint32_t nfiles, first;
};

struct mf_file {
	uint64_t token, size, pos;
	uint32_t key, seals, nblocks, seeds_at; /* index into the seed array */
};

static uint32_t zero_seeds[MAXBLK];

static void stage_1(void)
{
	struct tctx *t0 = tctx_init(0);
	uint64_t ops = 0, nfiles = 0, nseeds = 0, total = 0;
	struct mf_header hdr = { .magic = MANIFEST_MAGIC };
	struct mf_session *ms;
	struct mf_file *mfl;
	pthread_rwlockattr_t attr;
	int mfd, msess, empty, bad = 0;
	uint32_t *seeds;
	double start, took;
	size_t mlen;
	char *mbuf;
	long rc;

	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	tmpfd = open("/tmp/uapi-stress.linked", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	{
		int p[2];

		if (pipe(p))
			BAIL("pipe: %s", strerror(errno));
		pipefd = p[0];
	}
	if (nullfd < 0 || tmpfd < 0)
		BAIL("open helpers: %s", strerror(errno));

	CHECK_ERR(lu_retrieve_session(dev, MANIFEST_SESSION), -ENOENT,
		  "cold boot: nothing to retrieve (ENOENT)");

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (int s = 0; s < NSLOTS; s++) {
		slots[s].fd = -1;
		pthread_rwlock_init(&slots[s].rw, &attr);
	}
	for (int m = 0; m < NPOOL; m++) {
		struct pool_fd *p = &pool[m];

		p->key = m + 1;
		p->sealable = m % 5 != 0;
		p->seal_sizes = p->sealable && m % 4 == 3;
		p->size = sizes[m % NSIZES];
		p->owner = -1;
		pthread_mutex_init(&p->content, NULL);
		p->fd = new_memfd(t0, p->key, p->size, 0, p->sealable);
		p->seals = p->sealable ? 0 : F_SEAL_SEAL;
	}
	for (int s = 0; s < NSLOTS; s++)
		op_revive(t0, s);

	lu_diag("stage 1: %d threads x %.0f s, seed %llu (repeat its choices with --seed %llu), "
		"%ld CPUs online, provider %s", nthreads, seconds, (unsigned long long)seed,
		(unsigned long long)seed, sysconf(_SC_NPROCESSORS_ONLN), provider());
	start = now();
	deadline = start + seconds;
	for (int i = 1; i <= nthreads; i++)
		if (pthread_create(&tctx_init(i)->th, NULL, stage1_thread, &threads[i]))
			BAIL("pthread_create: %s", strerror(errno));
	for (int i = 1; i <= nthreads; i++) {
		pthread_join(threads[i].th, NULL);
		ops += threads[i].ops;
	}
	took = now() - start;
	lu_diag("stress: %d threads x %.0f s: %llu ops, %.0f ops/s (provider: %s)", nthreads, seconds,
		(unsigned long long)ops, ops / took, provider());
	{
		char line[1024];
		size_t used = 0;

		for (int op = 0; op < NOPS; op++) {
			uint64_t n = 0;
			double sec = 0;

			for (int i = 1; i <= nthreads; i++) {
				n += threads[i].opn[op];
				sec += threads[i].optime[op];
			}
			if (n && used < sizeof(line))
				used += snprintf(line + used, sizeof(line) - used, "%s%s %llu (%.2f ms)",
						 used ? ", " : "", op_name[op], (unsigned long long)n,
						 sec * 1e3 / n);
		}
		lu_diag("stress: by operation, with the mean time of one: %s", line);
	}
	lu_diag("stress: %llu PRESERVE_FD of a memfd overlapped another one of it (%llu EBUSY); "
		"%llu duels for one free memfd, %llu with both sessions open throughout; "
		"%llu PRESERVE_FD overlapped the close of their session (%llu ENOTTY: closed before); "
		"%llu closes met a PRESERVE_FD of a new memfd (%llu preserved, then released); "
		"%llu pairs of sessions closed at once, %llu of them of %d memfds each, woven",
		(unsigned long long)n_excl_raced, (unsigned long long)n_excl_busy,
		(unsigned long long)n_duels, (unsigned long long)n_duels_strict,
		(unsigned long long)n_closed_under, (unsigned long long)n_enotty,
		(unsigned long long)n_cduels, (unsigned long long)n_cduels_inflight,
		(unsigned long long)n_cpairs, (unsigned long long)n_weaves, WEAVE);
	summary("stage 1");
	check_after_storm(t0);

	/* Survivors: every slot holds a session; all memfds go into them. */
	for (int s = 0; s < NSLOTS; s++)
		op_revive(t0, s);
	for (int m = 0, s = 0; m < NPOOL; m++) {
		uint64_t tok = fresh_token();

		if (owner_live(&pool[m]))
			continue;
		rc = lu_preserve_fd(slots[s].fd, pool[m].fd, tok);
		if (rc) {
			if (bad++ < 5)
				lu_diag("survivor %s: PRESERVE_FD pool#%u: %s", slots[s].name, pool[m].key,
					lu_errname(rc));
			continue;
		}
		pool[m].owner = s;
		pool[m].owner_gen = slots[s].gen;
		slot_add(s, (struct held){ .token = tok, .pool = m });
		s = (s + 1) % NSLOTS;
	}
	for (unsigned int i = 0; i < NSIZES; i++) {
		int s = (int)(i * 3 % NSLOTS), fd;
		uint64_t tok = fresh_token(), pos = (tok * 31) % (sizes[i] + 1);

		fd = new_memfd(t0, eph_key(tok), sizes[i], pos, i % 2);
		rc = lu_preserve_fd(slots[s].fd, fd, tok);
		if (!rc)
			slot_add(s, (struct held){ .token = tok, .pool = -1, .key = eph_key(tok),
						    .seals = i % 2 ? 0 : F_SEAL_SEAL,
						    .size = sizes[i], .pos = pos });
		else if (bad++ < 5)
			lu_diag("survivor %s: PRESERVE_FD a new memfd of %zu bytes: %s", slots[s].name,
				sizes[i], lu_errname(rc));
		close(fd);
	}
	CHECK(!bad, "survivors: all pool memfds and a new memfd of each size preserved in %d sessions",
	      NSLOTS);
	empty = lu_create_session(dev, "stress-empty");
	CHECK_OK(empty, "survivor stress-empty (no files): CREATE_SESSION");

	/* Positions, and what each file must hold, into the manifest. */
	for (int s = 0; s < NSLOTS; s++) {
		for (int i = 0; i < slots[s].nfiles; i++) {
			struct held *h = &slots[s].files[i];

			if (h->pool >= 0) {
				struct pool_fd *p = &pool[h->pool];

				h->key = p->key;
				h->size = p->size;
				h->pos = (p->key * 7919ULL) % (p->size + 1);
				h->seals = p->seals;
				if (lseek(p->fd, (off_t)h->pos, SEEK_SET) != (off_t)h->pos)
					BAIL("lseek: %s", strerror(errno));
			}
			nfiles++;
			nseeds += nblocks(h->size);
			total += h->size;
		}
	}
	mlen = sizeof(hdr) + (NSLOTS + 1) * sizeof(*ms) + nfiles * sizeof(*mfl) +
	       NGONE * LIVEUPDATE_SESSION_NAME_LENGTH + nseeds * sizeof(uint32_t);
	mbuf = calloc(1, mlen);
	if (!mbuf)
		BAIL("out of memory");
	ms = (struct mf_session *)(mbuf + sizeof(hdr));
	mfl = (struct mf_file *)(ms + NSLOTS + 1);
	seeds = (uint32_t *)((char *)(mfl + nfiles) + NGONE * LIVEUPDATE_SESSION_NAME_LENGTH);
	hdr.nsessions = NSLOTS + 1;
	hdr.nfiles = (uint32_t)nfiles;
	hdr.ngone = (uint32_t)ngone;
	hdr.threads = (uint32_t)nthreads;
	hdr.seed = seed;
	hdr.ops = ops;
	hdr.total_bytes = total;
	hdr.seconds = seconds;
	nfiles = nseeds = 0;
	for (int s = 0; s <= NSLOTS; s++) {
		memcpy(ms[s].name, s < NSLOTS ? slots[s].name : "stress-empty",
		       s < NSLOTS ? sizeof(ms[s].name) : sizeof("stress-empty"));
		ms[s].first = (uint32_t)nfiles;
		ms[s].nfiles = s < NSLOTS ? (uint32_t)slots[s].nfiles : 0;
		for (int i = 0; s < NSLOTS && i < slots[s].nfiles; i++) {
			struct held *h = &slots[s].files[i];
			struct mf_file *f = &mfl[nfiles++];
			size_t nb = nblocks(h->size);

			*f = (struct mf_file){ .token = h->token, .size = h->size, .pos = h->pos,
					       .key = h->key, .seals = h->seals,
					       .nblocks = (uint32_t)nb, .seeds_at = (uint32_t)nseeds };
			memcpy(seeds + nseeds, h->pool >= 0 ? pool[h->pool].seeds : zero_seeds,
			       nb * sizeof(uint32_t));
			nseeds += nb;
		}
	}
	for (int i = 0; i < ngone; i++)
		memcpy((char *)(mfl + nfiles) + i * LIVEUPDATE_SESSION_NAME_LENGTH, gone[i].name,
		       LIVEUPDATE_SESSION_NAME_LENGTH);
	memcpy(mbuf, &hdr, sizeof(hdr));
	mfd = memfd_create("stress-manifest", 0);
	if (mfd < 0 || pwrite(mfd, mbuf, mlen, 0) != (ssize_t)mlen)
		BAIL("manifest: %s", strerror(errno));
	msess = lu_create_session(dev, MANIFEST_SESSION);
	if (msess < 0)
		BAIL("CREATE_SESSION %s: %s", MANIFEST_SESSION, lu_errname(msess));
	if (!CHECK_ERR(lu_preserve_fd(msess, mfd, 1), 0, "the manifest (%zu bytes) is preserved", mlen))
		BAIL("no manifest, nothing to check after the kexec");
	free(mbuf);

	if (module) {
		struct liveupdate_mod_status st;

		rc = mod_status(&st);
		CHECK(rc == 0 && st.ready && st.outgoing_sessions == NSLOTS + 2 &&
		      st.outgoing_files == nfiles + 1,
		      "MOD_STATUS before the kexec: ready, %d sessions, %llu files", NSLOTS + 2,
		      (unsigned long long)nfiles + 1);
	}
	lu_diag("survivors: %d sessions, %llu files, %llu bytes; %d closed names to be gone",
		NSLOTS + 1, (unsigned long long)nfiles, (unsigned long long)total, ngone);
	lu_hold_until_kexec(READY);
}

/* ---- stage 2 ----------------------------------------------------------------------- */

struct s2file {
	const struct mf_file *mf;
	const uint32_t *seeds;
	int fd[MAX_THREADS + 1];
	int canon, twin;
	bool ok;
};

struct s2sess {
	const struct mf_session *ms;
	struct s2file *files;
	int fd;
	int rs[MAX_THREADS + 1];
	struct race race;
};

static struct s2sess *sess;
static int nsess;
static const struct mf_header *mh;
static const char *gone_names;
static pthread_barrier_t bar;
static void *(*phase_fn)(struct tctx *t);

static void *phase_trampoline(void *arg)
{
	return phase_fn(arg);
}

/* Run @fn in every thread at once; the ops they count. */
static uint64_t run_phase(void *(*fn)(struct tctx *t))
{
	uint64_t ops = 0;

	phase_fn = fn;
	for (int i = 1; i <= nthreads; i++) {
		threads[i].ops = 0;
		if (pthread_create(&threads[i].th, NULL, phase_trampoline, &threads[i]))
			BAIL("pthread_create: %s", strerror(errno));
	}
	for (int i = 1; i <= nthreads; i++) {
		pthread_join(threads[i].th, NULL);
		ops += threads[i].ops;
	}
	return ops;
}

/* Every thread asks for each session at once: one wins. */
static void *phase_retrieve_sessions(struct tctx *t)
{
	char name[LIVEUPDATE_SESSION_NAME_LENGTH];

	for (int i = 0; i < nsess; i++) {
		pthread_barrier_wait(&bar);
		sess[i].rs[t->id] = lu_retrieve_session(dev, sess[i].ms->name);
		t->ops++;
	}
	snprintf(name, sizeof(name), "stress-unknown-%d", t->id);
	expect(t, INV_INCOMING, lu_retrieve_session(dev, name), SET(-ENOENT),
	       "RETRIEVE_SESSION %s (never existed)", name);
	t->ops++;
	return NULL;
}

/* Every thread asks for every file of each session, in its own order. */
static void *phase_retrieve_files(struct tctx *t)
{
	int order[MAX_SLOT_FILES * 4 + 64];

	for (int i = 0; i < nsess; i++) {
		int n = (int)sess[i].ms->nfiles;

		pthread_barrier_wait(&bar);
		if (sess[i].fd < 0 || n > (int)ARRAY_SIZE(order))
			continue;
		for (int k = 0; k < n; k++)
			order[k] = k;
		for (int k = n - 1; k > 0; k--) {
			int j = (int)below(t, k + 1), x = order[k];

			order[k] = order[j];
			order[j] = x;
		}
		for (int k = 0; k < n; k++) {
			struct s2file *f = &sess[i].files[order[k]];

			f->fd[t->id] = lu_retrieve_fd(sess[i].fd, f->mf->token);
			t->ops++;
		}
	}
	return NULL;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static void *phase_mix(struct tctx *t)
{
	int tiny = memfd_create("stress-tiny", 0);

	while (now() < deadline) {
		struct s2sess *s = &sess[below(t, nsess)];
		char name[LIVEUPDATE_SESSION_NAME_LENGTH];
		long rc;

		if (s->fd < 0)
			continue;
		switch (below(t, 10)) {
		case 0:
		case 1:
		case 2: {
			struct s2file *f;

			if (!s->ms->nfiles)
				break;
			f = &s->files[below(t, s->ms->nfiles)];
			rc = lu_retrieve_fd(s->fd, f->mf->token);
			if (expect(t, INV_RETRIEVE, rc, SET(0), "RETRIEVE_FD %s token %llu again",
				   s->ms->name, (unsigned long long)f->mf->token)) {
				if (f->canon >= 0 && !same_file((int)rc, f->canon))
					violation(t, INV_RETRIEVE,
						  "RETRIEVE_FD %s token %llu again: another file",
						  s->ms->name, (unsigned long long)f->mf->token);
				close((int)rc);
			}
			break;
		}
		case 3:
			rc = lu_retrieve_fd(s->fd, 0xdead0000ULL + below(t, 1000));
			expect(t, INV_RETRIEVE, rc, SET(-ENOENT), "RETRIEVE_FD %s of an unknown token",
			       s->ms->name);
			if (rc >= 0)
				close((int)rc);
			break;
		case 4:
			rc = lu_get_name(s->fd, name);
			if (expect(t, INV_NAME, rc, SET(0), "GET_NAME %s", s->ms->name) &&
			    strncmp(name, s->ms->name, sizeof(name)))
				violation(t, INV_NAME, "GET_NAME %s: got \"%.64s\"", s->ms->name, name);
			break;
		case 5:
			rc = lu_preserve_fd(s->fd, tiny, fresh_token());
			expect(t, INV_INCOMING, rc, SET(-EINVAL), "PRESERVE_FD into incoming %s",
			       s->ms->name);
			break;
		case 6:
			rc = lu_retrieve_session(dev, s->ms->name);
			expect(t, INV_INCOMING, rc, SET(-EINVAL), "RETRIEVE_SESSION %s again", s->ms->name);
			if (rc >= 0)
				close((int)rc);
			break;
		case 7:
			/* Outgoing sessions are another list: the name is free there. */
			race_create(t, &s->race, s->ms->name, INV_RACE);
			break;
		case 8:
			if (module) {
				op_status(t);
				break;
			}
			/* fall through */
		default: {
			struct s2file *f;
			char why[160];
			uint64_t off;
			size_t len;

			if (!s->ms->nfiles)
				break;
			f = &s->files[below(t, s->ms->nfiles)];
			if (f->canon < 0 || !f->mf->size)
				break;
			off = below(t, (uint32_t)f->mf->size);
			len = f->mf->size - off < 4096 ? f->mf->size - off : 4096;
			checked(INV_READ);
			if (pread(f->canon, t->buf, len, off) != (ssize_t)len) {
				violation(t, INV_READ, "pread %s token %llu: %s", s->ms->name,
					  (unsigned long long)f->mf->token, strerror(errno));
				break;
			}
			fill(t->buf + 8192, f->mf->key, f->seeds, off, len);
			if (memcmp(t->buf, t->buf + 8192, len)) {
				snprintf(why, sizeof(why), "at %llu", (unsigned long long)off);
				violation(t, INV_READ, "read of %s token %llu: wrong bytes %s", s->ms->name,
					  (unsigned long long)f->mf->token, why);
			}
			break;
		}
		}
		t->ops++;
	}
	close(tiny);
	return NULL;
}

static int verify_bad;

/* Size, position, seals, every byte: the threads share the files out. */
static void *phase_verify(struct tctx *t)
{
	char why[160];
	int k = 0;

	for (int i = 0; i < nsess; i++) {
		for (uint32_t j = 0; j < sess[i].ms->nfiles; j++, k++) {
			struct s2file *f = &sess[i].files[j];
			off_t pos;
			int seals;

			if (k % nthreads != t->id - 1 || f->canon < 0)
				continue;
			f->ok = false;
			pos = lseek(f->canon, 0, SEEK_CUR);
			seals = fcntl(f->canon, F_GET_SEALS);
			if (pos != (off_t)f->mf->pos)
				snprintf(why, sizeof(why), "position %lld, want %llu", (long long)pos,
					 (unsigned long long)f->mf->pos);
			else if (seals != (int)f->mf->seals)
				snprintf(why, sizeof(why), "seals %#x, want %#x", seals, f->mf->seals);
			else if (holds(f->canon, f->mf->key, f->seeds, f->mf->size, t->buf, why,
				       sizeof(why)))
				f->ok = true;
			if (!f->ok) {
				__atomic_add_fetch(&verify_bad, 1, __ATOMIC_RELAXED);
				show("not ok - %s token %llu (%llu bytes): %s", sess[i].ms->name,
				     (unsigned long long)f->mf->token, (unsigned long long)f->mf->size,
				     why);
				pthread_mutex_lock(&out_lock);
				lu_failures++;
				pthread_mutex_unlock(&out_lock);
			}
			t->ops++;
		}
	}
	return NULL;
}

/* Half the threads FINISH each session, the others RETRIEVE_FD from it. */
static void *phase_finish(struct tctx *t)
{
	for (int i = 0; i < nsess; i++) {
		struct s2sess *s = &sess[i];
		long rc;

		pthread_barrier_wait(&bar);
		if (s->fd < 0)
			continue;
		if (t->id % 2 || !s->ms->nfiles) {
			rc = lu_finish(s->fd);
			expect(t, INV_FINISH, rc, SET(0), "FINISH %s (raced)", s->ms->name);
		} else {
			struct s2file *f = &s->files[below(t, s->ms->nfiles)];

			rc = lu_retrieve_fd(s->fd, f->mf->token);
			expect(t, INV_FINISH, rc, SET(0, -ENOENT), "RETRIEVE_FD %s token %llu racing FINISH",
			       s->ms->name, (unsigned long long)f->mf->token);
			if (rc >= 0)
				close((int)rc);
		}
		t->ops++;
	}
	return NULL;
}

/* Thread 1 closes each session while the others ask for it by name. */
static void *phase_close(struct tctx *t)
{
	for (int i = 0; i < nsess; i++) {
		struct s2sess *s = &sess[i];
		long rc;

		pthread_barrier_wait(&bar);
		if (s->fd < 0)
			continue;
		if (t->id == 1) {
			close(s->fd);
		} else {
			rc = lu_retrieve_session(dev, s->ms->name);
			expect(t, INV_FINISH, rc, SET(-EINVAL, -ENOENT),
			       "RETRIEVE_SESSION %s while it is being closed", s->ms->name);
			if (rc >= 0)
				close((int)rc);
		}
		t->ops++;
	}
	return NULL;
}

static void stage_2(void)
{
	struct tctx *t0 = tctx_init(0);
	uint64_t ops = 0, mix_ops, bytes = 0, files = 0;
	int msess, mfd, winners_bad = 0, fd_bad = 0, same_bad = 0, gone_bad = 0;
	const struct mf_file *mfl;
	const uint32_t *seeds;
	double start, took, mix_took;
	struct stat st;
	char *mbuf;
	long rc;

	msess = CHECK_OK(lu_retrieve_session(dev, MANIFEST_SESSION), "RETRIEVE_SESSION %s",
			 MANIFEST_SESSION);
	if (msess < 0)
		BAIL("no manifest: stage 1 did not get its sessions over");
	mfd = CHECK_OK(lu_retrieve_fd(msess, 1), "RETRIEVE_FD the manifest");
	if (mfd < 0 || fstat(mfd, &st) || (size_t)st.st_size < sizeof(*mh))
		BAIL("no manifest");
	mbuf = malloc(st.st_size);
	if (!mbuf || pread(mfd, mbuf, st.st_size, 0) != st.st_size)
		BAIL("read the manifest: %s", strerror(errno));
	mh = (const struct mf_header *)mbuf;
	if (memcmp(mh->magic, MANIFEST_MAGIC, 8))
		BAIL("the manifest has no magic");
	nsess = (int)mh->nsessions;
	sess = calloc(nsess, sizeof(*sess));
	mfl = (const struct mf_file *)((const struct mf_session *)(mh + 1) + nsess);
	gone_names = (const char *)(mfl + mh->nfiles);
	seeds = (const uint32_t *)(gone_names + NGONE * LIVEUPDATE_SESSION_NAME_LENGTH);
	for (int i = 0; i < nsess; i++) {
		sess[i].ms = (const struct mf_session *)(mh + 1) + i;
		sess[i].fd = -1;
		sess[i].files = calloc(sess[i].ms->nfiles + 1, sizeof(struct s2file));
		for (uint32_t j = 0; j < sess[i].ms->nfiles; j++) {
			struct s2file *f = &sess[i].files[j];

			f->mf = &mfl[sess[i].ms->first + j];
			f->seeds = seeds + f->mf->seeds_at;
			f->canon = f->twin = -1;
			for (int k = 0; k <= MAX_THREADS; k++)
				f->fd[k] = -1;
			bytes += f->mf->size;
			files++;
		}
	}
	lu_diag("stage 2: %d threads; stage 1 was %u threads x %.0f s, %llu ops, seed %llu; "
		"%d sessions, %llu files, %llu bytes to check; provider %s", nthreads, mh->threads,
		mh->seconds, (unsigned long long)mh->ops, (unsigned long long)mh->seed, nsess,
		(unsigned long long)files, (unsigned long long)bytes, provider());

	for (uint32_t i = 0; i < mh->ngone; i++) {
		const char *name = gone_names + i * LIVEUPDATE_SESSION_NAME_LENGTH;

		rc = lu_retrieve_session(dev, name);
		if (rc != -ENOENT && gone_bad++ < 5)
			lu_diag("RETRIEVE_SESSION %.64s: %s", name, lu_errname(rc));
		if (rc >= 0)
			close((int)rc);
	}
	CHECK(!gone_bad, "sessions closed before the reboot do not come back (%u names: ENOENT)",
	      mh->ngone);

	pthread_barrier_init(&bar, NULL, nthreads);
	for (int i = 1; i <= nthreads; i++)
		tctx_init(i);
	start = now();

	/* RETRIEVE_SESSION: exactly one winner per name, the others EINVAL. */
	ops += run_phase(phase_retrieve_sessions);
	for (int i = 0; i < nsess; i++) {
		int win = 0, other = 0;

		for (int k = 1; k <= nthreads; k++) {
			rc = sess[i].rs[k];
			if (rc >= 0) {
				if (win++)
					close((int)rc);
				else
					sess[i].fd = (int)rc;
			} else if (rc != -EINVAL) {
				other++;
				lu_diag("%s: RETRIEVE_SESSION in thread %d: %s", sess[i].ms->name, k,
					lu_errname(rc));
			}
		}
		if (win != 1 || other) {
			winners_bad++;
			lu_diag("%s: %d threads retrieved it, %d got neither it nor EINVAL",
				sess[i].ms->name, win, other);
		}
	}
	CHECK(!winners_bad,
	      "RETRIEVE_SESSION raced by %d threads: one fd per name, the others EINVAL (%d names)",
	      nthreads, nsess);

	/* RETRIEVE_FD through one shared session fd: every call gets the same file. */
	ops += run_phase(phase_retrieve_files);
	for (int i = 0; i < nsess; i++) {
		for (uint32_t j = 0; j < sess[i].ms->nfiles; j++) {
			struct s2file *f = &sess[i].files[j];

			for (int k = 1; k <= nthreads; k++) {
				if (f->fd[k] < 0) {
					if (sess[i].fd >= 0 && fd_bad++ < 5)
						lu_diag("%s token %llu: RETRIEVE_FD in thread %d: %s",
							sess[i].ms->name,
							(unsigned long long)f->mf->token, k,
							lu_errname(f->fd[k]));
					continue;
				}
				if (f->canon < 0) {
					f->canon = f->fd[k];
					continue;
				}
				if (!same_file(f->canon, f->fd[k]) && same_bad++ < 5)
					lu_diag("%s token %llu: thread %d got another file",
						sess[i].ms->name, (unsigned long long)f->mf->token, k);
				if (f->twin < 0)
					f->twin = f->fd[k];
				else
					close(f->fd[k]);
			}
		}
	}
	CHECK(!fd_bad,
	      "RETRIEVE_FD raced by %d threads on one session fd: every call succeeds (%llu tokens)",
	      nthreads, (unsigned long long)files);
	CHECK(!same_bad, "... and every call of one token returns the same file");

	/* Anything goes, for a while. */
	mix_took = seconds / 2 > 2 ? seconds / 2 : 2;
	deadline = now() + mix_took;
	mix_ops = run_phase(phase_mix);
	ops += mix_ops;
	lu_diag("stress stage 2: %d threads x %.0f s of RETRIEVE_FD, GET_NAME, RETRIEVE_SESSION, "
		"CREATE_SESSION%s and reads: %llu ops, %.0f ops/s (provider: %s)", nthreads, mix_took,
		module ? ", MOD_STATUS" : "", (unsigned long long)mix_ops, mix_ops / mix_took,
		provider());
	summary("stage 2");

	/* Every byte, the size, the position, the seals. */
	verify_bad = 0;
	ops += run_phase(phase_verify);
	CHECK(!verify_bad,
	      "every survivor comes back exactly: size, content, position, seals (%llu files, %llu bytes)",
	      (unsigned long long)files, (unsigned long long)bytes);
	same_bad = 0;
	for (int i = 0; i < nsess; i++) {
		for (uint32_t j = 0; j < sess[i].ms->nfiles; j++) {
			struct s2file *f = &sess[i].files[j];
			off_t x = (off_t)(f->mf->size / 2 + 1);

			if (f->canon < 0 || f->twin < 0)
				continue;
			if (lseek(f->canon, x, SEEK_SET) != x || lseek(f->twin, 0, SEEK_CUR) != x)
				same_bad++;
			close(f->twin);
			f->twin = -1;
		}
	}
	CHECK(!same_bad, "two RETRIEVE_FD of one token share one open file (its offset)");

	/* FINISH raced by FINISH and RETRIEVE_FD, then close raced by RETRIEVE_SESSION. */
	ops += run_phase(phase_finish);
	fd_bad = 0;
	for (int i = 0; i < nsess; i++) {
		if (sess[i].fd < 0)
			continue;
		if (sess[i].ms->nfiles) {
			rc = lu_retrieve_fd(sess[i].fd, sess[i].files[0].mf->token);
			if (rc != -ENOENT && fd_bad++ < 5)
				lu_diag("%s: RETRIEVE_FD after FINISH: %s", sess[i].ms->name,
					lu_errname(rc));
			if (rc >= 0)
				close((int)rc);
		}
		rc = lu_finish(sess[i].fd);
		if (rc && fd_bad++ < 5)
			lu_diag("%s: FINISH again: %s", sess[i].ms->name, lu_errname(rc));
	}
	CHECK(!fd_bad, "after FINISH: RETRIEVE_FD is ENOENT, FINISH again is ok");
	ops += run_phase(phase_close);
	CHECK_ERR(lu_finish(msess), 0, "FINISH %s", MANIFEST_SESSION);
	close(msess);
	gone_bad = 0;
	for (int i = 0; i <= nsess; i++) {
		const char *name = i < nsess ? sess[i].ms->name : MANIFEST_SESSION;

		rc = lu_retrieve_session(dev, name);
		if (rc != -ENOENT && gone_bad++ < 5)
			lu_diag("RETRIEVE_SESSION %.64s after FINISH and close: %s", name, lu_errname(rc));
		if (rc >= 0)
			close((int)rc);
	}
	CHECK(!gone_bad, "nothing is left: RETRIEVE_SESSION of every name is ENOENT (%d names)",
	      nsess + 1);
	summary("stage 2");
	took = now() - start;
	lu_diag("stress stage 2: %d threads: %llu ops in %.1f s, %.0f ops/s overall (provider: %s)",
		nthreads, (unsigned long long)ops, took, ops / took, provider());

	/* The files stay theirs, intact. */
	verify_bad = 0;
	for (int i = 0; i < nsess; i++) {
		for (uint32_t j = 0; j < sess[i].ms->nfiles; j++) {
			struct s2file *f = &sess[i].files[j];
			char why[160];

			if (f->canon < 0)
				continue;
			if (!holds(f->canon, f->mf->key, f->seeds, f->mf->size, t0->buf, why, sizeof(why)) &&
			    verify_bad++ < 5)
				lu_diag("%s token %llu after FINISH and close: %s", sess[i].ms->name,
					(unsigned long long)f->mf->token, why);
			close(f->canon);
		}
	}
	CHECK(!verify_bad, "the retrieved memfds are intact after FINISH and close");
	close(mfd);

	if (module) {
		struct liveupdate_mod_status st2;

		rc = mod_status(&st2);
		CHECK(rc == 0 && !st2.incoming_sessions && !st2.incoming_files && !st2.outgoing_sessions,
		      "MOD_STATUS: nothing incoming or outgoing is left (%llu/%llu in, %llu out)",
		      (unsigned long long)st2.incoming_sessions, (unsigned long long)st2.incoming_files,
		      (unsigned long long)st2.outgoing_sessions);
	}
	free(mbuf);
}

int main(int argc, char **argv)
{
	int stage = lu_stage(argc, argv);
	bool seeded = false;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--threads"))
			nthreads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed")) {
			seed = strtoull(argv[i + 1], NULL, 0);
			seeded = true;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS)
		nthreads = 4;
	if (!(seconds > 0))
		seconds = 10;
	if (!seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000003u) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
	}
	module = HAVE_MOD_STATUS && lu_is_module();
	{
		/* Stage 2 holds a retrieved fd per thread for every file at once. */
		struct rlimit rl = { 16384, 16384 };

		if (setrlimit(RLIMIT_NOFILE, &rl))
			lu_diag("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	}
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	if (stage == 1)
		stage_1();
	else
		stage_2();
	return lu_exit_status();
}
