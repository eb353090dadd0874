// SPDX-License-Identifier: GPL-2.0
// /dev/dbgkvm: the system ioctls, the choice of backend, and virtualization on while
// VMs exist.
#include "core/cpuid.hpp"
#include "core/msr_io.hpp"
#include "core/cpuid_table.hpp"
#include "core/limits.hpp"
#include "core/vm.hpp"
#include "dbgkvm_glue.h"
#include "debugreg/dr_bits.hpp"
#include "uapi/linux/dbgkvm_compat.h"

namespace dbgkvm
{

extern const Backend svm_backend;
extern const Backend vmx_backend;

namespace
{
const Backend *backend;
dk_mutex *count_lock;
unsigned long vm_count;
} // namespace

Errno vm_count_inc()
{
	Errno r = 0;
	dk_mutex_lock(count_lock);
	if (vm_count == 0)
		r = dk_virt_enable_all();
	if (!r)
		vm_count++;
	dk_mutex_unlock(count_lock);
	return r;
}

void vm_count_dec()
{
	dk_mutex_lock(count_lock);
	if (--vm_count == 0)
		dk_virt_disable_all();
	dk_mutex_unlock(count_lock);
}

// Only what is implemented: a VMM that probes a capability gets the truth.
Errno check_extension(long cap)
{
	switch (cap) {
	case KVM_CAP_USER_MEMORY:
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	case KVM_CAP_IMMEDIATE_EXIT:
	case KVM_CAP_SET_GUEST_DEBUG:
	case KVM_CAP_DEBUGREGS:
	case KVM_CAP_EXT_CPUID:
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_GET_TSC_KHZ:
	case KVM_CAP_SET_TSS_ADDR:
	case KVM_CAP_SET_IDENTITY_MAP_ADDR:
	case KVM_CAP_GET_MSR_FEATURES:
	case KVM_CAP_USER_MEMORY2:
	case KVM_CAP_MP_STATE:
	case KVM_CAP_VCPU_EVENTS:
	case KVM_CAP_EXCEPTION_PAYLOAD:
	case KVM_CAP_XSAVE:
		return 1;
	case KVM_CAP_SET_GUEST_DEBUG2:
		return debugreg::GUESTDBG_VALID_MASK; // every flag KVM_SET_GUEST_DEBUG accepts
	case KVM_CAP_XCRS:
		return dk_host_has_xsave;
	case KVM_CAP_SYNC_REGS:
		return KVM_SYNC_X86_VALID_FIELDS;
	case KVM_CAP_NR_VCPUS:
	case KVM_CAP_MAX_VCPUS:
		return MAX_VCPUS;
	case KVM_CAP_MAX_VCPU_ID:
		return MAX_VCPU_ID;
	case KVM_CAP_NR_MEMSLOTS:
		return MAX_MEMSLOTS;
	default:
		return 0;
	}
}

// KVM_GET_SUPPORTED_CPUID (KVM's kvm_dev_ioctl_get_cpuid): nent 0, or fewer entries than
// the table has: -E2BIG, nothing written; nent above KVM_MAX_CPUID_ENTRIES counts as that.
// Else the entries, then nent set to their number.
static Errno get_supported_cpuid(unsigned long arg)
{
	cpuidt::Cpuid2Header h;
	if (dk_copy_from_user(&h, arg, sizeof(h)))
		return -DK_EFAULT;
	if (h.nent < 1)
		return -DK_E2BIG;
	if (h.nent > cpuidt::MAX_ENTRIES)
		h.nent = cpuidt::MAX_ENTRIES;
	auto *e = static_cast<kvm_cpuid_entry2 *>(dk_zalloc(h.nent * sizeof(kvm_cpuid_entry2)));
	if (!e)
		return -DK_ENOMEM;
	const u32 n = supported_cpuid(e, h.nent);
	Errno r = 0;
	if (n > h.nent)
		r = -DK_E2BIG;
	else if (dk_copy_to_user(arg + sizeof(h), e, n * sizeof(*e)))
		r = -DK_EFAULT;
	h.nent = n;
	if (!r && dk_copy_to_user(arg, &h, sizeof(h)))
		r = -DK_EFAULT;
	dk_free(e);
	return r;
}

// KVM_GET_MSR_INDEX_LIST and KVM_GET_MSR_FEATURE_INDEX_LIST (KVM's kvm_arch_dev_ioctl):
// nmsrs set to the list's length first; fewer than that asked: -E2BIG, else the indices.
static Errno get_msr_list(unsigned long arg, bool features)
{
	constexpr u32 MAX = 32;
	u32 list[MAX];
	const u32 n = features ? msr::feature_index_list(list, MAX)
			       : msr::index_list(list, MAX, dk_host_has_tsc_aux);
	msr::MsrListHeader h;
	if (dk_copy_from_user(&h, arg, sizeof(h)))
		return -DK_EFAULT;
	const u32 asked = h.nmsrs;
	h.nmsrs = n;
	if (dk_copy_to_user(arg, &h, sizeof(h)))
		return -DK_EFAULT;
	if (asked < n)
		return -DK_E2BIG;
	return dk_copy_to_user(arg + sizeof(h), list, n * sizeof(u32)) ? -DK_EFAULT : 0;
}

// KVM_GET_MSRS on the system fd: the feature MSRs, the host's microcode revision
// (KVM's kvm_get_msr_feature).
static Errno get_feature_msrs(unsigned long arg)
{
	return msr::msr_io(arg, false, [](u32 index, u64 *v) {
		if (index != x86::MSR_IA32_UCODE_REV)
			return MsrResult::NotMine;
		*v = 0;
		dk_rdmsr_safe(index, v);
		return MsrResult::Done;
	});
}

static Errno create_vm(unsigned long type)
{
	if (type != 0)
		return -DK_EINVAL;
	Vm *vm;
	Errno r = Vm::create(*backend, &vm);
	if (r)
		return r;
	r = dk_vm_fd_create(vm);
	if (r < 0)
		vm->put();
	return r;
}

} // namespace dbgkvm

using namespace dbgkvm;

extern "C" long dbgkvm_dev_ioctl(unsigned int cmd, unsigned long arg) noexcept
{
	switch (cmd) {
	case KVM_GET_API_VERSION:
		return arg ? -DK_EINVAL : API_VERSION;
	case KVM_CHECK_EXTENSION:
		return check_extension(static_cast<long>(arg));
	case KVM_CREATE_VM:
		return create_vm(arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		return arg ? -DK_EINVAL : long(DK_PAGE_SIZE * MMAP_PAGES);
	case cpuidt::IOCTL_GET_SUPPORTED_CPUID:
		return get_supported_cpuid(arg);
	case msr::IOCTL_GET_MSR_INDEX_LIST:
		return get_msr_list(arg, false);
	case msr::IOCTL_GET_MSR_FEATURE_INDEX_LIST:
		return get_msr_list(arg, true);
	case msr::IOCTL_GET_MSRS:
		return get_feature_msrs(arg);
	default:
		return -DK_ENOTTY;
	}
}

extern "C" int dbgkvm_core_init(void) noexcept
{
	count_lock = dk_mutex_new();
	if (!count_lock)
		return -DK_ENOMEM;
	guest_cpuid_init();
	// Each backend's probe checks for its own vendor's hardware: the first that can
	// run guests is used.
	const Backend *const backends[] = {&vmx_backend, &svm_backend};
	Errno r = -DK_ENODEV;
	for (const Backend *b : backends) {
		r = b->probe();
		if (!r) {
			backend = b;
			break;
		}
	}
	if (r) {
		dk_mutex_delete(count_lock);
		return static_cast<int>(r);
	}
	dk_log_info("using the %s backend\n", backend->name);
	return 0;
}

extern "C" void dbgkvm_core_exit(void) noexcept
{
	backend->exit();
	dk_mutex_delete(count_lock);
}

extern "C" int dbgkvm_cpu_online(unsigned int cpu) noexcept
{
	return static_cast<int>(backend->cpu_online(cpu));
}

extern "C" int dbgkvm_cpu_offline(unsigned int cpu) noexcept
{
	return static_cast<int>(backend->cpu_offline(cpu));
}
