// SPDX-License-Identifier: GPL-2.0
// ABI limits of dbgkvm (what KVM_CHECK_EXTENSION reports).
#pragma once

namespace dbgkvm
{
inline constexpr unsigned MAX_VCPUS = 8;	       // KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS
inline constexpr unsigned MAX_VCPU_ID = 8;	       // KVM_CAP_MAX_VCPU_ID: ids 0..7
inline constexpr int API_VERSION = 12;		       // KVM_API_VERSION
inline constexpr unsigned MMAP_PAGES = 2;	       // kvm_run page + PIO data page
inline constexpr unsigned long PIO_DATA_OFFSET = 4096; // KVM_PIO_PAGE_OFFSET * PAGE_SIZE
} // namespace dbgkvm
