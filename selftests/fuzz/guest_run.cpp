// SPDX-License-Identifier: GPL-2.0
#include "guest_run.h"

#include "options.h"
#include "stats.h"
#include "tap.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace fz
{

namespace
{

constexpr uint64_t RFLAGS_TF = 1ull << 8;
constexpr uint64_t DR6_BS = 1ull << 14;

/* The exits KVM_RUN may hand a VMM without in-kernel irqchip or opt-in capabilities. */
bool known_exit(uint32_t r)
{
	switch (r) {
	case KVM_EXIT_UNKNOWN:
	case KVM_EXIT_EXCEPTION:
	case KVM_EXIT_IO:
	case KVM_EXIT_DEBUG:
	case KVM_EXIT_HLT:
	case KVM_EXIT_MMIO:
	case KVM_EXIT_SHUTDOWN:
	case KVM_EXIT_FAIL_ENTRY:
	case KVM_EXIT_INTR:
	case KVM_EXIT_INTERNAL_ERROR:
	case KVM_EXIT_SYSTEM_EVENT:
		return true;
	default:
		return false;
	}
}

std::string regs_diff(const kvm_regs &want, const kvm_regs &got)
{
	static const char *const names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi",
					    "rsp", "rbp", "r8",	 "r9",	"r10", "r11",
					    "r12", "r13", "r14", "r15", "rip", "rflags"};
	const auto *w = reinterpret_cast<const uint64_t *>(&want);
	const auto *g = reinterpret_cast<const uint64_t *>(&got);
	std::string s;
	for (unsigned i = 0; i < 18; i++)
		if (w[i] != g[i])
			s += tap::format(" %s: set 0x%llx, got 0x%llx", names[i],
					 (unsigned long long)w[i], (unsigned long long)g[i]);
	return s;
}

} // namespace

GuestDebugCall random_guest_debug(Ctx &c, Device &d, int vcpu_fd, uint64_t code_len,
				  uint32_t *active, bool real_mode)
{
	Rng &r = c.rng;
	kvm_guest_debug g = {};
	switch (r.below(8)) {
	case 0:
		g.control = 0;
		break;
	case 1: /* anything, reserved bits included */
		g.control = r.u32() | (r.coin() ? KVM_GUESTDBG_ENABLE : 0);
		break;
	default:
		g.control = (r.u32() & d.dbg_mask) | (r.chance(7, 8) ? KVM_GUESTDBG_ENABLE : 0);
		if (r.chance(3, 4)) /* injections are rare: they disturb the program */
			g.control &= ~(KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP);
		break;
	}
	for (int i = 0; i < 4; i++)
		g.arch.debugreg[i] = breakpoint_target(r, code_len);
	g.arch.debugreg[6] = r.coin() ? 0xffff0ff0 : r.interesting64();
	g.arch.debugreg[7] =
	    qemu_safe_dr7(r.chance(7, 8) ? (r.next() & 0xffff00ffull) | 0x400 : r.interesting64(),
			  g.arch.debugreg, real_mode);
	const long ret = c.io(vcpu_fd, KVM_SET_GUEST_DEBUG, &g, "KVM_SET_GUEST_DEBUG", g.control);
	const int err = errno;
	const bool inject = g.control & (KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP);
	const uint32_t reserved = g.control & ~d.dbg_mask;
	if (reserved && !d.kvm) {
		/* dbgkvm refuses flags KVM_CAP_SET_GUEST_DEBUG2 does not list */
		CHECK_MSG(ret == -1 && err == EINVAL,
			  "%s: KVM_SET_GUEST_DEBUG control 0x%x (reserved bits 0x%x): expected "
			  "-1/EINVAL, got %ld/%s",
			  d.path.c_str(), g.control, reserved, ret, err_name(err).c_str());
	} else {
		/* x86 KVM ignores them (kvm_arch_vcpu_ioctl_set_guest_debug checks none) */
		CHECK_MSG(ret == 0 || (ret == -1 && err == EBUSY && inject),
			  "%s: KVM_SET_GUEST_DEBUG control 0x%x: expected 0 (or EBUSY for an "
			  "injection), got %ld/%s",
			  d.path.c_str(), g.control, ret, err_name(err).c_str());
	}
	if (ret == 0)
		*active = (g.control & KVM_GUESTDBG_ENABLE) ? g.control : 0;
	return GuestDebugCall{g.control, ret, err};
}

void regs_round_trip(Ctx &c, int vcpu_fd, uint32_t guest_debug, bool mutate)
{
	Rng &r = c.rng;
	kvm_regs a, b;
	CHECK_MSG(c.io(vcpu_fd, KVM_GET_REGS, &a, "KVM_GET_REGS") == 0, "KVM_GET_REGS: %s",
		  err_name(errno).c_str());
	kvm_regs w = a;
	if (mutate) {
		auto *words = reinterpret_cast<uint64_t *>(&w);
		for (unsigned n = unsigned(r.range(1, 4)); n; n--)
			words[r.below(16)] = r.interesting64();
		if (r.chance(1, 4))
			w.rflags = r.chance(1, 4) ? r.next() : (r.next() & 0x3f7fd5) | 2;
		if (r.chance(1, 8))
			w.rip = r.interesting64();
	}
	CHECK_MSG(c.io(vcpu_fd, KVM_SET_REGS, &w, "KVM_SET_REGS", w.rflags) == 0,
		  "KVM_SET_REGS: %s", err_name(errno).c_str());
	CHECK_MSG(c.io(vcpu_fd, KVM_GET_REGS, &b, "KVM_GET_REGS") == 0, "KVM_GET_REGS: %s",
		  err_name(errno).c_str());
	/* KVM's __set_regs forces RFLAGS bit 1; kvm_get_rflags hides TF while single-stepping. */
	kvm_regs want = w;
	want.rflags |= 2;
	if (guest_debug & KVM_GUESTDBG_SINGLESTEP)
		want.rflags &= ~RFLAGS_TF;
	CHECK_MSG(!memcmp(&want, &b, sizeof(b)), "KVM_GET_REGS after KVM_SET_REGS:%s",
		  regs_diff(want, b).c_str());
}

static std::string seg_str(const kvm_segment &s)
{
	return tap::format("base 0x%llx limit 0x%x sel 0x%x type %u p %u dpl %u db %u s %u l %u "
			   "g %u avl %u unusable %u",
			   (unsigned long long)s.base, s.limit, s.selector, s.type, s.present,
			   s.dpl, s.db, s.s, s.l, s.g, s.avl, s.unusable);
}

std::string sregs_diff(const kvm_sregs &a, const kvm_sregs &b)
{
	std::string s;
	const kvm_segment *sa[] = {&a.cs, &a.ds, &a.es, &a.fs, &a.gs, &a.ss, &a.tr, &a.ldt};
	const kvm_segment *sb[] = {&b.cs, &b.ds, &b.es, &b.fs, &b.gs, &b.ss, &b.tr, &b.ldt};
	static const char *const names[] = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};
	for (int i = 0; i < 8; i++)
		if (seg_str(*sa[i]) != seg_str(*sb[i]))
			s += tap::format(" %s: {%s} vs {%s}", names[i], seg_str(*sa[i]).c_str(),
					 seg_str(*sb[i]).c_str());
#define F(x)                                                                                       \
	if (a.x != b.x)                                                                            \
		s += tap::format(" " #x ": 0x%llx vs 0x%llx", (unsigned long long)a.x,             \
				 (unsigned long long)b.x);
	F(gdt.base)
	F(gdt.limit)
	F(idt.base)
	F(idt.limit)
	F(cr0)
	F(cr2)
	F(cr3)
	F(cr4)
	F(cr8)
	F(efer)
	F(apic_base)
#undef F
	if (memcmp(a.interrupt_bitmap, b.interrupt_bitmap, sizeof(a.interrupt_bitmap)))
		s += " interrupt_bitmap differs";
	return s;
}

bool qemu_left_long_mode(const kvm_sregs &s)
{
	return qemu_tcg_bug() && s.cs.l && !(s.efer & (1ull << 10));
}

void sregs_round_trip(Ctx &c, int vcpu_fd)
{
	kvm_sregs a, b;
	CHECK_MSG(c.io(vcpu_fd, KVM_GET_SREGS, &a, "KVM_GET_SREGS") == 0, "KVM_GET_SREGS: %s",
		  err_name(errno).c_str());
	const long r = c.io(vcpu_fd, KVM_SET_SREGS, &a, "KVM_SET_SREGS", a.cr0);
	if (r != 0 && qemu_left_long_mode(a)) {
		c.note("QEMU TCG: CS.L without EFER.LMA after the guest cleared CR0.PG", a.cr0,
		       a.efer);
		return;
	}
	CHECK_MSG(r == 0,
		  "KVM_SET_SREGS rejects what KVM_GET_SREGS returned (%s): cr0 0x%llx cr4 0x%llx "
		  "efer 0x%llx cs {%s}",
		  err_name(errno).c_str(), (unsigned long long)a.cr0, (unsigned long long)a.cr4,
		  (unsigned long long)a.efer, seg_str(a.cs).c_str());
	CHECK_MSG(c.io(vcpu_fd, KVM_GET_SREGS, &b, "KVM_GET_SREGS") == 0, "KVM_GET_SREGS: %s",
		  err_name(errno).c_str());
	const std::string d = sregs_diff(a, b);
	CHECK_MSG(d.empty(), "KVM_GET_SREGS after KVM_SET_SREGS of its own output:%s", d.c_str());
}

void debugregs_round_trip(Ctx &c, int vcpu_fd, uint64_t code_len, bool real_mode, bool ran)
{
	Rng &r = c.rng;
	kvm_debugregs w = {};
	for (int i = 0; i < 4; i++)
		w.db[i] = breakpoint_target(r, code_len);
	w.dr6 = r.coin() ? 0xffff0ff0 | (r.next() & 0xe00f) : r.u32();
	w.dr7 =
	    qemu_safe_dr7(r.coin() ? (r.next() & 0xffff00ffull) | 0x400 : r.u32(), w.db, real_mode);
	switch (r.below(8)) {
	case 0:
		w.flags = r.interesting64() | 1;
		break;
	case 1:
		w.dr6 |= 1ull << r.range(32, 63);
		break;
	case 2:
		w.dr7 |= 1ull << r.range(32, 63);
		break;
	case 3: /* reserved words: not checked by KVM */
		w.reserved[r.below(9)] = r.next();
		break;
	default:
		break;
	}
	const bool bad = w.flags || (w.dr6 >> 32) || (w.dr7 >> 32);
	const long ret = c.io(vcpu_fd, KVM_SET_DEBUGREGS, &w, "KVM_SET_DEBUGREGS", w.dr7);
	const int err = errno;
	if (bad) {
		CHECK_MSG(
		    ret == -1 && err == EINVAL,
		    "KVM_SET_DEBUGREGS flags 0x%llx dr6 0x%llx dr7 0x%llx: expected -1/EINVAL, "
		    "got %ld/%s",
		    (unsigned long long)w.flags, (unsigned long long)w.dr6,
		    (unsigned long long)w.dr7, ret, err_name(err).c_str());
		return;
	}
	CHECK_MSG(ret == 0, "KVM_SET_DEBUGREGS dr6 0x%llx dr7 0x%llx: %s",
		  (unsigned long long)w.dr6, (unsigned long long)w.dr7, err_name(err).c_str());
	kvm_debugregs g;
	memset(&g, 0xa5, sizeof(g));
	CHECK_MSG(c.io(vcpu_fd, KVM_GET_DEBUGREGS, &g, "KVM_GET_DEBUGREGS") == 0,
		  "KVM_GET_DEBUGREGS: %s", err_name(errno).c_str());
	for (int i = 0; i < 4; i++)
		CHECK_MSG(g.db[i] == w.db[i], "KVM_GET_DEBUGREGS db[%d]: set 0x%llx, got 0x%llx", i,
			  (unsigned long long)w.db[i], (unsigned long long)g.db[i]);
	/*
	 * A vCPU that ran may have a #DB pending whose DR6 payload KVM merges into DR6 before
	 * it is read (kvm_deliver_exception_payload: B0-B3 replaced, BS/BD/BT/BLD/RTM, bit 12
	 * cleared): then only the other bits must come back.
	 */
	const uint64_t status = ran ? 0x1f80full | (1ull << 12) : 0;
	CHECK_MSG(!((g.dr6 ^ w.dr6) & ~status) && g.dr7 == w.dr7 && g.flags == 0,
		  "KVM_GET_DEBUGREGS: set dr6 0x%llx dr7 0x%llx, got dr6 0x%llx dr7 0x%llx flags "
		  "0x%llx",
		  (unsigned long long)w.dr6, (unsigned long long)w.dr7, (unsigned long long)g.dr6,
		  (unsigned long long)g.dr7, (unsigned long long)g.flags);
}

void safe_initial_debugregs(Ctx &c, int vcpu_fd)
{
	if (!qemu_tcg_bug())
		return;
	/* DR0-3 start on the data page, not at 0 (the real-mode IVT) */
	kvm_debugregs dr = {};
	for (int i = 0; i < 4; i++)
		dr.db[i] = DATA_GPA + 8 * i;
	dr.dr6 = 0xffff0ff0;
	dr.dr7 = 0x400;
	CHECK_MSG(c.io(vcpu_fd, KVM_SET_DEBUGREGS, &dr, "KVM_SET_DEBUGREGS") == 0,
		  "KVM_SET_DEBUGREGS: %s", err_name(errno).c_str());
}

namespace
{

/* The bytes at CS:RIP when they are in slot 0 (no paging, or the identity map). */
std::string insn_bytes(Ctx &c, Box &b)
{
	kvm_regs r;
	kvm_sregs s;
	if (c.io(b.vcpu, KVM_GET_REGS, &r, "KVM_GET_REGS") ||
	    c.io(b.vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS"))
		return " ?";
	const uint64_t la = s.cs.base + r.rip;
	std::string h;
	for (uint64_t i = 0; i < 6 && la + i < GUEST_MEM_SIZE; i++)
		h += tap::format(" %02x", b.mem[la + i]);
	return h.empty() ? " ?" : h;
}

IdtKind pick_idt(Rng &r)
{
	switch (r.below(10)) {
	case 0:
	case 1:
		return IdtKind::None;
	case 2:
	case 3:
	case 4:
	case 5:
		return IdtKind::Stubs;
	case 6:
	case 7:
	case 8:
		return IdtKind::Mixed;
	default:
		return IdtKind::Random;
	}
}

/* Closes the VM's fds and the mapping in a random order (KVM: any order is fine). */
void close_randomly(Rng &r, Box &b)
{
	int order[3] = {0, 1, 2};
	for (int i = 2; i > 0; i--)
		std::swap(order[i], order[r.below(i + 1)]);
	for (int k : order) {
		if (k == 0 && b.run) {
			munmap(b.run, size_t(b.dev.run_size));
			b.run = nullptr;
		} else if (k == 1 && b.vcpu >= 0) {
			close(b.vcpu);
			b.vcpu = -1;
		} else if (k == 2 && b.vm >= 0) {
			close(b.vm);
			b.vm = -1;
		}
	}
}

} // namespace

void guest_iteration(Ctx &c, Device &d, const GuestOptions &o, GuestTrace *trace)
{
	Rng &r = c.rng;
	uint8_t *mem = guest_memory();
	madvise(mem, GUEST_MEM_SIZE, MADV_DONTNEED); /* zero again, cheaply */
	Box b(d, mem);
	b.create(c);

	GenOptions g;
	if (!o.deterministic) {
		const unsigned k = unsigned(r.below(20));
		g.random_bytes = k < 3;
		g.mixed = k >= 3 && k < 8;
	}
	if (o.single_step)
		g.max_loop = 64;
	if (o.deterministic)
		g.deterministic = true;
	g.safe_breakpoints = qemu_tcg_bug();
	Program p = generate(r, o.mode, g);
	if (!options().code.empty()) {
		p.code = options().code;
		p.loops.clear();
	}
	if (options().truncate && options().truncate < p.code.size()) {
		p.code.resize(options().truncate);
		p.code.insert(p.code.end(), {0xe6, PORT_DONE, 0xf4, 0xeb, 0xfd});
	}
	c.note(p.random_bytes ? "program: random bytes (len, loops)"
			      : "program: structured (len, loops)",
	       p.code.size(), p.loops.size());
	b.setup_mode(c, o.mode, p.code.data(), p.code.size());
	if (options().verbose) {
		std::string hex;
		for (uint8_t byte : p.code)
			hex += tap::format("%02x", byte);
		fprintf(stderr, "fuzz: %s program at 0x%x: %s\n", kt::mode_name(o.mode), CODE_GPA,
			hex.c_str());
	}

	kvm_sregs s;
	CHECK_MSG(c.io(b.vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS") == 0, "KVM_GET_SREGS: %s",
		  err_name(errno).c_str());
	/* Deterministic guests get no random gates: both devices must run the same code. */
	const IdtKind idt =
	    o.deterministic ? (r.coin() ? IdtKind::None : IdtKind::Stubs) : pick_idt(r);
	uint64_t base;
	uint16_t limit;
	write_idt(r, o.mode, idt, mem, &base, &limit);
	s.idt.base = base;
	s.idt.limit = limit;
	c.note("idt (kind, limit)", uint64_t(idt), limit);
	if (o.mode == kt::Mode::Real && r.chance(1, 4)) {
		/* "Unreal" data segments: their base in the MMIO hole, so accesses exit. */
		s.ds.base = MMIO_GPA + (r.below(0x100) << 12);
		s.es.base = r.coin() ? s.ds.base : MMIO_GPA;
		c.note("real mode: DS/ES base", s.ds.base, s.es.base);
	}
	CHECK_MSG(c.io(b.vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS") == 0, "KVM_SET_SREGS: %s",
		  err_name(errno).c_str());
	safe_initial_debugregs(c, b.vcpu);
	if (o.mode == kt::Mode::Long64 && r.chance(1, 5)) {
		const unsigned n = unsigned(r.range(1, 8));
		scramble_page_tables(r, mem, n);
		c.note("page tables scrambled (entries)", n);
	}

	uint32_t gd = 0; /* the guest debug flags in force */
	if (o.single_step) {
		kvm_guest_debug dbg = {};
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		if (r.coin())
			dbg.control |= KVM_GUESTDBG_USE_SW_BP;
		CHECK_MSG(c.io(b.vcpu, KVM_SET_GUEST_DEBUG, &dbg, "KVM_SET_GUEST_DEBUG",
			       dbg.control) == 0,
			  "KVM_SET_GUEST_DEBUG single-step: %s", err_name(errno).c_str());
		gd = dbg.control;
	} else if (!o.deterministic && r.chance(1, 10)) {
		random_guest_debug(c, d, b.vcpu, p.code.size(), &gd, o.mode == kt::Mode::Real);
	}

	RunTimer timer;
	uint64_t loop_insns = 0, steps = 0;
	unsigned interrupted = 0; /* KVM_RUNs in a row that ended by the timer: a looping guest */
	for (unsigned n = 0; n < o.max_runs && interrupted < 3; n++) {
		if (!o.deterministic && r.chance(1, 6)) {
			switch (r.below(5)) {
			case 0:
				regs_round_trip(c, b.vcpu, gd, r.chance(1, 8));
				break;
			case 1:
				sregs_round_trip(c, b.vcpu);
				break;
			case 2:
				debugregs_round_trip(c, b.vcpu, p.code.size(),
						     o.mode == kt::Mode::Real, n > 0);
				break;
			case 3:
				random_guest_debug(c, d, b.vcpu, p.code.size(), &gd,
						   o.mode == kt::Mode::Real);
				break;
			default: {
				kvm_debugregs dr;
				CHECK_MSG(
				    c.io(b.vcpu, KVM_GET_DEBUGREGS, &dr, "KVM_GET_DEBUGREGS") == 0,
				    "KVM_GET_DEBUGREGS: %s", err_name(errno).c_str());
				break;
			}
			}
		}
		const bool imm = !o.deterministic && r.chance(1, 40);
		if (imm)
			b.run->immediate_exit = 1;
		if (!o.deterministic)
			timer.arm(r.chance(1, 8) ? r.range(20, 500) : r.range(1000, 8000));
		else /* a guest that loops: ends the comparison of this program */
			timer.arm(200000);
		const long ret = c.io(b.vcpu, KVM_RUN, 0ul, "KVM_RUN", imm);
		const int err = errno;
		timer.disarm();
		b.run->immediate_exit = 0;
		if (ret < 0) {
			CHECK_MSG(err == EINTR, "KVM_RUN: -1/%s (only EINTR is expected here)",
				  err_name(err).c_str());
			if (b.run->exit_reason == KVM_EXIT_INTR)
				note_exit(KVM_EXIT_INTR);
			if (trace)
				trace->lines.push_back("EINTR");
			if (o.deterministic)
				break;
			interrupted++;
			continue;
		}
		interrupted = 0;
		kvm_run *run = b.run;
		const uint32_t why = run->exit_reason;
		note_exit(why);
		CHECK_MSG(known_exit(why), "KVM_RUN returned 0 with exit_reason %u (%s)", why,
			  kt::exit_name(why));
		bool stop = false;
		std::string line = kt::exit_name(why);
		switch (why) {
		case KVM_EXIT_IO: {
			const auto &io = run->io;
			CHECK_MSG(
			    io.direction <= 1 && (io.size == 1 || io.size == 2 || io.size == 4) &&
				io.count >= 1 &&
				io.data_offset + uint64_t(io.size) * io.count <=
				    uint64_t(d.run_size),
			    "KVM_EXIT_IO out of range: dir %u size %u count %u data_offset 0x%llx "
			    "(mmap size %ld)",
			    io.direction, io.size, io.count, (unsigned long long)io.data_offset,
			    d.run_size);
			uint8_t *data = reinterpret_cast<uint8_t *>(run) + io.data_offset;
			line +=
			    tap::format(" %s port 0x%x size %u count %u",
					io.direction ? "out" : "in", io.port, io.size, io.count);
			if (io.direction == KVM_EXIT_IO_IN) {
				r.fill(data, size_t(io.size) * io.count);
			} else if (io.port == PORT_COUNT && io.size == 4 && io.count == 1) {
				uint32_t v;
				memcpy(&v, data, 4);
				for (CountedLoop &l : p.loops)
					if (!l.seen && l.checksum == v) {
						l.seen = true;
						loop_insns += l.insns;
						break;
					}
			} else if (io.port == PORT_DONE) {
				stop = true;
			} else if (io.port == PORT_EXC && io.size == 1) {
				line += tap::format(" vector %u", data[0]); /* a handler stub ran */
			}
			break;
		}
		case KVM_EXIT_MMIO: {
			const auto &m = run->mmio;
			/* 1 to 8 bytes: KVM splits an access that crosses into MMIO (the
			 * fragment outside memory can be 3 bytes long) */
			CHECK_MSG(m.len >= 1 && m.len <= 8, "KVM_EXIT_MMIO len %u", m.len);
			CHECK_MSG(m.phys_addr >= GUEST_MEM_SIZE,
				  "KVM_EXIT_MMIO at GPA 0x%llx (len %u), inside memory slot 0 "
				  "(0..0x%x)",
				  (unsigned long long)m.phys_addr, m.len, GUEST_MEM_SIZE);
			line += tap::format(" %s 0x%llx len %u", m.is_write ? "write" : "read",
					    (unsigned long long)m.phys_addr, m.len);
			if (!m.is_write)
				r.fill(run->mmio.data, 8);
			break;
		}
		case KVM_EXIT_DEBUG: {
			const auto &dbg = run->debug.arch;
			CHECK_MSG(
			    gd & KVM_GUESTDBG_ENABLE,
			    "KVM_EXIT_DEBUG (exception %u, dr6 0x%llx) without guest debugging "
			    "(flags 0x%x)",
			    dbg.exception, (unsigned long long)dbg.dr6, gd);
			CHECK_MSG(dbg.exception == 1 || dbg.exception == 3,
				  "KVM_EXIT_DEBUG with exception %u", dbg.exception);
			line += tap::format(" exception %u", dbg.exception);
			if (dbg.exception == 1 && (dbg.dr6 & DR6_BS) &&
			    (gd & KVM_GUESTDBG_SINGLESTEP))
				steps++;
			break;
		}
		case KVM_EXIT_HLT:
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			line += " insn" + insn_bytes(c, b);
			stop = true;
			break;
		default:
			stop = true;
			break;
		}
		if (trace)
			trace->lines.push_back(line);
		if (options().verbose)
			fprintf(stderr, "fuzz: exit %s\n", line.c_str());
		if (stop)
			break;
	}
	/*
	 * Count one way per iteration: single steps if any were seen (the loops then ran
	 * under them and would be counted twice), else the loops that reported.
	 */
	if (steps) {
		count_insns(steps);
		stats().single_steps.fetch_add(steps, std::memory_order_relaxed);
	} else {
		count_insns(loop_insns);
	}
	close_randomly(r, b);
}

} // namespace fz
