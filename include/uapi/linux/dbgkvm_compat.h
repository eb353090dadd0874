/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * KVM's own ABI that is newer than the oldest <linux/kvm.h> dbgkvm builds against
 * (Linux 6.1's uapi): the same names, numbers and layouts as Linux 6.12's, defined only
 * where the installed header lacks them. Include it after, or instead of, <linux/kvm.h>.
 */
#ifndef _UAPI_LINUX_DBGKVM_COMPAT_H
#define _UAPI_LINUX_DBGKVM_COMPAT_H

#include <linux/kvm.h>

/* KVM_SET_USER_MEMORY_REGION2 (Linux 6.8): the region with a guest_memfd. */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif

#endif
