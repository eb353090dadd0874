/* SPDX-License-Identifier: GPL-2.0 */
/* Host-side helpers that are not KVM: bad pointers, fd counts, /proc and /sys. */
#ifndef SELFTESTS_LIB_SYS_H
#define SELFTESTS_LIB_SYS_H

#include <cstdint>
#include <string>

namespace kt
{

/* A user address whose page is mapped PROT_NONE: copy_{from,to}_user fails (EFAULT). */
void *bad_user_ptr();
/* A kernel address: fails access_ok(), also EFAULT for ioctl arguments. */
void *kernel_ptr();

/* An fd closed when it goes out of scope. */
struct Fd {
	int fd;
	explicit Fd(int f) : fd(f) {}
	~Fd();
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
};

int count_open_fds();
/* A "Key:   123 kB" value from /proc/meminfo, in kB; -1 if absent. */
long meminfo_kb(const char *key);
/* Contents of a small file (first line, no newline); empty if unreadable. */
std::string read_line(const std::string &path);

/*
 * Pins the calling thread to `cpu` (false if it cannot run there; threads it creates
 * afterwards inherit the pin), or back to every CPU.
 */
bool pin_to_cpu(int cpu);
void unpin();

} // namespace kt

#endif
