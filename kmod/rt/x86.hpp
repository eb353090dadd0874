// SPDX-License-Identifier: GPL-2.0
// The few x86 instructions the module uses directly (the debug registers, CR4). Kernel
// services stay in the glue; these are plain instructions, legal at CPL 0.
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::x86
{

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

inline u64 read_cr4()
{
	u64 v;
	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

} // namespace dbgkvm::x86
