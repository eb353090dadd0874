// SPDX-License-Identifier: GPL-2.0
//
// Guest page-table walker (SDM Vol. 3, chapter 4 "Paging"): pure, with every guest-physical read
// done through a callback, so it runs in the module and in host tests alike.
//
//   WalkResult walk(uint64_t gva, const PagingState &ps, ReadPhysFn read_qword, void *ctx,
//                   bool write, bool user, bool fetch);
//
// Modes: CR0.PG = 0 (identity, 32-bit addresses), 32-bit paging (4K/4M, PSE-36), PAE (4K/2M),
// 4-level (4K/2M/1G) and 5-level (CR4.LA57) paging. Checks: present, reserved bits (MAXPHYADDR,
// bits 62:52 of PAE entries, XD without EFER.NXE, large-page alignment, PS in PML4E/PML5E), R/W
// with CR0.WP, U/S, XD, SMEP and SMAP (explicit accesses; EFLAGS.AC lifts SMAP).
// Not modelled: protection keys (PK/PKS), accessed/dirty updates (entry_gpa[] tells the caller
// where the entries are), the PAE PDPTE registers (PDPTEs are read from memory at walk time, and a
// bad PDPTE gives a #PF with RSVD rather than the #GP of the MOV to CR3), 1G pages are assumed
// supported, and the paging-structure caches (a walk always sees memory).

#ifndef DBGKVM_EMULATE_PAGING_HPP
#define DBGKVM_EMULATE_PAGING_HPP

#include <cstdint>

#include "rt/x86_defs.hpp" // the CR0, CR4 and EFER bits the walker reads

namespace dbgkvm::emulate
{

struct PagingState {
	uint64_t cr0;
	uint64_t cr3;
	uint64_t cr4;
	uint64_t efer;
	bool rflags_ac;	    // EFLAGS.AC: supervisor data accesses to user pages allowed under SMAP
	uint8_t maxphyaddr; // CPUID 8000_0008h EAX[7:0]; 0 means 52
};

// Reads the 8 bytes at guest-physical gpa (always 8-byte aligned) into *val; false if the address
// is not backed by guest memory.
using ReadPhysFn = bool (*)(void *ctx, uint64_t gpa, uint64_t *val);

enum class WalkStatus : uint8_t {
	Ok,
	PageFault,    // inject #PF(error_code) with CR2 = gva
	NonCanonical, // #GP(0) (or #SS(0) for stack accesses): no walk happens
	ReadFailed,   // a paging structure is outside guest memory
};

// #PF error code bits (SDM Vol. 3, 4.7).
inline constexpr uint32_t kPfPresent = 1u << 0;
inline constexpr uint32_t kPfWrite = 1u << 1;
inline constexpr uint32_t kPfUser = 1u << 2;
inline constexpr uint32_t kPfRsvd = 1u << 3;
inline constexpr uint32_t kPfFetch = 1u << 4;

struct WalkResult {
	WalkStatus status;
	uint32_t error_code;   // PageFault only
	uint64_t gpa;	       // Ok only
	uint64_t page_size;    // Ok only: 4K, 2M, 4M or 1G
	uint8_t levels;	       // entries read
	uint64_t entry_gpa[5]; // address of each entry read, top level first
	uint64_t entry[5];     // value of each entry read
};

[[nodiscard]] WalkResult walk(uint64_t gva, const PagingState &ps, ReadPhysFn read_qword, void *ctx,
			      bool write, bool user, bool fetch);

// The last successful walk, and the entries it read. A walk is a pure function of the
// paging state, the access, the page of gva and the entries it reads (it sets no
// accessed or dirty bits), so when all of those are unchanged so is its result: a later
// walk of the same page re-reads the entries and compares them instead of walking. It
// is exact, not a TLB: a changed entry, anywhere on the path, means a fresh walk. An
// instruction fetch at the same RIP, exit after exit (a CPUID loop without NRIP save),
// is the case it is for.
class WalkMemo
{
public:
	[[nodiscard]] WalkResult walk(uint64_t gva, const PagingState &ps, ReadPhysFn read_qword,
				      void *ctx, bool write, bool user, bool fetch);
	void clear() { valid_ = false; }

private:
	bool same_entries(ReadPhysFn read_qword, void *ctx) const;

	bool valid_ = false;
	bool entries32_ = false; // 32-bit paging: 4-byte entries
	uint8_t access_ = 0;
	uint64_t page_ = 0; // gva >> 12
	PagingState ps_ = {};
	WalkResult res_ = {}; // for gva page_ << 12
};

} // namespace dbgkvm::emulate

#endif // DBGKVM_EMULATE_PAGING_HPP
