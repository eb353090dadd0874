/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small equivalent of KVM selftests' kvm_util: a VM with memory slots and
 * vCPUs with their mmap'ed kvm_run, over the KVM ioctl ABI of <linux/kvm.h>.
 * Setup steps that must work throw a tap::Failure naming the ioctl and errno;
 * tests that probe error paths call ioctl() directly on fd().
 */
#ifndef SELFTESTS_LIB_KVM_H
#define SELFTESTS_LIB_KVM_H

#include <cstddef>
#include <cstdint>
#include <linux/kvm.h>
#include <uapi/linux/dbgkvm_compat.h> /* 6.12 KVM ABI the 6.1 uapi lacks */
#include <string>
#include <vector>

namespace kt
{

/*
 * <linux/kvm.h> from Debian 12 (uapi 6.1) declares flexible arrays with
 * __DECLARE_FLEX_ARRAY, which in C++ adds a 1-byte empty struct: sizeof(struct
 * kvm_cpuid2) is 12 instead of 8, so KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2 and
 * KVM_GET_CPUID2 encode the wrong size and the kernel answers EINVAL. Use the
 * C layout (8-byte header, entries at offset 8) and numbers built from it.
 */
struct cpuid2_header {
	uint32_t nent;
	uint32_t padding;
};
constexpr unsigned long GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, cpuid2_header);
constexpr unsigned long SET_CPUID2 = _IOW(KVMIO, 0x90, cpuid2_header);
constexpr unsigned long GET_CPUID2 = _IOWR(KVMIO, 0x91, cpuid2_header);
static_assert(GET_SUPPORTED_CPUID == 0xc008ae05 && SET_CPUID2 == 0x4008ae90 &&
	      GET_CPUID2 == 0xc008ae91);
static_assert(sizeof(kvm_cpuid_entry2) == 40);

/* The same for struct kvm_msrs (8-byte header, 16-byte entries) and struct kvm_msr_list
 * (4-byte header, 4-byte indices). */
struct msrs_header {
	uint32_t nmsrs;
	uint32_t pad;
};
struct msr_list_header {
	uint32_t nmsrs;
};
constexpr unsigned long GET_MSR_INDEX_LIST = _IOWR(KVMIO, 0x02, msr_list_header);
constexpr unsigned long GET_MSR_FEATURE_INDEX_LIST = _IOWR(KVMIO, 0x0a, msr_list_header);
constexpr unsigned long GET_MSRS = _IOWR(KVMIO, 0x88, msrs_header);
constexpr unsigned long SET_MSRS = _IOW(KVMIO, 0x89, msrs_header);
static_assert(GET_MSR_INDEX_LIST == 0xc004ae02 && GET_MSR_FEATURE_INDEX_LIST == 0xc004ae0a &&
	      GET_MSRS == 0xc008ae88 && SET_MSRS == 0x4008ae89);
static_assert(sizeof(kvm_msr_entry) == 16);

/* struct kvm_xsave has a flexible array (for KVM_GET_XSAVE2) after its 4 KiB region. */
struct xsave_legacy {
	uint32_t region[1024];
};
constexpr unsigned long GET_XSAVE = _IOR(KVMIO, 0xa4, xsave_legacy);
constexpr unsigned long SET_XSAVE = _IOW(KVMIO, 0xa5, xsave_legacy);
static_assert(GET_XSAVE == 0x9000aea4 && SET_XSAVE == 0x5000aea5);

/* KVM_GET_SUPPORTED_CPUID, sized by retrying on E2BIG (KVM's protocol): a struct
 * kvm_cpuid2 in the C layout, or empty if the implementation refuses it. */
std::vector<uint8_t> get_supported_cpuid(int dev_fd);

/* Guest code assembled into the test binary (see guest_code.h). */
struct GuestCode {
	const uint8_t *begin;
	const uint8_t *end;
	size_t size() const { return end - begin; }
};

/* ioctl() that must succeed; otherwise the test fails with the ioctl's name. */
long xioctl(int fd, unsigned long req, unsigned long arg, const char *what);
#define XIOCTL(fd, req, arg) kt::xioctl((fd), (req), (unsigned long)(arg), #req)

int open_dev(); /* opens dev_path() O_RDWR|O_CLOEXEC; SKIPs the test if it is missing */
long check_extension(int fd, long cap);

/* Anonymous, page-aligned, zeroed host memory (munmap'ed by the owner). */
void *alloc_host_mem(size_t size);

class Vm
{
public:
	explicit Vm(unsigned long type = 0);
	~Vm();
	Vm(const Vm &) = delete;
	Vm &operator=(const Vm &) = delete;

	int fd() const { return fd_; }
	int dev_fd() const { return dev_fd_; }
	size_t run_size() const { return run_size_; }

	/* Allocates host memory and adds it as a slot; returns the host address. */
	uint8_t *add_memory(uint32_t slot, uint64_t gpa, uint64_t size, uint32_t flags = 0);
	/* KVM_SET_USER_MEMORY_REGION as given; returns 0 or -errno; tracks the slot. */
	int set_region(uint32_t slot, uint64_t gpa, uint64_t size, void *hva, uint32_t flags = 0);
	void delete_memory(uint32_t slot);

	bool covers(uint64_t gpa, size_t len) const;
	/* Host view of guest memory (throws if no tracked slot covers gpa..gpa+len). */
	uint8_t *hva(uint64_t gpa, size_t len = 1);
	template <class T> T &at(uint64_t gpa)
	{
		return *reinterpret_cast<T *>(hva(gpa, sizeof(T)));
	}
	void write(uint64_t gpa, const void *src, size_t len);
	void load(uint64_t gpa, GuestCode code);

	void close_fd(); /* close the VM fd early (vCPUs keep the VM alive, like KVM) */

private:
	struct Region {
		uint32_t slot;
		uint64_t gpa, size;
		uint8_t *hva;
		bool owned;
	};
	int dev_fd_ = -1;
	int fd_ = -1;
	size_t run_size_ = 0;
	std::vector<Region> regions_;
	std::vector<std::pair<uint8_t *, size_t>> owned_mem_;
};

struct IoExit {
	uint8_t direction; /* KVM_EXIT_IO_IN / KVM_EXIT_IO_OUT */
	uint8_t size;
	uint16_t port;
	uint32_t count;
	uint64_t data; /* OUT: the value written (first element) */
};

/* The CPUID table a new kt::Vcpu gets: KVM_GET_SUPPORTED_CPUID's, as every VMM gives one,
 * or none (KVM: every leaf reads 0; dbgkvm: its own model, kmod/core/cpuid.cpp). */
enum class VcpuCpuid {
	Supported,
	None
};

class Vcpu
{
public:
	Vcpu(Vm &vm, unsigned long id = 0, VcpuCpuid cpuid = VcpuCpuid::Supported);
	~Vcpu();
	Vcpu(const Vcpu &) = delete;
	Vcpu &operator=(const Vcpu &) = delete;

	int fd() const { return fd_; }
	/* The mmap'ed kvm_run; fails the test if the vCPU fd could not be mapped. */
	kvm_run *run() const;

	kvm_regs regs();
	void set_regs(const kvm_regs &r);
	kvm_sregs sregs();
	void set_sregs(const kvm_sregs &s);
	uint64_t rip() { return regs().rip; }

	/* KVM_RUN; returns 0 or -errno. */
	int run_raw();
	/* KVM_RUN that must return 0; returns run()->exit_reason. */
	uint32_t enter();

	/* Runs and requires the exit; the message names what came instead. */
	void expect_exit(uint32_t reason);
	IoExit expect_io(uint8_t direction, uint16_t port, uint8_t size);
	uint64_t expect_out(uint16_t port, uint8_t size);
	/* The IN exit: checks it, stores `value` where KVM_RUN will read it. */
	void expect_in(uint16_t port, uint8_t size, uint64_t value);
	/* MMIO exit: checks address, length and direction; returns the written data. */
	uint64_t expect_mmio_write(uint64_t gpa, uint32_t len);
	void expect_mmio_read(uint64_t gpa, uint32_t len, uint64_t value);

	/* Runs, recording OUTs to PORT_REPORT, until another exit; returns its reason. */
	uint32_t run_reports(std::vector<uint64_t> &reports, unsigned max_exits = 10000);
	/* run_reports that must end with KVM_EXIT_HLT. */
	std::vector<uint64_t> run_to_halt(unsigned max_exits = 10000);

	void close_fd(); /* close the vCPU fd, keep the kvm_run mapping */
	void unmap_run();

	std::string describe_exit();

private:
	int fd_ = -1;
	kvm_run *run_ = nullptr;
	int map_errno_ = 0; /* why mmap failed: reported when run() is used */
	size_t run_size_ = 0;
};

const char *exit_name(uint32_t reason);

/* KVM_GET_SUPPORTED_CPUID's table (the C layout), to edit and give a vCPU with
 * KVM_SET_CPUID2. */
struct Cpuid {
	std::vector<uint8_t> buf;
	explicit Cpuid(int dev) : buf(get_supported_cpuid(dev)) {}
	uint32_t nent() { return reinterpret_cast<cpuid2_header *>(buf.data())->nent; }
	/* Subleaf 0 of `fn`, or nullptr. */
	kvm_cpuid_entry2 *find(uint32_t fn);
	void set_on(Vcpu &v);
};

} // namespace kt

#endif
