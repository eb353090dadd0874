// SPDX-License-Identifier: GPL-2.0
#include "sys.h"

#include "tap.h"

#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kt
{

void *bad_user_ptr()
{
	static void *p = nullptr;
	if (!p) {
		p = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			FAIL("mmap PROT_NONE: %s", strerror(errno));
	}
	return p;
}

Fd::~Fd()
{
	if (fd >= 0)
		close(fd);
}

void *kernel_ptr()
{
	return reinterpret_cast<void *>(0xffff888000000000ull);
}

int count_open_fds()
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	while (struct dirent *e = readdir(d))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own fd */
}

long meminfo_kb(const char *key)
{
	std::ifstream f("/proc/meminfo");
	std::string k;
	long v;
	std::string unit;
	while (f >> k >> v) {
		std::getline(f, unit);
		if (k == std::string(key) + ":")
			return v;
	}
	return -1;
}

std::string read_line(const std::string &path)
{
	std::ifstream f(path);
	std::string s;
	std::getline(f, s);
	return s;
}

bool pin_to_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0;
}

void unpin()
{
	cpu_set_t set;
	CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

} // namespace kt
