// SPDX-License-Identifier: GPL-2.0
#include "kvm.h"

#include "env.h"
#include "layout.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* The ioctls the library uses carry the sizes the kernel expects (C layout). */
static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020ae46);
static_assert(KVM_GET_REGS == 0x8090ae81 && KVM_SET_REGS == 0x4090ae82);
static_assert(KVM_GET_SREGS == 0x8138ae83 && KVM_SET_SREGS == 0x4138ae84);
static_assert(sizeof(kvm_run) <= 4096);

namespace kt
{

long xioctl(int fd, unsigned long req, unsigned long arg, const char *what)
{
	long r = ioctl(fd, req, arg);
	if (r < 0)
		throw tap::Failure{tap::format("%s failed: %s (%s)", what,
					       tap::errno_name(errno).c_str(), strerror(errno))};
	return r;
}

int open_dev()
{
	int fd = open(dev_path().c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			SKIP("%s: %s (device not present)", dev_path().c_str(), strerror(errno));
		FAIL("open %s: %s", dev_path().c_str(), strerror(errno));
	}
	return fd;
}

long check_extension(int fd, long cap)
{
	return XIOCTL(fd, KVM_CHECK_EXTENSION, cap);
}

void *alloc_host_mem(size_t size)
{
	void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		FAIL("mmap %zu bytes: %s", size, strerror(errno));
	return p;
}

/* ---- Vm ---- */

Vm::Vm(unsigned long type)
{
	dev_fd_ = open_dev();
	fd_ = XIOCTL(dev_fd_, KVM_CREATE_VM, type);
	run_size_ = XIOCTL(dev_fd_, KVM_GET_VCPU_MMAP_SIZE, 0);
}

Vm::~Vm()
{
	if (fd_ >= 0)
		close(fd_);
	if (dev_fd_ >= 0)
		close(dev_fd_);
	for (auto &m : owned_mem_)
		munmap(m.first, m.second);
}

uint8_t *Vm::add_memory(uint32_t slot, uint64_t gpa, uint64_t size, uint32_t flags)
{
	auto *p = static_cast<uint8_t *>(alloc_host_mem(size));
	owned_mem_.push_back({p, size});
	int r = set_region(slot, gpa, size, p, flags);
	if (r)
		FAIL("KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s", slot,
		     (unsigned long long)gpa, (unsigned long long)size,
		     tap::errno_name(-r).c_str());
	return p;
}

int Vm::set_region(uint32_t slot, uint64_t gpa, uint64_t size, void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region mr = {};
	mr.slot = slot;
	mr.flags = flags;
	mr.guest_phys_addr = gpa;
	mr.memory_size = size;
	mr.userspace_addr = reinterpret_cast<uint64_t>(hva);
	if (ioctl(fd_, KVM_SET_USER_MEMORY_REGION, &mr) < 0)
		return -errno;
	for (auto it = regions_.begin(); it != regions_.end(); ++it)
		if (it->slot == slot) {
			regions_.erase(it);
			break;
		}
	if (size)
		regions_.push_back({slot, gpa, size, static_cast<uint8_t *>(hva), false});
	return 0;
}

void Vm::delete_memory(uint32_t slot)
{
	int r = set_region(slot, 0, 0, nullptr);
	if (r)
		FAIL("deleting slot %u: %s", slot, tap::errno_name(-r).c_str());
}

bool Vm::covers(uint64_t gpa, size_t len) const
{
	for (auto &r : regions_)
		if (gpa >= r.gpa && gpa + len <= r.gpa + r.size)
			return true;
	return false;
}

uint8_t *Vm::hva(uint64_t gpa, size_t len)
{
	for (auto &r : regions_)
		if (gpa >= r.gpa && gpa + len <= r.gpa + r.size)
			return r.hva + (gpa - r.gpa);
	FAIL("no memory slot covers GPA 0x%llx+%zu", (unsigned long long)gpa, len);
}

void Vm::write(uint64_t gpa, const void *src, size_t len)
{
	memcpy(hva(gpa, len), src, len);
}

void Vm::load(uint64_t gpa, GuestCode code)
{
	write(gpa, code.begin, code.size());
}

void Vm::close_fd()
{
	if (fd_ >= 0)
		close(fd_);
	fd_ = -1;
}

/* ---- Vcpu ---- */

std::vector<uint8_t> get_supported_cpuid(int dev_fd)
{
	for (uint32_t nent = 64; nent <= 4096; nent *= 2) {
		std::vector<uint8_t> b(sizeof(cpuid2_header) + nent * sizeof(kvm_cpuid_entry2));
		auto *c = reinterpret_cast<cpuid2_header *>(b.data());
		c->nent = nent;
		if (ioctl(dev_fd, GET_SUPPORTED_CPUID, c) == 0) {
			b.resize(sizeof(cpuid2_header) + c->nent * sizeof(kvm_cpuid_entry2));
			return b;
		}
		if (errno != E2BIG)
			break;
	}
	return {};
}

/* get_supported_cpuid(), cached: it does not change while the module is loaded. */
static const std::vector<uint8_t> &supported_cpuid(int dev_fd)
{
	static const std::vector<uint8_t> buf = get_supported_cpuid(dev_fd);
	return buf;
}

kvm_cpuid_entry2 *Cpuid::find(uint32_t fn)
{
	auto *e = reinterpret_cast<kvm_cpuid_entry2 *>(buf.data() + sizeof(cpuid2_header));
	for (uint32_t i = 0; i < nent(); i++)
		if (e[i].function == fn && e[i].index == 0)
			return &e[i];
	return nullptr;
}

void Cpuid::set_on(Vcpu &v)
{
	XIOCTL(v.fd(), SET_CPUID2, buf.data());
}

Vcpu::Vcpu(Vm &vm, unsigned long id, VcpuCpuid cpuid)
{
	fd_ = XIOCTL(vm.fd(), KVM_CREATE_VCPU, id);
	/*
	 * Like every VMM (and KVM selftests' vm_vcpu_add), give the vCPU the CPUID
	 * the implementation supports when it has KVM_SET_CPUID2. Recent KVM
	 * (stable backports, e.g. Debian's 6.12) checks KVM_SET_SREGS' EFER
	 * against the guest's CPUID, so long mode needs CPUID.LM.
	 */
	if (cpuid == VcpuCpuid::Supported && check_extension(vm.dev_fd(), KVM_CAP_EXT_CPUID) > 0) {
		std::vector<uint8_t> c = supported_cpuid(vm.dev_fd());
		if (!c.empty())
			XIOCTL(fd_, SET_CPUID2, c.data());
	}
	run_size_ = vm.run_size();
	/* A failed mmap fails the tests that use kvm_run, not those that only need the fd. */
	void *p = mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
	if (p == MAP_FAILED)
		map_errno_ = errno;
	else
		run_ = static_cast<kvm_run *>(p);
}

Vcpu::~Vcpu()
{
	unmap_run();
	close_fd();
}

void Vcpu::close_fd()
{
	if (fd_ >= 0)
		close(fd_);
	fd_ = -1;
}

void Vcpu::unmap_run()
{
	if (run_)
		munmap(run_, run_size_);
	run_ = nullptr;
}

kvm_regs Vcpu::regs()
{
	kvm_regs r;
	XIOCTL(fd_, KVM_GET_REGS, &r);
	return r;
}

void Vcpu::set_regs(const kvm_regs &r)
{
	XIOCTL(fd_, KVM_SET_REGS, &r);
}

kvm_sregs Vcpu::sregs()
{
	kvm_sregs s;
	XIOCTL(fd_, KVM_GET_SREGS, &s);
	return s;
}

void Vcpu::set_sregs(const kvm_sregs &s)
{
	XIOCTL(fd_, KVM_SET_SREGS, &s);
}

kvm_run *Vcpu::run() const
{
	if (!run_)
		FAIL("mmap of the vCPU fd (%zu bytes, MAP_SHARED, read/write) failed: %s",
		     run_size_, map_errno_ ? tap::errno_name(map_errno_).c_str() : "unmapped");
	return run_;
}

int Vcpu::run_raw()
{
	return ioctl(fd_, KVM_RUN, 0) < 0 ? -errno : 0;
}

uint32_t Vcpu::enter()
{
	int r = run_raw();
	if (r == -EINTR)
		FAIL("KVM_RUN: EINTR (a signal, or the harness timeout)");
	if (r)
		FAIL("KVM_RUN: %s (%s)", tap::errno_name(-r).c_str(), strerror(-r));
	return run()->exit_reason;
}

const char *exit_name(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN:
		return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION:
		return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_IO:
		return "KVM_EXIT_IO";
	case KVM_EXIT_HYPERCALL:
		return "KVM_EXIT_HYPERCALL";
	case KVM_EXIT_DEBUG:
		return "KVM_EXIT_DEBUG";
	case KVM_EXIT_HLT:
		return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO:
		return "KVM_EXIT_MMIO";
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return "KVM_EXIT_IRQ_WINDOW_OPEN";
	case KVM_EXIT_SHUTDOWN:
		return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY:
		return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTR:
		return "KVM_EXIT_INTR";
	case KVM_EXIT_INTERNAL_ERROR:
		return "KVM_EXIT_INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT:
		return "KVM_EXIT_SYSTEM_EVENT";
	case KVM_EXIT_X86_RDMSR:
		return "KVM_EXIT_X86_RDMSR";
	case KVM_EXIT_X86_WRMSR:
		return "KVM_EXIT_X86_WRMSR";
	default:
		return "KVM_EXIT_?";
	}
}

std::string Vcpu::describe_exit()
{
	const kvm_run *r = run();
	std::string s = tap::format("%s (%u)", exit_name(r->exit_reason), r->exit_reason);
	switch (r->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t v = 0;
		if (r->io.direction == KVM_EXIT_IO_OUT)
			memcpy(&v, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset,
			       r->io.size <= 8 ? r->io.size : 8);
		s += tap::format(" %s port 0x%x size %u count %u", r->io.direction ? "OUT" : "IN",
				 r->io.port, r->io.size, r->io.count);
		if (r->io.direction == KVM_EXIT_IO_OUT)
			s += tap::format(" data 0x%llx", (unsigned long long)v);
		break;
	}
	case KVM_EXIT_MMIO: {
		uint64_t v = 0;
		memcpy(&v, r->mmio.data, 8);
		s += tap::format(" %s gpa 0x%llx len %u", r->mmio.is_write ? "write" : "read",
				 (unsigned long long)r->mmio.phys_addr, r->mmio.len);
		if (r->mmio.is_write)
			s += tap::format(" data 0x%llx", (unsigned long long)v);
		break;
	}
	case KVM_EXIT_FAIL_ENTRY:
		s += tap::format(" hardware_entry_failure_reason 0x%llx",
				 (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		s += tap::format(" suberror %u ndata %u", r->internal.suberror, r->internal.ndata);
		for (uint32_t i = 0; i < r->internal.ndata && i < 4; i++)
			s += tap::format(" 0x%llx", (unsigned long long)r->internal.data[i]);
		break;
	default:
		break;
	}
	kvm_regs regs;
	if (fd_ >= 0 && ioctl(fd_, KVM_GET_REGS, &regs) == 0)
		s += tap::format(" (rip 0x%llx)", (unsigned long long)regs.rip);
	return s;
}

void Vcpu::expect_exit(uint32_t reason)
{
	enter();
	if (run()->exit_reason != reason)
		FAIL("expected %s, got %s", exit_name(reason), describe_exit().c_str());
}

IoExit Vcpu::expect_io(uint8_t direction, uint16_t port, uint8_t size)
{
	enter();
	const kvm_run *r = run();
	if (r->exit_reason != KVM_EXIT_IO || r->io.direction != direction || r->io.port != port ||
	    r->io.size != size || r->io.count != 1)
		FAIL("expected KVM_EXIT_IO %s port 0x%x size %u count 1, got %s",
		     direction ? "OUT" : "IN", port, size, describe_exit().c_str());
	/* KVM puts the data in the page after kvm_run; any in-bounds offset is valid ABI. */
	if (r->io.data_offset + size > run_size_)
		FAIL("io.data_offset 0x%llx + %u is outside the %zu-byte vCPU mapping",
		     (unsigned long long)r->io.data_offset, size, run_size_);
	IoExit e{r->io.direction, r->io.size, r->io.port, r->io.count, 0};
	memcpy(&e.data, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset, size);
	return e;
}

uint64_t Vcpu::expect_out(uint16_t port, uint8_t size)
{
	return expect_io(KVM_EXIT_IO_OUT, port, size).data;
}

void Vcpu::expect_in(uint16_t port, uint8_t size, uint64_t value)
{
	expect_io(KVM_EXIT_IO_IN, port, size);
	memcpy(reinterpret_cast<uint8_t *>(run()) + run()->io.data_offset, &value, size);
}

uint64_t Vcpu::expect_mmio_write(uint64_t gpa, uint32_t len)
{
	enter();
	const kvm_run *r = run();
	if (r->exit_reason != KVM_EXIT_MMIO || !r->mmio.is_write || r->mmio.phys_addr != gpa ||
	    r->mmio.len != len)
		FAIL("expected KVM_EXIT_MMIO write gpa 0x%llx len %u, got %s",
		     (unsigned long long)gpa, len, describe_exit().c_str());
	uint64_t v = 0;
	memcpy(&v, r->mmio.data, len);
	return v;
}

void Vcpu::expect_mmio_read(uint64_t gpa, uint32_t len, uint64_t value)
{
	enter();
	kvm_run *r = run();
	if (r->exit_reason != KVM_EXIT_MMIO || r->mmio.is_write || r->mmio.phys_addr != gpa ||
	    r->mmio.len != len)
		FAIL("expected KVM_EXIT_MMIO read gpa 0x%llx len %u, got %s",
		     (unsigned long long)gpa, len, describe_exit().c_str());
	memcpy(r->mmio.data, &value, len);
}

uint32_t Vcpu::run_reports(std::vector<uint64_t> &reports, unsigned max_exits)
{
	for (unsigned i = 0; i < max_exits; i++) {
		enter();
		const kvm_run *r = run();
		if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_OUT &&
		    r->io.port == PORT_REPORT && r->io.count == 1) {
			uint64_t v = 0;
			memcpy(&v, reinterpret_cast<const uint8_t *>(r) + r->io.data_offset,
			       r->io.size);
			reports.push_back(v);
			continue;
		}
		return r->exit_reason;
	}
	FAIL("more than %u report exits", max_exits);
}

std::vector<uint64_t> Vcpu::run_to_halt(unsigned max_exits)
{
	std::vector<uint64_t> reports;
	if (run_reports(reports, max_exits) != KVM_EXIT_HLT)
		FAIL("expected the guest to end with KVM_EXIT_HLT, got %s",
		     describe_exit().c_str());
	return reports;
}

} // namespace kt
