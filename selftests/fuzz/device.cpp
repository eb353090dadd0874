// SPDX-License-Identifier: GPL-2.0
#include "device.h"

#include "env.h"
#include "kvm.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace fz
{

/* KVM_SET_CPUID2's number in the C layout of struct kvm_cpuid2: lib/kvm.h. */
using kt::SET_CPUID2;

Device::Device(const std::string &p, bool is_kvm) : path(p), kvm(is_kvm)
{
	fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			SKIP("%s: %s (device not present)", path.c_str(), strerror(errno));
		FAIL("open %s: %s", path.c_str(), strerror(errno));
	}
	run_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	CHECK_MSG(run_size >= 4096, "%s: KVM_GET_VCPU_MMAP_SIZE = %ld", path.c_str(), run_size);
	dbg_mask = uint32_t(ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2));
	max_vcpus = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	max_vcpu_id = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPU_ID);
	nr_memslots = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (max_vcpu_id <= 0)
		max_vcpu_id = max_vcpus;
	if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_EXT_CPUID) > 0)
		cpuid = kt::get_supported_cpuid(fd);
}

Device::~Device()
{
	if (fd >= 0)
		close(fd);
}

Device &main_device()
{
	static Device d(kt::dev_path(), kt::is_kvm());
	return d;
}

long set_cpuid(Ctx &c, const Device &d, int vcpu_fd)
{
	if (d.cpuid.empty())
		return 0;
	return c.io(vcpu_fd, SET_CPUID2, d.cpuid.data(), "KVM_SET_CPUID2");
}

void Box::create(Ctx &c, unsigned vcpu_id)
{
	vm = int(c.io(dev.fd, KVM_CREATE_VM, 0ul, "KVM_CREATE_VM"));
	CHECK_MSG(vm >= 0, "KVM_CREATE_VM on %s: %s", dev.path.c_str(), err_name(errno).c_str());
	kvm_userspace_memory_region mr = {};
	mr.slot = GUEST_MEM_SLOT;
	mr.memory_size = GUEST_MEM_SIZE;
	mr.userspace_addr = reinterpret_cast<uint64_t>(mem);
	CHECK_MSG(c.io(vm, KVM_SET_USER_MEMORY_REGION, &mr, "KVM_SET_USER_MEMORY_REGION", 0) == 0,
		  "slot 0: %s", err_name(errno).c_str());
	vcpu = int(c.io(vm, KVM_CREATE_VCPU, vcpu_id, "KVM_CREATE_VCPU"));
	CHECK_MSG(vcpu >= 0, "KVM_CREATE_VCPU %u: %s", vcpu_id, err_name(errno).c_str());
	CHECK_MSG(set_cpuid(c, dev, vcpu) == 0, "KVM_SET_CPUID2: %s", err_name(errno).c_str());
	void *p = mmap(nullptr, size_t(dev.run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	CHECK_MSG(p != MAP_FAILED, "mmap of the vCPU fd: %s", err_name(errno).c_str());
	run = static_cast<kvm_run *>(p);
}

void Box::setup_mode(Ctx &c, kt::Mode m, const uint8_t *code, size_t len)
{
	kt::write_gdt(mem);
	if (m == kt::Mode::Long64)
		kt::write_identity_map(mem);
	memcpy(mem + CODE_GPA, code, len < CODE_MAX ? len : CODE_MAX);
	kvm_sregs s;
	CHECK_MSG(c.io(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS") == 0, "KVM_GET_SREGS: %s",
		  err_name(errno).c_str());
	kt::sregs_for_mode(s, m);
	CHECK_MSG(c.io(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS") == 0, "KVM_SET_SREGS (%s): %s",
		  kt::mode_name(m), err_name(errno).c_str());
	kvm_regs r = {};
	r.rflags = 2;
	r.rip = m == kt::Mode::Real ? 0 : CODE_GPA;
	r.rsp = STACK_TOP;
	CHECK_MSG(c.io(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS") == 0, "KVM_SET_REGS: %s",
		  err_name(errno).c_str());
}

void Box::close_all()
{
	if (run)
		munmap(run, size_t(dev.run_size));
	run = nullptr;
	if (vcpu >= 0)
		close(vcpu);
	vcpu = -1;
	if (vm >= 0)
		close(vm);
	vm = -1;
}

uint8_t *guest_memory(unsigned index)
{
	static std::map<unsigned, uint8_t *> mems;
	uint8_t *&m = mems[index];
	if (!m)
		m = static_cast<uint8_t *>(kt::alloc_host_mem(GUEST_MEM_SIZE));
	return m;
}

std::string err_name(int e)
{
	return tap::errno_name(e);
}

} // namespace fz
