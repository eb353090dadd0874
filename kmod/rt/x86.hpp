// SPDX-License-Identifier: GPL-2.0
// The few x86 instructions the module uses directly (CPUID, RDTSC, the control and debug
// registers). Kernel services stay in the glue; these are plain instructions, legal at
// CPL 0. Module only: the constants the pure code shares are in rt/x86_defs.hpp.
#pragma once
#include "rt/types.hpp"
#include "rt/x86_defs.hpp"

namespace dbgkvm::x86
{

// regs: EAX, EBX, ECX, EDX.
inline void cpuid(u32 leaf, u32 subleaf, u32 regs[4])
{
	asm volatile("cpuid"
		     : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3])
		     : "a"(leaf), "c"(subleaf));
}

inline u64 rdtsc()
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (u64{hi} << 32) | lo;
}

template <int N> inline u64 read_dr()
{
	u64 v;
	asm volatile("mov %%db"
		     "%c1, %0"
		     : "=r"(v)
		     : "i"(N));
	return v;
}

template <int N> inline void write_dr(u64 v)
{
	asm volatile("mov %0, %%db"
		     "%c1"
		     :
		     : "r"(v), "i"(N));
}

inline void read_db(u64 db[4])
{
	db[0] = read_dr<0>();
	db[1] = read_dr<1>();
	db[2] = read_dr<2>();
	db[3] = read_dr<3>();
}

inline void write_db(const u64 db[4])
{
	write_dr<0>(db[0]);
	write_dr<1>(db[1]);
	write_dr<2>(db[2]);
	write_dr<3>(db[3]);
}

inline u64 read_cr0()
{
	u64 v;
	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

inline u64 read_cr2()
{
	u64 v;
	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

inline void write_cr2(u64 v)
{
	asm volatile("mov %0, %%cr2" : : "r"(v));
}

inline u64 read_cr3()
{
	u64 v;
	asm volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

inline u64 read_cr4()
{
	u64 v;
	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

} // namespace dbgkvm::x86
