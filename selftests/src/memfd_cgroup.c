// SPDX-License-Identifier: GPL-2.0
/*
 * memfd-cgroup --stage 1|2 [--cgroup DIR]: a retrieved memfd is charged to
 * the memory cgroup of the process that retrieves it, as with the
 * in-kernel LUO; not to the root cgroup, where a kernel worker restoring
 * it ahead would leave it.
 *
 * Stage 1 fills a 64 MiB memfd and preserves it. Stage 2 runs inside the
 * cgroup DIR (the shell moved it there, with a memory limit well above the
 * file): it opens /dev/liveupdate, retrieves the file and checks that
 * DIR/memory.current grew by at least the file's size, then that its
 * content is intact.
 */
#include "lu_test.h"

#include <sys/mman.h>

#define MiB (1024UL * 1024)
#define SIZE (64 * MiB)
#define SESSION "memfd-cgroup"
#define TOKEN 7
#define READY "/tmp/memfd-cgroup.ready"

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 31 + (off >> 12) + 5);
}

static long long cgroup_value(const char *dir, const char *file)
{
	char path[256], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return atoll(buf);
}

static void stage_1(void)
{
	int dev = lu_open_dev(), s, fd;
	uint8_t *p;

	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	s = lu_create_session(dev, SESSION);
	fd = memfd_create("cgroup", 0);
	if (s < 0 || fd < 0 || ftruncate(fd, SIZE))
		BAIL("session or memfd");
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		BAIL("mmap: %s", strerror(errno));
	for (uint64_t i = 0; i < SIZE; i++)
		p[i] = pattern(i);
	munmap(p, SIZE);
	CHECK_ERR(lu_preserve_fd(s, fd, TOKEN), 0, "64 MiB memfd preserved");
	lu_hold_until_kexec(READY);
}

static void stage_2(const char *cgroup)
{
	long long before, after;
	int dev, s, fd;
	uint8_t *p;
	bool intact = true;

	before = cgroup_value(cgroup, "memory.current");
	if (!CHECK(before >= 0, "%s/memory.current is readable", cgroup))
		return;
	dev = lu_open_dev();
	if (dev < 0)
		BAIL("open /dev/liveupdate: %s", lu_errname(dev));
	s = lu_retrieve_session(dev, SESSION);
	if (s < 0)
		BAIL("retrieve session: %s", lu_errname(s));
	fd = lu_retrieve_fd(s, TOKEN);
	if (!CHECK(fd >= 0, "the memfd is retrieved"))
		return;
	after = cgroup_value(cgroup, "memory.current");
	lu_diag("%s/memory.current: %lld -> %lld kB across RETRIEVE_FD (%s)", cgroup,
		before / 1024, after / 1024, lu_provider());
	CHECK(after - before >= (long long)SIZE,
	      "the retriever's cgroup is charged for the file (%lld of %lu kB)",
	      (after - before) / 1024, SIZE / 1024);

	p = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (!CHECK(p != MAP_FAILED, "the memfd maps"))
		return;
	for (uint64_t i = 0; i < SIZE && intact; i++)
		intact = p[i] == pattern(i);
	CHECK(intact, "its content is intact");
	munmap(p, SIZE);
	close(fd);
	CHECK_ERR(lu_finish(s), 0, "finish");
	close(s);
	close(dev);
}

int main(int argc, char **argv)
{
	const char *cgroup = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--cgroup"))
			cgroup = argv[i + 1];
	switch (lu_stage(argc, argv)) {
	case 1:
		stage_1();
		break;
	case 2:
		if (!cgroup)
			BAIL("stage 2 needs --cgroup DIR");
		stage_2(cgroup);
		break;
	default:
		fprintf(stderr, "usage: memfd-cgroup --stage 1|2 [--cgroup DIR]\n");
		return 2;
	}
	return lu_exit_status();
}
