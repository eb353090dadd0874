// SPDX-License-Identifier: GPL-2.0
// The few x86 instructions the backends use directly (the debug registers, CR4). Kernel
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

// The host's own debug registers, saved around a guest entry that changes them. The
// kernel's hw_breakpoint_restore() is exported only to KVM from Linux 6.19, so the module
// keeps its own copy.
struct HostDebugRegs {
	u64 db[4];
	u64 dr6;
	u64 dr7;
	void save()
	{
		read_db(db);
		dr6 = read_dr<6>();
		dr7 = read_dr<7>();
	}
	void restore() const
	{
		write_dr<7>(0x400); // disarm before the addresses change
		write_db(db);
		write_dr<6>(dr6);
		write_dr<7>(dr7);
	}
	bool bps_active() const { return dr7 & 0xff; }
};

} // namespace dbgkvm::x86
