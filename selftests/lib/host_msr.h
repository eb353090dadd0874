/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's own MSRs, per CPU, read through /dev/cpu/N/msr (msr.ko; root). Never
 * written: a write through msr.ko taints the kernel (S). The kernel
 * reads them on CPU N (an IPI, or directly when the caller runs there), so a value that
 * belongs to the task running on N (KERNEL_GS_BASE: its user GS base; SPEC_CTRL: its
 * SSBD/STIBP) is the caller's own only when the caller is pinned to N.
 */
#ifndef SELFTESTS_LIB_HOST_MSR_H
#define SELFTESTS_LIB_HOST_MSR_H

#include <cstdint>
#include <string>
#include <vector>

namespace kt
{

/* /dev/cpu/0/msr can be opened (msr.ko loaded, and we are root). */
bool host_msr_available();
/* The CPUs there are (sysconf _SC_NPROCESSORS_CONF). */
int host_cpus();
/* RDMSR on `cpu`: false if the MSR faults there (absent). */
bool read_host_msr(int cpu, uint32_t msr, uint64_t *val);

} // namespace kt

#endif
