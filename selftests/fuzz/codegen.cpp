// SPDX-License-Identifier: GPL-2.0
#include "codegen.h"

#include "env.h"

#include <cstring>

namespace fz
{

namespace
{

enum Reg {
	EAX = 0,
	ECX = 1,
	EDX = 2,
	EBX = 3,
	ESP = 4,
	EBP = 5,
	ESI = 6,
	EDI = 7
};

/* A small x86 encoder for the three code sizes (SDM Vol. 2, opcode tables). */
class Asm
{
public:
	explicit Asm(kt::Mode m) : m16(m == kt::Mode::Real), m64(m == kt::Mode::Long64) {}
	const bool m16, m64;
	std::vector<uint8_t> b;

	size_t pos() const { return b.size(); }
	void u8(unsigned v) { b.push_back(uint8_t(v)); }
	void bytes(std::initializer_list<unsigned> l)
	{
		for (unsigned v : l)
			u8(v);
	}
	void imm16(uint32_t v) { bytes({v & 0xff, (v >> 8) & 0xff}); }
	void imm32(uint32_t v)
	{
		for (int i = 0; i < 4; i++)
			u8((v >> (8 * i)) & 0xff);
	}
	void imm64(uint64_t v)
	{
		imm32(uint32_t(v));
		imm32(uint32_t(v >> 32));
	}
	/* Operand-size prefix for a 32-bit (o32) or 16-bit (o16) operand in this mode. */
	void o32()
	{
		if (m16)
			u8(0x66);
	}
	void o16()
	{
		if (!m16)
			u8(0x66);
	}
	void a32()
	{
		if (m16)
			u8(0x67);
	}
	void osize(unsigned size)
	{
		if (size == 2)
			o16();
		else if (size == 4)
			o32();
		else if (size == 8)
			u8(0x48);
	}

	void mov_imm(Reg r, uint64_t v)
	{
		if (m64 && (v >> 32)) {
			bytes({0x48, 0xb8u + r});
			imm64(v);
		} else {
			o32();
			u8(0xb8 + r);
			imm32(uint32_t(v));
		}
	}
	void mov_to_dr(unsigned dr, Reg r) { bytes({0x0f, 0x23, 0xc0 | dr << 3 | r}); }
	void mov_from_dr(unsigned dr, Reg r) { bytes({0x0f, 0x21, 0xc0 | dr << 3 | r}); }
	void mov_cr(bool to, unsigned cr, Reg r)
	{
		const unsigned op = to ? 0x22 : 0x20;
		if (cr == 8 && m64)
			bytes({0x44, 0x0f, op, 0xc0u | r}); /* REX.R: CR8 */
		else if (cr == 8)
			bytes({0xf0, 0x0f, op, 0xc0u | r}); /* AMD: LOCK MOV CR0 is CR8 */
		else
			bytes({0x0f, op, 0xc0 | cr << 3 | r});
	}
	void push_imm(uint32_t v)
	{
		u8(0x68);
		if (m16)
			imm16(v);
		else
			imm32(v);
	}
	void xor_eax(uint32_t v)
	{
		o32();
		u8(0x35);
		imm32(v);
	}
};

const uint32_t MSRS[] = {
    0x10,	0x1b,	    0x3a,	0x48,	    0x49,	0x8b,	    0xc1,	0xfe,
    0x174,	0x175,	    0x176,	0x179,	    0x17a,	0x186,	    0x1a0,	0x1d9,
    0x1db,	0x1dc,	    0x1dd,	0x1de,	    0x200,	0x201,	    0x20f,	0x250,
    0x277,	0x2ff,	    0x400,	0x480,	    0x6e0,	0x800,	    0x802,	0x808,
    0x80b,	0x830,	    0x83f,	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
    0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0010000, 0xc0010004, 0xc0010114, 0xc0010117,
    0xc0011020, 0x40000000, 0x40000001, 0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04,
    0xffffffff, 0x80000000, 0x00001000,
};

const uint32_t CPUID_LEAVES[] = {
    0,		1,	    2,		4,	    6,		7,	    0xb,	0xd,
    0x14,	0x1a,	    0x1f,	0x40000000, 0x40000001, 0x80000000, 0x80000001, 0x80000007,
    0x80000008, 0x8000000a, 0x8000001d, 0x8000001e, 0x80000026, 0xc0000000, 0x8fffffff, 0xffffffff};

class Gen
{
public:
	Gen(Rng &r, kt::Mode m, const GenOptions &o) : r_(r), a_(m), o_(o) {}

	Program run()
	{
		Program p;
		const size_t target = r_.range(32, o_.max_len);
		while (a_.pos() < target) {
			starts_.push_back(a_.pos());
			item(p);
		}
		/* The end: report done, then halt for good (a KVM_RUN after HLT loops back). */
		a_.bytes({0xe6, PORT_DONE});
		const size_t hlt = a_.pos();
		a_.u8(0xf4);
		a_.bytes({0xeb, uint8_t(int(hlt) - int(a_.pos() + 2))});
		p.code = std::move(a_.b);
		return p;
	}

private:
	Rng &r_;
	Asm a_;
	const GenOptions &o_;
	std::vector<size_t> starts_; /* offsets where an item began: breakpoint targets */

	/*
	 * A linear address the guest's own breakpoint `dr` may aim at. Under QEMU
	 * (qemu_tcg_bug()) DR3 alone may be a data breakpoint, and only on the data page or
	 * MMIO; DR0-2 are instruction breakpoints.
	 */
	uint64_t target_address(unsigned dr)
	{
		if (o_.safe_breakpoints && dr == 3)
			return r_.coin() ? DATA_GPA + r_.below(0x1000)
					 : MMIO_GPA + r_.below(0x1000);
		switch (r_.below(6)) {
		case 0:
		case 1:
			return CODE_GPA + (starts_.empty() ? 0 : starts_[r_.below(starts_.size())]);
		case 2:
			return CODE_GPA + r_.below(o_.max_len + 16);
		case 3:
			return DATA_GPA + r_.below(0x1000);
		case 4:
			return o_.safe_breakpoints ? DATA_GPA + r_.below(0x1000)
						   : STACK_TOP - r_.below(64);
		default:
			return r_.coin() || o_.safe_breakpoints ? MMIO_GPA + r_.below(0x1000)
								: r_.interesting64();
		}
	}
	uint64_t mmio_address()
	{
		if (a_.m16) /* real mode: offsets in DS, whose base the fuzzer may move */
			return r_.below(0xfff8);
		switch (r_.below(4)) {
		case 0:
			return MMIO_GPA + r_.below(0x10000);
		case 1: /* the edge of slot 0 */
			return GUEST_MEM_SIZE - 8 + r_.below(16);
		case 2:
			return a_.m64 ? HIGH_GPA + r_.below(1ull << 32)
				      : 0xfee00000 + r_.below(0x1000);
		default:
			return DATA_GPA + r_.below(0x1000);
		}
	}
	/*
	 * DR7 for the guest: under QEMU, R/W of DR0-2 made 00 or 10 (no data breakpoint),
	 * and in real mode no instruction breakpoint (DR0-2 off, DR3 a data breakpoint).
	 */
	uint64_t dr7_value(uint64_t v) const
	{
		if (!o_.safe_breakpoints)
			return v;
		v &= ~((1ull << 16) | (1ull << 20) | (1ull << 24));
		if (a_.m16 || o_.no_insn_breakpoints)
			v = (v & ~0x3full) | (1ull << 28);
		return v;
	}
	unsigned io_size() { return r_.pick({1u, 2u, 4u}); }
	uint16_t port()
	{
		return uint16_t(r_.chance(1, 3) ? r_.pick({0x20u, 0x21u, 0x40u, 0x43u, 0x60u, 0x61u,
							   0x64u, 0x70u, 0x71u, 0x80u, 0x3f8u,
							   0xcf8u, 0xcfcu, 0xe9u, 0xffffu})
						: r_.below(0x10000));
	}

	void counted_loop(Program &p)
	{
		const uint32_t tag = r_.u32();
		const uint32_t n = uint32_t(
		    r_.chance(1, 8) ? r_.range(1, o_.max_loop)
				    : r_.range(1, o_.max_loop < 4000 ? o_.max_loop : 4000));
		a_.mov_imm(EAX, tag);
		a_.mov_imm(ECX, n);
		const size_t top = a_.pos();
		a_.o32();
		a_.bytes({0x01, 0xc8}); /* add eax, ecx */
		if (a_.m64)
			a_.bytes({0xff, 0xc9}); /* dec ecx */
		else {
			a_.o32();
			a_.u8(0x49);
		}
		a_.bytes({0x75, uint8_t(int(top) - int(a_.pos() + 2))}); /* jnz top */
		a_.o32();
		a_.bytes({0xe7, PORT_COUNT}); /* out PORT_COUNT, eax */
		const uint32_t sum = uint32_t(tag + uint64_t(n) * (n + 1) / 2);
		p.loops.push_back(CountedLoop{sum, 3ull * n + 3});
	}

	void io()
	{
		const unsigned size = io_size();
		const bool out = r_.coin();
		switch (r_.below(3)) {
		case 0: /* IN/OUT imm8 */
			if (out)
				a_.mov_imm(EAX, r_.next());
			a_.osize(size == 1 ? 0 : size);
			a_.bytes({(out ? 0xe6u : 0xe4u) + (size > 1), unsigned(r_.below(256))});
			break;
		case 1: /* IN/OUT DX */
			a_.mov_imm(EDX, port());
			if (out)
				a_.mov_imm(EAX, r_.next());
			a_.osize(size == 1 ? 0 : size);
			a_.u8((out ? 0xeeu : 0xecu) + (size > 1));
			break;
		default: { /* INS/OUTS, with REP sometimes; the buffer may be MMIO */
			a_.mov_imm(EDX, port());
			const uint64_t buf =
			    r_.chance(1, 4)
				? mmio_address()
				: (a_.m16 ? r_.range(0x5000, 0xe000) : DATA_GPA + r_.below(0x1000));
			a_.mov_imm(out ? ESI : EDI, buf);
			const bool rep = r_.coin();
			if (rep)
				a_.mov_imm(ECX, r_.range(0, 5));
			if (rep)
				a_.u8(0xf3);
			a_.a32();
			a_.osize(size == 1 ? 0 : size);
			a_.u8((out ? 0x6eu : 0x6cu) + (size > 1));
			break;
		}
		}
	}

	void mmio()
	{
		const uint64_t addr = mmio_address();
		unsigned size = r_.pick({1u, 2u, 4u, 8u});
		if (size == 8 && !a_.m64)
			size = 4;
		if (r_.chance(1, 6)) { /* REP STOS into it */
			a_.mov_imm(EDI, addr);
			a_.mov_imm(ECX, r_.range(1, 4));
			a_.mov_imm(EAX, r_.next());
			a_.u8(0xf3);
			a_.a32();
			a_.osize(size == 1 ? 0 : size);
			a_.u8(size == 1 ? 0xaa : 0xab);
			return;
		}
		const bool store = r_.coin();
		a_.mov_imm(EBX, addr);
		if (store)
			a_.mov_imm(EAX, r_.next());
		a_.a32();
		a_.osize(size == 1 ? 0 : size);
		a_.bytes({size == 1 ? (store ? 0x88u : 0x8au) : (store ? 0x89u : 0x8bu), 0x03});
	}

	void debug_regs()
	{
		const unsigned dr = unsigned(r_.below(8));
		if (r_.chance(1, 3)) {
			a_.mov_from_dr(dr, Reg(r_.pick({0u, 1u, 2u, 3u, 6u, 7u})));
			return;
		}
		uint64_t v;
		if (dr < 4)
			v = target_address(dr);
		else if (dr == 7 || dr == 5) /* enables, R/W and LEN for DR0..3, GE/LE/GD */
			v = dr7_value(r_.coin() ? (r_.next() & 0xffff03ffull) | 0x400
						: r_.interesting64());
		else
			v = r_.coin() ? 0xffff0ff0 | (r_.next() & 0xf00f) : r_.interesting64();
		if (!a_.m64)
			v &= 0xffffffff;
		a_.mov_imm(EAX, v);
		a_.mov_to_dr(dr, EAX);
	}

	void control_regs()
	{
		const unsigned cr = r_.pick({0u, 2u, 3u, 4u, 8u});
		if (r_.chance(1, 3)) {
			a_.mov_cr(false, cr, Reg(r_.pick({0u, 1u, 3u})));
			return;
		}
		if (r_.coin() && cr != 2) { /* read, flip a bit, write back */
			a_.mov_cr(false, cr, EAX);
			a_.xor_eax(r_.coin() ? 1u << r_.below(32) : r_.u32());
		} else {
			a_.mov_imm(EAX, cr == 3 && r_.coin() ? r_.below(GUEST_MEM_SIZE) & ~0xfffull
							     : r_.interesting64());
		}
		a_.mov_cr(true, cr, EAX);
	}

	void msr()
	{
		const uint32_t idx = r_.chance(4, 5) ? r_.pick(MSRS) : r_.u32();
		a_.mov_imm(ECX, idx);
		switch (r_.below(3)) {
		case 0:
			a_.bytes({0x0f, 0x32}); /* rdmsr */
			break;
		case 1:
			a_.mov_imm(EAX, r_.interesting64());
			a_.mov_imm(EDX, r_.coin() ? 0 : r_.interesting64());
			a_.bytes({0x0f, 0x30}); /* wrmsr */
			break;
		default:
			a_.bytes({0x0f, 0x32});
			a_.xor_eax(1u << r_.below(32));
			a_.bytes({0x0f, 0x30});
			break;
		}
	}

	/* One instruction for after a MOV SS/POP SS or STI (its shadow). */
	void shadowed()
	{
		switch (r_.below(10)) {
		case 0:
			a_.u8(0xcc);
			break;
		case 1:
			a_.u8(0xf1);
			break;
		case 2:
			a_.bytes({0xcd, r_.pick({1u, 3u, 0x80u, unsigned(r_.below(256))})});
			break;
		case 3:
			a_.mov_from_dr(unsigned(r_.below(8)), EAX);
			break;
		case 4:
			a_.bytes({0xe6, PORT_REPORT});
			break;
		case 5:
			a_.bytes({0x0f, 0xa2});
			break;
		case 6:
			a_.u8(0xf4);
			break;
		case 7: /* RDMSR: the MSRs KVM and dbgkvm implement differ */
			if (o_.deterministic)
				a_.u8(0x90);
			else
				a_.bytes({0x0f, 0x32});
			break;
		case 8:
			a_.u8(0x9d); /* popf */
			break;
		default:
			a_.bytes({0x0f, 0x0b});
			break;
		}
	}

	void item(Program &p)
	{
		if (o_.mixed && r_.chance(1, 8)) {
			for (unsigned n = unsigned(r_.range(1, 12)); n; n--)
				a_.u8(unsigned(r_.below(256)));
			return;
		}
		switch (r_.below(24)) {
		case 0:
		case 1:
		case 2:
			counted_loop(p);
			break;
		case 3:
		case 4:
			io();
			break;
		case 5:
		case 6:
			mmio();
			break;
		case 7:
		case 8:
			debug_regs();
			break;
		case 9:
			if (o_.deterministic)
				a_.u8(0x90);
			else
				control_regs();
			break;
		case 10:
			if (o_.deterministic)
				a_.u8(0x90);
			else
				msr();
			break;
		case 11: /* CPUID */
			a_.mov_imm(EAX, r_.chance(4, 5) ? r_.pick(CPUID_LEAVES) : r_.u32());
			a_.mov_imm(ECX, r_.below(4));
			a_.bytes({0x0f, 0xa2});
			break;
		case 12:
			a_.u8(r_.pick({0xccu, 0xf1u, 0xf4u}));
			break;
		case 13:
			a_.bytes({0xcd, r_.pick({1u, 3u, 4u, 6u, 8u, 13u, 14u, 0x20u, 0x80u, 0xffu,
						 unsigned(r_.below(256))})});
			break;
		case 14:
			if (!a_.m64)
				a_.u8(0xce); /* INTO */
			else
				a_.bytes({0x0f, 0x0b}); /* UD2 */
			break;
		case 15: { /* POPF with TF (and random other flags) */
			/*
			 * Not in the differential guests: how a guest's own single-step #DB is
			 * ordered around MMIO completions and MOV SS shadows differs between dbgkvm
			 * (which intercepts #DB) and KVM (QEMU delivers it), and neither is known
			 * to be the hardware's (fuzz/README.md, open findings).
			 */
			const uint32_t tf = o_.deterministic ? 0 : 0x100;
			a_.push_imm(
			    uint32_t(0x2 | tf | (r_.next() & 0x2cd5) | (r_.coin() ? 0x200 : 0)));
			a_.u8(0x9d);
			break;
		}
		case 16: /* MOV SS, then something in its shadow */
			/* real mode: SS < 0x100 keeps the stack below the code (SP 0xF000) */
			a_.mov_imm(EAX, a_.m16
					    ? r_.below(0x100)
					    : r_.pick({unsigned(SEL_DATA), 0u, unsigned(SEL_CODE32),
						       unsigned(r_.below(0x10000))}));
			a_.bytes({0x8e, 0xd0});
			shadowed();
			break;
		case 17: /* POP SS (not in 64-bit mode), then something in its shadow */
			if (a_.m64) {
				a_.bytes({0x0f, 0x0b});
				break;
			}
			a_.push_imm(a_.m16 ? uint32_t(r_.below(0x100)) : uint32_t(SEL_DATA));
			a_.u8(0x17);
			shadowed();
			break;
		case 18: /* STI; shadowed instruction; CLI sometimes */
			a_.u8(0xfb);
			shadowed();
			if (r_.coin())
				a_.u8(0xfa);
			break;
		case 19: /* report a value */
			a_.mov_imm(EAX, r_.next());
			a_.o32();
			a_.bytes({0xe7, PORT_REPORT});
			break;
		case 20: /* a short jump over junk */ {
			const unsigned n = unsigned(r_.range(0, 8));
			a_.bytes({0xeb, n});
			for (unsigned i = 0; i < n; i++)
				a_.u8(unsigned(r_.below(256)));
			break;
		}
		case 21: /* RDTSC, NOP, SYSCALL, UD2 */
			switch (r_.below(4)) {
			case 0:
				a_.bytes({0x0f, 0x31});
				break;
			case 1:
				a_.u8(0x90);
				break;
			case 2:
				a_.bytes({0x0f, 0x05});
				break;
			default:
				a_.bytes({0x0f, 0x0b});
				break;
			}
			break;
		case 22: { /* load DS/ES */
			/*
			 * A null DS/ES in protected mode makes the next access #GP; QEMU's TCG does
			 * not check that, the access reaches MMIO, and KVM's emulator raises the
			 * #GP where dbgkvm (trusting the hardware's segment checks) exits: not for
			 * the differential test.
			 */
			const unsigned sel = o_.deterministic ? unsigned(SEL_DATA)
							      : r_.pick({unsigned(SEL_DATA), 0u});
			a_.mov_imm(EAX, a_.m16 ? r_.below(0x10000) : sel);
			a_.bytes({0x8e, r_.coin() ? 0xd8u : 0xc0u});
			break;
		}
		default: /* DR7 armed on this program's own code or data, then work */
		{
			const unsigned dr = unsigned(r_.below(4));
			a_.mov_imm(EAX, target_address(dr) & (a_.m64 ? ~0ull : 0xffffffffull));
			a_.mov_to_dr(dr, EAX);
			a_.mov_imm(EAX, dr7_value((r_.next() & 0xffff00ffull) | 0x400));
		}
			a_.mov_to_dr(7, EAX);
			break;
		}
	}
};

void stub(kt::Mode m, uint8_t *p, unsigned vec)
{
	unsigned n = 0;
	p[n++] = 0xb0; /* mov al, vec; out PORT_EXC, al */
	p[n++] = uint8_t(vec);
	p[n++] = 0xe6;
	p[n++] = PORT_EXC;
	/* The exceptions that push an error code (SDM Vol. 3A 6.15). */
	const bool ec = vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 ||
			vec == 29 || vec == 30;
	if (m == kt::Mode::Prot32 && ec) {
		const uint8_t add[] = {0x83, 0xc4, 0x04};
		memcpy(p + n, add, 3);
		n += 3;
	} else if (m == kt::Mode::Long64) {
		if (ec) {
			const uint8_t add[] = {0x48, 0x83, 0xc4, 0x08};
			memcpy(p + n, add, 4);
			n += 4;
		}
		p[n++] = 0x48; /* iretq */
	}
	p[n++] = 0xcf;
}

} // namespace

bool qemu_tcg_bug()
{
	return kt::machine() == "qemu-svm";
}

uint64_t qemu_safe_dr7(uint64_t dr7, const unsigned long long addr[4], bool real_mode)
{
	if (!qemu_tcg_bug())
		return dr7;
	for (int i = 0; i < 4; i++) {
		const bool safe = (addr[i] >= DATA_GPA && addr[i] < DATA_GPA + 0x1000) ||
				  (addr[i] >= MMIO_GPA && addr[i] < MMIO_GPA + 0x1000);
		if (!safe)
			dr7 &= ~(1ull << (16 + 4 * i)); /* R/W 01 or 11 becomes 00 or 10 */
		if (real_mode && !((dr7 >> (16 + 4 * i)) & 3))
			dr7 &= ~(3ull << (2 * i)); /* no instruction breakpoint: L and G off */
	}
	return dr7;
}

uint64_t breakpoint_target(Rng &r, uint64_t code_len)
{
	switch (r.below(4)) {
	case 0:
	case 1:
		return CODE_GPA + r.below(code_len + 16);
	case 2:
		return DATA_GPA + r.below(0x1000);
	default:
		return qemu_tcg_bug() ? MMIO_GPA + r.below(0x1000) : r.interesting64();
	}
}

Program generate(Rng &r, kt::Mode m, const GenOptions &o)
{
	if (o.random_bytes) {
		Program p;
		p.random_bytes = true;
		p.code.resize(r.range(1, o.max_len));
		r.fill(p.code.data(), p.code.size());
		return p;
	}
	return Gen(r, m, o).run();
}

void write_idt(Rng &r, kt::Mode m, IdtKind k, uint8_t *mem, uint64_t *base, uint16_t *limit)
{
	*base = m == kt::Mode::Real ? 0 : IDT_GPA;
	*limit = m == kt::Mode::Real ? 0x3ff : m == kt::Mode::Long64 ? 256 * 16 - 1 : 256 * 8 - 1;
	if (k == IdtKind::None) {
		*limit = 0;
		return;
	}
	for (unsigned v = 0; v < 256; v++)
		stub(m, mem + STUBS_GPA + v * STUB_STRIDE, v);
	uint8_t *idt = mem + *base;
	const unsigned size = m == kt::Mode::Real ? 4 : m == kt::Mode::Long64 ? 16 : 8;
	if (k == IdtKind::Random) {
		r.fill(idt, 256 * size);
		if (r.coin())
			*limit = uint16_t(r.below(0x10000));
		return;
	}
	for (unsigned v = 0; v < 256; v++) {
		uint8_t *g = idt + v * size;
		const uint64_t off = STUBS_GPA + v * STUB_STRIDE;
		if (m == kt::Mode::Real) {
			const uint32_t e = uint32_t((off - CODE_GPA) | (CODE_GPA >> 4) << 16);
			memcpy(g, &e, 4);
		} else {
			const uint16_t sel = m == kt::Mode::Long64 ? SEL_CODE64 : SEL_CODE32;
			const uint32_t type =
			    r.chance(1, 4) ? 0xf : 0xe; /* trap or interrupt gate */
			const uint32_t lo = uint32_t(off & 0xffff) | uint32_t(sel) << 16;
			const uint32_t hi = uint32_t(off & 0xffff0000) | 1u << 15 | type << 8;
			memcpy(g, &lo, 4);
			memcpy(g + 4, &hi, 4);
			if (m == kt::Mode::Long64)
				memset(g + 8, 0, 8);
		}
		if (k == IdtKind::Mixed && r.chance(1, 6)) {
			switch (r.below(4)) {
			case 0: /* not present */
				if (m != kt::Mode::Real)
					g[5] &= 0x7f;
				break;
			case 1: /* bad selector */
				if (m != kt::Mode::Real) {
					g[2] = uint8_t(r.below(256));
					g[3] = uint8_t(r.below(4));
				}
				break;
			case 2: /* pointing anywhere */
				g[0] = uint8_t(r.below(256));
				g[1] = uint8_t(r.below(256));
				break;
			default: /* anything */
				r.fill(g, size);
				break;
			}
		}
	}
	if (k == IdtKind::Mixed && r.chance(1, 4))
		*limit = uint16_t(r.below(*limit + 1));
}

void scramble_page_tables(Rng &r, uint8_t *mem, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa;
		switch (r.below(10)) {
		case 0:
			gpa = PML4_GPA + 8 * r.below(4);
			break;
		case 1:
		case 2:
			gpa = PDPT_GPA + 8 * r.below(PD_COUNT);
			break;
		default:
			gpa = PD_GPA + 8 * r.below(512 * PD_COUNT);
			if (gpa == PD_GPA && r.chance(9, 10))
				gpa += 8; /* mostly keep the 2 MiB the guest lives in */
			break;
		}
		uint64_t v;
		switch (r.below(5)) {
		case 0:
			v = 0;
			break;
		case 1: /* a 2 MiB page anywhere below 64 GiB */
			v = (r.below(1ull << 36) & ~0x1fffffull) | 0x83;
			break;
		case 2: /* a table somewhere in guest memory */
			v = (r.below(GUEST_MEM_SIZE) & ~0xfffull) | 0x3;
			break;
		case 3: /* a reserved bit, or NX */
			v = (0x83 | (r.coin() ? 1ull << r.range(40, 62) : 1ull << 63));
			break;
		default:
			v = r.next();
			break;
		}
		memcpy(mem + gpa, &v, 8);
	}
}

} // namespace fz
