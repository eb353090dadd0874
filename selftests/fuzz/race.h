/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Racing threads on one VM: vCPU runners in KVM_RUN while other threads issue vCPU
 * ioctls on the same vCPUs, add/move/delete memory slots (slot 0 too), send signals
 * (a handler that sets immediate_exit), set immediate_exit directly, move the runners
 * between CPUs (sched_setaffinity), and close the fds (vCPU, VM, system) and unmap
 * kvm_run mappings while a runner is inside KVM_RUN. Every call must give an answer
 * KVM's ABI allows for it (EBADF once its fd is closed), no call may hang, the fuzzer
 * must not crash, and the kernel must not complain.
 *
 * The operations each thread draws are reproducible from the iteration's sub-seed;
 * their interleaving is not.
 */
#ifndef SELFTESTS_FUZZ_RACE_H
#define SELFTESTS_FUZZ_RACE_H

#include "ctx.h"
#include "device.h"

namespace fz
{

void race_iteration(Ctx &c, Device &d);

} // namespace fz

#endif
