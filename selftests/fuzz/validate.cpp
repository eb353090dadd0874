// SPDX-License-Identifier: GPL-2.0
#include "validate.h"

#include "guest_run.h"
#include "ioctl_gen.h"
#include "tap.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <set>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace fz
{

std::string result_str(long ret, int err, bool with_value)
{
	if (ret < 0)
		return "-1/" + err_name(err);
	return with_value ? tap::format("ok %ld", ret) : "ok";
}

namespace
{

class Validator
{
public:
	Validator(Ctx &c, Device &d, Trace *t) : c_(c), r_(c.rng), d_(d), t_(t), slots_(d) {}

	void run();

private:
	Ctx &c_;
	Rng &r_;
	Device &d_;
	Trace *t_;
	SlotModel slots_;
	int dev_ = -1, vm_ = -1;
	std::vector<int> vcpus_;      /* live vCPU fds, in creation order */
	std::set<unsigned long> ids_; /* their ids */
	long vm_types_ = 0;
	std::map<int, uint32_t> gd_; /* guest debug flags in force, per vCPU fd */

	void rec(const std::string &label, long ret, int err, const std::string &extra = "",
		 const std::string &info = "")
	{
		if (t_)
			t_->push_back(TraceLine{
			    label, result_str(ret, err) + (extra.empty() ? "" : " " + extra),
			    info});
	}
	/* The answer must be one `e` allows; recorded for the differential test. */
	void expect(const std::string &label, long ret, int err, const Expect &e,
		    const std::string &extra = "")
	{
		rec(label, ret, err, extra, e.rule);
		CHECK_MSG(e.allows(ret, err), "%s on %s: expected %s, got %s", label.c_str(),
			  d_.path.c_str(), e.describe().c_str(),
			  result_str(ret, err, true).c_str());
	}
	/* An ioctl KVM has and dbgkvm lacks, if the draw is one for `fd_kind` (0 system, 1 VM,
	 * 2 vCPU): ENOTTY from dbgkvm; KVM's answer is recorded for the differential test. */
	void unimplemented_on(int fd, int fd_kind)
	{
		const Unimplemented &u = unimplemented_ioctl(r_);
		if (u.fd_kind != fd_kind)
			return;
		std::vector<uint8_t> buf(u.size + 64, 0);
		const long ret = c_.io(fd, u.req, buf.data(), u.name);
		if (!d_.kvm)
			expect(u.name, ret, errno,
			       Expect::error(ENOTTY, "not implemented by dbgkvm"));
		else
			rec(u.name, ret, errno);
	}
	/* A system ioctl whose argument must be 0 (EINVAL otherwise), called with 0 or with an
	 * interesting value; with 0 it answers `value`. `name`: "KVM_..." (a literal). */
	void no_argument_ioctl(unsigned long req, const char *name, const char *what, long value)
	{
		const unsigned long arg = r_.coin() ? 0 : r_.interesting64();
		const long ret = c_.io(dev_, req, arg, name); /* kept in the op log: a literal */
		const std::string label = name + strlen("KVM_");
		expect(arg ? label + " arg!=0" : label, ret, errno,
		       arg ? Expect::error(EINVAL, "argument must be 0") : Expect::success(what));
		if (!arg)
			CHECK_EQ(value, ret);
	}
	/* A live vCPU fd; draws the same random number whether there is one or not. */
	int vcpu_fd()
	{
		const uint64_t x = r_.next();
		return vcpus_.empty() ? -1 : vcpus_[x % vcpus_.size()];
	}
	/* The errno of an unknown ioctl: dbgkvm ENOTTY on every fd; KVM's system and vCPU fds
	 * EINVAL (kvm_arch_dev_ioctl, kvm_arch_vcpu_ioctl), its VM fd ENOTTY. */
	Expect unknown_expect(int kind) const
	{
		if (!d_.kvm || kind == 1)
			return Expect::error(ENOTTY, "unknown ioctl");
		return Expect::error(EINVAL, "unknown ioctl (KVM)");
	}

	void system_ops();
	void msr_list_op();
	void msrs_op(int fd);
	void vcpu_state_op(int fd);
	void memory_region();
	void create_vcpu();
	void vcpu_op();
	void vm_op();
	void vm_setup_op();
	void mmap_op();
	void bad_pointer_op();
	void close_all();
};

void Validator::system_ops()
{
	for (unsigned n = unsigned(r_.range(2, 6)); n; n--) {
		switch (r_.below(8)) {
		case 0:
			no_argument_ioctl(KVM_GET_API_VERSION, "KVM_GET_API_VERSION", "API version",
					  12);
			break;
		case 1: {
			const long cap = long(r_.chance(3, 4) ? r_.below(300) : r_.interesting64());
			const long ret =
			    c_.io(dev_, KVM_CHECK_EXTENSION, cap, "KVM_CHECK_EXTENSION");
			expect(tap::format("CHECK_EXTENSION %ld", cap), ret, errno,
			       Expect::success("never an error"),
			       tap::format("= %ld", ret < 0 ? -1 : ret));
			break;
		}
		case 2:
			no_argument_ioctl(KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE",
					  "mmap size", long(d_.run_size));
			break;
		case 3: {
			const unsigned long type =
			    r_.pick({1ul, 2ul, 3ul, 4ul, 5ul, 31ul, 32ul, 0x100ul, ~0ul,
				     (unsigned long)r_.next()});
			const long ret = c_.io(dev_, KVM_CREATE_VM, type, "KVM_CREATE_VM", type);
			const bool supported = type < 32 && (vm_types_ & (1l << type));
			expect(tap::format("CREATE_VM type %lu", type), ret, errno,
			       supported ? Expect::success("a type KVM_CAP_VM_TYPES lists")
					 : Expect::error(EINVAL, "unsupported VM type"));
			if (ret >= 0)
				close(int(ret));
			break;
		}
		case 4: {
			const unsigned long req = unknown_ioctl(r_);
			const long ret =
			    c_.io(dev_, req, r_.interesting64(), "unknown ioctl (system)");
			expect("unknown ioctl on the system fd", ret, errno, unknown_expect(0));
			break;
		}
		case 5: { /* VM and vCPU ioctls on the system fd */
			const unsigned long req =
			    r_.pick({(unsigned long)KVM_CREATE_VCPU, (unsigned long)KVM_RUN,
				     (unsigned long)KVM_SET_USER_MEMORY_REGION,
				     (unsigned long)KVM_GET_REGS});
			const long ret = c_.io(dev_, req, 0ul, "VM/vCPU ioctl on the system fd");
			expect("VM/vCPU ioctl on the system fd " + ioctl_name(req), ret, errno,
			       unknown_expect(0));
			break;
		}
		case 6:
			msr_list_op();
			break;
		default: {
			unimplemented_on(dev_, 0);
			break;
		}
		}
	}
}

/* KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST: nmsrs becomes the list's length;
 * fewer asked is E2BIG. Then KVM_GET_MSRS on the system fd reads every feature MSR. */
void Validator::msr_list_op()
{
	const bool features = r_.coin();
	const unsigned long req =
	    features ? kt::GET_MSR_FEATURE_INDEX_LIST : kt::GET_MSR_INDEX_LIST;
	const char *name = features ? "KVM_GET_MSR_FEATURE_INDEX_LIST" : "KVM_GET_MSR_INDEX_LIST";
	std::vector<uint32_t> buf(1 + 64, 0);
	const uint32_t asked = buf[0] = r_.coin() ? 0 : uint32_t(r_.below(64));
	const long ret = c_.io(dev_, req, buf.data(), name, asked);
	const uint32_t n = buf[0];
	expect(name + strlen("KVM_"), ret, errno, Expect::either(E2BIG, "fewer asked than listed"));
	CHECK_MSG((ret == 0) == (asked >= n), "%s: %u asked, %u listed, returned %ld", name, asked,
		  n, ret);
	if (!features || ret != 0)
		return;
	std::vector<uint8_t> m(sizeof(kt::msrs_header) + n * sizeof(kvm_msr_entry), 0);
	reinterpret_cast<kt::msrs_header *>(m.data())->nmsrs = n;
	auto *e = reinterpret_cast<kvm_msr_entry *>(m.data() + sizeof(kt::msrs_header));
	for (uint32_t i = 0; i < n; i++)
		e[i].index = buf[1 + i];
	const long got = c_.io(dev_, kt::GET_MSRS, m.data(), "KVM_GET_MSRS (system)", n);
	expect("GET_MSRS (system) of the feature list", got, errno,
	       Expect::success("every feature MSR reads"));
	CHECK_EQ(long(n), got);
}

void Validator::memory_region()
{
	kvm_userspace_memory_region m = slots_.generate(r_);
	const Expect e = slots_.expect(m);
	const long ret =
	    c_.io(vm_, KVM_SET_USER_MEMORY_REGION, &m, "KVM_SET_USER_MEMORY_REGION", m.slot);
	const int err = errno;
	expect(tap::format("SET_USER_MEMORY_REGION slot 0x%x flags 0x%x gpa 0x%llx size 0x%llx "
			   "uaddr %s",
			   m.slot, m.flags, (unsigned long long)m.guest_phys_addr,
			   (unsigned long long)m.memory_size,
			   slots_.uaddr_kind(m.userspace_addr).c_str()),
	       ret, err, e);
	if (ret == 0)
		slots_.apply(m);
}

void Validator::create_vcpu()
{
	/* Fixed numbers, the same on both devices: dbgkvm's limit is 8, KVM's 4096. */
	const unsigned long lim = (unsigned long)d_.max_vcpu_id;
	unsigned long id;
	const char *what;
	switch (r_.below(6)) {
	case 0:
		id = r_.pick({7ul, 8ul, 9ul});
		what = "id around dbgkvm's KVM_CAP_MAX_VCPU_ID";
		break;
	case 1:
		id = r_.pick({1023ul, 1024ul, 4095ul, 4096ul});
		what = "id around KVM's KVM_CAP_MAX_VCPU_ID";
		break;
	case 2:
		id = r_.pick({~0ul, 1ul << 32, 0x80000000ul, (unsigned long)r_.next()});
		what = "huge id";
		break;
	default:
		id = r_.below(8);
		what = "id < 8";
		break;
	}
	/* kvm_vm_ioctl_create_vcpu()'s order: the id, the count, then the id in use */
	Expect e = Expect::success("new vCPU");
	if (id >= lim)
		e = Expect::error(EINVAL, "id >= KVM_CAP_MAX_VCPU_ID");
	else if (long(ids_.size()) >= d_.max_vcpus)
		e = Expect::error(EINVAL, "KVM_CAP_MAX_VCPUS vCPUs exist");
	else if (ids_.count(id))
		e = Expect::error(EEXIST, "id in use");
	const long ret = c_.io(vm_, KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU", id);
	expect(tap::format("CREATE_VCPU %lu (%s)", id, what), ret, errno, e);
	if (ret >= 0) {
		ids_.insert(id);
		if (id >= 8) {
			/* Beyond dbgkvm's ids: closed at once (its id stays in use), so that both
			 * devices keep the same vCPUs for the calls that follow. */
			close(int(ret));
			return;
		}
		vcpus_.push_back(int(ret));
		CHECK_MSG(set_cpuid(c_, d_, int(ret)) == 0, "KVM_SET_CPUID2: %s",
			  err_name(errno).c_str());
	}
}

void Validator::vcpu_op()
{
	const int fd = vcpu_fd();
	const unsigned op = unsigned(r_.below(12));
	if (fd < 0) {
		/* no vCPU: the calls below on fd -1 would only test the VFS (EBADF) */
		c_.note("no vCPU yet");
		return;
	}
	switch (op) {
	case 0:
		regs_round_trip(c_, fd, gd_[fd], true);
		rec("regs round trip", 0, 0);
		break;
	case 1: {
		kvm_sregs cur, after;
		CHECK_MSG(c_.io(fd, KVM_GET_SREGS, &cur, "KVM_GET_SREGS") == 0, "KVM_GET_SREGS: %s",
			  err_name(errno).c_str());
		SregsCase sc = random_sregs(r_, cur);
		const long ret = c_.io(fd, KVM_SET_SREGS, &sc.s, "KVM_SET_SREGS", sc.s.cr0);
		const int err = errno;
		CHECK_MSG(c_.io(fd, KVM_GET_SREGS, &after, "KVM_GET_SREGS") == 0,
			  "KVM_GET_SREGS: %s", err_name(errno).c_str());
		if (sc.must_fail) {
			expect(std::string("SET_SREGS ") + sc.what, ret, err,
			       Expect::error(EINVAL, "kvm_is_valid_sregs"));
		} else {
			expect(std::string("SET_SREGS ") + sc.what, ret, err,
			       Expect::either(EINVAL, "valid or not"),
			       ret == 0
				   ? tap::format("-> cr0 0x%llx cr4 0x%llx efer 0x%llx cr8 0x%llx "
						 "apic_base 0x%llx",
						 (unsigned long long)after.cr0,
						 (unsigned long long)after.cr4,
						 (unsigned long long)after.efer,
						 (unsigned long long)after.cr8,
						 (unsigned long long)after.apic_base)
				   : "");
		}
		if (ret != 0) {
			/* A refused KVM_SET_SREGS changes nothing. */
			CHECK_MSG(!memcmp(&cur, &after, sizeof(cur)),
				  "KVM_SET_SREGS (%s) failed with %s but changed the state",
				  sc.what, err_name(err).c_str());
		} else {
			sregs_round_trip(c_, fd);
		}
		break;
	}
	case 2:
		debugregs_round_trip(c_, fd, 64);
		rec("debugregs", 0, 0);
		break;
	case 3: {
		uint32_t active = gd_[fd]; /* changed only by a call that succeeds */
		const GuestDebugCall k = random_guest_debug(c_, d_, fd, 64, &active);
		gd_[fd] = active;
		rec(tap::format("SET_GUEST_DEBUG control 0x%x", k.control), k.ret, k.err);
		break;
	}
	case 4: {
		const unsigned long arg = r_.interesting64() | 1;
		const long ret = c_.io(fd, KVM_RUN, arg, "KVM_RUN", arg);
		expect("KVM_RUN arg!=0", ret, errno,
		       Expect::error(EINVAL, "KVM_RUN takes no argument"));
		break;
	}
	case 5: {
		const unsigned long req = unknown_ioctl(r_);
		const long ret = c_.io(fd, req, r_.interesting64(), "unknown ioctl (vCPU)");
		expect("unknown ioctl on a vCPU fd", ret, errno, unknown_expect(2));
		break;
	}
	case 6: {
		unimplemented_on(fd, 2);
		break;
	}
	case 7: { /* system and VM ioctls on a vCPU fd */
		const unsigned long req =
		    r_.pick({(unsigned long)KVM_CREATE_VM, (unsigned long)KVM_CREATE_VCPU,
			     (unsigned long)KVM_GET_API_VERSION});
		const long ret = c_.io(fd, req, 0ul, "system/VM ioctl on a vCPU fd");
		expect("system/VM ioctl on a vCPU fd " + ioctl_name(req), ret, errno,
		       unknown_expect(2));
		break;
	}
	case 8:
		mmap_op();
		break;
	case 9:
	case 10:
		vcpu_state_op(fd);
		break;
	default:
		bad_pointer_op();
		break;
	}
}

/* MSRs both implementations have, and one neither has. */
constexpr uint32_t MSR_NONE = 0x3fffffff;
constexpr uint32_t MSR_POOL[] = {
    0x10,	0x1b,	    0x8b,	0xfe,	    0x174,	0x175,	    0x176,
    0x1a0,	0x200,	    0x201,	0x250,	    0x277,	0x2ff,	    0x6e0,
    0xc0000080, 0xc0000081, 0xc0000082, 0xc0000084, 0xc0000102, 0xc0000103, MSR_NONE};

/* KVM_GET/SET_MSRS (KVM's msr_io): nmsrs >= 256 is E2BIG; else the entries in order until
 * one fails, the count returned. A read writes the entries back, an unknown MSR's data as
 * 0 (the values differ between the implementations: not recorded). */
void Validator::msrs_op(int fd)
{
	const bool write = r_.coin();
	const uint32_t n =
	    uint32_t(r_.pick({0u, 1u, 2u, 5u, 255u, 256u, 257u, unsigned(r_.below(300))}));
	std::vector<uint8_t> buf(sizeof(kt::msrs_header) + size_t(n) * sizeof(kvm_msr_entry));
	auto *h = reinterpret_cast<kt::msrs_header *>(buf.data());
	auto *e = reinterpret_cast<kvm_msr_entry *>(buf.data() + sizeof(*h));
	h->nmsrs = n;
	for (uint32_t i = 0; i < n; i++) {
		e[i].index = r_.pick(MSR_POOL);
		e[i].data = r_.coin() ? 0 : r_.interesting64();
	}
	const long ret = c_.io(fd, write ? kt::SET_MSRS : kt::GET_MSRS, buf.data(),
			       write ? "KVM_SET_MSRS" : "KVM_GET_MSRS", n);
	const std::string label = write ? "SET_MSRS" : "GET_MSRS";
	if (n >= 256) {
		expect(label + " nmsrs>=256", ret, errno, Expect::error(E2BIG, "MAX_IO_MSRS"));
		return;
	}
	expect(label, ret, errno, Expect::success("the count of entries done"));
	CHECK_MSG(ret >= 0 && ret <= long(n), "%s returned %ld of %u", label.c_str(), ret, n);
	if (!write && ret >= 0 && ret < long(n) && e[ret].index == MSR_NONE)
		CHECK_MSG(e[ret].data == 0, "KVM_GET_MSRS left an unknown MSR's data at 0x%llx",
			  (unsigned long long)e[ret].data);
}

/* The vCPU-state ioctls: MSRs, MP state, events, FPU/XSAVE/XCRs, each GET then SET of
 * what it read (which must be taken) or of a random change (whose answer is recorded). */
void Validator::vcpu_state_op(int fd)
{
	switch (r_.below(6)) {
	case 0:
		msrs_op(fd);
		break;
	case 1: {
		kvm_mp_state s{};
		CHECK_MSG(c_.io(fd, KVM_GET_MP_STATE, &s, "KVM_GET_MP_STATE") == 0,
			  "KVM_GET_MP_STATE: %s", err_name(errno).c_str());
		/* no in-kernel local APIC: runnable, and only that is taken */
		CHECK_EQ(uint32_t(KVM_MP_STATE_RUNNABLE), s.mp_state);
		s.mp_state = r_.coin() ? KVM_MP_STATE_RUNNABLE : uint32_t(r_.below(12));
		const long ret = c_.io(fd, KVM_SET_MP_STATE, &s, "KVM_SET_MP_STATE", s.mp_state);
		expect(tap::format("SET_MP_STATE %u", s.mp_state), ret, errno,
		       s.mp_state == KVM_MP_STATE_RUNNABLE
			   ? Expect::success("runnable")
			   : Expect::error(EINVAL, "needs an in-kernel local APIC"));
		break;
	}
	case 2: {
		kvm_vcpu_events ev;
		CHECK_MSG(c_.io(fd, KVM_GET_VCPU_EVENTS, &ev, "KVM_GET_VCPU_EVENTS") == 0,
			  "KVM_GET_VCPU_EVENTS: %s", err_name(errno).c_str());
		if (r_.coin()) {
			const long ret =
			    c_.io(fd, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS (as read)");
			expect("SET_VCPU_EVENTS as read", ret, errno,
			       Expect::success("what KVM_GET_VCPU_EVENTS reported"));
			break;
		}
		/* one field changed: KVM's refusals are EINVAL; dbgkvm refuses more (README) */
		switch (r_.below(5)) {
		case 0:
			ev.flags = uint32_t(r_.interesting64());
			break;
		case 1:
			ev.exception.injected = 1;
			ev.exception.nr = uint8_t(r_.below(40));
			ev.exception.has_error_code = r_.coin();
			ev.exception.error_code = uint32_t(r_.next());
			break;
		case 2:
			ev.flags |= KVM_VCPUEVENT_VALID_SHADOW;
			ev.interrupt.shadow = uint8_t(r_.below(4));
			break;
		case 3:
			ev.nmi.masked = r_.coin();
			break;
		default:
			ev.flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
			break;
		}
		const long ret = c_.io(fd, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS");
		expect("SET_VCPU_EVENTS changed", ret, errno,
		       Expect::either(EINVAL, "KVM's rules"));
		break;
	}
	case 3: {
		kvm_fpu f;
		CHECK_MSG(c_.io(fd, KVM_GET_FPU, &f, "KVM_GET_FPU") == 0, "KVM_GET_FPU: %s",
			  err_name(errno).c_str());
		if (r_.coin())
			f.xmm[r_.below(16)][r_.below(16)] = uint8_t(r_.next());
		if (r_.coin())
			f.mxcsr = uint32_t(r_.interesting64()); /* never taken */
		const long ret = c_.io(fd, KVM_SET_FPU, &f, "KVM_SET_FPU");
		expect("SET_FPU", ret, errno, Expect::success("any FPU image"));
		break;
	}
	case 4: {
		kt::xsave_legacy x;
		CHECK_MSG(c_.io(fd, kt::GET_XSAVE, &x, "KVM_GET_XSAVE") == 0, "KVM_GET_XSAVE: %s",
			  err_name(errno).c_str());
		/* MXCSR (byte 24) with reserved bits: refused if XSTATE_BV (byte 512) has x87,
		 * SSE or AVX, which load it (the kernel's copy_uabi_to_xstate); ignored if not */
		const bool bad_mxcsr = r_.chance(1, 4);
		const bool loaded = x.region[128] & 7;
		if (bad_mxcsr)
			x.region[6] = 0xffff0000u | uint32_t(r_.below(0x10000));
		const long ret = c_.io(fd, kt::SET_XSAVE, &x, "KVM_SET_XSAVE");
		expect(bad_mxcsr ? (loaded ? "SET_XSAVE bad MXCSR" : "SET_XSAVE bad unused MXCSR")
				 : "SET_XSAVE as read",
		       ret, errno,
		       bad_mxcsr && loaded ? Expect::error(EINVAL, "MXCSR reserved bits")
					   : Expect::success("what KVM_GET_XSAVE reported"));
		break;
	}
	default: {
		kvm_xcrs x;
		CHECK_MSG(c_.io(fd, KVM_GET_XCRS, &x, "KVM_GET_XCRS") == 0, "KVM_GET_XCRS: %s",
			  err_name(errno).c_str());
		const bool as_read = r_.coin();
		if (!as_read) {
			x.nr_xcrs = uint32_t(r_.below(20));
			x.flags = r_.chance(1, 4);
			x.xcrs[0].value = r_.below(8);
		}
		const long ret = c_.io(fd, KVM_SET_XCRS, &x, "KVM_SET_XCRS");
		if (as_read && x.nr_xcrs)
			expect("SET_XCRS as read", ret, errno,
			       Expect::success("what KVM_GET_XCRS reported"));
		else
			expect("SET_XCRS", ret, errno, Expect::either(EINVAL, "KVM's rules"));
		break;
	}
	}
}

void Validator::bad_pointer_op()
{
	struct Call {
		unsigned long req;
		size_t size;
		bool written;
		int fd_kind;
	};
	static const Call calls[] = {
	    {KVM_GET_REGS, sizeof(kvm_regs), true, 2},
	    {KVM_SET_REGS, sizeof(kvm_regs), false, 2},
	    {KVM_GET_SREGS, sizeof(kvm_sregs), true, 2},
	    {KVM_SET_SREGS, sizeof(kvm_sregs), false, 2},
	    {KVM_GET_DEBUGREGS, sizeof(kvm_debugregs), true, 2},
	    {KVM_SET_DEBUGREGS, sizeof(kvm_debugregs), false, 2},
	    {KVM_SET_GUEST_DEBUG, sizeof(kvm_guest_debug), false, 2},
	    {KVM_SET_USER_MEMORY_REGION, sizeof(kvm_userspace_memory_region), false, 1},
	    {KVM_GET_VCPU_EVENTS, sizeof(kvm_vcpu_events), true, 2},
	    {KVM_SET_VCPU_EVENTS, sizeof(kvm_vcpu_events), false, 2},
	    {KVM_GET_FPU, sizeof(kvm_fpu), true, 2},
	    {KVM_SET_FPU, sizeof(kvm_fpu), false, 2},
	    {kt::GET_XSAVE, sizeof(kt::xsave_legacy), true, 2},
	    {kt::SET_XSAVE, sizeof(kt::xsave_legacy), false, 2},
	    {KVM_GET_XCRS, sizeof(kvm_xcrs), true, 2},
	    {KVM_SET_XCRS, sizeof(kvm_xcrs), false, 2},
	    {KVM_GET_MP_STATE, sizeof(kvm_mp_state), true, 2},
	    {KVM_SET_MP_STATE, sizeof(kvm_mp_state), false, 2},
	};
	const Call &k = r_.pick(calls);
	const char *kind = "";
	void *p = bad_pointer(r_, k.size, k.written, &kind);
	const int fd = k.fd_kind == 1 ? vm_ : vcpu_fd();
	const long ret = c_.io(fd, k.req, p, "bad pointer");
	expect(ioctl_name(k.req) + " with a bad pointer (" + kind + ")", ret, errno,
	       Expect::error(EFAULT, "copy_{from,to}_user fails"));
}

void Validator::mmap_op()
{
	const int fd = vcpu_fd();
	const long ps = 4096;
	size_t len = size_t(d_.run_size);
	off_t off = 0;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	const char *what = "run_size at 0";
	switch (r_.below(8)) {
	case 0:
		off = ps;
		len = size_t(ps);
		what = "the PIO data page";
		break;
	case 1:
		len = size_t(d_.run_size) + size_t(ps);
		what = "more than run_size";
		break;
	case 2:
		off = 64 * ps;
		len = size_t(ps);
		what = "page 64";
		break;
	case 3:
		prot = PROT_READ;
		what = "read-only";
		break;
	case 4:
		flags = MAP_PRIVATE;
		what = "MAP_PRIVATE";
		break;
	case 5:
		len = size_t(ps);
		what = "one page";
		break;
	default:
		break;
	}
	void *p = mmap(nullptr, len, prot, flags, fd, off);
	const int err = errno;
	const bool must = off == 0 && len <= size_t(d_.run_size) && flags == MAP_SHARED;
	const long ret = p == MAP_FAILED ? -1 : 0;
	expect(std::string("mmap of a vCPU fd: ") + what, ret, err,
	       must ? Expect::success("kvm_run") : Expect::either(EINVAL, "beyond kvm_run"));
	/* drawn whatever happened, so that both devices draw the same numbers */
	const bool remap = r_.coin(), may_move = r_.coin(), vm_not_dev = r_.coin();
	if (p != MAP_FAILED) {
		/* kvm_run or the PIO page is readable, whatever the mapping (KVM maps a page
		 * it does not have too, and raises SIGBUS on the access). */
		if (off <= ps) {
			volatile uint8_t x = *static_cast<volatile uint8_t *>(p);
			(void)x;
		}
		if (remap && len > size_t(ps)) {
			/* mremap within what was mapped: shrink, maybe move */
			void *q = mremap(p, len, size_t(ps), may_move ? MREMAP_MAYMOVE : 0);
			if (q != MAP_FAILED) {
				p = q;
				len = size_t(ps);
			}
		}
		munmap(p, len);
	}
	/* The system and VM fds have no mmap: ENODEV from the VFS. */
	void *q = mmap(nullptr, size_t(ps), PROT_READ, MAP_SHARED, vm_not_dev ? vm_ : dev_, 0);
	const int qerr = errno;
	expect("mmap of the system or VM fd", q == MAP_FAILED ? -1 : 0, qerr,
	       Expect::error(ENODEV, "no mmap"));
	if (q != MAP_FAILED)
		munmap(q, size_t(ps));
}

/* The VM-setup ioctls a VMM calls before it creates vCPUs: KVM_GET_TSC_KHZ (VM and vCPU fd),
 * KVM_SET_TSS_ADDR and KVM_SET_IDENTITY_MAP_ADDR, with KVM's checks (x86.c). */
void Validator::vm_setup_op()
{
	switch (r_.below(5)) {
	case 0: {
		const int vcpu = vcpu_fd();
		const long vm_khz = c_.io(vm_, KVM_GET_TSC_KHZ, 0ul, "KVM_GET_TSC_KHZ (VM)");
		expect("GET_TSC_KHZ (VM)", vm_khz, errno, Expect::success("the default frequency"));
		CHECK_MSG(vm_khz > 0, "KVM_GET_TSC_KHZ (VM) = %ld", vm_khz);
		if (vcpu >= 0) {
			/* No TSC scaling is set anywhere: every vCPU runs at the VM's default. */
			const long khz = c_.io(vcpu, KVM_GET_TSC_KHZ, 0ul, "KVM_GET_TSC_KHZ");
			expect("GET_TSC_KHZ (vCPU)", khz, errno, Expect::success("the vCPU's"));
			CHECK_EQ(vm_khz, khz);
		}
		break;
	}
	case 1: {
		const unsigned long addr =
		    r_.coin() ? 0xffffc000ul + r_.range(0, 0x2000) : r_.interesting64();
		const long ret = c_.io(vm_, KVM_SET_TSS_ADDR, addr, "KVM_SET_TSS_ADDR", addr);
		expect(tap::format("SET_TSS_ADDR 0x%lx", addr), ret, errno,
		       addr > 0xfffffffful - 3 * 4096 + 1
			   ? Expect::error(EINVAL, "above 4 GiB - 3 pages")
			   : Expect::success("below 4 GiB - 3 pages"));
		break;
	}
	case 2: {
		/* KVM_CAP_EXCEPTION_PAYLOAD on or off, any time; flags must be 0 */
		kvm_enable_cap cap{};
		cap.cap = KVM_CAP_EXCEPTION_PAYLOAD;
		cap.args[0] = r_.coin() ? r_.below(2) : r_.interesting64();
		cap.flags = r_.chance(1, 4);
		const long ret = c_.io(vm_, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP", cap.cap);
		expect(tap::format("ENABLE_CAP EXCEPTION_PAYLOAD flags %u", cap.flags), ret, errno,
		       cap.flags ? Expect::error(EINVAL, "flags must be 0")
				 : Expect::success("on or off"));
		break;
	}
	case 3: {
		/* KVM_SET_USER_MEMORY_REGION2 with a guest_memfd: the default VM type has no
		 * private memory (EINVAL); a bad pointer is EFAULT. Its v1 behaviour is the slot
		 * model's, checked in vm_test. */
		kvm_userspace_memory_region2 r{};
		r.slot = uint32_t(r_.below(4));
		r.flags = KVM_MEM_GUEST_MEMFD;
		r.guest_phys_addr = 0x40000000;
		r.memory_size = 0x1000;
		r.guest_memfd = uint32_t(r_.below(64));
		const char *kind = "valid pointer";
		void *p = r_.coin() ? &r : bad_pointer(r_, sizeof(r), false, &kind);
		const long ret =
		    c_.io(vm_, KVM_SET_USER_MEMORY_REGION2, p, "KVM_SET_USER_MEMORY_REGION2");
		Expect e = p == &r ? Expect::error(EINVAL, "no private memory on this VM type")
				   : Expect::error(EFAULT, "copy_from_user fails");
		if (!ioctl(dev_, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY2))
			e = Expect::error(ENOTTY, "unknown ioctl on the VM fd (KVM before 6.8)");
		expect(std::string("SET_USER_MEMORY_REGION2 guest_memfd (") + kind + ")", ret,
		       errno, e);
		break;
	}
	default: {
		uint64_t addr = 0xfeffc000;
		const char *kind = "valid pointer";
		void *p = r_.coin() ? &addr : bad_pointer(r_, sizeof(addr), false, &kind);
		const long ret =
		    c_.io(vm_, KVM_SET_IDENTITY_MAP_ADDR, p, "KVM_SET_IDENTITY_MAP_ADDR");
		/* KVM's order: a created vCPU first, then the argument. */
		Expect e = Expect::success("no vCPU yet");
		if (!ids_.empty())
			e = Expect::error(EINVAL, "a vCPU was created");
		else if (p != &addr)
			e = Expect::error(EFAULT, "copy_from_user fails");
		expect(std::string("SET_IDENTITY_MAP_ADDR (") + kind + ")", ret, errno, e);
		break;
	}
	}
}

void Validator::vm_op()
{
	switch (r_.below(5)) {
	case 0: {
		const unsigned long req = unknown_ioctl(r_);
		const long ret = c_.io(vm_, req, r_.interesting64(), "unknown ioctl (VM)");
		expect("unknown ioctl on the VM fd", ret, errno, unknown_expect(1));
		break;
	}
	case 1: {
		const unsigned long req =
		    r_.pick({(unsigned long)KVM_RUN, (unsigned long)KVM_GET_REGS,
			     (unsigned long)KVM_CREATE_VM, (unsigned long)KVM_GET_VCPU_MMAP_SIZE});
		const long ret = c_.io(vm_, req, 0ul, "vCPU/system ioctl on the VM fd");
		expect("vCPU/system ioctl on the VM fd " + ioctl_name(req), ret, errno,
		       unknown_expect(1));
		break;
	}
	case 2: {
		const long cap = long(r_.below(300));
		const long ret = c_.io(vm_, KVM_CHECK_EXTENSION, cap, "KVM_CHECK_EXTENSION (VM)");
		expect(tap::format("CHECK_EXTENSION on the VM fd %ld", cap), ret, errno,
		       Expect::success("never an error"), tap::format("= %ld", ret < 0 ? -1 : ret));
		break;
	}
	case 3:
		vm_setup_op();
		break;
	default: {
		unimplemented_on(vm_, 1);
		break;
	}
	}
}

void Validator::close_all()
{
	/* Every fd in a random order: the system fd, the VM fd, the vCPU fds. */
	std::vector<int> fds = vcpus_;
	fds.push_back(vm_);
	fds.push_back(dev_);
	for (size_t i = fds.size(); i > 1; i--)
		std::swap(fds[i - 1], fds[r_.below(i)]);
	for (int fd : fds)
		CHECK_MSG(close(fd) == 0, "close: %s", err_name(errno).c_str());
	vcpus_.clear();
	vm_ = dev_ = -1;
}

void Validator::run()
{
	dev_ = open(d_.path.c_str(), O_RDWR | O_CLOEXEC);
	CHECK_MSG(dev_ >= 0, "open %s: %s", d_.path.c_str(), err_name(errno).c_str());
	vm_types_ = ioctl(dev_, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (vm_types_ < 0)
		vm_types_ = 0;
	system_ops();
	vm_ = int(c_.io(dev_, KVM_CREATE_VM, 0ul, "KVM_CREATE_VM"));
	CHECK_MSG(vm_ >= 0, "KVM_CREATE_VM: %s", err_name(errno).c_str());
	for (unsigned n = unsigned(r_.range(40, 120)); n; n--) {
		switch (r_.below(16)) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			memory_region();
			break;
		case 5:
		case 6:
			create_vcpu();
			break;
		case 7:
		case 8:
			vm_op();
			break;
		case 9:
			system_ops();
			break;
		default:
			vcpu_op();
			break;
		}
	}
	close_all();
}

} // namespace

void validation_iteration(Ctx &c, Device &d, Trace *trace)
{
	Validator(c, d, trace).run();
}

} // namespace fz
