/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differential test: the same seeded operations on /dev/dbgkvm and on Linux's
 * /dev/kvm, one device after the other (only one hypervisor can hold SVM/VMX at a time;
 * both give it back when their last VM is gone), then the two traces compared call by
 * call. Compared: the deterministic single-threaded calls of the validation iterations
 * (return value and errno, what GET returns after SET) and the exits of deterministic
 * guests. A difference dbgkvm makes on purpose is on the allow-list (diff.cpp), with
 * the reason; any other difference fails the test.
 *
 * With TARGET=dbgkvm the runner puts Debian's KVM modules into the machine without
 * loading them (DBGKVM_KVM_MODULES): the test loads them (6.12: enable_virt_at_load=0)
 * and unloads them at its end, as coexist_test does.
 */
#ifndef SELFTESTS_FUZZ_DIFF_H
#define SELFTESTS_FUZZ_DIFF_H

namespace fz
{

void compare_test(unsigned test_number);

} // namespace fz

#endif
