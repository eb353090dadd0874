// SPDX-License-Identifier: GPL-2.0
// libFuzzer harness: the debug-register model (kmod/debugreg) as the core drives it
// (debugreg/README.md, "Calls, in order"): one vCPU's State, a fake CPU (debugreg_fake_cpu.hpp)
// entered and exited through EntrySwitch, and a sequence of operations decoded from the input:
// scheduling (vcpu_load, other contexts clobbering DR0-3, host breakpoints), guest entries with
// native DR writes while the guest owns the registers, MOV-DR exits, #DB exits (VMX or SVM),
// emulated instructions (code breakpoints, single-step), #DB delivery, INIT, and the ioctls
// KVM_SET_GUEST_DEBUG, KVM_SET/GET_DEBUGREGS.
//
// Header: vendor, knobs, guest CPUID (RTM, bus-lock detect), SVM exit DR7 behaviour (1 byte).
//
// Checked after every operation (the rules the headers and README state):
//   - switch_db_regs: only the three KVM bits; BP_ENABLED iff the effective DR7 arms L0-G3;
//     eff_db is db unless USE_HW_BP, then userspace's debugreg[0..3];
//   - the MOV-DR intercept the pushes asked for is should_intercept_dr_access(); userspace
//     debugging (guest_debug != 0) never leaves the registers to the guest (KVM WARNs on it);
//   - DR6/DR7 keep their fixed bits (SDM Vol. 3, 18.2: DR6 bits 31:17 and 10:4 read 1, bit 12
//     reads 0; DR7 bit 10 reads 1, bits 12, 14, 15 read 0; bits 63:32 zero) through every guest
//     path; only KVM_SET_DEBUGREGS stores what userspace gives (documented);
//   - MOV DR: the order CPL -> #UD -> GD -> value, DR4/DR5 aliasing, what is stored, the state
//     untouched on a fault; on_dr_intercept == hand over, or exactly set_dr/get_dr;
//   - entry plans: each field as dr_switch.hpp states it; DR0-3 never written while DR7 is
//     armed; while the guest runs, hardware DR0-3 hold eff_db whenever a breakpoint is armed or
//     the guest owns them, and a guest that owns them sees its own DR0-3/DR6/DR7; after the
//     exit the sync took exactly what the guest wrote, the host got back its breakpoints (all
//     of DR0-3/DR6/DR7 when it had any) and never keeps a guest enable in DR7; VMX resets DR6;
//   - #DB payload merge (merge_db_payload bit by bit, dr6_to_payload round trip), deliver_db,
//     the #DB intercepts (SVM: the VMCB DR6 holds exactly this #DB's causes, seed 001),
//     code breakpoints and single-step against an independent breakpoint matcher;
//   - KVM_SET_GUEST_DEBUG and KVM_SET/GET_DEBUGREGS: errors change nothing, RFLAGS.TF rules.

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "debugreg/dr_entry.hpp"
#include "debugreg_fake_cpu.hpp"
#include "fuzz_util.hpp"

using namespace dbgkvm::debugreg;
using dbgkvm::fuzz::FakeCpu;
using dbgkvm::fuzz::Input;

namespace
{

constexpr unsigned kMaxOps = 192;

// What a #DB can report (SDM Vol. 3, "Exit Qualification for Debug Exceptions" and the
// pending-debug-exceptions field): B0-B3, BLD, enabled breakpoint, BD, BS, BT, RTM.
constexpr uint64_t kPayloadBits =
    DR_TRAP_BITS | DR6_BUS_LOCK | DR6_PENDING_DBG_BP | DR6_BD | DR6_BS | DR6_BT | DR6_RTM;

bool valid_dr6(uint64_t v)
{
	return (v >> 32) == 0 && (v & DR6_FIXED_1) == DR6_FIXED_1 && !(v & DR6_PENDING_DBG_BP);
}

bool valid_dr7(uint64_t v)
{
	return (v >> 32) == 0 && (v & ~DR7_VOLATILE & 0xffffffffull) == DR7_FIXED_1;
}

bool same_state(const State &a, const State &b)
{
	for (int i = 0; i < NR_DB_REGS; i++)
		if (a.db[i] != b.db[i] || a.eff_db[i] != b.eff_db[i])
			return false;
	return a.dr6 == b.dr6 && a.dr7 == b.dr7 && a.guest_debug_dr7 == b.guest_debug_dr7 &&
	       a.singlestep_rip == b.singlestep_rip && a.guest_debug == b.guest_debug &&
	       a.switch_db_regs == b.switch_db_regs;
}

bool same_exit(const DebugExit &a, const DebugExit &b)
{
	return a.exception == b.exception && a.pc == b.pc && a.dr6 == b.dr6 && a.dr7 == b.dr7;
}

// Execute breakpoints of dr7 over db matching addr, written from SDM Vol. 3, 18.2.4/18.2.5:
// L or G set, R/W = 00, LEN = 00 (other lengths: no match, as KVM).
uint64_t exec_hits(uint64_t dr7, const uint64_t db[NR_DB_REGS], uint64_t addr)
{
	uint64_t hits = 0;
	for (unsigned i = 0; i < NR_DB_REGS; i++) {
		const bool enabled = (dr7 >> (2 * i)) & 3;
		const unsigned rw = (dr7 >> (16 + 4 * i)) & 3, len = (dr7 >> (18 + 4 * i)) & 3;
		if (enabled && rw == 0 && len == 0 && db[i] == addr)
			hits |= 1ull << i;
	}
	return hits;
}

struct Harness {
	State s{};
	Knobs k{};
	Vendor vendor = Vendor::Vmx;
	FakeCpu cpu;
	EntrySwitch<FakeCpu> sw;
	bool has_rtm = false, has_bld = false;
	bool svm_exit_dr7_inert = false;
	bool intercept = true; // MOV-DR exiting / DR intercepts as last pushed
	uint64_t user_db[NR_DB_REGS] = {};
	uint64_t user_dr7 = 0;
	bool dr6_exempt = false, dr7_exempt = false; // this operation may store any DR6/DR7

	// ---- helpers

	GuestCtx ctx(Input &in)
	{
		const uint8_t b = in.u8();
		GuestCtx g;
		g.cpl = (b & 0x30) == 0x30 ? b & 3 : 0;
		g.cr4_de = b & 4;
		g.has_rtm = has_rtm;
		g.has_bus_lock_detect = has_bld;
		g.linear_rip = (b & 0x80) ? in.u64() : 0x1000 + (b & 0x40);
		return g;
	}

	// A value for a debug register or an address: often one the state already holds, so
	// breakpoints match.
	uint64_t value(Input &in)
	{
		const uint8_t b = in.u8();
		switch (b & 7) {
		case 0:
			return s.db[(b >> 3) & 3];
		case 1:
			return s.eff_db[(b >> 3) & 3];
		case 2:
			return in.u32();
		case 3:
			return b >> 3;
		default:
			return in.u64();
		}
	}

	// The backend applying Push flags (svm_vcpu.cpp / vmx_debug.cpp push_debug).
	void apply_push(uint32_t push)
	{
		if (push & PUSH_DR_INTERCEPT)
			intercept = should_intercept_dr_access(s);
		if (push & PUSH_DR7)
			cpu.vmcs_dr7 = effective_dr7(s);
		if ((push & PUSH_DR6) && vendor == Vendor::Svm)
			cpu.vmcb_dr6 = hw_dr6(s, Vendor::Svm, k);
	}

	void check_state() const
	{
		FUZZ_CHECK((s.switch_db_regs & ~(KVM_DEBUGREG_BP_ENABLED | KVM_DEBUGREG_WONT_EXIT |
						 KVM_DEBUGREG_RELOAD)) == 0);
		FUZZ_CHECK(((s.switch_db_regs & KVM_DEBUGREG_BP_ENABLED) != 0) ==
			   ((effective_dr7(s) & DR7_BP_EN_MASK) != 0));
		for (int i = 0; i < NR_DB_REGS; i++)
			FUZZ_CHECK(s.eff_db[i] == (guest_debugging_hw(s) ? user_db[i] : s.db[i]));
		if (guest_debugging_hw(s))
			FUZZ_CHECK(s.guest_debug_dr7 == user_dr7);
		FUZZ_CHECK((s.guest_debug & ~GUESTDBG_VALID_MASK) == 0);
		FUZZ_CHECK(s.guest_debug == 0 || (s.guest_debug & GUESTDBG_ENABLE));
		FUZZ_CHECK(intercept == should_intercept_dr_access(s));
		// hands_over_dr_access() only gives the registers away when nobody debugs the
		// guest; they must not stay with the guest once userspace starts debugging it.
		FUZZ_CHECK(s.guest_debug == 0 || !needs_sync(s));
	}

	// ---- #DB delivery

	void deliver(uint64_t payload)
	{
		const State before = s;
		if (payload & ~kPayloadBits)
			dr6_exempt = true; // no #DB reports such bits
		const uint32_t push = deliver_db(s, payload);
		FUZZ_CHECK(s.dr6 == merge_db_payload(before.dr6, payload));
		FUZZ_CHECK((s.dr6 & DR_TRAP_BITS) == (payload & DR_TRAP_BITS));
		FUZZ_CHECK(s.dr7 == (before.dr7 & ~DR7_GD)); // SDM 18.2.4: GD cleared on #DB
		FUZZ_CHECK(push & PUSH_DR6);
		if (before.dr7 & DR7_GD)
			FUZZ_CHECK(push & PUSH_DR7);
		apply_push(push);
	}

	// merge_db_payload() bit by bit (db_payload.hpp): B0-B3 from the payload, bit 12 clear,
	// active-low bits set unless the payload reports them, the rest sticky OR payload.
	static void check_merge(uint64_t dr6, uint64_t payload)
	{
		const uint64_t m = merge_db_payload(dr6, payload);
		for (unsigned i = 0; i < 64; i++) {
			const uint64_t bit = 1ull << i;
			bool want;
			if (bit & DR_TRAP_BITS)
				want = payload & bit;
			else if (bit == DR6_PENDING_DBG_BP)
				want = false;
			else if (bit & DR6_ACTIVE_LOW)
				want = !(payload & bit);
			else
				want = (dr6 | payload) & bit;
			FUZZ_CHECK(((m & bit) != 0) == want);
		}
		const uint64_t p = payload & DR6_VOLATILE;
		FUZZ_CHECK(dr6_to_payload(merge_db_payload(DR6_ACTIVE_LOW, p)) == p);
	}

	// ---- guest MOV DR (emulated, or intercepted)

	// What a MOV DR must do, from dr_rules.hpp: CPL > 0 -> #GP; DR8+ or DR4/5 with CR4.DE
	// -> #UD; DR7.GD -> #DB (or KVM_EXIT_DEBUG under USE_HW_BP); bits 63:32 of DR6/DR7 ->
	// #GP; else done. Checks r and the state change against `before`.
	void check_mov_dr(const State &before, int dr, bool write, uint64_t val, const GuestCtx &g,
			  const DrResult &r)
	{
		const bool unchanged = same_state(before, s);
		if (g.cpl > 0) {
			FUZZ_CHECK(r.action == DrAction::InjectGP && unchanged);
			return;
		}
		if (dr < 0 || dr > 7 || ((dr == 4 || dr == 5) && g.cr4_de)) {
			FUZZ_CHECK(r.action == DrAction::InjectUD && unchanged);
			return;
		}
		const uint64_t eff7 = effective_dr7(before);
		if (eff7 & DR7_GD) {
			FUZZ_CHECK(unchanged);
			if (guest_debugging_hw(before)) {
				FUZZ_CHECK(r.action == DrAction::ExitDebug);
				const DebugExit want{VEC_DB, g.linear_rip, DR6_ACTIVE_LOW | DR6_BD,
						     eff7};
				FUZZ_CHECK(same_exit(r.exit, want));
			} else {
				FUZZ_CHECK(r.action == DrAction::QueueDB && r.db_payload == DR6_BD);
			}
			return;
		}
		const int reg = dr == 4 ? 6 : dr == 5 ? 7 : dr; // CR4.DE = 0: aliases
		if (!write) {
			FUZZ_CHECK(r.action == DrAction::Done && unchanged);
			FUZZ_CHECK(r.value == (reg < 4	  ? before.db[reg]
					       : reg == 6 ? before.dr6
							  : before.dr7));
			return;
		}
		if (reg >= 6 && (val >> 32)) {
			FUZZ_CHECK(r.action == DrAction::InjectGP && unchanged);
			return;
		}
		FUZZ_CHECK(r.action == DrAction::Done);
		State want = before;
		if (reg < 4) {
			want.db[reg] = val;
			if (!guest_debugging_hw(before)) {
				want.eff_db[reg] = val;
				want.switch_db_regs |= KVM_DEBUGREG_RELOAD;
				FUZZ_CHECK(r.push & PUSH_EFF_DB);
			}
		} else if (reg == 6) {
			// Fixed-1 bits, and RTM/BLD read 1 without the feature (SDM 18.2.3).
			uint64_t fixed = DR6_FIXED_1;
			if (!g.has_rtm)
				fixed |= DR6_RTM;
			if (!g.has_bus_lock_detect)
				fixed |= DR6_BUS_LOCK;
			want.dr6 = (val & DR6_VOLATILE) | fixed;
			FUZZ_CHECK(valid_dr6(s.dr6));
			FUZZ_CHECK(r.push & PUSH_DR6);
		} else {
			want.dr7 = (val & DR7_VOLATILE) | DR7_FIXED_1;
			FUZZ_CHECK(valid_dr7(s.dr7));
			FUZZ_CHECK(r.push & PUSH_DR7);
			want.switch_db_regs &= ~KVM_DEBUGREG_BP_ENABLED;
			if (effective_dr7(want) & DR7_BP_EN_MASK)
				want.switch_db_regs |= KVM_DEBUGREG_BP_ENABLED;
		}
		FUZZ_CHECK(same_state(want, s));
	}

	void handle_dr_result(const DrResult &r)
	{
		apply_push(r.push);
		if (r.action == DrAction::QueueDB)
			deliver(r.db_payload);
	}

	void op_emulated_mov_dr(Input &in)
	{
		const int dr = static_cast<int>(in.u8() % 11) - 1; // -1..9
		const bool write = in.boolean();
		const uint64_t val = value(in);
		const GuestCtx g = ctx(in);
		const State before = s;
		const DrResult r = write ? set_dr(s, dr, val, g) : get_dr(s, dr, g);
		check_mov_dr(before, dr, write, val, g, r);
		handle_dr_result(r);
	}

	// A MOV-DR exit (only while intercepted), handled as core/debug.cpp does.
	void op_mov_dr_exit(Input &in)
	{
		const int dr = in.u8() % 8;
		const bool write = in.boolean();
		const uint64_t val = value(in);
		const GuestCtx g = ctx(in);
		if (!intercept)
			return; // the guest owns the registers: no exit
		const State before = s;
		const bool hand = hands_over_dr_access(s, dr, g);
		FUZZ_CHECK(same_state(before, s));
		const DrResult r = on_dr_intercept(s, dr, write, val, g);
		FUZZ_CHECK(hand == (r.action == DrAction::Reenter));
		if (hand) {
			// Only a clean access, only with nobody debugging the guest (KVM
			// dr_interception).
			FUZZ_CHECK(before.guest_debug == 0);
			FUZZ_CHECK(r.push & PUSH_DR_INTERCEPT);
			State want = before;
			want.switch_db_regs |= KVM_DEBUGREG_WONT_EXIT;
			FUZZ_CHECK(same_state(want, s));
			State probe = before;
			FUZZ_CHECK(get_dr(probe, dr, g).action == DrAction::Done);
		} else {
			check_mov_dr(before, dr, write, val, g, r);
		}
		handle_dr_result(r);
	}

	// ---- the world switch

	void op_run(Input &in)
	{
		const State before = s;
		uint64_t host_db[NR_DB_REGS];
		cpu.read_db(host_db);
		const uint64_t host_dr6 = cpu.dr6, host_dr7 = cpu.dr7;
		const bool host_bps = host_dr7 & DR7_BP_EN_MASK;
		const bool owned = needs_sync(s);
		FUZZ_CHECK(s.guest_debug == 0 || intercept);

		cpu.vendor = vendor;
		const EntryPlan p = sw.enter(s, vendor, k, cpu);

		// The plan (dr_switch.hpp).
		const uint32_t sdr = before.switch_db_regs;
		FUZZ_CHECK(p.load_db == ((sdr & KVM_DEBUGREG_RELOAD) || host_bps));
		FUZZ_CHECK(p.verify_db ==
			   (!p.load_db && !k.no_reload_on_load &&
			    (sdr & (KVM_DEBUGREG_BP_ENABLED | KVM_DEBUGREG_WONT_EXIT))));
		FUZZ_CHECK(p.dr7_inert == (p.load_db || host_bps));
		for (int i = 0; i < NR_DB_REGS; i++)
			FUZZ_CHECK(p.db[i] == before.eff_db[i]);
		FUZZ_CHECK(p.dr7 == effective_dr7(before));
		FUZZ_CHECK(p.restore_host == host_bps);
		if (vendor == Vendor::Vmx) {
			FUZZ_CHECK(p.load_dr6 == owned && !p.write_vmcb_dr6 && p.dr6 == before.dr6);
		} else {
			FUZZ_CHECK(p.write_vmcb_dr6 && !p.load_dr6);
			FUZZ_CHECK(p.dr6 == ((owned || k.svm_clobber_guest_dr6) ? before.dr6
										: DR6_ACTIVE_LOW));
		}
		FUZZ_CHECK(p.rewrite_host_dr7 ==
			   (vendor == Vendor::Svm && !p.restore_host && (p.dr7 & DR7_BP_EN_MASK)));
		FUZZ_CHECK(p.reset_host_dr6 == p.load_dr6);
		FUZZ_CHECK(!(s.switch_db_regs & KVM_DEBUGREG_RELOAD));

		// What the guest runs with.
		FUZZ_CHECK(cpu.vmcs_dr7 == effective_dr7(s));
		if (vendor == Vendor::Svm)
			FUZZ_CHECK(cpu.vmcb_dr6 == hw_dr6(s, Vendor::Svm, k));
		if (!k.no_reload_on_load && ((effective_dr7(s) & DR7_BP_EN_MASK) || owned))
			for (int i = 0; i < NR_DB_REGS; i++)
				FUZZ_CHECK(cpu.dr[i] == s.eff_db[i]);
		if (!intercept && !k.no_reload_on_load) {
			// The guest owns the registers: it sees its own.
			for (int i = 0; i < NR_DB_REGS; i++)
				FUZZ_CHECK(cpu.dr[i] == s.db[i]);
			FUZZ_CHECK(cpu.vmcs_dr7 == s.dr7);
			FUZZ_CHECK(cpu.guest_dr6() == s.dr6);
		}

		// VM entry, the guest (native writes if it owns the registers), VM exit.
		const uint64_t vmrun_dr7 = cpu.dr7;
		cpu.dr7 = cpu.vmcs_dr7;
		for (unsigned n = in.u8() % 5; n; n--) {
			const uint8_t which = in.u8();
			const uint64_t v = value(in);
			if (!intercept)
				cpu.guest_write(which, v);
		}
		uint64_t g_db[NR_DB_REGS];
		cpu.read_db(g_db);
		const uint64_t g_dr6 = cpu.guest_dr6(), g_dr7 = cpu.vmcs_dr7;
		if (vendor == Vendor::Vmx || svm_exit_dr7_inert)
			cpu.dr7 = DR7_FIXED_1;
		else
			cpu.dr7 = vmrun_dr7;
		cpu.pushed = 0;
		sw.exit(s, cpu);
		apply_push(cpu.pushed);

		if (owned) {
			// sync_dirty_debug_regs took what the guest left and the intercept is back.
			for (int i = 0; i < NR_DB_REGS; i++)
				FUZZ_CHECK(s.db[i] == g_db[i]);
			FUZZ_CHECK(s.dr6 == g_dr6 && s.dr7 == g_dr7);
			FUZZ_CHECK(!needs_sync(s) && intercept);
		}
		// The host: none of the guest's enables, its own breakpoints back.
		FUZZ_CHECK((cpu.dr7 & DR7_BP_EN_MASK) == (host_dr7 & DR7_BP_EN_MASK));
		if (host_bps) {
			for (int i = 0; i < NR_DB_REGS; i++)
				FUZZ_CHECK(cpu.dr[i] == host_db[i]);
			FUZZ_CHECK(cpu.dr6 == host_dr6 && cpu.dr7 == host_dr7);
			FUZZ_CHECK(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
		} else if (vendor == Vendor::Vmx && p.load_dr6) {
			FUZZ_CHECK(cpu.dr6 == DR6_ACTIVE_LOW); // no guest cause in a host #DB
		}
	}

	// ---- #DB intercepts

	void op_db_exit(Input &in)
	{
		const uint64_t causes = in.u32() & kPayloadBits;
		const uint64_t pc = in.u64();
		const State before = s;
		if (vendor == Vendor::Vmx) {
			const DbIntercept r = on_db_intercept_vmx(s, causes, pc);
			FUZZ_CHECK(same_state(before, s) && r.push == 0);
			if (!db_exits_to_user(s)) {
				FUZZ_CHECK(r.action == DbAction::QueueDB && r.payload == causes);
				deliver(r.payload);
			} else {
				FUZZ_CHECK(r.action == DbAction::ExitDebug);
				const DebugExit want{VEC_DB, pc, causes | DR6_ACTIVE_LOW,
						     effective_dr7(s)};
				FUZZ_CHECK(same_exit(r.exit, want));
			}
			return;
		}
		// SVM writes the VMCB DR6 as if the #DB were delivered (APM Vol. 2, 15.12).
		const uint64_t entry_dr6 = cpu.vmcb_dr6;
		const uint64_t vmcb = merge_db_payload(entry_dr6, causes);
		cpu.vmcb_dr6 = vmcb;
		const DbIntercept r = on_db_intercept_svm(s, vmcb, pc, k);
		if (!db_exits_to_user(before)) {
			FUZZ_CHECK(same_state(before, s));
			FUZZ_CHECK(r.action == DbAction::QueueDB &&
				   r.payload == dr6_to_payload(vmcb));
			// Seed 001: the guest ran with DR6_ACTIVE_LOW unless it owned the
			// registers, so the payload is exactly this #DB's causes.
			if (entry_dr6 == DR6_ACTIVE_LOW)
				FUZZ_CHECK(r.payload == (causes & ~DR6_PENDING_DBG_BP));
			apply_push(r.push);
			deliver(r.payload);
			return;
		}
		FUZZ_CHECK(r.action == DbAction::ExitDebug);
		const DebugExit want{VEC_DB, pc, vmcb, effective_dr7(before)};
		FUZZ_CHECK(same_exit(r.exit, want));
		FUZZ_CHECK(r.push & PUSH_DR6);
		if (k.svm_clobber_guest_dr6) {
			dr6_exempt = true;
		} else {
			FUZZ_CHECK(same_state(before, s)); // never copied into the guest's dr6
		}
		apply_push(r.push);
		if (!k.svm_clobber_guest_dr6 && !needs_sync(s))
			FUZZ_CHECK(cpu.vmcb_dr6 == DR6_ACTIVE_LOW); // reset before the next run
	}

	// ---- an emulated instruction (emulation_checks.hpp)

	uint64_t user_hits(uint64_t addr) const
	{
		if (!guest_debugging_hw(s) || !(s.guest_debug_dr7 & DR7_BP_EN_MASK))
			return 0;
		return exec_hits(s.guest_debug_dr7, s.eff_db, addr);
	}
	uint64_t guest_hits(uint64_t addr) const
	{
		return (s.dr7 & DR7_BP_EN_MASK) ? exec_hits(s.dr7, s.db, addr) : 0;
	}

	void op_emulated_insn(Input &in)
	{
		const uint64_t rip = value(in);
		const uint8_t b = in.u8();
		const bool rf = b & 1, movss = b & 2, tf = b & 4;
		const uint64_t next = (b & 8) ? value(in) : rip + 1 + (b >> 4);
		const State before = s;
		const CodeBpResult c = check_code_breakpoint(s, rip, rf, movss, k);
		FUZZ_CHECK(same_state(before, s));
		if (k.skip_code_bp_check) {
			FUZZ_CHECK(c.action == DbgAction::None);
		} else if (const uint64_t u = user_hits(rip)) {
			FUZZ_CHECK(c.action == DbgAction::ExitDebug);
			const DebugExit want{VEC_DB, rip, DR6_ACTIVE_LOW | u, s.guest_debug_dr7};
			FUZZ_CHECK(same_exit(c.exit, want));
			return;
		} else if (rf || movss) {
			FUZZ_CHECK(c.action == DbgAction::None); // fault-like code #DB suppressed
		} else if (const uint64_t h = guest_hits(rip)) {
			FUZZ_CHECK(c.action == DbgAction::QueueDB && c.payload == h);
			deliver(c.payload);
			return;
		} else {
			FUZZ_CHECK(c.action == DbgAction::None);
		}
		if (c.action != DbgAction::None)
			return;

		const StepResult r = after_emulated_insn(s, {next, tf}, k);
		FUZZ_CHECK(same_state(before, s));
		FUZZ_CHECK(r.clear_rf);
		if (s.guest_debug & GUESTDBG_SINGLESTEP) {
			const uint64_t u = k.single_cause_on_coincident ? 0 : user_hits(next);
			FUZZ_CHECK(r.action == DbgAction::ExitDebug);
			const DebugExit want{VEC_DB, next, DR6_ACTIVE_LOW | DR6_BS | u,
					     effective_dr7(s)};
			FUZZ_CHECK(same_exit(r.exit, want));
		} else if (tf) {
			const uint64_t h = k.single_cause_on_coincident ? 0 : guest_hits(next);
			FUZZ_CHECK(r.action == DbgAction::QueueDB && r.payload == (DR6_BS | h));
			deliver(r.payload);
		} else {
			FUZZ_CHECK(r.action == DbgAction::None);
		}
	}

	// ---- ioctls

	void op_set_guest_debug(Input &in)
	{
		const uint8_t sel = in.u8();
		GuestDebugReq req{};
		if (sel & 0x80) {
			req.control = in.u32();
		} else {
			static constexpr uint32_t kBits[] = {
			    GUESTDBG_ENABLE,	GUESTDBG_SINGLESTEP, GUESTDBG_USE_SW_BP,
			    GUESTDBG_USE_HW_BP, GUESTDBG_INJECT_DB,  GUESTDBG_INJECT_BP,
			    GUESTDBG_BLOCKIRQ};
			const uint8_t bits = in.u8();
			for (unsigned i = 0; i < 7; i++)
				if (bits & (1u << i))
					req.control |= kBits[i];
		}
		for (int i = 0; i < NR_DB_REGS; i++)
			req.debugreg[i] = value(in);
		req.debugreg[7] = in.u32();
		const bool pending = sel & 1;
		const uint64_t hw_rflags = in.u64();
		const uint64_t rip = (sel & 2) ? s.singlestep_rip : value(in);

		const State before = s;
		const GuestDebugResult r = set_guest_debug(s, req, pending, hw_rflags, rip);
		if (req.control & ~GUESTDBG_VALID_MASK) {
			FUZZ_CHECK(r.err == -DR_EINVAL && same_state(before, s));
			return;
		}
		const uint32_t inject = GUESTDBG_INJECT_DB | GUESTDBG_INJECT_BP;
		if ((req.control & inject) && pending) {
			FUZZ_CHECK(r.err == -DR_EBUSY && same_state(before, s));
			return;
		}
		FUZZ_CHECK(r.err == 0);
		FUZZ_CHECK(r.queue_db == ((req.control & GUESTDBG_INJECT_DB) != 0));
		FUZZ_CHECK(r.queue_bp == ((req.control & inject) == GUESTDBG_INJECT_BP));
		FUZZ_CHECK(s.guest_debug == ((req.control & GUESTDBG_ENABLE) ? req.control : 0));
		FUZZ_CHECK(r.intercept_bp == ((s.guest_debug & GUESTDBG_USE_SW_BP) != 0));
		if (guest_debugging_hw(s)) {
			for (int i = 0; i < NR_DB_REGS; i++)
				user_db[i] = req.debugreg[i];
			user_dr7 = req.debugreg[7];
		}
		for (int i = 0; i < NR_DB_REGS; i++)
			FUZZ_CHECK(s.db[i] == before.db[i]);
		FUZZ_CHECK(s.dr6 == before.dr6 && s.dr7 == before.dr7);
		FUZZ_CHECK(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
		// RFLAGS: TF hidden under the old SINGLESTEP, forced under the new one.
		uint64_t want = hw_rflags;
		if (before.guest_debug & GUESTDBG_SINGLESTEP)
			want &= ~RFLAGS_TF;
		if (s.guest_debug & GUESTDBG_SINGLESTEP) {
			FUZZ_CHECK(s.singlestep_rip == rip);
			want |= RFLAGS_TF;
		}
		FUZZ_CHECK(r.rflags == want);
		apply_push(r.push);
		if (r.queue_db)
			deliver(0);
	}

	void op_debugregs(Input &in)
	{
		const uint8_t sel = in.u8();
		Debugregs d{};
		for (int i = 0; i < NR_DB_REGS; i++)
			d.db[i] = value(in);
		d.dr6 = (sel & 1) ? in.u64() : in.u32();
		d.dr7 = (sel & 2) ? in.u64() : in.u32();
		if (sel & 4)
			d.flags = in.u64();
		const State before = s;
		uint32_t push = ~0u;
		const int err = set_debugregs(s, d, &push);
		if (d.flags || (d.dr6 >> 32) || (d.dr7 >> 32)) {
			FUZZ_CHECK(err == -DR_EINVAL && push == PUSH_NONE && same_state(before, s));
		} else {
			FUZZ_CHECK(err == 0);
			dr6_exempt = dr7_exempt = true; // stored as given, like KVM
			apply_push(push);
		}
		Debugregs out;
		get_debugregs(s, out);
		for (int i = 0; i < NR_DB_REGS; i++)
			FUZZ_CHECK(out.db[i] == s.db[i] && (err || out.db[i] == d.db[i]));
		FUZZ_CHECK(out.dr6 == s.dr6 && out.dr7 == s.dr7 && out.flags == 0);
		if (!err)
			FUZZ_CHECK(out.dr6 == d.dr6 && out.dr7 == d.dr7);
		for (const uint64_t r : out.reserved)
			FUZZ_CHECK(r == 0);
	}

	// ---- INIT, scheduling, the host, small helpers

	void op_reset()
	{
		const State before = s;
		const uint32_t push = reset(s);
		for (int i = 0; i < NR_DB_REGS; i++) {
			FUZZ_CHECK(s.db[i] == 0);
			FUZZ_CHECK(s.eff_db[i] ==
				   (guest_debugging_hw(before) ? before.eff_db[i] : 0));
		}
		FUZZ_CHECK(s.dr6 == DR6_ACTIVE_LOW && s.dr7 == DR7_RESET);
		FUZZ_CHECK(s.guest_debug == before.guest_debug);
		FUZZ_CHECK(s.guest_debug_dr7 == before.guest_debug_dr7);
		FUZZ_CHECK((push & PUSH_DR6) && (push & PUSH_DR7));
		apply_push(push);
	}

	void op_sched(Input &in)
	{
		// Another context used this CPU's DR0-3; the vCPU thread gets it back.
		if (in.boolean())
			for (int i = 0; i < NR_DB_REGS; i++)
				cpu.dr[i] = in.u64();
		vcpu_load(s, k);
		if (!k.no_reload_on_load)
			FUZZ_CHECK(s.switch_db_regs & KVM_DEBUGREG_RELOAD);
	}

	void op_host(Input &in)
	{
		const uint8_t b = in.u8();
		if (b & 1) {
			// A per-CPU perf breakpoint installed and removed between two entries,
			// without a vcpu_load (the verify_db safety net).
			cpu.dr[(b >> 1) & 3] = value(in);
		} else {
			// The host arms (or disarms) breakpoints of its own.
			cpu.dr7 = DR7_FIXED_1 | in.u8();
			cpu.dr6 = DR6_ACTIVE_LOW | (b >> 4);
		}
	}

	void op_misc(Input &in)
	{
		const uint64_t rflags = in.u64();
		const uint64_t rip = (rflags & 1) ? s.singlestep_rip : value(in);
		const bool ss = s.guest_debug & GUESTDBG_SINGLESTEP;
		const uint64_t g = guest_rflags(s, rflags);
		FUZZ_CHECK(g == (ss ? rflags & ~RFLAGS_TF : rflags));
		const uint64_t h = hw_rflags_for(s, g, rip);
		FUZZ_CHECK(h == ((ss && rip == s.singlestep_rip) ? g | RFLAGS_TF : g));
		FUZZ_CHECK(irq_injection_blocked(s) == ((s.guest_debug & GUESTDBG_BLOCKIRQ) != 0));
		FUZZ_CHECK(intercept_bp(s) == ((s.guest_debug & GUESTDBG_USE_SW_BP) != 0));
		const int n = static_cast<int8_t>(in.u8());
		const uint64_t dr7 = effective_dr7(s);
		const DebugExit bp = exit_hw_breakpoint(n, rip, dr7);
		FUZZ_CHECK(bp.exception == VEC_DB && bp.pc == rip && bp.dr7 == dr7);
		FUZZ_CHECK(bp.dr6 == (DR6_ACTIVE_LOW | (1ull << (static_cast<unsigned>(n) & 3))));
		FUZZ_CHECK(exit_single_step(rip, dr7).dr6 == (DR6_ACTIVE_LOW | DR6_BS));
		FUZZ_CHECK(exit_general_detect(rip, dr7).dr6 == (DR6_ACTIVE_LOW | DR6_BD));
		const DebugExit sw_bp = exit_sw_breakpoint(rip);
		FUZZ_CHECK(sw_bp.exception == VEC_BP && sw_bp.dr6 == 0 && sw_bp.dr7 == 0);
		check_merge(value(in), value(in));
	}

	// Operations (op byte % 14).
	void step(Input &in)
	{
		const bool v6 = valid_dr6(s.dr6), v7 = valid_dr7(s.dr7);
		dr6_exempt = dr7_exempt = false;
		const unsigned op = in.u8() % 14;
		if (dbgkvm::fuzz::tracing())
			std::fprintf(stderr,
				     "op %2u: sdr %x guest_debug %#x dr6 %#" PRIx64 " dr7 %#" PRIx64
				     " intercept %d\n",
				     op, s.switch_db_regs, s.guest_debug, s.dr6, s.dr7, intercept);
		switch (op) {
		case 0:
			op_sched(in);
			break;
		case 1:
			op_host(in);
			break;
		case 2:
		case 3:
			op_run(in);
			break;
		case 4:
			op_mov_dr_exit(in);
			break;
		case 5:
			op_emulated_mov_dr(in);
			break;
		case 6:
			op_db_exit(in);
			break;
		case 7:
			op_emulated_insn(in);
			break;
		case 8:
			op_set_guest_debug(in);
			break;
		case 9:
			op_debugregs(in);
			break;
		case 10: {
			const uint8_t b = in.u8();
			deliver((b & 1) ? in.u64() : in.u32() & kPayloadBits);
			break;
		}
		case 11:
			op_reset();
			break;
		case 12:
			op_misc(in);
			break;
		default:
			check_merge(in.u64(), in.u64());
			break;
		}
		check_state();
		// Fixed bits survive every path but the ones that store what they are given.
		if (v6 && !dr6_exempt)
			FUZZ_CHECK(valid_dr6(s.dr6));
		if (v7 && !dr7_exempt)
			FUZZ_CHECK(valid_dr7(s.dr7));
	}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Input in(data, size);
	Harness h;
	const uint8_t cfg = in.u8();
	h.vendor = (cfg & 1) ? Vendor::Svm : Vendor::Vmx;
	h.has_rtm = cfg & 2;
	h.has_bld = cfg & 4;
	h.svm_exit_dr7_inert = cfg & 8;
	// The knobs re-create historical bugs; each is on only with its bit, and only when bit 4
	// says knobs are in play, so most inputs run the fixed model.
	if (cfg & 0x10) {
		h.k.no_reload_on_load = cfg & 0x20;
		h.k.svm_clobber_guest_dr6 = cfg & 0x40;
		h.k.skip_code_bp_check = cfg & 0x80;
		h.k.single_cause_on_coincident = cfg & 0x02;
	}
	init(h.s);
	h.cpu.vendor = h.vendor;
	h.apply_push(PUSH_DR6 | PUSH_DR7);
	FUZZ_CHECK(valid_dr6(h.s.dr6) && valid_dr7(h.s.dr7));
	h.check_state();
	for (unsigned n = 0; n < kMaxOps && !in.empty(); n++)
		h.step(in);
	return 0;
}
