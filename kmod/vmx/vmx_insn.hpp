// SPDX-License-Identifier: GPL-2.0
// The VMX instructions (SDM Vol. 3, chapter 31 "VMX Instruction Reference"). Each
// returns false on VMfailInvalid (CF = 1) or VMfailValid (ZF = 1; the reason is then
// in VM_INSTRUCTION_ERROR of the current VMCS).
#pragma once
#include "rt/types.hpp"

namespace dbgkvm::vmx
{

inline bool vmxon(u64 pa)
{
	bool fail;
	asm volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

inline void vmxoff()
{
	asm volatile("vmxoff" ::: "cc", "memory");
}

inline bool vmclear(u64 pa)
{
	bool fail;
	asm volatile("vmclear %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

inline bool vmptrld(u64 pa)
{
	bool fail;
	asm volatile("vmptrld %1; setbe %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

inline u64 vmread(u32 field)
{
	u64 v = 0;
	asm volatile("vmread %1, %0" : "=r"(v) : "r"(u64{field}) : "cc");
	return v;
}

inline bool vmwrite(u32 field, u64 v)
{
	bool fail;
	asm volatile("vmwrite %1, %2; setbe %0" : "=qm"(fail) : "r"(v), "r"(u64{field}) : "cc");
	return !fail;
}

struct InvDesc {
	u64 a, b;
};

// INVEPT type 1: single context (one EPTP), 2: all contexts.
inline bool invept(u64 type, u64 eptp)
{
	InvDesc d{eptp, 0};
	bool fail;
	asm volatile("invept %1, %2; setbe %0" : "=qm"(fail) : "m"(d), "r"(type) : "cc", "memory");
	return !fail;
}

// The descriptor-table registers, for the host-state area (the control registers are
// in rt/x86.hpp).
struct [[gnu::packed]] DescPtr {
	u16 limit;
	u64 base;
};

inline u64 sgdt_base()
{
	DescPtr d;
	asm volatile("sgdt %0" : "=m"(d));
	return d.base;
}

inline u64 sidt_base()
{
	DescPtr d;
	asm volatile("sidt %0" : "=m"(d));
	return d.base;
}

inline u16 str_sel()
{
	u16 s;
	asm volatile("str %0" : "=r"(s));
	return s;
}

} // namespace dbgkvm::vmx
