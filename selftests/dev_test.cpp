// SPDX-License-Identifier: GPL-2.0
/*
 * dev_test: the system fd (/dev/kvm, /dev/dbgkvm) ioctls and how each kind of
 * fd answers ioctls it does not know.
 *
 * KVM's rules (virt/kvm/kvm_main.c, arch/x86/kvm/x86.c):
 *  - KVM_GET_API_VERSION and KVM_GET_VCPU_MMAP_SIZE take no argument: arg != 0
 *    is -EINVAL (kvm_dev_ioctl).
 *  - KVM_CHECK_EXTENSION answers 0 for an unknown capability, never an error.
 *  - KVM_CREATE_VM: type 0 is the default VM; an unsupported type is -EINVAL
 *    (kvm_arch_init_vm).
 *  - Unknown ioctls: the system fd says -EINVAL (kvm_arch_dev_ioctl's default),
 *    the VM fd -ENOTTY (kvm_arch_vm_ioctl's default), the vCPU fd -EINVAL
 *    (kvm_vcpu_ioctl rejects a non-KVMIO type, kvm_arch_vcpu_ioctl's default).
 *    dbgkvm answers -ENOTTY on every fd ("inappropriate ioctl for this device",
 *    the errno POSIX and the kernel's ioctl rules give an unknown command): a
 *    deliberate difference, documented in the README.
 */
#include "env.h"
#include "kvm.h"
#include "sys.h"
#include "tap.h"

#include <cerrno>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace kt;

/* Numbers no KVM version uses: KVMIO nr 0xfe, and a foreign ioctl type. */
#define KVM_UNKNOWN_IOCTL  _IO(KVMIO, 0xfe)
#define FOREIGN_IOCTL	   _IO('Z', 0x01)
#define KVM_CAP_NEVER	   0x7fffff
#define DBGKVM_MAX_VCPUS   8
#define DBGKVM_NR_MEMSLOTS 32

/* The node is root-only until udev gives it to group kvm (the test machines have no
 * udev): never world-writable, as /dev/kvm without its rule. */
TEST(device_node_not_world_accessible)
{
	struct stat st;
	CHECK_MSG(stat(dev_path().c_str(), &st) == 0, "stat %s: %s", dev_path().c_str(),
		  tap::errno_name(errno).c_str());
	CHECK_MSG(S_ISCHR(st.st_mode), "%s is not a character device", dev_path().c_str());
	CHECK_MSG((st.st_mode & 0007) == 0, "%s has mode %04o: world-accessible",
		  dev_path().c_str(), unsigned(st.st_mode & 07777));
}

TEST(api_version_is_12)
{
	Fd dev(open_dev());
	CHECK_EQ(12L, (long)ioctl(dev.fd, KVM_GET_API_VERSION, 0));
}

TEST(api_version_rejects_argument)
{
	Fd dev(open_dev());
	CHECK_ERRNO(EINVAL, ioctl(dev.fd, KVM_GET_API_VERSION, 1));
}

/* The capabilities dbgkvm implements, with dbgkvm's exact answers. */
static const struct {
	long cap;
	const char *name;
	long dbgkvm;
} caps[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", 1},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", 1},
    {KVM_CAP_NR_VCPUS, "KVM_CAP_NR_VCPUS", DBGKVM_MAX_VCPUS},
    {KVM_CAP_MAX_VCPUS, "KVM_CAP_MAX_VCPUS", DBGKVM_MAX_VCPUS},
    {KVM_CAP_MAX_VCPU_ID, "KVM_CAP_MAX_VCPU_ID", DBGKVM_MAX_VCPUS},
    {KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS", DBGKVM_NR_MEMSLOTS},
    {KVM_CAP_DESTROY_MEMORY_REGION_WORKS, "KVM_CAP_DESTROY_MEMORY_REGION_WORKS", 1},
    {KVM_CAP_JOIN_MEMORY_REGIONS_WORKS, "KVM_CAP_JOIN_MEMORY_REGIONS_WORKS", 1},
    {KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ", 1},
    {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", 1},
    {KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR", 1},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", 1},
    {KVM_CAP_GET_MSR_FEATURES, "KVM_CAP_GET_MSR_FEATURES", 1},
    {KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", 1},
};

static void check_caps(int fd)
{
	for (auto &c : caps) {
		long v = check_extension(fd, c.cap);
		if (is_dbgkvm())
			CHECK_MSG(v == c.dbgkvm, "%s: expected %ld, got %ld", c.name, c.dbgkvm, v);
		else
			CHECK_MSG(v > 0, "%s: expected > 0, got %ld", c.name, v);
	}
}

TEST(check_extension_system_fd)
{
	Fd dev(open_dev());
	check_caps(dev.fd);
}

TEST(check_extension_vm_fd)
{
	/* KVM answers KVM_CHECK_EXTENSION on the VM fd too, with the same values here. */
	Vm vm;
	check_caps(vm.fd());
	for (auto &c : caps)
		CHECK_MSG(check_extension(vm.fd(), c.cap) == check_extension(vm.dev_fd(), c.cap),
			  "%s differs between the VM fd and the system fd", c.name);
}

TEST(check_extension_vcpu_limits_consistent)
{
	/* KVM: NR_VCPUS (recommended) <= MAX_VCPUS <= MAX_VCPU_ID (ids are < MAX_VCPU_ID). */
	Fd dev(open_dev());
	long nr = check_extension(dev.fd, KVM_CAP_NR_VCPUS);
	long max = check_extension(dev.fd, KVM_CAP_MAX_VCPUS);
	long max_id = check_extension(dev.fd, KVM_CAP_MAX_VCPU_ID);
	CHECK_MSG(nr <= max, "NR_VCPUS %ld > MAX_VCPUS %ld", nr, max);
	CHECK_MSG(max <= max_id, "MAX_VCPUS %ld > MAX_VCPU_ID %ld", max, max_id);
}

TEST(check_extension_unknown_is_zero)
{
	Fd dev(open_dev());
	CHECK_EQ(0L, (long)ioctl(dev.fd, KVM_CHECK_EXTENSION, KVM_CAP_NEVER));
	CHECK_EQ(0L, (long)ioctl(dev.fd, KVM_CHECK_EXTENSION, -1L));
}

TEST(create_vm_type_0)
{
	Fd dev(open_dev());
	Fd vm(CHECK_OK(ioctl(dev.fd, KVM_CREATE_VM, 0)));
	/* A second VM from the same system fd is independent. */
	Fd vm2(CHECK_OK(ioctl(dev.fd, KVM_CREATE_VM, 0)));
	CHECK(vm.fd != vm2.fd);
}

TEST(create_vm_bad_type)
{
	Fd dev(open_dev());
	CHECK_ERRNO(EINVAL, ioctl(dev.fd, KVM_CREATE_VM, 1234));
	CHECK_ERRNO(EINVAL, ioctl(dev.fd, KVM_CREATE_VM, -1L));
}

TEST(vcpu_mmap_size)
{
	/* KVM: the kvm_run page plus the PIO data page (plus coalesced MMIO): >= 1 page. */
	Fd dev(open_dev());
	long size = CHECK_OK(ioctl(dev.fd, KVM_GET_VCPU_MMAP_SIZE, 0));
	long page = sysconf(_SC_PAGESIZE);
	CHECK_MSG(size >= 4096, "size %ld", size);
	CHECK_MSG(size % page == 0, "size %ld is not a multiple of %ld", size, page);
	if (is_dbgkvm())
		CHECK_EQ(8192L, size);
	CHECK_ERRNO(EINVAL, ioctl(dev.fd, KVM_GET_VCPU_MMAP_SIZE, 1));
}

/* The errno of an unknown ioctl on the system and vCPU fds: see the top. */
static int unknown_errno()
{
	return is_dbgkvm() ? ENOTTY : EINVAL;
}

TEST(unknown_ioctl_system_fd)
{
	Fd dev(open_dev());
	CHECK_ERRNO(unknown_errno(), ioctl(dev.fd, KVM_UNKNOWN_IOCTL, 0));
	CHECK_ERRNO(unknown_errno(), ioctl(dev.fd, FOREIGN_IOCTL, 0));
	/* VM and vCPU ioctls on the system fd are unknown there too. */
	CHECK_ERRNO(unknown_errno(), ioctl(dev.fd, KVM_CREATE_VCPU, 0));
	CHECK_ERRNO(unknown_errno(), ioctl(dev.fd, KVM_RUN, 0));
}

TEST(unknown_ioctl_vm_fd_enotty)
{
	Vm vm;
	CHECK_ERRNO(ENOTTY, ioctl(vm.fd(), KVM_UNKNOWN_IOCTL, 0));
	CHECK_ERRNO(ENOTTY, ioctl(vm.fd(), FOREIGN_IOCTL, 0));
	/* System and vCPU ioctls on the VM fd. */
	CHECK_ERRNO(ENOTTY, ioctl(vm.fd(), KVM_CREATE_VM, 0));
	CHECK_ERRNO(ENOTTY, ioctl(vm.fd(), KVM_GET_VCPU_MMAP_SIZE, 0));
	CHECK_ERRNO(ENOTTY, ioctl(vm.fd(), KVM_RUN, 0));
}

TEST(unknown_ioctl_vcpu_fd)
{
	Vm vm;
	Vcpu vcpu(vm, 0);
	CHECK_ERRNO(unknown_errno(), ioctl(vcpu.fd(), KVM_UNKNOWN_IOCTL, 0));
	CHECK_ERRNO(unknown_errno(), ioctl(vcpu.fd(), FOREIGN_IOCTL, 0));
	/* System and VM ioctls on the vCPU fd. */
	CHECK_ERRNO(unknown_errno(), ioctl(vcpu.fd(), KVM_CREATE_VM, 0));
	CHECK_ERRNO(unknown_errno(), ioctl(vcpu.fd(), KVM_CREATE_VCPU, 1));
}
