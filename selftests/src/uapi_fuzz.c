// SPDX-License-Identifier: GPL-2.0
/*
 * uapi-fuzz: a seeded, multi-threaded fuzzer of the /dev/liveupdate ioctls.
 *
 *   uapi-fuzz [--seed S] [--ops N] [--threads T] [--stage 0|1|2] [--keep K] [-v]
 *
 * T threads (default 4) share one /dev/liveupdate fd and a table of live fds
 * and run N operations between them (N/T each):
 *   - every ioctl of uapi/linux/liveupdate.h (CREATE_SESSION,
 *     RETRIEVE_SESSION, PRESERVE_FD, RETRIEVE_FD, FINISH, GET_NAME) and the
 *     module's MOD_STATUS, on the device, on session fds and on every other
 *     kind of fd in the table, and wrong numbers of type 0xBA and its
 *     neighbours (other nr, direction or size bits);
 *   - sizes 0, 1, 4, min-1, min, sizeof, sizeof+1, 4096, 0xffffffff, ...
 *     with a zero or a non-zero tail; names from a small pool (so that they
 *     collide), empty, 63 bytes, 64 bytes unterminated, with an embedded NUL,
 *     non-UTF8; tokens 0, ~0, a small pool, random; reserved fields zero or
 *     not; argument pointers NULL, unmapped, a kernel address, a struct that
 *     ends where an unmapped page starts, only the size readable, read-only
 *     memory (the reply cannot be written);
 *   - PRESERVE_FD of fds of every kind: memfds of many sizes (sparse, sealed,
 *     MFD_NOEXEC_SEAL), O_RDONLY reopens of them, unlinked (O_TMPFILE)
 *     tmpfs files, pipes, sockets, eventfds, a linked /tmp file, the device,
 *     an O_PATH fd of the device, session fds, closed numbers, -1, huge;
 *   - close() of random slots, dup(), reopens through /proc/self/fd, open()
 *     of the device (EBUSY while it is held), and on memfds pwrite(),
 *     ftruncate(), writes through a shared mapping and F_ADD_SEALS.
 *
 * Every result is checked against a model of what the in-kernel LUO of 7.3
 * does (the reference the module follows errno for errno). The dispatch
 * (EBADF, ENOTTY, EINVAL, EFAULT, E2BIG, in the kernel's order) is exact.
 * Beyond it, each operation has errors that certainly apply ("must": the
 * call has to fail with one of them) and errors that may apply ("may":
 * races with the other threads, resources); any other result is "not ok",
 * printed with the operation and its arguments. What the model knows for
 * sure, it holds locks for while the call runs: a session stays open while
 * a thread relies on it (so a token it preserved is EEXIST, a file
 * preserved in it is EBUSY elsewhere and cannot be truncated), an incoming
 * session is not finished under a RETRIEVE_FD that must succeed, a name
 * stays unretrieved under the RETRIEVE_SESSION that must succeed. Two live
 * outgoing sessions with one name, a GET_NAME that answers another name, a
 * retrieved file of other content, size or seals are failures too.
 *
 * Stages (selftests/uapi_fuzz.sh):
 *   0  fuzz, then close everything (the default; for replays by hand);
 *   1  fuzz; then write down every outgoing session that is still open and
 *      what it holds (each memfd's size, content hash and seals), add K
 *      sessions with memfds of known content ("fz-keep-N") and a session
 *      "uapi-fuzz.meta" holding that manifest, and hold it all for the
 *      kexec (lu_hold_until_kexec);
 *   2  read the manifest (and the seed) back, fuzz the incoming side too
 *      (RETRIEVE_SESSION, RETRIEVE_FD, FINISH, GET_NAME on the sessions that
 *      came over, with random arguments, next to everything stage 1 does);
 *      every preserved file is checked against the manifest the first time
 *      anything retrieves it; at the end, whatever the fuzzer left
 *      unretrieved in sessions it did not finish or close is retrieved and
 *      checked.
 *
 * Reproducibility: the seed is printed first ("# fuzz: seed S"). Each
 * thread's stream of random decisions (which operation, which slot, which
 * arguments) is a pure function of (seed, stage, thread index), but with
 * more than one thread what a decision lands on (which fd is in a slot,
 * which session is open) depends on how the threads interleave, which no
 * seed can replay. With --threads 1 a run replays exactly: same seed, same
 * operations, same fds, same results.
 */
#include "lu_test.h"

#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

/* Linux 6.3; the build host's libc may predate them. */
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define PAGE 4096
#define NSLOTS 128
#define NPOOL 16		/* pool names fz-0 .. fz-15 */
#define MAX_FAIL_LINES 40
#define MAX_KEEPERS 400
#define META_NAME "uapi-fuzz.meta"
#define READY "/tmp/uapi-fuzz.ready"
#define ARENA_BASE 0x200000000UL /* low, so that base + 4 GiB is a user address */
#define KERNEL_PTR 0xffffffff81000000UL
#define NONCANON_PTR 0x8000000000000000UL

#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_init(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(struct rng *r)
{
	uint64_t res = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return res;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnd(r) >> 32) * n) >> 32);
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

static void fill_random(struct rng *r, uint8_t *p, size_t n)
{
	while (n) {
		uint64_t v = rnd(r);
		size_t k = n < 8 ? n : 8;

		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- sets of errnos ------------------------------------------------------ */

#define ES_MAX 192

struct eset {
	uint64_t w[3];
};

static void es_add(struct eset *s, int e)
{
	if (e > 0 && e < ES_MAX)
		s->w[e / 64] |= 1ULL << (e % 64);
}

static bool es_has(const struct eset *s, int e)
{
	return e > 0 && e < ES_MAX && (s->w[e / 64] >> (e % 64)) & 1;
}

static bool es_empty(const struct eset *s)
{
	return !(s->w[0] | s->w[1] | s->w[2]);
}

static void es_fmt(const struct eset *s, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = 0;
	for (int e = 1; e < ES_MAX; e++)
		if (es_has(s, e) && len < n)
			len += snprintf(buf + len, n - len, "%s%s", len ? "|" : "", lu_errname(-e));
}

/*
 * What a call may return. @must: conditions that certainly apply, so the
 * call fails with one of them; @may: errors that can apply (races, resources);
 * success only when @must is empty. @loose: the fd is a closed number that
 * another thread may have reused, so anything plausible goes.
 */
struct expect {
	struct eset must, may;
	bool loose;
};

static const int plausible[] = {
	EINVAL, EFAULT, ENOTTY, E2BIG, EBADF, ENOENT, EEXIST, EBUSY, EPERM,
	EOPNOTSUPP, ENOMEM, ENOSPC, ENAMETOOLONG, ENXIO, EACCES,
};

static bool expected(const struct expect *ex, long r)
{
	if (ex->loose) {
		if (r == 0)
			return true;
		for (int i = 0; i < ARRAY_SIZE(plausible); i++)
			if (-r == plausible[i])
				return true;
		return false;
	}
	if (r == 0)
		return es_empty(&ex->must);
	return es_has(&ex->must, (int)-r) || es_has(&ex->may, (int)-r);
}

static void want_fmt(const struct expect *ex, char *buf, size_t n)
{
	char must[256], may[256];

	if (ex->loose) {
		snprintf(buf, n, "success or any plausible errno");
		return;
	}
	es_fmt(&ex->must, must, sizeof(must));
	es_fmt(&ex->may, may, sizeof(may));
	if (es_empty(&ex->must))
		snprintf(buf, n, "success%s%.200s", *may ? " or " : "", may);
	else if (*may)
		snprintf(buf, n, "%.200s (or %.200s)", must, may);
	else
		snprintf(buf, n, "%.200s", must);
}

/* ---- the model: fds, sessions and files --------------------------------- */

enum kind {
	K_NONE, K_DEV, K_DEVPATH, K_SESSION, K_MEMFD, K_PIPE, K_SOCKET, K_EVENTFD, K_REGFILE,
	K_NKINDS
};

static const char *const kind_name[K_NKINDS] = {
	"closed", "device", "device O_PATH", "session", "memfd", "pipe", "socket", "eventfd",
	"file",
};

#define KM(k) (1u << (k))
#define KM_ANY ((1u << K_NKINDS) - 1)
#define KM_OPEN (KM_ANY & ~KM(K_NONE))

enum { IN_WAITING, IN_RETRIEVED, IN_GONE };	/* incoming sessions */
enum { FIN_NO, FIN_MAYBE, FIN_YES };

/* Manifest flags of a preserved file. */
#define MF_MAYBE 1	/* its PRESERVE_FD reply could not be written */
#define MF_NOCONTENT 2	/* preserved through a reused fd number: content unknown */
#define MF_NOSEALS 4	/* F_ADD_SEALS ran on it: seals at preserve time unknown */
#define MF_RDONLY 8	/* the preserved open file was O_RDONLY */

struct obj;

/* A token of an outgoing session, as this process preserved it. */
struct tok {
	uint64_t token;
	struct obj *file;	/* NULL: through a reused fd number, file unknown */
	bool maybe;
	bool rdonly;
};

/* A file of an incoming session, from the manifest. */
struct mfile {
	uint64_t token;
	unsigned int flags;
	uint64_t size, hash, pos;
	unsigned int seals, mode;
	pthread_mutex_t mu;	/* held over RETRIEVE_FD of this token */
	struct obj *obj;	/* once retrieved */
	_Atomic bool taken;	/* obj is set (read without mu: a hint) */
};

/*
 * A session or a memfd (an inode): what several slots (dups, reopens) share.
 * Objects are never freed during a run (a few hundred bytes each).
 * Lock order: slot locks (read) -> life (read) -> fin -> mfile.mu -> mu;
 * the closer of the last slot: slot (write) -> life (write) -> mu.
 */
struct obj {
	enum kind kind;
	unsigned int id;
	pthread_mutex_t mu;
	pthread_rwlock_t life;	/* read: relied on being open; write: closing its last fd */
	pthread_rwlock_t fin;	/* read: relied on not finished; write: FINISH */
	int slots;		/* fds of it in the table (or about to be) */
	bool dead;
	/* sessions */
	bool incoming;
	uint8_t name[LIVEUPDATE_SESSION_NAME_LENGTH];
	size_t namelen;
	struct tok *toks;	/* outgoing: what was preserved */
	int ntoks, captoks;
	struct mfile **mfs;	/* incoming: the manifest's files */
	int nmfs;
	_Atomic int unretrieved;	/* of them */
	int state, finished;
	/* memfds */
	int keeper;		/* a private fd while it is preserved (stage 1) */
	int prefs;		/* open outgoing sessions holding it */
	struct obj *holder;	/* the session it was last preserved in or retrieved from */
	bool seals_changed;
	bool tmpfile;
	ino_t ino;
	/* a file nobody can reach after its PRESERVE_FD (bulk): as it was then */
	bool fixed;
	uint64_t fsize, fhash, fpos;
	unsigned int fseals, fmode;
};

struct slot {
	pthread_rwlock_t lock;	/* read: using the fd; write: replacing it */
	_Atomic int kind;
	int fd;
	bool rdonly;
	struct obj *obj;
};

/* ---- the run ------------------------------------------------------------- */

enum op_id {
	O_CREATE, O_RETRIEVE, O_STATUS, O_PRESERVE, O_RETRIEVE_FD, O_FINISH, O_GET_NAME,
	O_RAW, O_STALE, O_BADFD, O_NEWFD, O_OPEN_DEV, O_REOPEN, O_DUP, O_CLOSE, O_WRITE,
	O_TRUNCATE, O_MMAP, O_SEAL, O_SEEK, O_CHMOD, O_BULK, O_NOPS
};

static const char *const op_name[O_NOPS] = {
	"CREATE_SESSION", "RETRIEVE_SESSION", "MOD_STATUS", "PRESERVE_FD", "RETRIEVE_FD",
	"FINISH", "GET_NAME", "wrong-cmd", "closed-fd-ioctl", "bad-fd-ioctl", "new-fd",
	"open-dev", "reopen", "dup", "close", "pwrite", "ftruncate", "mmap-write",
	"add-seals", "lseek", "fchmod", "bulk",
};

struct cmdinfo {
	enum op_id op;
	unsigned long cmd;
	unsigned int ksize, min;
	int dir;		/* 0 any session, 1 outgoing, 2 incoming */
	bool on_dev;
};

static const struct cmdinfo cmds[] = {
	{ O_CREATE, LIVEUPDATE_IOCTL_CREATE_SESSION, sizeof(struct liveupdate_ioctl_create_session),
	  offsetofend(struct liveupdate_ioctl_create_session, name), 0, true },
	{ O_RETRIEVE, LIVEUPDATE_IOCTL_RETRIEVE_SESSION,
	  sizeof(struct liveupdate_ioctl_retrieve_session),
	  offsetofend(struct liveupdate_ioctl_retrieve_session, name), 0, true },
	{ O_STATUS, LIVEUPDATE_IOCTL_MOD_STATUS, sizeof(struct liveupdate_mod_status),
	  offsetofend(struct liveupdate_mod_status, failed_session), 0, true },
	{ O_PRESERVE, LIVEUPDATE_SESSION_PRESERVE_FD, sizeof(struct liveupdate_session_preserve_fd),
	  offsetofend(struct liveupdate_session_preserve_fd, token), 1, false },
	{ O_RETRIEVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD,
	  sizeof(struct liveupdate_session_retrieve_fd),
	  offsetofend(struct liveupdate_session_retrieve_fd, token), 2, false },
	{ O_FINISH, LIVEUPDATE_SESSION_FINISH, sizeof(struct liveupdate_session_finish),
	  offsetofend(struct liveupdate_session_finish, reserved), 2, false },
	{ O_GET_NAME, LIVEUPDATE_SESSION_GET_NAME, sizeof(struct liveupdate_session_get_name),
	  offsetofend(struct liveupdate_session_get_name, name), 0, false },
};
#define NCMDS ARRAY_SIZE(cmds)

enum place_kind { P_NORMAL, P_RO, P_EDGE, P_SIZE_ONLY, P_NULL, P_UNMAPPED, P_KERNEL, P_NONCANON };

static const char *const place_name[] = {
	"normal", "read-only", "at an unmapped page", "only its size readable", "NULL",
	"unmapped", "kernel address", "non-canonical",
};

/* An argument as the kernel sees it. */
struct argbuf {
	uint8_t *p;		/* the pointer passed */
	size_t off;		/* its offset in the thread's arena (mapped placements) */
	long readable;		/* bytes readable at p */
	bool writable;
	enum place_kind place;
	uint32_t usize;
	long nz;		/* offset from p of a non-zero tail byte, -1: none */
};

struct thr {
	int idx;
	struct rng rng;
	uint64_t nops, opno;
	uint8_t *rw, *ro;	/* two pages each, an inaccessible page after */
	uint8_t *wbuf;		/* data for pwrite */
	int stale[8];		/* fds this thread closed lately */
	int nstale;
	uint32_t results[O_NOPS][ES_MAX];
	double secs[O_NOPS];	/* time spent in each kind of operation */
	uint64_t verified;
	pthread_t tid;
	bool audit_failed;
	uint64_t bulk_tokens, bulk_sessions;
};

static int stage, nthreads = 4, nkeep = 3;
static uint64_t seed, total_ops = 20000;
static bool seed_given, verbose, module;
static int dev_fd;
static struct slot slots[NSLOTS];
static atomic_uint next_id;
static atomic_int keepers;

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct obj **live_out;	/* open outgoing sessions, under reg_mu */
static int nlive_out, cap_live_out;
static struct obj **incoming;	/* stage 2: the sessions of the manifest */
static int nincoming;
static uint64_t manifest_files;

static pthread_mutex_t print_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong nfail;

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p)
		BAIL("out of memory");
	return p;
}

static struct obj *obj_new(enum kind kind)
{
	struct obj *o = xcalloc(1, sizeof(*o));

	o->kind = kind;
	o->id = atomic_fetch_add(&next_id, 1);
	pthread_mutex_init(&o->mu, NULL);
	pthread_rwlock_init(&o->life, NULL);
	pthread_rwlock_init(&o->fin, NULL);
	o->keeper = -1;
	o->slots = 1;
	return o;
}

/* A printable form of a session name (up to its first NUL). */
static const char *name_str(const uint8_t *name, size_t len, char *buf, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 5 < n; i++) {
		if (name[i] >= 0x20 && name[i] < 0x7f && name[i] != '\\')
			buf[k++] = (char)name[i];
		else
			k += snprintf(buf + k, n - k, "\\x%02x", name[i]);
	}
	buf[k] = 0;
	return buf;
}

static void fail(struct thr *t, const char *fmt, ...)
{
	char msg[1024];
	va_list args;
	unsigned long n;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	n = atomic_fetch_add(&nfail, 1) + 1;
	pthread_mutex_lock(&print_mu);
	lu_failures++;
	if (n <= MAX_FAIL_LINES) {
		if (t)
			printf("not ok - thread %d op %llu: %s\n", t->idx,
			       (unsigned long long)t->opno, msg);
		else
			printf("not ok - %s\n", msg);
		fflush(stdout);
	} else if (n == MAX_FAIL_LINES + 1) {
		printf("# fuzz: more failures, not printed\n");
	}
	pthread_mutex_unlock(&print_mu);
}

/* ---- slots --------------------------------------------------------------- */

static void stale_push(struct thr *t, int fd)
{
	t->stale[t->nstale++ % 8] = fd;
}

static void file_unref(struct obj *m)
{
	pthread_mutex_lock(&m->mu);
	if (--m->prefs == 0 && m->slots == 0 && m->keeper >= 0) {
		close(m->keeper);
		m->keeper = -1;
		atomic_fetch_sub(&keepers, 1);
	}
	pthread_mutex_unlock(&m->mu);
}

static void unregister_out(struct obj *s)
{
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < nlive_out; i++) {
		if (live_out[i] == s) {
			live_out[i] = live_out[--nlive_out];
			break;
		}
	}
	pthread_mutex_unlock(&reg_mu);
}

/*
 * Close the fd of a slot held for writing. The last fd of a session ends
 * it: the model marks it dead (and forgets what it preserved) before the
 * close, with its life lock held for writing, so that nothing relies on it
 * from then on.
 */
static void close_slot_locked(struct thr *t, struct slot *s)
{
	struct obj *o = s->obj;
	bool last = false;

	if (s->kind == K_NONE)
		return;
	if (o) {
		pthread_mutex_lock(&o->mu);
		last = --o->slots == 0;
		pthread_mutex_unlock(&o->mu);
	}
	if (last && o->kind == K_SESSION) {
		pthread_rwlock_wrlock(&o->life);
		pthread_mutex_lock(&o->mu);
		o->dead = true;
		if (o->incoming)
			o->state = IN_GONE;
		pthread_mutex_unlock(&o->mu);
		if (!o->incoming) {
			unregister_out(o);
			pthread_mutex_lock(&o->mu);
			for (int i = 0; i < o->ntoks; i++)
				if (o->toks[i].file)
					file_unref(o->toks[i].file);
			o->ntoks = 0;
			pthread_mutex_unlock(&o->mu);
		}
		close(s->fd);
		pthread_rwlock_unlock(&o->life);
	} else {
		if (last && o->kind == K_MEMFD) {
			pthread_mutex_lock(&o->mu);
			if (o->prefs == 0 && o->keeper >= 0) {
				close(o->keeper);
				o->keeper = -1;
				atomic_fetch_sub(&keepers, 1);
			}
			pthread_mutex_unlock(&o->mu);
		}
		close(s->fd);
	}
	if (t)
		stale_push(t, s->fd);
	s->fd = -1;
	s->obj = NULL;
	s->rdonly = false;
	atomic_store(&s->kind, K_NONE);
}

/*
 * Stage 2: an incoming session with files nobody retrieved yet is spared
 * most of the time (closing it drops them unchecked).
 */
static struct slot *victim(struct thr *t)
{
	struct slot *s = NULL;

	for (int n = 0; n < 4; n++) {
		struct obj *o;

		s = &slots[1 + below(&t->rng, NSLOTS - 1)];
		o = atomic_load_explicit(&s->kind, memory_order_relaxed) == K_SESSION ?
			s->obj : NULL;
		if (!o || !o->incoming || !atomic_load(&o->unretrieved))
			break;
	}
	return s;
}

/*
 * Put @fd in a random slot (not the device's, slot 0), closing what was
 * there. @o's slot count already includes this fd.
 */
static void install(struct thr *t, int fd, enum kind kind, struct obj *o, bool rdonly)
{
	struct slot *s = victim(t);

	pthread_rwlock_wrlock(&s->lock);
	close_slot_locked(t, s);
	s->fd = fd;
	s->obj = o;
	s->rdonly = rdonly;
	atomic_store(&s->kind, kind);
	pthread_rwlock_unlock(&s->lock);
}

/* A slot whose kind is in @kmask (and direction @dir: -1 any), read-locked. */
static int pick_slot(struct thr *t, unsigned int kmask, int dir)
{
	int start = (int)below(&t->rng, NSLOTS);

	for (int n = 0; n < NSLOTS; n++) {
		int i = (start + n) % NSLOTS;
		struct slot *s = &slots[i];

		if (!(kmask & KM(atomic_load_explicit(&s->kind, memory_order_relaxed))))
			continue;
		pthread_rwlock_rdlock(&s->lock);
		if ((kmask & KM(s->kind)) &&
		    (dir < 0 || (s->obj && s->obj->incoming == (dir == 1))))
			return i;
		pthread_rwlock_unlock(&s->lock);
	}
	return -1;
}

static void slot_unlock(int i)
{
	if (i >= 0)
		pthread_rwlock_unlock(&slots[i].lock);
}

/* ---- arguments ------------------------------------------------------------ */

static uint32_t pick_size(struct thr *t, const struct cmdinfo *c)
{
	struct rng *r = &t->rng;

	if (chance(r, 55))
		return c->ksize;
	switch (below(r, 15)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 4;
	case 3: return c->min - 1;
	case 4: return c->min;
	case 5: return c->ksize + 1;
	case 6: return c->ksize + 8;
	case 7: return 4096;
	case 8: return 0xffffffff;
	case 9: return 0x80000000;
	case 10: return 2 * PAGE - 64 + below(r, 128);
	case 11: return c->ksize + below(r, 256);
	case 12: return below(r, 256);
	case 13: return (uint32_t)rnd(r);
	default: return 3 * PAGE;
	}
}

/*
 * Place @len bytes of @arg (whose first u32 is the size) somewhere, as
 * chosen by the thread's dice; records what the kernel can read and write.
 */
static void place_arg(struct thr *t, struct argbuf *a, const void *arg, size_t len, size_t ksize)
{
	struct rng *r = &t->rng;
	unsigned int p = below(r, 100);
	size_t off = chance(r, 80) ? 0 : below(r, 64);

	memset(t->rw, 0, 2 * PAGE);
	memcpy(&a->usize, arg, 4);
	a->nz = -1;
	a->writable = false;
	a->readable = 0;
	if (p < 72) {
		a->place = P_NORMAL;
	} else if (p < 80) {
		a->place = P_RO;
	} else if (p < 85) {
		a->place = P_EDGE;
		off = 2 * PAGE - len;
	} else if (p < 88) {
		a->place = P_SIZE_ONLY;
		off = 2 * PAGE - 4;
	} else if (p < 92) {
		a->place = P_NULL;
	} else if (p < 95) {
		a->place = P_UNMAPPED;
	} else if (p < 97) {
		a->place = P_KERNEL;
	} else {
		a->place = P_NONCANON;
	}
	a->off = off;
	switch (a->place) {
	case P_NORMAL:
	case P_EDGE:
	case P_SIZE_ONLY:
		a->p = t->rw + off;
		a->readable = (long)(2 * PAGE - off);
		a->writable = true;
		break;
	case P_RO:
		a->p = t->ro + off;
		a->readable = (long)(2 * PAGE - off);
		break;
	case P_NULL:
		a->p = NULL;
		break;
	case P_UNMAPPED:
		a->p = t->rw + 2 * PAGE;
		break;
	case P_KERNEL:
		a->p = (uint8_t *)KERNEL_PTR;
		break;
	case P_NONCANON:
		a->p = (uint8_t *)NONCANON_PTR;
		break;
	}
	if (a->readable > 0) {
		memcpy(t->rw + off, arg, len < (size_t)a->readable ? len : (size_t)a->readable);
		if (a->usize > ksize && (long)ksize < a->readable && chance(r, 50)) {
			uint64_t end = a->usize < (uint64_t)a->readable ? a->usize : (uint64_t)a->readable;

			a->nz = (long)(ksize + below(r, (uint32_t)(end - ksize)));
			t->rw[off + a->nz] = (uint8_t)(1 + below(r, 255));
		}
	}
}

static const struct cmdinfo *lookup(enum kind k, unsigned int nr)
{
	for (int i = 0; i < NCMDS; i++) {
		const struct cmdinfo *c = &cmds[i];

		if (_IOC_NR(c->cmd) == nr && c->on_dev == (k == K_DEV) &&
		    (c->op != O_STATUS || module))
			return &cmds[i];
	}
	return NULL;
}

/*
 * The dispatch, in the kernel's order (luo_ioctl(), luo_session_ioctl(),
 * copy_struct_from_user()): 0 when the call reaches the command itself,
 * else the one errno it must fail with.
 */
static int dispatch(enum kind k, bool incoming_session, unsigned long cmd,
		    const struct argbuf *a, const struct cmdinfo **cip)
{
	const struct cmdinfo *c;
	uint64_t n;

	switch (k) {
	case K_NONE:
	case K_DEVPATH:
		return -EBADF;
	case K_DEV:
	case K_SESSION:
		break;
	default:
		return -ENOTTY;
	}
	c = lookup(k, _IOC_NR(cmd));
	if (!c)
		return -EINVAL;
	if (a->readable < 4)
		return -EFAULT;
	if (cmd != c->cmd)
		return -ENOTTY;
	if (c->dir && (c->dir == 2) != incoming_session)
		return -EINVAL;
	if (a->usize < c->min)
		return -EINVAL;
	if (a->usize > c->ksize) {
		n = a->usize < (uint64_t)a->readable ? a->usize : (uint64_t)a->readable;
		if (a->nz >= (long)c->ksize && (uint64_t)a->nz < n)
			return -E2BIG;
		if ((uint64_t)a->readable < a->usize)
			return -EFAULT;
	} else if ((uint64_t)a->readable < a->usize) {
		return -EFAULT;
	}
	*cip = c;
	return 0;
}

/* A command number that is none of the real ones. */
static unsigned long raw_cmd(struct thr *t)
{
	static const unsigned int types[] = { 0xB9, 0xBA, 0xBA, 0xBA, 0xBB };
	static const unsigned int nrs[] = { 0, 1, 2, 3, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44,
					    0x7f, 0x80, 0x81, 0xff };
	static const unsigned int dirs[] = { _IOC_NONE, _IOC_READ, _IOC_WRITE,
					     _IOC_READ | _IOC_WRITE };
	static const unsigned int sizes[] = { 0, 4, 16, 72, sizeof(struct liveupdate_mod_status) };
	struct rng *r = &t->rng;
	unsigned long cmd;

	for (;;) {
		unsigned int type = types[below(r, 5)];
		unsigned int nr = chance(r, 80) ? nrs[below(r, 14)] : below(r, 256);
		unsigned int size = chance(r, 80) ? sizes[below(r, 5)] : below(r, 1 << 14);

		cmd = _IOC(dirs[below(r, 4)], type, nr, size);
		for (int i = 0; i < NCMDS; i++)
			if (cmds[i].cmd == cmd)
				cmd = 0;
		if (cmd)
			return cmd;
	}
}

/* The real number, or (8%) one with other type, direction or size bits. */
static unsigned long gen_cmd(struct thr *t, const struct cmdinfo *c)
{
	if (chance(&t->rng, 92))
		return c->cmd;
	/* bits 8..31: type, size, direction; nr stays */
	return c->cmd ^ (1UL << (8 + below(&t->rng, 24)));
}

static struct obj *random_incoming(struct thr *t)
{
	return nincoming ? incoming[below(&t->rng, nincoming)] : NULL;
}

/* A 64-byte name field; returns its effective length (up to the first NUL). */
static size_t gen_name(struct thr *t, uint8_t name[LIVEUPDATE_SESSION_NAME_LENGTH])
{
	struct rng *r = &t->rng;
	unsigned int p = below(r, 100);
	struct obj *in;
	size_t len;

	memset(name, 0, LIVEUPDATE_SESSION_NAME_LENGTH);
	in = stage == 2 && p < 30 ? random_incoming(t) : NULL;
	if (in) {
		memcpy(name, in->name, in->namelen);
		if (in->namelen < 62 && chance(r, 10)) /* bytes after the NUL do not count */
			fill_random(r, name + in->namelen + 1, 63 - in->namelen);
	} else if (p < 70) {
		snprintf((char *)name, 64, "fz-%u", below(r, NPOOL));
		if (chance(r, 10))
			memcpy(name + strlen((char *)name) + 1, "tail", 4);
	} else if (p < 74) {
		/* empty */
	} else if (p < 78) {
		memset(name, 'a' + below(r, 26), 63);
	} else if (p < 82) {
		memset(name, 'b' + below(r, 25), 64); /* no NUL */
	} else if (p < 86) {
		len = 1 + below(r, 20);
		for (size_t i = 0; i < len; i++)
			name[i] = (uint8_t)(0x80 + below(r, 128)); /* not UTF-8 */
	} else if (p < 90) {
		name[0] = (uint8_t)(1 + below(r, 255));
	} else {
		len = 1 + below(r, 64);
		fill_random(r, name, len);
		for (size_t i = 0; i < len; i++)
			name[i] |= name[i] ? 0 : 1;
	}
	return strnlen((char *)name, LIVEUPDATE_SESSION_NAME_LENGTH);
}

static uint64_t gen_token(struct thr *t, struct obj *s)
{
	struct rng *r = &t->rng;
	unsigned int p = below(r, 100);

	if (s && s->incoming && s->nmfs && p < 75) {
		struct mfile *mf = s->mfs[below(r, s->nmfs)];

		/* mostly one not retrieved yet */
		for (int n = 0; n < 4 && atomic_load(&mf->taken) && chance(r, 70); n++)
			mf = s->mfs[below(r, s->nmfs)];
		return mf->token;
	}
	if (p < 60)
		return 1 + below(r, 8);
	if (p < 70)
		return 0;
	if (p < 80)
		return ~0ULL;
	if (p < 85)
		return 0x1000 + below(r, 4);
	return rnd(r);
}

/* ---- one ioctl ---------------------------------------------------------- */

struct call {
	struct thr *t;
	const struct cmdinfo *c;	/* the command the argument was built for */
	unsigned long cmd;
	int slot, fd;
	enum kind kind;
	struct obj *obj;
	bool stale;
	struct argbuf a;
	/* PRESERVE_FD's file */
	int argslot, argfd;
	enum kind argkind;
	const char *argwhat;
	struct expect ex;
	long r;
	enum op_id count_as;
	/* an fd the call returned, put in the table once no slot is locked */
	int newfd;
	enum kind newkind;
	struct obj *newobj;
	bool newrdonly;
};

static void defer_install(struct call *c, int fd, enum kind kind, struct obj *o, bool rdonly)
{
	c->newfd = fd;
	c->newkind = kind;
	c->newobj = o;
	c->newrdonly = rdonly;
}

static void call_desc(const struct call *c, char *buf, size_t n)
{
	char name[300] = "", want[512];
	const uint8_t *arg = c->a.readable > 0 ? c->t->rw + c->a.off : NULL;
	size_t k;

	if (c->obj && c->obj->kind == K_SESSION)
		snprintf(name, sizeof(name), " '%s'%s",
			 name_str(c->obj->name, c->obj->namelen, want, 256),
			 c->obj->incoming ? " (incoming)" : "");
	want_fmt(&c->ex, want, sizeof(want));
	k = snprintf(buf, n, "%s (cmd %#lx) on %s%s fd %d (slot %d): argument %s, size %u%s",
		     c->c ? op_name[c->c->op] : "wrong number", c->cmd,
		     c->stale ? "closed number" : kind_name[c->kind], name, c->fd, c->slot,
		     place_name[c->a.place], c->a.usize, c->a.nz >= 0 ? ", non-zero tail" : "");
	if (arg && c->c && c->a.readable >= 16 &&
	    (c->c->op == O_PRESERVE || c->c->op == O_RETRIEVE_FD)) {
		struct liveupdate_session_preserve_fd p;

		memcpy(&p, c->t->ro + c->a.off, sizeof(p));
		k += snprintf(buf + k, n - k, ", token %#llx", (unsigned long long)p.token);
		if (c->c->op == O_PRESERVE)
			k += snprintf(buf + k, n - k, ", fd %d (%s)", p.fd, c->argwhat);
	} else if (arg && c->c && (c->c->op == O_CREATE || c->c->op == O_RETRIEVE) &&
		   c->a.readable >= 72) {
		char nm[300];

		k += snprintf(buf + k, n - k, ", name '%s'",
			      name_str(c->t->ro + c->a.off + 8,
				       strnlen((char *)c->t->ro + c->a.off + 8, 64), nm, 300));
	} else if (arg && c->c && (c->c->op == O_FINISH || c->c->op == O_GET_NAME) &&
		   c->a.readable >= 8) {
		uint32_t res;

		memcpy(&res, c->t->ro + c->a.off + 4, 4);
		k += snprintf(buf + k, n - k, ", reserved %#x", res);
	}
	snprintf(buf + k, n - k, ": got %s, want %s", c->r ? lu_errname(c->r) : "success",
		 want);
}

static void run_call(struct call *c)
{
	struct thr *t = c->t;
	char desc[1400];
	int fds;

	if (verbose) {
		c->r = 0;
		call_desc(c, desc, sizeof(desc));
		pthread_mutex_lock(&print_mu);
		printf("# t%d op %llu: %s\n", t->idx, (unsigned long long)t->opno, desc);
		pthread_mutex_unlock(&print_mu);
	}
	/* One thread: an unwritable reply must not leave an fd behind. */
	fds = nthreads == 1 && !c->a.writable && c->c &&
	      (c->c->op == O_CREATE || c->c->op == O_RETRIEVE || c->c->op == O_RETRIEVE_FD) ?
	      lu_count_fds() : -1;
	c->r = ioctl(c->fd, c->cmd, c->a.p) < 0 ? -errno : 0;
	t->results[c->count_as][-c->r < ES_MAX ? -c->r : 0]++;
	if (fds >= 0 && c->r == -EFAULT && lu_count_fds() != fds)
		fail(t, "%s: EFAULT for an unwritable reply, yet it installed an fd",
		     op_name[c->c->op]);
	if (!expected(&c->ex, c->r)) {
		call_desc(c, desc, sizeof(desc));
		fail(t, "%s", desc);
	}
}

/* The reply's s32 fd and its echo of the caller's size. */
static int reply_fd(struct call *c)
{
	int32_t fd;
	uint32_t size;

	memcpy(&fd, c->t->rw + c->a.off + 4, 4);
	memcpy(&size, c->t->rw + c->a.off, 4);
	if (size != c->a.usize)
		fail(c->t, "%s: the reply's size is %u, the caller said %u", op_name[c->c->op],
		     size, c->a.usize);
	if (fd < 0 || fcntl(fd, F_GETFD) != FD_CLOEXEC) {
		fail(c->t, "%s succeeded with fd %d, which is not an open O_CLOEXEC fd",
		     op_name[c->c->op], fd);
		return -1;
	}
	return fd;
}

static bool same_name(const struct obj *s, const uint8_t *name, size_t len)
{
	return s->namelen == len && !memcmp(s->name, name, len);
}

/* ---- the commands, once the dispatch passed ------------------------------ */

static void exec_create(struct call *c, const uint8_t *name, size_t len)
{
	struct obj *s;
	char nm[300];
	int fd;

	if (len == 0 || len >= LIVEUPDATE_SESSION_NAME_LENGTH) {
		es_add(&c->ex.must, EINVAL);
	} else {
		es_add(&c->ex.may, EEXIST);
		es_add(&c->ex.may, ENOMEM);
		es_add(&c->ex.may, ENOSPC);
		if (!c->a.writable)
			es_add(&c->ex.must, EFAULT);
	}
	run_call(c);
	if (c->r == -EEXIST && nthreads == 1) {
		bool open = false;

		/* one thread: the table is exactly what is open */
		for (int i = 0; i < nlive_out; i++)
			open |= same_name(live_out[i], name, len);
		if (!open)
			fail(c->t, "CREATE_SESSION '%s': EEXIST, but no open session has that name",
			     name_str(name, len, nm, sizeof(nm)));
	}
	if (c->r)
		return;
	fd = reply_fd(c);
	if (fd < 0)
		return;
	s = obj_new(K_SESSION);
	memcpy(s->name, name, len);
	s->namelen = len;
	pthread_mutex_lock(&reg_mu);
	for (int i = 0; i < nlive_out; i++) {
		if (same_name(live_out[i], name, len))
			fail(c->t, "CREATE_SESSION '%s' succeeded while another open session has that name",
			     name_str(name, len, nm, sizeof(nm)));
	}
	if (nlive_out == cap_live_out) {
		cap_live_out = cap_live_out ? 2 * cap_live_out : 64;
		live_out = realloc(live_out, cap_live_out * sizeof(*live_out));
		if (!live_out)
			BAIL("out of memory");
	}
	live_out[nlive_out++] = s;
	pthread_mutex_unlock(&reg_mu);
	defer_install(c, fd, K_SESSION, s, false);
}

static struct obj *find_incoming(const uint8_t *name, size_t len)
{
	for (int i = 0; i < nincoming; i++)
		if (same_name(incoming[i], name, len))
			return incoming[i];
	return NULL;
}

static void exec_retrieve(struct call *c, const uint8_t *name, size_t len)
{
	struct obj *s = NULL;
	int state = -1, fd;

	if (len == 0 || len >= LIVEUPDATE_SESSION_NAME_LENGTH) {
		es_add(&c->ex.must, EINVAL);
		es_add(&c->ex.must, ENOENT);
	} else if (stage == 2 && find_incoming(name, len)) {
		s = find_incoming(name, len);
		pthread_mutex_lock(&s->mu);
		state = s->state;
		if (state == IN_WAITING) {
			es_add(&c->ex.may, ENOMEM);
			if (!c->a.writable)
				es_add(&c->ex.must, EFAULT);
		} else if (state == IN_RETRIEVED) {
			es_add(&c->ex.must, EINVAL);
		} else {
			es_add(&c->ex.must, EINVAL);
			es_add(&c->ex.must, ENOENT);
		}
	} else {
		/* Stage 0 and 1 run on a cold boot; stage 2 knows what came over. */
		es_add(&c->ex.must, ENOENT);
	}
	run_call(c);
	if (s && state == IN_WAITING) {
		if (c->r == 0) {
			s->state = IN_RETRIEVED;
			s->slots = 1;	/* the fd about to be installed */
		} else if (c->r == -EFAULT) {
			s->state = IN_GONE; /* released at once: finished and gone */
		}
	}
	if (s)
		pthread_mutex_unlock(&s->mu);
	if (c->r)
		return;
	fd = reply_fd(c);
	if (fd < 0)
		return;
	if (!s || state != IN_WAITING) {
		close(fd);
		return;
	}
	defer_install(c, fd, K_SESSION, s, false);
}

static void exec_status(struct call *c)
{
	struct liveupdate_mod_status st;

	if (!c->a.writable)
		es_add(&c->ex.must, EFAULT);
	run_call(c);
	if (c->r)
		return;
	memcpy(&st, c->t->rw + c->a.off, sizeof(st));
	if (st.size != c->a.usize || st.ready != 1 || st.first_error || st.reserved ||
	    st.failed_token || st.failed_session[0])
		fail(c->t, "MOD_STATUS: size %u (caller's %u), ready %u, first_error %d, reserved %u, failed token %#llx",
		     st.size, c->a.usize, st.ready, st.first_error, st.reserved,
		     (unsigned long long)st.failed_token);
	if (stage && st.generation != (uint64_t)stage)
		fail(c->t, "MOD_STATUS: generation %llu in stage %d",
		     (unsigned long long)st.generation, stage);
	if (stage < 2 && (st.incoming_sessions || st.incoming_files))
		fail(c->t, "MOD_STATUS: %llu incoming sessions on a cold boot",
		     (unsigned long long)st.incoming_sessions);
	if (nthreads == 1) {
		uint64_t files = 0;

		/* one thread: the table is exactly what is open */
		for (int i = 0; i < nlive_out; i++)
			files += live_out[i]->ntoks;
		if (st.outgoing_sessions != (uint64_t)nlive_out || st.outgoing_files != files)
			fail(c->t, "MOD_STATUS: %llu outgoing sessions with %llu files, the fuzzer has %d with %llu",
			     (unsigned long long)st.outgoing_sessions,
			     (unsigned long long)st.outgoing_files, nlive_out,
			     (unsigned long long)files);
	}
}

static struct tok *find_tok(struct obj *s, uint64_t token)
{
	for (int i = 0; i < s->ntoks; i++)
		if (s->toks[i].token == token)
			return &s->toks[i];
	return NULL;
}

static void record_tok(struct thr *t, struct obj *s, uint64_t token, struct obj *m, bool maybe,
		       bool rdonly, int argfd)
{
	struct tok *tk;

	pthread_mutex_lock(&s->mu);
	tk = find_tok(s, token);
	if (tk) {
		if (!tk->maybe) {
			pthread_mutex_unlock(&s->mu);
			fail(t, "PRESERVE_FD of token %#llx succeeded twice in one session",
			     (unsigned long long)token);
			return;
		}
		if (tk->file)
			file_unref(tk->file);
	} else {
		if (s->ntoks == s->captoks) {
			s->captoks = s->captoks ? 2 * s->captoks : 8;
			s->toks = realloc(s->toks, s->captoks * sizeof(*s->toks));
			if (!s->toks)
				BAIL("out of memory");
		}
		tk = &s->toks[s->ntoks++];
	}
	*tk = (struct tok){ .token = token, .file = m, .maybe = maybe, .rdonly = rdonly };
	if (m) {
		pthread_mutex_lock(&m->mu);
		/* The keeper shares the preserved open file (its position). */
		if (m->prefs++ == 0 && stage != 2 && !m->fixed) {
			if (m->keeper >= 0)
				close(m->keeper);
			else
				atomic_fetch_add(&keepers, 1);
			m->keeper = fcntl(argfd, F_DUPFD_CLOEXEC, 0);
			if (m->keeper < 0)
				BAIL("dup: %s", strerror(errno));
		}
		if (!maybe)
			m->holder = s;
		pthread_mutex_unlock(&m->mu);
	}
	pthread_mutex_unlock(&s->mu);
}

/*
 * If @m is certainly held by an open session (preserved in an outgoing one,
 * or retrieved from an incoming one not finished), lock that session's
 * state for the call and return it; NULL otherwise.
 */
static struct obj *lock_holder(struct obj *m, bool outgoing_only)
{
	struct obj *h;
	bool held;

	pthread_mutex_lock(&m->mu);
	h = m->holder;
	pthread_mutex_unlock(&m->mu);
	if (!h || (outgoing_only && h->incoming))
		return NULL;
	pthread_rwlock_rdlock(&h->life);
	pthread_rwlock_rdlock(&h->fin);
	pthread_mutex_lock(&h->mu);
	held = !h->dead && (!h->incoming || h->finished == FIN_NO);
	pthread_mutex_unlock(&h->mu);
	if (held)
		return h;
	pthread_rwlock_unlock(&h->fin);
	pthread_rwlock_unlock(&h->life);
	return NULL;
}

static void unlock_holder(struct obj *h)
{
	if (h) {
		pthread_rwlock_unlock(&h->fin);
		pthread_rwlock_unlock(&h->life);
	}
}

static void exec_preserve(struct call *c, uint64_t token)
{
	struct obj *s = c->obj, *m = NULL, *h = NULL;
	struct slot *as = c->argslot >= 0 ? &slots[c->argslot] : NULL;
	struct tok *tk;
	int seals;

	pthread_mutex_lock(&s->mu);
	tk = find_tok(s, token);
	if (tk && !tk->maybe)
		es_add(&c->ex.must, EEXIST);
	pthread_mutex_unlock(&s->mu);
	es_add(&c->ex.may, EEXIST);
	if (c->argslot == -2) {
		c->ex.loose = true;	/* a closed number: who knows what it is now */
	} else {
		switch (c->argkind) {
		case K_NONE:
		case K_DEVPATH:
			es_add(&c->ex.must, EBADF);
			break;
		case K_MEMFD:
			m = as->obj;
			h = lock_holder(m, false);
			if (h)
				es_add(&c->ex.must, EBUSY);
			es_add(&c->ex.may, EBUSY);
			es_add(&c->ex.may, ENOMEM);
			es_add(&c->ex.may, ENOSPC);
			seals = fcntl(c->argfd, F_GET_SEALS);
			if (seals > 0 || m->seals_changed)
				es_add(&c->ex.may, EOPNOTSUPP);
			if (es_empty(&c->ex.must) && !c->a.writable)
				es_add(&c->ex.must, EFAULT);
			break;
		default:
			es_add(&c->ex.must, ENOENT);
			break;
		}
	}
	run_call(c);
	unlock_holder(h);
	if (c->argslot == -2 && (c->r == 0 || (c->r == -EFAULT && !c->a.writable)))
		record_tok(c->t, s, token, NULL, c->r != 0, false, -1);
	else if (c->r == 0 || (c->r == -EFAULT && m && !c->a.writable))
		record_tok(c->t, s, token, m, c->r != 0, as && as->rdonly, c->argfd);
}

static bool verify_file(struct thr *t, struct obj *s, struct mfile *mf, int fd)
{
	char nm[300];
	struct stat st;
	uint8_t *buf;
	bool ok = true;
	int seals, fl;

	name_str(s->name, s->namelen, nm, sizeof(nm));
	if (fstat(fd, &st)) {
		fail(t, "'%s' token %#llx: fstat: %s", nm, (unsigned long long)mf->token,
		     strerror(errno));
		return false;
	}
	if (mf->flags & MF_NOCONTENT)
		return true;
	if ((uint64_t)st.st_size != mf->size) {
		fail(t, "'%s' token %#llx: size %lld, preserved %llu", nm,
		     (unsigned long long)mf->token, (long long)st.st_size,
		     (unsigned long long)mf->size);
		return false;
	}
	buf = malloc(mf->size + 1);
	if (!buf)
		BAIL("out of memory");
	if (pread(fd, buf, mf->size + 1, 0) != (ssize_t)mf->size ||
	    hash_bytes(buf, mf->size) != mf->hash) {
		fail(t, "'%s' token %#llx: the content of its %llu bytes differs from what was preserved",
		     nm, (unsigned long long)mf->token, (unsigned long long)mf->size);
		ok = false;
	}
	free(buf);
	if ((uint64_t)lseek(fd, 0, SEEK_CUR) != mf->pos) {
		fail(t, "'%s' token %#llx: position %lld, %llu at the reboot", nm,
		     (unsigned long long)mf->token, (long long)lseek(fd, 0, SEEK_CUR),
		     (unsigned long long)mf->pos);
		ok = false;
	}
	/*
	 * The module brings back the seals and the mode the file had at the
	 * reboot. The in-kernel LUO of 7.3 takes the seals at PRESERVE_FD,
	 * adds the write seals to a file with F_SEAL_EXEC and makes every
	 * file 0777 (see memfd_changes.c): checked where that is known.
	 */
	seals = fcntl(fd, F_GET_SEALS);
	if ((module || (!(mf->flags & MF_NOSEALS) && !(mf->seals & F_SEAL_EXEC))) &&
	    seals != (int)mf->seals) {
		fail(t, "'%s' token %#llx: seals %#x, %#x at the reboot", nm,
		     (unsigned long long)mf->token, seals, mf->seals);
		ok = false;
	}
	if (module && (st.st_mode & 07777) != mf->mode) {
		fail(t, "'%s' token %#llx: mode %o, %o at the reboot", nm,
		     (unsigned long long)mf->token, (unsigned int)(st.st_mode & 07777), mf->mode);
		ok = false;
	}
	fl = fcntl(fd, F_GETFL);
	if (module && ((fl & O_ACCMODE) == O_RDONLY) != !!(mf->flags & MF_RDONLY)) {
		fail(t, "'%s' token %#llx: retrieved %s, preserved %s", nm,
		     (unsigned long long)mf->token,
		     (fl & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : "writable",
		     mf->flags & MF_RDONLY ? "O_RDONLY" : "writable");
		ok = false;
	}
	return ok;
}

/*
 * A file retrieved for the first time is checked against the manifest
 * before anything else can see it; a later RETRIEVE_FD must give the same
 * file. Called with mf->mu held. Returns the memfd object for the slot,
 * with its slot counted.
 */
static struct obj *retrieved_file(struct thr *t, struct obj *s, struct mfile *mf, int fd)
{
	struct stat st;
	struct obj *m = mf->obj;

	if (!m) {
		if (verify_file(t, s, mf, fd))
			t->verified++;
		m = obj_new(K_MEMFD);
		m->holder = s;
		m->seals_changed = true;
		if (!fstat(fd, &st))
			m->ino = st.st_ino;
		mf->obj = m;
		atomic_store(&mf->taken, true);
		atomic_fetch_sub(&s->unretrieved, 1);
		return m;
	}
	if (fstat(fd, &st) || st.st_ino != m->ino)
		fail(t, "RETRIEVE_FD of token %#llx again gave another file",
		     (unsigned long long)mf->token);
	pthread_mutex_lock(&m->mu);
	m->slots++;
	pthread_mutex_unlock(&m->mu);
	return m;
}

static void exec_retrieve_fd(struct call *c, uint64_t token)
{
	struct obj *s = c->obj, *m;
	struct mfile *mf = NULL;
	int fin, fd;

	pthread_rwlock_rdlock(&s->fin);
	for (int i = 0; i < s->nmfs; i++)
		if (s->mfs[i]->token == token)
			mf = s->mfs[i];
	if (!mf) {
		es_add(&c->ex.must, ENOENT);
	} else {
		pthread_mutex_lock(&mf->mu);
		pthread_mutex_lock(&s->mu);
		fin = s->finished;
		pthread_mutex_unlock(&s->mu);
		if (fin == FIN_YES) {
			es_add(&c->ex.must, ENOENT);
		} else {
			if (fin == FIN_MAYBE || (mf->flags & MF_MAYBE))
				es_add(&c->ex.may, ENOENT);
			es_add(&c->ex.may, ENOMEM);
			if (!c->a.writable)
				es_add(&c->ex.must, EFAULT);
		}
	}
	run_call(c);
	fd = c->r ? -1 : reply_fd(c);
	if (fd >= 0) {
		if (mf) {
			m = retrieved_file(c->t, s, mf, fd);
			pthread_mutex_unlock(&mf->mu);
			mf = NULL;
			defer_install(c, fd, K_MEMFD, m,
				      (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
		} else {
			close(fd);
		}
	}
	if (mf)
		pthread_mutex_unlock(&mf->mu);
	pthread_rwlock_unlock(&s->fin);
}

static void exec_finish(struct call *c, uint32_t reserved)
{
	struct obj *s = c->obj;

	if (reserved) {
		es_add(&c->ex.must, EINVAL);
		run_call(c);
		return;
	}
	/* Only memfds: every file agrees to finish. */
	if (!c->a.writable)
		es_add(&c->ex.must, EFAULT);
	pthread_rwlock_wrlock(&s->fin);
	run_call(c);
	pthread_mutex_lock(&s->mu);
	if (c->r == 0)
		s->finished = FIN_YES;
	else if (c->r == -EFAULT && s->finished == FIN_NO)
		s->finished = FIN_MAYBE;
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&s->fin);
}

static void exec_get_name(struct call *c, uint32_t reserved)
{
	struct liveupdate_session_get_name arg;
	struct obj *s = c->obj;
	char a[300], b[300];
	size_t len;

	if (reserved)
		es_add(&c->ex.must, EINVAL);
	else if (!c->a.writable)
		es_add(&c->ex.must, EFAULT);
	run_call(c);
	if (c->r)
		return;
	memcpy(&arg, c->t->rw + c->a.off, sizeof(arg));
	len = strnlen((char *)arg.name, sizeof(arg.name));
	if (!same_name(s, arg.name, len) || arg.size != c->a.usize)
		fail(c->t, "GET_NAME answered '%s' (size %u), the session is '%s' (size %u)",
		     name_str(arg.name, len, a, sizeof(a)), arg.size,
		     name_str(s->name, s->namelen, b, sizeof(b)), c->a.usize);
}

/*
 * One thread, on the module: after every operation, MOD_STATUS's outgoing
 * counts are the model's (the first difference is reported, with the
 * operation that made it).
 */
static void audit(struct thr *t, const struct call *c, enum op_id op)
{
	struct liveupdate_mod_status st = { .size = sizeof(st) };
	uint64_t files = 0;
	char desc[1400];

	if (nthreads != 1 || !module || t->audit_failed)
		return;
	if (ioctl(dev_fd, LIVEUPDATE_IOCTL_MOD_STATUS, &st)) {
		fail(t, "audit: MOD_STATUS: %s", strerror(errno));
		t->audit_failed = true;
		return;
	}
	for (int i = 0; i < nlive_out; i++)
		files += live_out[i]->ntoks;
	if (st.outgoing_sessions == (uint64_t)nlive_out && st.outgoing_files == files)
		return;
	t->audit_failed = true;
	if (c)
		call_desc(c, desc, sizeof(desc));
	else
		snprintf(desc, sizeof(desc), "%s", op_name[op]);
	fail(t, "audit: after %s: MOD_STATUS counts %llu outgoing sessions with %llu files, the fuzzer %d with %llu",
	     desc, (unsigned long long)st.outgoing_sessions,
	     (unsigned long long)st.outgoing_files, nlive_out, (unsigned long long)files);
}

/* ---- ioctl operations ----------------------------------------------------- */

/* The fd for PRESERVE_FD: a slot (read-locked, may be the target), or not. */
static void pick_arg_fd(struct call *c)
{
	struct thr *t = c->t;
	unsigned int p = below(&t->rng, 100);

	c->argslot = -1;
	c->argkind = K_NONE;
	if (p < 82) {
		int start = (int)below(&t->rng, NSLOTS);

		/* memfds most of the time, anything else otherwise */
		unsigned int kmask = chance(&t->rng, 75) ? KM(K_MEMFD) : KM_ANY;

		for (int n = 0; n < NSLOTS && c->argslot < 0; n++) {
			int i = (start + n) % NSLOTS;

			if (i == c->slot) {
				if (kmask & KM(slots[i].kind))
					c->argslot = i;
				continue;
			}
			if (!(kmask & KM(atomic_load_explicit(&slots[i].kind, memory_order_relaxed))))
				continue;
			pthread_rwlock_rdlock(&slots[i].lock);
			if (kmask & KM(slots[i].kind))
				c->argslot = i;
			else
				pthread_rwlock_unlock(&slots[i].lock);
		}
		if (c->argslot >= 0) {
			c->argfd = slots[c->argslot].fd;
			c->argkind = slots[c->argslot].kind;
			c->argwhat = kind_name[c->argkind];
			if (c->argkind == K_MEMFD && slots[c->argslot].rdonly)
				c->argwhat = "memfd O_RDONLY";
			return;
		}
	}
	if (p < 88 && t->nstale) {
		c->argslot = -2;
		c->argfd = t->stale[below(&t->rng, t->nstale < 8 ? t->nstale : 8)];
		c->argwhat = "closed number";
		return;
	}
	static const int bad[] = { -1, INT_MAX, 1 << 20, INT_MIN, 100000 };

	c->argfd = bad[below(&t->rng, 5)];
	c->argwhat = "never open";
}

static void release_arg_fd(struct call *c)
{
	if (c->argslot >= 0 && c->argslot != c->slot)
		slot_unlock(c->argslot);
}

/* Build the argument of command @ci (or random bytes for a wrong number). */
static void build_arg(struct call *c, uint8_t *arg, size_t *len, uint64_t *token,
		      uint32_t *reserved)
{
	struct thr *t = c->t;
	const struct cmdinfo *ci = c->c;
	uint32_t size = pick_size(t, ci);

	memset(arg, 0, 160);
	*token = 0;
	*reserved = 0;
	*len = ci->ksize;
	switch (ci->op) {
	case O_CREATE:
	case O_RETRIEVE: {
		struct liveupdate_ioctl_create_session *a = (void *)arg;

		a->fd = (int32_t)rnd(&t->rng);
		gen_name(t, a->name);
		break;
	}
	case O_STATUS:
		if (chance(&t->rng, 30))
			fill_random(&t->rng, arg + 4, ci->ksize - 4); /* input is ignored */
		break;
	case O_PRESERVE:
	case O_RETRIEVE_FD: {
		struct liveupdate_session_preserve_fd *a = (void *)arg;

		*token = gen_token(t, c->obj);
		a->token = *token;
		a->fd = ci->op == O_PRESERVE ? c->argfd : (int32_t)rnd(&t->rng);
		break;
	}
	case O_FINISH:
	case O_GET_NAME:
		if (chance(&t->rng, 12))
			*reserved = chance(&t->rng, 50) ? 1u << below(&t->rng, 32) : (uint32_t)rnd(&t->rng);
		memcpy(arg + 4, reserved, 4);
		if (ci->op == O_GET_NAME && chance(&t->rng, 30))
			fill_random(&t->rng, arg + 8, 64);
		break;
	default:
		break;
	}
	memcpy(arg, &size, 4);
}

/*
 * One ioctl of command @op (O_RAW: a wrong number) on a slot of a kind in
 * @kmask (for session commands, of direction @dir).
 */
static void op_ioctl(struct thr *t, enum op_id op, unsigned int kmask, int dir)
{
	struct call c = { .t = t, .argslot = -1, .slot = -1, .newfd = -1 };
	const struct cmdinfo *ci = NULL;
	uint8_t arg[160], name[LIVEUPDATE_SESSION_NAME_LENGTH];
	uint64_t token;
	uint32_t reserved;
	size_t len, namelen = 0;
	int e;

	c.slot = pick_slot(t, kmask, dir);
	if (c.slot < 0 && dir >= 0)
		c.slot = pick_slot(t, kmask, -1);
	if (c.slot < 0)
		c.slot = pick_slot(t, KM_OPEN, -1);
	if (c.slot < 0)
		return;
	c.fd = slots[c.slot].fd;
	c.kind = slots[c.slot].kind;
	c.obj = slots[c.slot].obj;

	/* Stage 2: mostly, a session's files are retrieved before it finishes. */
	if (op == O_FINISH && c.obj && c.obj->incoming && atomic_load(&c.obj->unretrieved) &&
	    chance(&t->rng, 80))
		op = O_RETRIEVE_FD;
	for (int i = 0; i < NCMDS; i++)
		if (cmds[i].op == op)
			c.c = &cmds[i];
	if (!c.c)
		c.c = &cmds[below(&t->rng, NCMDS)];
	if (c.c->op == O_PRESERVE)
		pick_arg_fd(&c);
	build_arg(&c, arg, &len, &token, &reserved);
	if (c.c->op == O_CREATE || c.c->op == O_RETRIEVE) {
		memcpy(name, arg + 8, sizeof(name));
		namelen = strnlen((char *)name, sizeof(name));
	}
	c.cmd = op == O_RAW ? raw_cmd(t) : gen_cmd(t, c.c);
	if (op == O_RAW)
		fill_random(&t->rng, arg + 4, sizeof(arg) - 4);
	place_arg(t, &c.a, arg, len, c.c->ksize);

	e = dispatch(c.kind, c.obj && c.obj->incoming, c.cmd, &c.a, &ci);
	c.count_as = c.cmd == c.c->cmd ? c.c->op : O_RAW;
	if (e) {
		if (c.cmd != c.c->cmd)
			c.c = NULL; /* described as a wrong number */
		es_add(&c.ex.must, -e);
		run_call(&c);
	} else {
		c.c = ci;
		c.count_as = ci->op;
		switch (ci->op) {
		case O_CREATE:
			exec_create(&c, name, namelen);
			break;
		case O_RETRIEVE:
			exec_retrieve(&c, name, namelen);
			break;
		case O_STATUS:
			exec_status(&c);
			break;
		case O_PRESERVE:
			exec_preserve(&c, token);
			break;
		case O_RETRIEVE_FD:
			exec_retrieve_fd(&c, token);
			break;
		case O_FINISH:
			exec_finish(&c, reserved);
			break;
		case O_GET_NAME:
			exec_get_name(&c, reserved);
			break;
		default:
			break;
		}
	}
	release_arg_fd(&c);
	slot_unlock(c.slot);
	if (c.newfd >= 0)
		install(t, c.newfd, c.newkind, c.newobj, c.newrdonly);
	audit(t, &c, op);
}

/* An ioctl on a number this thread closed lately (maybe reused since). */
static void op_stale(struct thr *t)
{
	struct call c = { .t = t, .argslot = -1, .slot = -1, .stale = true,
			  .count_as = O_STALE };
	uint8_t arg[160] = { 0 };
	uint32_t size;

	if (!t->nstale)
		return;
	c.fd = t->stale[below(&t->rng, t->nstale < 8 ? t->nstale : 8)];
	c.kind = K_NONE;
	/* Only commands that change nothing: the target is unknown. */
	if (chance(&t->rng, 50)) {
		c.c = &cmds[NCMDS - 1]; /* GET_NAME */
		c.cmd = c.c->cmd;
		size = pick_size(t, c.c);
		memcpy(arg, &size, 4);
	} else {
		c.cmd = raw_cmd(t);
		fill_random(&t->rng, arg, sizeof(arg));
	}
	place_arg(t, &c.a, arg, 72, 72);
	c.ex.loose = true;
	run_call(&c);
	audit(t, &c, O_STALE);
}

/* An ioctl on -1 or a number that cannot be open. */
static void op_badfd(struct thr *t)
{
	static const int bad[] = { -1, INT_MAX, 1 << 20, INT_MIN };
	struct call c = { .t = t, .argslot = -1, .slot = -1, .kind = K_NONE,
			  .count_as = O_BADFD };
	uint8_t arg[160];
	size_t len;
	uint64_t token;
	uint32_t reserved;

	c.fd = bad[below(&t->rng, 4)];
	c.c = &cmds[below(&t->rng, NCMDS)];
	c.argfd = -1;
	c.argwhat = "-1";
	build_arg(&c, arg, &len, &token, &reserved);
	c.cmd = chance(&t->rng, 70) ? c.c->cmd : raw_cmd(t);
	place_arg(t, &c.a, arg, len, c.c->ksize);
	es_add(&c.ex.must, EBADF);
	c.c = NULL;
	run_call(&c);
	audit(t, &c, O_BADFD);
}

/* ---- fds ------------------------------------------------------------------ */

static const size_t memfd_sizes[] = {
	0, 1, 100, 4095, 4096, 4097, 3 * 4096 + 5, 65536, 65536 + 7, 262144 + 1,
};

static void count(struct thr *t, enum op_id op, long r)
{
	t->results[op][r < 0 && -r < ES_MAX ? -r : 0]++;
}

static void check_errno(struct thr *t, enum op_id op, long r, const struct expect *ex,
			const char *what)
{
	char want[512];

	count(t, op, r);
	if (!expected(ex, r)) {
		want_fmt(ex, want, sizeof(want));
		fail(t, "%s %s: got %s, want %s", op_name[op], what,
		     r ? lu_errname(r) : "success", want);
	}
}

/* A memfd (or O_TMPFILE file) of random size, content and seals. */
static int new_memfd(struct thr *t, struct obj **mp)
{
	static const unsigned int flags[] = {
		0, MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_ALLOW_SEALING | MFD_CLOEXEC,
		MFD_NOEXEC_SEAL, MFD_EXEC | MFD_ALLOW_SEALING,
	};
	static const unsigned int sealset[] = {
		F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC,
		F_SEAL_SEAL,
	};
	struct rng *r = &t->rng;
	size_t size = chance(r, 1) ? (2u << 20) : memfd_sizes[below(r, 10)];
	bool tmpfile = chance(r, 15);
	unsigned int fl = flags[below(r, 6)], seals = 0;
	uint8_t *buf;
	int fd;

	if (tmpfile)
		fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	else
		fd = memfd_create("uapi-fuzz", fl);
	if (fd < 0) {
		fail(t, "%s: %s", tmpfile ? "open(O_TMPFILE)" : "memfd_create", strerror(errno));
		return -1;
	}
	/*
	 * Until it is in the table, only another thread's PRESERVE_FD through
	 * a closed number that this fd now reuses can touch it: then it is
	 * frozen (EPERM) and pinned (F_SEAL_WRITE: EBUSY).
	 */
	if (ftruncate(fd, (off_t)size)) {
		if (errno != EPERM || nthreads == 1)
			fail(t, "ftruncate a new memfd to %zu: %s", size, strerror(errno));
		size = 0;
	}
	if (size && chance(r, 80)) {
		/* a large one gets data at one end (the rest stays sparse) */
		size_t n = size > 65536 ? (chance(r, 50) ? 4096 : 65536) : size;

		buf = malloc(n);
		if (!buf)
			BAIL("out of memory");
		fill_random(r, buf, n);
		if (pwrite(fd, buf, n, chance(r, 50) ? 0 : (off_t)(size - n)) != (ssize_t)n)
			fail(t, "fill a new memfd: %s", strerror(errno));
		free(buf);
	}
	if (!tmpfile && (fl & MFD_ALLOW_SEALING) && chance(r, 40)) {
		for (int i = 0; i < 6; i++)
			if (chance(r, 30))
				seals |= sealset[i];
		if (fcntl(fd, F_ADD_SEALS, seals) && !(errno == EBUSY && nthreads > 1))
			fail(t, "F_ADD_SEALS %#x on a new memfd: %s", seals, strerror(errno));
	}
	if (chance(r, 20))
		lseek(fd, below(r, (uint32_t)size + 1), SEEK_SET);
	*mp = obj_new(K_MEMFD);
	(*mp)->tmpfile = tmpfile;
	return fd;
}

static void op_newfd(struct thr *t)
{
	struct rng *r = &t->rng;
	unsigned int p = below(r, 100);
	struct obj *m = NULL;
	enum kind kind;
	char path[64];
	int fd, two[2];

	if (p < 55 && atomic_load(&keepers) < MAX_KEEPERS) {
		fd = new_memfd(t, &m);
		kind = K_MEMFD;
	} else if (p < 65) {
		kind = K_PIPE;
		fd = pipe2(two, O_CLOEXEC | O_NONBLOCK) ? -1 : two[below(r, 2)];
		if (fd >= 0)
			close(two[0] == fd ? two[1] : two[0]);
	} else if (p < 75) {
		kind = K_SOCKET;
		fd = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, two) ? -1 : two[0];
		if (fd >= 0)
			close(two[1]);
	} else if (p < 85) {
		kind = K_EVENTFD;
		fd = eventfd(below(r, 10), EFD_CLOEXEC);
	} else if (p < 93) {
		kind = K_REGFILE;
		snprintf(path, sizeof(path), "/tmp/uapi-fuzz.%u", below(r, 8));
		fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	} else {
		kind = K_DEVPATH;
		fd = open("/dev/liveupdate", O_PATH | O_CLOEXEC);
	}
	count(t, O_NEWFD, fd < 0 ? -errno : 0);
	if (fd < 0) {
		if (kind != K_MEMFD)
			fail(t, "new %s: %s", kind_name[kind], strerror(errno));
		return;
	}
	install(t, fd, kind, m, false);
}

static void op_open_dev(struct thr *t)
{
	struct expect ex = { 0 };
	int fd = open("/dev/liveupdate", (chance(&t->rng, 50) ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	es_add(&ex.must, EBUSY);
	check_errno(t, O_OPEN_DEV, fd < 0 ? -errno : 0, &ex,
		    "of /dev/liveupdate while it is open");
	if (fd >= 0)
		close(fd);
}

/* open("/proc/self/fd/N"): a new open file of what the slot has. */
static void op_reopen(struct thr *t)
{
	struct expect ex = { 0 };
	struct obj *o = NULL;
	int i = pick_slot(t, KM_OPEN, -1), fd, flags;
	bool rdonly = false;
	enum kind kind;
	char path[64], what[64];

	if (i < 0)
		return;
	kind = slots[i].kind;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", slots[i].fd);
	flags = O_CLOEXEC | O_NONBLOCK;
	if (chance(&t->rng, 50)) {
		flags |= O_RDONLY;
		rdonly = true;
	} else {
		flags |= O_RDWR;
	}
	switch (kind) {
	case K_DEV:
	case K_DEVPATH:
		es_add(&ex.must, EBUSY);	/* it opens the device again */
		break;
	case K_SESSION:
	case K_SOCKET:
	case K_EVENTFD:
		es_add(&ex.must, ENXIO);	/* anonymous inodes and sockets */
		break;
	case K_MEMFD:
		if (slots[i].rdonly && !rdonly)
			es_add(&ex.may, EACCES);
		break;
	default:
		break;
	}
	fd = open(path, flags);
	snprintf(what, sizeof(what), "of a %s (%s)", kind_name[kind],
		 rdonly ? "O_RDONLY" : "O_RDWR");
	check_errno(t, O_REOPEN, fd < 0 ? -errno : 0, &ex, what);
	if (fd >= 0 && kind == K_MEMFD) {
		o = slots[i].obj;
		pthread_mutex_lock(&o->mu);
		o->slots++;
		pthread_mutex_unlock(&o->mu);
	}
	slot_unlock(i);
	if (fd < 0)
		return;
	if (!es_empty(&ex.must)) {
		close(fd);
		return;
	}
	install(t, fd, kind, o, rdonly);
}

static void op_dup(struct thr *t)
{
	int i = pick_slot(t, KM_OPEN, -1), fd;
	struct slot *s;
	struct obj *o;
	struct expect ex = { 0 };

	if (i < 0)
		return;
	s = &slots[i];
	fd = chance(&t->rng, 50) ? dup(s->fd) :
		fcntl(s->fd, F_DUPFD_CLOEXEC, 100 + below(&t->rng, 400));
	check_errno(t, O_DUP, fd < 0 ? -errno : 0, &ex, kind_name[s->kind]);
	o = s->obj;
	if (fd >= 0 && o) {
		pthread_mutex_lock(&o->mu);
		o->slots++;
		pthread_mutex_unlock(&o->mu);
	}
	{
		enum kind kind = s->kind;
		bool rdonly = s->rdonly;

		slot_unlock(i);
		if (fd >= 0)
			install(t, fd, kind, o, rdonly);
	}
}

static void op_close(struct thr *t)
{
	struct slot *s = victim(t);

	pthread_rwlock_wrlock(&s->lock);
	count(t, O_CLOSE, 0);
	close_slot_locked(t, s);
	pthread_rwlock_unlock(&s->lock);
}

/* volatile: the stores around the pokes must not be optimized away */
static __thread sigjmp_buf *volatile bus_jump;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	(void)uc;
	if (bus_jump)
		siglongjmp(*bus_jump, 1);
	n = snprintf(msg, sizeof(msg), "not ok - SIGBUS at %p (code %d) outside a memfd mapping\n",
		     si->si_addr, si->si_code);
	if (write(1, msg, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Write a byte every 997 of the first @n bytes of a shared mapping; a
 * concurrent ftruncate may take the pages away (SIGBUS ends the writing).
 */
static void poke(uint8_t *p, size_t n, const uint8_t *data)
{
	sigjmp_buf jb;

	if (!sigsetjmp(jb, 1)) {
		bus_jump = &jb;
		for (size_t k = 0; k < n; k += 997)
			((volatile uint8_t *)p)[k] = data[k % 64];
	}
	bus_jump = NULL;
}

/* pwrite, ftruncate, a write through a shared mapping, or F_ADD_SEALS. */
static void op_memfd(struct thr *t, enum op_id op)
{
	struct rng *r = &t->rng;
	struct expect ex = { 0 };
	int i = pick_slot(t, KM(K_MEMFD), -1), fd, seals;
	struct obj *m, *h = NULL;
	struct stat st;
	char what[128];
	long res;

	if (i < 0)
		return;
	fd = slots[i].fd;
	m = slots[i].obj;
	if (fstat(fd, &st))
		st.st_size = 0;
	seals = fcntl(fd, F_GET_SEALS);
	switch (op) {
	case O_WRITE: {
		size_t len = 1 + below(r, 8192);
		off_t off = chance(r, 70) ? below(r, (uint32_t)st.st_size + 1) :
			(off_t)st.st_size + below(r, 8192);

		if (slots[i].rdonly)
			es_add(&ex.must, EBADF);
		es_add(&ex.may, EPERM);	/* seals; a preserved memfd cannot grow */
		es_add(&ex.may, ENOSPC);
		es_add(&ex.may, ENOMEM);
		fill_random(r, t->wbuf, len);
		res = pwrite(fd, t->wbuf, len, off) < 0 ? -errno : 0;
		snprintf(what, sizeof(what), "of %zu bytes at %lld (size %lld)", len,
			 (long long)off, (long long)st.st_size);
		break;
	}
	case O_TRUNCATE: {
		static const off_t sizes[] = { 0, 1, 4096, 4097, 65536, 2 << 20 };
		off_t size = chance(r, 50) ? sizes[below(r, 6)] :
			st.st_size + (off_t)below(r, 8192) - 4096;

		if (size < 0)
			size = 0;
		if (slots[i].rdonly) {
			es_add(&ex.must, EINVAL);
			es_add(&ex.must, EBADF);
		} else {
			/* A file preserved in an open session keeps its size. */
			h = size != st.st_size ? lock_holder(m, true) : NULL;
			if (h)
				es_add(&ex.must, EPERM);
			es_add(&ex.may, EPERM);
			es_add(&ex.may, ENOSPC);
			es_add(&ex.may, ENOMEM);
		}
		res = ftruncate(fd, size) ? -errno : 0;
		unlock_holder(h);
		snprintf(what, sizeof(what), "from %lld to %lld%s", (long long)st.st_size,
			 (long long)size, h ? " (preserved)" : "");
		break;
	}
	case O_MMAP: {
		size_t off = st.st_size > 4096 ? (size_t)below(r, (uint32_t)(st.st_size / 4096)) * 4096 : 0;
		size_t len = st.st_size > (off_t)off ? (size_t)st.st_size - off : 4096;
		void *p;

		if (len > 65536)
			len = 65536;
		if (slots[i].rdonly)
			es_add(&ex.must, EACCES);
		else if (seals > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
			es_add(&ex.must, EPERM);
		es_add(&ex.may, EPERM);	/* sealed meanwhile */
		es_add(&ex.may, ENOMEM);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)off);
		res = p == MAP_FAILED ? -errno : 0;
		if (p != MAP_FAILED) {
			fill_random(r, t->wbuf, 64);
			poke(p, st.st_size > (off_t)off ? len : 0, t->wbuf);
			munmap(p, len);
		}
		snprintf(what, sizeof(what), "of %zu bytes at %zu (size %lld)", len, off,
			 (long long)st.st_size);
		break;
	}
	case O_SEEK: {
		off_t pos = chance(r, 50) ? below(r, (uint32_t)st.st_size + 1) : below(r, 1 << 20);

		res = lseek(fd, pos, SEEK_SET) < 0 ? -errno : 0;
		snprintf(what, sizeof(what), "to %lld (size %lld)", (long long)pos,
			 (long long)st.st_size);
		break;
	}
	case O_CHMOD: {
		static const mode_t modes[] = { 0600, 0644, 0666, 0777, 0400, 0755, 0 };
		mode_t mode = modes[below(r, 7)];

		es_add(&ex.may, EPERM);	/* F_SEAL_EXEC: the x bits stay */
		res = fchmod(fd, mode) ? -errno : 0;
		snprintf(what, sizeof(what), "from %o to %o", (unsigned int)(st.st_mode & 07777),
			 (unsigned int)mode);
		break;
	}
	default: {
		static const unsigned int sealset[] = {
			F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE,
			F_SEAL_EXEC, F_SEAL_SEAL,
		};
		unsigned int add = 0;

		for (int k = 0; k < 6; k++)
			if (chance(r, 25))
				add |= sealset[k];
		if (slots[i].rdonly)
			es_add(&ex.must, EPERM);
		es_add(&ex.may, EPERM);	/* F_SEAL_SEAL, or not a memfd with sealing */
		es_add(&ex.may, EBUSY);	/* F_SEAL_WRITE over a mapping or pinned pages */
		pthread_mutex_lock(&m->mu);
		m->seals_changed = true;
		pthread_mutex_unlock(&m->mu);
		res = fcntl(fd, F_ADD_SEALS, add) ? -errno : 0;
		snprintf(what, sizeof(what), "%#x to %#x", add, seals);
		break;
	}
	}
	snprintf(what + strlen(what), sizeof(what) - strlen(what), " on %s%s",
		 m->tmpfile ? "an O_TMPFILE file" : "a memfd", slots[i].rdonly ? " (O_RDONLY)" : "");
	slot_unlock(i);
	check_errno(t, op, res, &ex, what);
}

/*
 * A small memfd that nobody can reach once preserved (its fd is closed at
 * once), so its state at the reboot is its state now.
 */
static int fixed_memfd(struct thr *t, struct obj **mp)
{
	static const size_t sizes[] = { 0, 1, 100, 4096, 4097 };
	struct rng *r = &t->rng;
	size_t size = sizes[below(r, 5)];
	int fd = memfd_create("uapi-fuzz-bulk", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct obj *m;
	struct stat st;
	int seals;

	if (fd < 0) {
		fail(t, "memfd_create: %s", strerror(errno));
		return -1;
	}
	fill_random(r, t->wbuf, size);
	if (pwrite(fd, t->wbuf, size, 0) != (ssize_t)size ||
	    (chance(r, 30) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) ||
	    lseek(fd, below(r, (uint32_t)size + 1), SEEK_SET) < 0 || fstat(fd, &st) ||
	    (seals = fcntl(fd, F_GET_SEALS)) < 0) {
		/* another thread's PRESERVE_FD through a reused number froze it */
		if (errno != EPERM && errno != EBUSY)
			fail(t, "set up a memfd for a bulk PRESERVE_FD: %s", strerror(errno));
		close(fd);
		return -1;
	}
	m = obj_new(K_MEMFD);
	m->slots = 0;
	m->fixed = true;
	m->fsize = size;
	m->fhash = hash_bytes(t->wbuf, size);
	m->fpos = lseek(fd, 0, SEEK_CUR);
	m->fseals = seals;
	m->fmode = st.st_mode & 07777;
	*mp = m;
	return fd;
}

/*
 * Many files in one outgoing session, or many sessions at once: the
 * module's record chains hold 39 sessions or 56 files a 4 KiB block, more
 * than the rest of the mix reaches.
 */
static void op_bulk(struct thr *t)
{
	struct rng *r = &t->rng;
	struct expect ex = { 0 };
	char what[96];
	int n = 40 + below(r, 80);

	es_add(&ex.may, EBUSY);	/* preserved first through a reused number */
	es_add(&ex.may, ENOMEM);
	es_add(&ex.may, ENOSPC);
	if (chance(r, 50)) {
		int i = pick_slot(t, KM(K_SESSION), 0);
		struct obj *s;

		if (i < 0)
			return;
		s = slots[i].obj;
		for (int k = 0; k < n; k++) {
			uint64_t token = ((uint64_t)(t->idx + 1) << 48) | t->bulk_tokens++;
			struct obj *m;
			int fd = fixed_memfd(t, &m);
			long err;

			if (fd < 0)
				continue;
			err = lu_preserve_fd(slots[i].fd, fd, token);
			snprintf(what, sizeof(what), "%d of %d in one session, token %#llx", k + 1, n,
				 (unsigned long long)token);
			check_errno(t, O_BULK, err, &ex, what);
			if (!err)
				record_tok(t, s, token, m, false, false, fd);
			close(fd);
		}
		slot_unlock(i);
		return;
	}
	for (int k = 0; k < n / 2; k++) {
		uint8_t name[LIVEUPDATE_SESSION_NAME_LENGTH] = { 0 };
		struct obj *s;
		int fd;

		/* the stage in the name: stage 1's survivors are incoming in stage 2 */
		snprintf((char *)name, sizeof(name), "fzb%d-%d-%llu", stage, t->idx,
			 (unsigned long long)t->bulk_sessions++);
		fd = lu_create_session(slots[0].fd, (char *)name);
		snprintf(what, sizeof(what), "CREATE_SESSION %d of %d, '%s'", k + 1, n / 2, name);
		check_errno(t, O_BULK, fd < 0 ? fd : 0, &ex, what);
		if (fd < 0)
			continue;
		s = obj_new(K_SESSION);
		s->namelen = strlen((char *)name);
		memcpy(s->name, name, s->namelen);
		pthread_mutex_lock(&reg_mu);
		if (nlive_out == cap_live_out) {
			cap_live_out = cap_live_out ? 2 * cap_live_out : 64;
			live_out = realloc(live_out, cap_live_out * sizeof(*live_out));
			if (!live_out)
				BAIL("out of memory");
		}
		live_out[nlive_out++] = s;
		pthread_mutex_unlock(&reg_mu);
		for (int j = 0; j < 2 && chance(r, 40); j++) {
			uint64_t token = ((uint64_t)(t->idx + 1) << 48) | t->bulk_tokens++;
			struct obj *m;
			int mfd = fixed_memfd(t, &m);
			long err;

			if (mfd < 0)
				continue;
			err = lu_preserve_fd(fd, mfd, token);
			snprintf(what, sizeof(what), "into new session '%s', token %#llx", name,
				 (unsigned long long)token);
			check_errno(t, O_BULK, err, &ex, what);
			if (!err)
				record_tok(t, s, token, m, false, false, mfd);
			close(mfd);
		}
		install(t, fd, K_SESSION, s, false);
	}
}

/* ---- the threads ---------------------------------------------------------- */

struct weight {
	enum op_id op;
	unsigned int w[3];	/* stage 0/1, stage 2 */
};

static const struct weight weights[] = {
	{ O_CREATE, { 100, 100, 60 } },
	{ O_RETRIEVE, { 30, 30, 100 } },
	{ O_STATUS, { 20, 20, 20 } },
	{ O_PRESERVE, { 200, 200, 140 } },
	{ O_RETRIEVE_FD, { 30, 30, 180 } },
	{ O_FINISH, { 30, 30, 10 } },
	{ O_GET_NAME, { 50, 50, 50 } },
	{ O_RAW, { 60, 60, 50 } },
	{ O_STALE, { 20, 20, 20 } },
	{ O_BADFD, { 10, 10, 10 } },
	{ O_NEWFD, { 90, 90, 80 } },
	{ O_OPEN_DEV, { 10, 10, 10 } },
	{ O_REOPEN, { 20, 20, 20 } },
	{ O_DUP, { 40, 40, 40 } },
	{ O_CLOSE, { 90, 90, 80 } },
	{ O_WRITE, { 40, 40, 40 } },
	{ O_TRUNCATE, { 30, 30, 30 } },
	{ O_MMAP, { 20, 20, 20 } },
	{ O_SEAL, { 10, 10, 10 } },
	{ O_SEEK, { 10, 10, 10 } },
	{ O_CHMOD, { 10, 10, 10 } },
	{ O_BULK, { 1, 1, 1 } },
};
#define NWEIGHTS ARRAY_SIZE(weights)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void one_op(struct thr *t)
{
	double start = now();
	unsigned int sum = 0, x;
	int st = stage == 2 ? 2 : 1;
	enum op_id op = O_CLOSE;
	bool other = chance(&t->rng, 10); /* a command on any kind of fd */

	for (int i = 0; i < NWEIGHTS; i++)
		sum += weights[i].w[st];
	x = below(&t->rng, sum);
	for (int i = 0; i < NWEIGHTS; i++) {
		if (x < weights[i].w[st]) {
			op = weights[i].op;
			break;
		}
		x -= weights[i].w[st];
	}
	switch (op) {
	case O_CREATE:
	case O_RETRIEVE:
	case O_STATUS:
		op_ioctl(t, op, other ? KM_ANY : KM(K_DEV), -1);
		break;
	case O_PRESERVE:
		op_ioctl(t, op, other ? KM_ANY : KM(K_SESSION), other ? -1 : 0);
		break;
	case O_RETRIEVE_FD:
	case O_FINISH:
		op_ioctl(t, op, other ? KM_ANY : KM(K_SESSION),
			 other || stage != 2 || chance(&t->rng, 10) ? -1 : 1);
		break;
	case O_GET_NAME:
		op_ioctl(t, op, other ? KM_ANY : KM(K_SESSION), -1);
		break;
	case O_RAW:
		op_ioctl(t, op, KM_ANY, -1);
		break;
	case O_STALE:
		op_stale(t);
		break;
	case O_BADFD:
		op_badfd(t);
		break;
	case O_NEWFD:
		op_newfd(t);
		break;
	case O_OPEN_DEV:
		op_open_dev(t);
		break;
	case O_REOPEN:
		op_reopen(t);
		break;
	case O_DUP:
		op_dup(t);
		break;
	case O_CLOSE:
		op_close(t);
		break;
	case O_BULK:
		op_bulk(t);
		break;
	default:
		op_memfd(t, op);
		break;
	}
	if (op > O_BADFD)
		audit(t, NULL, op);
	t->secs[op] += now() - start;
}

static void thread_setup(struct thr *t)
{
	uint8_t *base = (uint8_t *)ARENA_BASE + (size_t)t->idx * 0x100000;
	int mfd = memfd_create("uapi-fuzz-arena", MFD_CLOEXEC);

	/* rw: two pages, then an inaccessible one; ro: the same pages read-only */
	if (mfd < 0 || ftruncate(mfd, 2 * PAGE) ||
	    mmap(base, 6 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0) != base ||
	    mmap(base, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, 0) != base ||
	    mmap(base + 3 * PAGE, 2 * PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, mfd, 0) !=
		    base + 3 * PAGE)
		BAIL("thread %d: map the argument arena: %s", t->idx, strerror(errno));
	close(mfd);
	t->rw = base;
	t->ro = base + 3 * PAGE;
	t->wbuf = malloc(8192);
	if (!t->wbuf)
		BAIL("out of memory");
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;

	for (t->opno = 0; t->opno < t->nops; t->opno++) {
		/* progress, for long runs: thread 0 every tenth of its share */
		if (t->idx == 0 && t->nops >= 10 && t->opno && t->opno % (t->nops / 10) == 0)
			lu_diag("fuzz: thread 0 at %llu of %llu ops", (unsigned long long)t->opno,
				(unsigned long long)t->nops);
		one_op(t);
	}
	return NULL;
}

/* Run the threads; returns the seconds it took. */
static double fuzz(struct thr *thr)
{
	double start = now();

	for (int i = 0; i < nthreads; i++) {
		thr[i].idx = i;
		/* a pure function of (seed, stage, thread) */
		rng_init(&thr[i].rng, seed ^ ((uint64_t)(stage == 2) << 63) ^
			 (0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1)));
		thr[i].nops = total_ops / nthreads + ((uint64_t)i < total_ops % nthreads);
		thread_setup(&thr[i]);
	}
	if (nthreads == 1) {
		thread_main(&thr[0]);
	} else {
		for (int i = 0; i < nthreads; i++)
			if (pthread_create(&thr[i].tid, NULL, thread_main, &thr[i]))
				BAIL("pthread_create");
		for (int i = 0; i < nthreads; i++)
			pthread_join(thr[i].tid, NULL);
	}
	return now() - start;
}

static void report(struct thr *thr, double secs, const char *what)
{
	char line[2048];

	lu_diag("fuzz: %s: %llu ops in %.1f s: %.0f ops/s (%d threads)", what,
		(unsigned long long)total_ops, secs, secs > 0 ? (double)total_ops / secs : 0.0,
		nthreads);
	double total = 0;

	for (int op = 0; op < O_NOPS; op++)
		for (int i = 0; i < nthreads; i++)
			total += thr[i].secs[op];
	for (int op = 0; op < O_NOPS; op++) {
		size_t k = 0;
		uint64_t all = 0;
		double secs = 0;

		for (int i = 0; i < nthreads; i++)
			secs += thr[i].secs[op];
		k = snprintf(line, sizeof(line), " (%2.0f%% of the time)", total ? 100 * secs / total : 0);
		for (int e = 0; e < ES_MAX; e++) {
			uint64_t n = 0;

			for (int i = 0; i < nthreads; i++)
				n += thr[i].results[op][e];
			if (!n)
				continue;
			all += n;
			k += snprintf(line + k, sizeof(line) - k, " %s %llu",
				      e ? lu_errname(-e) : "ok", (unsigned long long)n);
			if (k >= sizeof(line))
				break;
		}
		if (all)
			lu_diag("fuzz:   %-16s %8llu:%s", op_name[op], (unsigned long long)all, line);
	}
}

/* ---- the manifest (stage 1 -> stage 2) ------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list args;
	int n;

	for (;;) {
		va_start(args, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, args);
		va_end(args);
		if (b->p && (size_t)n < b->cap - b->len)
			break;
		b->cap = b->cap * 2 + n + 256;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			BAIL("out of memory");
	}
	b->len += n;
}

static void sb_name(struct sbuf *b, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sb_printf(b, "%02x", name[i]);
}

static bool hash_fd(int fd, uint64_t *size, uint64_t *hash)
{
	struct stat st;
	uint8_t *buf;
	bool ok;

	if (fstat(fd, &st))
		return false;
	buf = malloc(st.st_size + 1);
	if (!buf)
		BAIL("out of memory");
	ok = pread(fd, buf, st.st_size + 1, 0) == st.st_size;
	*size = st.st_size;
	*hash = hash_bytes(buf, st.st_size);
	free(buf);
	return ok;
}

static void manifest_file(struct sbuf *b, uint64_t token, int fd, unsigned int flags)
{
	uint64_t size = 0, hash = 0;
	off_t pos = 0;
	int seals = 0;
	struct stat st = { 0 };

	if (fd >= 0) {
		/* @fd shares the preserved open file: its position too */
		if (!hash_fd(fd, &size, &hash) || fstat(fd, &st))
			BAIL("read a preserved memfd back: %s", strerror(errno));
		seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0)
			seals = 0;
		pos = lseek(fd, 0, SEEK_CUR);
	} else {
		flags |= MF_NOCONTENT;
	}
	sb_printf(b, "F %llx %x %llx %llx %x %llx %o\n", (unsigned long long)token, flags,
		  (unsigned long long)size, (unsigned long long)hash, seals,
		  (unsigned long long)pos, (unsigned int)(st.st_mode & 07777));
	manifest_files++;
}

static void manifest_fixed(struct sbuf *b, uint64_t token, const struct obj *m,
			   unsigned int flags)
{
	sb_printf(b, "F %llx %x %llx %llx %x %llx %o\n", (unsigned long long)token, flags,
		  (unsigned long long)m->fsize, (unsigned long long)m->fhash, m->fseals,
		  (unsigned long long)m->fpos, m->fmode);
	manifest_files++;
}

/* The sessions that are to survive with memfds of known content. */
static void keepers_sessions(struct thr *t, struct sbuf *b)
{
	struct rng *r = &t->rng;

	for (int k = 0; k < nkeep; k++) {
		char name[LIVEUPDATE_SESSION_NAME_LENGTH] = "";
		int s, n = 1 + below(r, 3);

		snprintf(name, sizeof(name), "fz-keep-%d", k);
		s = lu_create_session(dev_fd, name);
		if (s < 0)
			BAIL("create session %s: %s", name, lu_errname(s));
		sb_printf(b, "S ");
		sb_name(b, (const uint8_t *)name, strlen(name));
		sb_printf(b, "\n");
		for (int j = 0; j < n; j++) {
			struct obj *m;
			int fd = new_memfd(t, &m);
			long err;

			if (fd < 0)
				BAIL("memfd for %s", name);
			err = lu_preserve_fd(s, fd, 0x1000 + j);
			if (err)
				BAIL("%s: preserve token %#x: %s", name, 0x1000 + j, lu_errname(err));
			manifest_file(b, 0x1000 + j, fd, 0);
			close(fd);
		}
		/* s stays open until the kexec */
	}
}

static void stage1_finish(struct thr *thr)
{
	struct sbuf b = { 0 };
	int sessions = 0, meta, mfd;
	long err;

	sb_printf(&b, "uapi-fuzz manifest 1\nseed %llx\n", (unsigned long long)seed);
	for (int i = 0; i < nlive_out; i++) {
		struct obj *s = live_out[i];

		sessions++;
		sb_printf(&b, "S ");
		sb_name(&b, s->name, s->namelen);
		sb_printf(&b, "\n");
		for (int j = 0; j < s->ntoks; j++) {
			struct tok *tk = &s->toks[j];
			unsigned int flags = (tk->maybe ? MF_MAYBE : 0) | (tk->rdonly ? MF_RDONLY : 0);

			if (tk->file && tk->file->seals_changed)
				flags |= MF_NOSEALS;
			if (tk->file && tk->file->fixed)
				manifest_fixed(&b, tk->token, tk->file, flags);
			else
				manifest_file(&b, tk->token, tk->file ? tk->file->keeper : -1, flags);
		}
	}
	keepers_sessions(&thr[0], &b);
	sessions += nkeep;

	meta = lu_create_session(dev_fd, META_NAME);
	mfd = memfd_create("uapi-fuzz-manifest", 0);
	if (meta < 0 || mfd < 0 || write(mfd, b.p, b.len) != (ssize_t)b.len)
		BAIL("write the manifest: %s", meta < 0 ? lu_errname(meta) : strerror(errno));
	err = lu_preserve_fd(meta, mfd, 1);
	if (err)
		BAIL("preserve the manifest: %s", lu_errname(err));
	lu_diag("fuzz: %d sessions with %llu files left for the next kernel (%d with known content), their manifest (%zu bytes) in session %s",
		sessions, (unsigned long long)manifest_files, nkeep, b.len, META_NAME);
}

static bool unhex(const char *s, uint8_t *out, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 >= LIVEUPDATE_SESSION_NAME_LENGTH)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return true;
}

static struct obj *add_incoming(const uint8_t *name, size_t len)
{
	struct obj *s = obj_new(K_SESSION);

	s->slots = 0;
	s->incoming = true;
	s->state = IN_WAITING;
	memcpy(s->name, name, len);
	s->namelen = len;
	incoming = realloc(incoming, (nincoming + 1) * sizeof(*incoming));
	if (!incoming)
		BAIL("out of memory");
	incoming[nincoming++] = s;
	return s;
}

/* Stage 2: the meta session, its manifest, and so the seed. */
static void read_manifest(void)
{
	char *text, *line, *save = NULL, name[160];
	struct obj *s = NULL, *meta;
	uint64_t mseed = 0;
	struct stat st;
	int ms, fd;
	long err;

	ms = lu_retrieve_session(dev_fd, META_NAME);
	if (ms < 0)
		BAIL("RETRIEVE_SESSION %s: %s: stage 1's sessions did not come over", META_NAME,
		     lu_errname(ms));
	fd = lu_retrieve_fd(ms, 1);
	if (fd < 0 || fstat(fd, &st))
		BAIL("RETRIEVE_FD of the manifest: %s", lu_errname(fd));
	text = xcalloc(1, st.st_size + 1);
	if (pread(fd, text, st.st_size, 0) != st.st_size)
		BAIL("read the manifest");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long tok, size, hash, pos;
		unsigned int flags, seals, mode;
		uint8_t nm[LIVEUPDATE_SESSION_NAME_LENGTH];
		size_t len;

		if (sscanf(line, "seed %llx", &tok) == 1) {
			mseed = tok;
		} else if (sscanf(line, "S %159s", name) == 1) {
			if (!unhex(name, nm, &len))
				BAIL("manifest: bad line '%s'", line);
			s = add_incoming(nm, len);
		} else if (sscanf(line, "F %llx %x %llx %llx %x %llx %o", &tok, &flags, &size,
				  &hash, &seals, &pos, &mode) == 7 && s) {
			struct mfile *mf = xcalloc(1, sizeof(*mf));

			*mf = (struct mfile){ .token = tok, .flags = flags, .size = size,
					      .hash = hash, .seals = seals, .pos = pos,
					      .mode = mode };
			pthread_mutex_init(&mf->mu, NULL);
			s->mfs = realloc(s->mfs, (s->nmfs + 1) * sizeof(*s->mfs));
			if (!s->mfs)
				BAIL("out of memory");
			s->mfs[s->nmfs++] = mf;
			atomic_fetch_add(&s->unretrieved, 1);
			manifest_files++;
		} else if (strncmp(line, "uapi-fuzz manifest", 18)) {
			BAIL("manifest: bad line '%s'", line);
		}
	}
	free(text);
	close(fd);
	if (seed_given && mseed != seed)
		lu_diag("fuzz: --seed %#llx given, stage 1 ran with %#llx: using stage 1's",
			(unsigned long long)seed, (unsigned long long)mseed);
	seed = mseed;
	err = lu_finish(ms);
	CHECK_ERR(err, 0, "FINISH the manifest's session");
	close(ms);
	meta = add_incoming((const uint8_t *)META_NAME, strlen(META_NAME));
	meta->state = IN_GONE;
	meta->dead = true;
}

/*
 * Stage 2, after the fuzzing: what the fuzzer left retrievable is retrieved
 * now and checked; sessions it finished or closed lost their unretrieved
 * files, as they should.
 */
static void stage2_finish(struct thr *t)
{
	uint64_t at_end = 0, lost = 0, fuzzer = 0, sessions = 0;
	unsigned long before = atomic_load(&nfail);
	char nm[300];

	for (int i = 0; i < nincoming; i++) {
		struct obj *s = incoming[i];
		int sfd = -1, own = -1;
		long err;

		if (s->state == IN_WAITING) {
			own = sfd = lu_retrieve_session(dev_fd, (const char *)s->name);
			if (sfd < 0) {
				fail(NULL, "RETRIEVE_SESSION '%s' after the fuzzing: %s",
				     name_str(s->name, s->namelen, nm, sizeof(nm)), lu_errname(sfd));
				continue;
			}
			s->state = IN_RETRIEVED;
		} else if (s->state == IN_RETRIEVED && !s->dead && s->finished == FIN_NO) {
			for (int k = 0; k < NSLOTS && sfd < 0; k++)
				if (slots[k].kind == K_SESSION && slots[k].obj == s)
					sfd = slots[k].fd;
		}
		if (sfd < 0) {
			for (int j = 0; j < s->nmfs; j++)
				lost += s->mfs[j]->obj == NULL;
			continue;
		}
		for (int j = 0; j < s->nmfs; j++) {
			struct mfile *mf = s->mfs[j];
			int fd;

			if (mf->obj)
				continue;
			fd = lu_retrieve_fd(sfd, mf->token);
			if (fd < 0) {
				if (fd != -ENOENT || !(mf->flags & MF_MAYBE))
					fail(NULL, "RETRIEVE_FD '%s' token %#llx after the fuzzing: %s",
					     name_str(s->name, s->namelen, nm, sizeof(nm)),
					     (unsigned long long)mf->token, lu_errname(fd));
				continue;
			}
			if (verify_file(NULL, s, mf, fd))
				at_end++;
			close(fd);
		}
		err = lu_finish(sfd);
		if (err)
			fail(NULL, "FINISH '%s' after the fuzzing: %s",
			     name_str(s->name, s->namelen, nm, sizeof(nm)), lu_errname(err));
		sessions++;
		if (own >= 0)
			close(own);
	}
	for (int i = 0; i < nthreads; i++)
		fuzzer += t[i].verified;
	lu_diag("fuzz: %llu of %llu preserved files checked (%llu at their first RETRIEVE_FD by the fuzzer, %llu after it); %llu dropped by the fuzzer's FINISH or close",
		(unsigned long long)(fuzzer + at_end), (unsigned long long)manifest_files,
		(unsigned long long)fuzzer, (unsigned long long)at_end, (unsigned long long)lost);
	CHECK(atomic_load(&nfail) == before,
	      "stage 2: in the %llu sessions the fuzzer left, every file is intact and FINISH works",
	      (unsigned long long)sessions);
}

/* ---- main ----------------------------------------------------------------- */

static uint64_t random_seed(void)
{
	uint64_t s;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return s;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: uapi-fuzz [--seed S] [--ops N] [--threads T] [--stage 0|1|2] [--keep K] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	struct rlimit rl = { 8192, 8192 };
	struct thr *thr;
	double secs;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "-v")) {
			verbose = true;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(argv[i], "--seed")) {
			seed = strtoull(v, NULL, 0);
			seed_given = true;
		} else if (!strcmp(argv[i], "--ops")) {
			total_ops = strtoull(v, NULL, 0);
		} else if (!strcmp(argv[i], "--threads")) {
			nthreads = atoi(v);
		} else if (!strcmp(argv[i], "--stage")) {
			stage = atoi(v);
		} else if (!strcmp(argv[i], "--keep")) {
			nkeep = atoi(v);
		} else {
			usage();
		}
		i++;
	}
	if (nthreads < 1 || nthreads > 64 || stage < 0 || stage > 2 || nkeep < 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setrlimit(RLIMIT_NOFILE, &rl);
	module = lu_is_module();

	dev_fd = lu_open_dev();
	if (dev_fd < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev_fd));
	if (stage == 2)
		read_manifest();
	else if (!seed_given)
		seed = random_seed();
	lu_diag("fuzz: seed %#llx", (unsigned long long)seed);
	lu_diag("fuzz: provider %s, stage %d, %llu ops, %d threads; replay: uapi-fuzz --seed %#llx --ops %llu --threads 1%s",
		lu_provider(), stage, (unsigned long long)total_ops, nthreads,
		(unsigned long long)seed, (unsigned long long)total_ops,
		stage ? " (after the same stages), or boot with lu.fuzz_seed=SEED" : "");

	for (int i = 0; i < NSLOTS; i++) {
		pthread_rwlock_init(&slots[i].lock, NULL);
		slots[i].fd = -1;
	}
	slots[0].fd = dev_fd;	/* never closed */
	atomic_store(&slots[0].kind, K_DEV);

	thr = xcalloc(nthreads, sizeof(*thr));
	secs = fuzz(thr);
	report(thr, secs, stage == 2 ? "stage 2" : stage == 1 ? "stage 1" : "run");
	CHECK(nfail == 0, "%s: %llu operations, every result as expected (%lu not)",
	      stage ? (stage == 1 ? "stage 1" : "stage 2") : "fuzz",
	      (unsigned long long)total_ops, (unsigned long)nfail);

	if (stage == 1) {
		stage1_finish(thr);
		lu_hold_until_kexec(READY);
	}
	if (stage == 2)
		stage2_finish(thr);
	for (int i = 1; i < NSLOTS; i++)
		close_slot_locked(NULL, &slots[i]);
	return lu_exit_status();
}
