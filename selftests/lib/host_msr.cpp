// SPDX-License-Identifier: GPL-2.0
#include "host_msr.h"

#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace kt
{

namespace
{
int msr_fd(int cpu, int flags)
{
	std::string path = "/dev/cpu/" + std::to_string(cpu) + "/msr";
	return open(path.c_str(), flags | O_CLOEXEC);
}
} // namespace

bool host_msr_available()
{
	int fd = msr_fd(0, O_RDONLY);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int host_cpus()
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? int(n) : 1;
}

bool read_host_msr(int cpu, uint32_t msr, uint64_t *val)
{
	int fd = msr_fd(cpu, O_RDONLY);
	if (fd < 0)
		return false;
	bool ok = pread(fd, val, 8, msr) == 8;
	close(fd);
	return ok;
}

} // namespace kt
