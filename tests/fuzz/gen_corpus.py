#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the seed corpus of the unit fuzzers into tests/fuzz/corpus/<harness>/.

Run by hand after changing a harness's input format: python3 tests/fuzz/gen_corpus.py
It only (re)writes the files it names; inputs the fuzzers found (kept as regression seeds)
are left alone. Layouts are described at the top of each tests/fuzz/fuzz_*.cpp.
"""

import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- fuzz_decode
# The input is the instruction bytes (decoded in every mode). Seeds: the first encoding of each
# op and of each addressing form from the GNU as table of the unit tests, plus the edges.


def decode_seeds():
    table = os.path.join(REPO, "tests", "unit", "emulate_length_table.inc")
    row = re.compile(r"\{CpuMode::(\w+), \{([^}]*)\}, (\d+), Op::(\w+),.*\"(.*)\"\}")
    seen = set()
    for line in open(table):
        m = row.match(line)
        if not m:
            continue
        mode, raw, n, op, text = m.groups()
        group = "64" if mode == "Long64" else "16-32"
        # One row per op, plus one per addressing form (RIP/EIP-relative, REX.X index, 16-bit
        # forms, 67 in 64-bit mode).
        form = re.search(r"\(%[re]ip\)|,%r12,|\(%bx,%si\)|\(%bp\)|addr16|\(%ebx\)", text)
        key = form.group(0) if form else op
        if key in seen:
            continue
        seen.add(key)
        data = bytes(int(b, 16) for b in raw.split(","))[: int(n)]
        name = re.sub(r"[^a-z0-9]+", "-", (group + " " + text).lower()).strip("-")
        write("fuzz_decode", name[:60], data)
    # 14 prefixes + HLT: 15 bytes; one more prefix: #GP at byte 16.
    write("fuzz_decode", "limit-15-bytes", b"\x66" * 14 + b"\xf4")
    write("fuzz_decode", "limit-16-bytes", b"\x66" * 15 + b"\xf4")
    # REX.W C7 with SIB, disp32 and imm32 behind three prefixes: exactly 15.
    write("fuzz_decode", "limit-operands-15",
          b"\x64\x67\x48\xc7\x84\x88\x78\x56\x34\x12\xef\xcd\xab\x89")
    write("fuzz_decode", "lock-mov-cr8-amd", b"\xf0\x0f\x20\xc0")
    write("fuzz_decode", "rex-then-prefix-ignored", b"\x48\x66\x89\x03")
    write("fuzz_decode", "mov-dr-rex-r-undefined", b"\x44\x0f\x21\xc0")


# ---------------------------------------------------------------- fuzz_paging
# Header: CR0, CR3, CR4, EFER (u64 each), flags (bit 0 EFLAGS.AC), MAXPHYADDR, memory pages
# (u16). Ops: 0 poke(u32 qword index, u64), 1 walk(u64 gva) with access bits 3-5, 2 walk near
# (u16 xor), 3 toggle(u8), 4 CR3 := u64.

CR0_PE, CR0_WP, CR0_PG = 1, 1 << 16, 1 << 31
CR4_PSE, CR4_PAE, CR4_LA57, CR4_SMEP, CR4_SMAP = 1 << 4, 1 << 5, 1 << 12, 1 << 20, 1 << 21
EFER_LME, EFER_LMA, EFER_NXE = 1 << 8, 1 << 10, 1 << 11
P, RW, US, PS, XD = 1, 2, 4, 0x80, 1 << 63


class Paging:
    def __init__(self, cr0, cr3, cr4, efer, maxphy=0, pages=64, ac=False):
        self.out = u64(cr0) + u64(cr3) + u64(cr4) + u64(efer) + u8(ac) + u8(maxphy) + u16(pages)
        self.q = {}

    def set64(self, gpa, v):
        self.q[gpa] = v

    def set32(self, gpa, v):
        w = self.q.get(gpa & ~7, 0)
        if gpa & 4:
            w = (w & 0xFFFFFFFF) | (v << 32)
        else:
            w = (w & ~0xFFFFFFFF) | v
        self.q[gpa & ~7] = w

    def flush(self):
        for gpa, v in sorted(self.q.items()):
            self.out += u8(0) + u32(gpa // 8) + u64(v)
        self.q = {}
        return self

    def walk(self, gva, write=False, user=False, fetch=False):
        self.out += u8(1 | write << 3 | user << 4 | fetch << 5) + u64(gva)
        return self

    def near(self, xor, write=False, user=False, fetch=False):
        self.out += u8(2 | write << 3 | user << 4 | fetch << 5) + u16(xor)
        return self

    def toggle(self, which):
        self.out += u8(3) + u8(which)
        return self


def paging_seeds():
    # No paging: identity on 32 bits.
    s = Paging(CR0_PE, 0, 0, 0)
    s.walk(0x12345678).walk(0x1_0010_FFF0, write=True, user=True)
    write("fuzz_paging", "no-paging", s.out)

    # 32-bit paging: 4 KiB through PD 0x1000 / PT 0x2000, a 4 MiB PSE page, a PSE-36 page.
    s = Paging(CR0_PG | CR0_WP | CR0_PE, 0x1000, CR4_PSE, 0, maxphy=40)
    s.set32(0x1000 + 1 * 4, 0x2000 | P | RW | US)        # gva 0x00400000..
    s.set32(0x2000 + 3 * 4, 0x7000 | P | RW | US)        # gva 0x00403000
    s.set32(0x1000 + 2 * 4, 0x00C00000 | P | RW | PS)     # 4 MiB at gva 0x00800000
    s.set32(0x1000 + 3 * 4, 0x00400000 | 5 << 13 | P | PS)  # PSE-36: 0x5_0040_0000
    s.flush()
    s.walk(0x00403ABC, write=True, user=True).near(0x0FFF).walk(0x00812345)
    s.walk(0x00C01234).walk(0x00C01234, write=True).toggle(1).walk(0x00C01234, write=True)
    write("fuzz_paging", "bits32-4k-4m-pse36", s.out)

    # PAE: PDPT at 0x10e0 (32-byte aligned), PD 0x2000, PT 0x3000, NX.
    s = Paging(CR0_PG | CR0_WP | CR0_PE, 0x10E0, CR4_PAE, EFER_NXE, maxphy=36)
    s.set64(0x10E0 + 3 * 8, 0x2000 | P)
    s.set64(0x2000 + 1 * 8, 0x3000 | P | RW)
    s.set64(0x3000 + 1 * 8, 0xF_FFFF_F000 | P | RW | XD)   # gva 0xc0201000
    s.set64(0x2000 + 2 * 8, 0x00A00000 | P | PS)           # 2 MiB at gva 0xc0400000
    s.set64(0x3000 + 2 * 8, 0x4000 | P | US)               # user PTE under a supervisor PDE
    s.flush()
    s.walk(0xC0201FFF, write=True).walk(0xC0201000, fetch=True).walk(0xC0412345)
    s.walk(0xC0202000, user=True).walk(0xC0202000)
    s.walk(0xC0412345, write=True).toggle(8).walk(0xC0201000, fetch=True)
    write("fuzz_paging", "pae-4k-2m-nx", s.out)

    # 4-level: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; 4 KiB, 2 MiB, 1 GiB, kernel half.
    efer = EFER_LME | EFER_LMA | EFER_NXE
    s = Paging(CR0_PG | CR0_WP | CR0_PE, 0x1000, CR4_PAE | CR4_SMEP | CR4_SMAP, efer, maxphy=46)
    s.set64(0x1000, 0x2000 | P | RW | US)
    s.set64(0x2000, 0x3000 | P | RW | US)
    s.set64(0x3000, 0x4000 | P | RW | US)
    s.set64(0x4000 + 1 * 8, 0x9000 | P | RW | US)          # gva 0x1000, user page
    s.set64(0x4000 + 2 * 8, 0xA000 | P | XD)               # gva 0x2000, supervisor RO, NX
    s.set64(0x3000 + 1 * 8, 0x00200000 | P | RW | PS)      # 2 MiB at gva 0x200000
    s.set64(0x2000 + 1 * 8, 0x40000000 | P | RW | US | PS)  # 1 GiB at gva 0x40000000
    s.set64(0x1000 + 256 * 8, 0x2000 | P | RW)             # 0xffff800000000000 -> same PDPT
    s.flush()
    s.walk(0x1234, user=True).walk(0x1234, write=True, user=True).walk(0x1234)
    s.toggle(9).walk(0x1234).walk(0x1234, fetch=True).walk(0x2010, fetch=True)
    s.walk(0x2010, write=True).walk(0x201234).walk(0x40001234, user=True)
    s.walk(0xFFFF800040001234).walk(0x0000800000000000).near(0x0008)
    write("fuzz_paging", "long4-4k-2m-1g-smep-smap", s.out)

    # 5-level: PML5 0x1000 -> PML4 0x2000 -> PDPT 0x3000 -> PD 0x4000 -> PT 0x5000.
    s = Paging(CR0_PG | CR0_PE, 0x1000, CR4_PAE | CR4_LA57, EFER_LME | EFER_LMA, maxphy=52)
    for lvl in range(4):
        s.set64(0x1000 * (lvl + 1), (0x1000 * (lvl + 2)) | P | RW)
    s.set64(0x5000, 0x000F_FFFF_FFFF_F000 | P | RW)
    s.set64(0x1000 + 511 * 8, 0x2000 | P)
    s.flush()
    s.walk(0x123).walk(0xFF00_0000_0000_0123).walk(0x0100_0000_0000_0000).toggle(4).walk(0x123)
    write("fuzz_paging", "long5", s.out)

    # Self-referencing PML4 (recursive slot 0 and 511): walks must stop after 4 levels.
    s = Paging(CR0_PG | CR0_PE, 0x1000, CR4_PAE, EFER_LME | EFER_LMA)
    s.set64(0x1000, 0x1000 | P | RW)
    s.set64(0x1000 + 511 * 8, 0x1000 | P | RW)
    s.flush()
    s.walk(0).walk(0xFFFF_FFFF_FFFF_F000).walk(0x0000_0000_0000_0FF8).walk(0xFFFF_FF80_0000_0000)
    write("fuzz_paging", "long4-self-reference", s.out)

    # Tables outside guest memory (2 pages): the walk fails to read, cleanly.
    s = Paging(CR0_PG | CR0_PE, 0x1000, CR4_PAE, EFER_LME | EFER_LMA, pages=2)
    s.set64(0x1000, 0x5000 | P | RW)
    s.flush()
    s.walk(0x1000).toggle(2).walk(0x1000).toggle(0).walk(0x1000)
    write("fuzz_paging", "read-outside-memory", s.out)

    # PAE entry with bit 52 set: reserved (SDM tables 4-8 to 4-11), #PF with RSVD.
    s = Paging(CR0_PG | CR0_PE, 0, CR4_PAE, 0, maxphy=52)
    s.set64(0, 0x2000 | P | 1 << 52)
    s.flush()
    s.walk(0x1000)
    write("fuzz_paging", "pae-bit52-reserved", s.out)


# ---------------------------------------------------------------- fuzz_memslots
# Ops (low 3 bits; bit 7: access_ok fails): 0 create(id, gpa page u16, pages u8, user page u16),
# 1 move(pick, gpa page u16), 2 delete(id, gpa u64, uaddr u64), 3 flags(pick, u32), 4 raw
# (slot u32, flags u32, gpa, size, uaddr u64), 5 lookup(pick, s16 pages, u16 bytes) or raw
# (bit 6), 6 lookup id, 7 reshape(pick, pages u8, user page u16; bits 4/5).


def ms_create(i, gpa_page, pages, upage, op=0):
    return u8(op) + u8(i) + u16(gpa_page) + u8(pages) + u16(upage)


def ms_move(pick, gpa_page):
    return u8(1) + u8(pick) + u16(gpa_page)


def ms_delete(i, gpa=0, uaddr=0):
    return u8(2) + u8(i) + u64(gpa) + u64(uaddr)


def ms_lookup(pick, pages, byte):
    return u8(5) + u8(pick) + u16(pages) + u16(byte)


def memslots_seeds():
    s = ms_create(0, 0x100, 16, 0) + ms_create(1, 0x200, 1, 0x100)
    s += ms_lookup(0, 0, 0) + ms_lookup(0, 15, 0xFFF) + ms_lookup(0, 16, 0) + ms_lookup(1, -1, 0xFFF)
    s += u8(6) + u8(1) + u8(6) + u8(7)
    write("fuzz_memslots", "create-lookup-edges", s)

    s = ms_create(0, 0x100, 16, 0) + ms_create(1, 0x110, 16, 0x10)  # adjacent above
    s += ms_create(3, 0xF0, 16, 0x30)                                  # adjacent below
    s += ms_create(2, 0x10F, 2, 0x20)                                  # overlaps both: EEXIST
    s += ms_delete(3)
    s += ms_move(0, 0x108) + ms_move(0, 0x300) + ms_move(1, 0x100)      # EEXIST, ok, ok
    s += ms_delete(0) + ms_delete(0) + ms_delete(35)                   # ok, EINVAL, EINVAL
    write("fuzz_memslots", "overlap-move-delete", s)

    s = ms_create(3, 0x40, 4, 0) + u8(3) + u8(0) + u32(2)              # READONLY: refused
    s += u8(3) + u8(0) + u32(1)                                        # dirty log: refused
    s += u8(7 | 0x10) + u8(0) + u8(8) + u16(0)                         # resize: refused
    s += u8(7 | 0x20) + u8(0) + u8(4) + u16(9)                         # new uaddr: refused
    s += ms_create(3, 0x40, 4, 0) + ms_create(4, 0x80, 1, 0, op=0x80)  # same again; bad uaddr
    s += ms_create(5, 0x90, 1, 0, op=0x48)                             # misaligned gpa
    write("fuzz_memslots", "flags-resize-refused", s)

    s = b"".join(ms_create(i, 0x10 * i, 8, 0x10 * i) for i in range(32))
    s += ms_create(32, 0x1000, 1, 0) + ms_delete(7) + ms_create(7, 0x2000, 1, 0x2000)
    s += ms_lookup(7, 0, 0)
    write("fuzz_memslots", "all-32-slots", s)

    gpa_top = (1 << 64) - 0x1000
    s = u8(4) + u32(1) + u32(0) + u64(gpa_top) + u64(0x2000) + u64(0x7F0000000000)  # wraps
    s += u8(4) + u32(2) + u32(0) + u64(0) + u64((1 << 22) * 0x1000 + 0x1000) + u64(0x10000)
    s += u8(4) + u32(0x10001) + u32(0) + u64(0) + u64(0x1000) + u64(0x10000)  # address space 1
    s += u8(4) + u32(3) + u32(0) + u64(gpa_top) + u64(0x1000) + u64(0x10000)  # last page: ok
    s += u8(5 | 0x40) + u64((1 << 64) - 1)
    write("fuzz_memslots", "raw-limits", s)


# ---------------------------------------------------------------- fuzz_debugreg
# Header byte: bit 0 SVM, 1 RTM, 2 bus-lock detect, 3 SVM exit DR7 = 0x400, 4 knobs (5-7).
# Ops (byte % 14): 0 sched, 1 host, 2/3 run, 4 MOV-DR exit, 5 emulated MOV DR, 6 #DB exit,
# 7 emulated instruction, 8 KVM_SET_GUEST_DEBUG, 9 KVM_SET_DEBUGREGS, 10 deliver, 11 INIT,
# 12 misc, 13 merge. value(): a byte, case 4+ followed by u64; ctx(): a byte (bit 7: u64 rip).

SVM = 1


def v64(x):
    return u8(4) + u64(x)


def ctx(de=False):
    return u8(4 if de else 0)


def mov_dr_exit(dr, write, val):
    return u8(4) + u8(dr) + u8(write) + v64(val) + ctx()


def emul_mov_dr(dr, write, val, de=False):
    return u8(5) + u8(dr + 1) + u8(write) + v64(val) + ctx(de)


def run_native(writes):
    """A run; if the guest owns the registers it writes (reg, value) natively."""
    out = u8(2) + u8(len(writes))
    for reg, val in writes:
        out += u8(reg) + v64(val)
    return out


def set_guest_debug(bits, db=(0, 0, 0, 0), dr7=0, rflags=0x2, rip=0x1000):
    out = u8(8) + u8(0) + u8(bits)
    for v in db:
        out += v64(v)
    return out + u32(dr7) + u64(rflags) + v64(rip)


def debugreg_seeds():
    # The guest takes the registers on its first MOV DR, writes them natively, the exit syncs.
    for vendor, tag in ((0, "vmx"), (SVM, "svm")):
        s = u8(vendor) + run_native([]) + mov_dr_exit(7, 1, 0x401)
        s += run_native([(0, 0x1000), (4, 0xFFFF4FF1), (5, 0x401)]) + run_native([])
        s += emul_mov_dr(7, 0, 0) + emul_mov_dr(6, 0, 0)
        write("fuzz_debugreg", "guest-owns-drs-" + tag, s)

    # Host breakpoints armed around an entry, then disarmed; a clobber and vcpu_load.
    s = u8(SVM) + emul_mov_dr(0, 1, 0x4000) + emul_mov_dr(7, 1, 0x401)
    s += u8(1) + u8(0) + u8(0x03) + run_native([]) + u8(1) + u8(0) + u8(0) + run_native([])
    s += u8(0) + u8(1) + u64(1) + u64(2) + u64(3) + u64(4) + run_native([])
    s += u8(1) + u8(1) + v64(0x9999) + run_native([])
    write("fuzz_debugreg", "host-bps-and-clobber", s)

    # Userspace hardware breakpoint + single-step; emulated instructions hit them.
    s = u8(0) + set_guest_debug(0x0B, db=(0x1000, 0, 0, 0), dr7=0x1)
    s += u8(7) + v64(0x1000) + u8(0) + u8(7) + v64(0xFFF) + u8(0)
    s += u8(12) + u64(0x102) + v64(0x1000) + u8(3) + v64(0) + v64(0)
    s += set_guest_debug(0) + run_native([])
    write("fuzz_debugreg", "userspace-hw-bp-singlestep", s)

    # Guest code breakpoint and TF single-step during emulation; RF and MOV SS suppress; an
    # execute breakpoint with LEN != 00 never matches.
    s = u8(0) + emul_mov_dr(1, 1, 0x2000) + emul_mov_dr(7, 1, 0x4)
    s += u8(7) + v64(0x2000) + u8(1) + u8(7) + v64(0x2000) + u8(0)
    s += u8(7) + v64(0x1FFF) + u8(4 | 8) + v64(0x2000)
    s += emul_mov_dr(2, 1, 0x3000) + emul_mov_dr(7, 1, 0x10 | 1 << 26) + u8(7) + v64(0x3000) + u8(0)
    write("fuzz_debugreg", "guest-code-bp-tf", s)

    # MOV DR6 by guests with and without RTM and bus-lock detect (their bits read 1 without).
    for cfg, tag in ((0, "plain"), (2 | 4, "rtm-bld")):
        s = u8(cfg) + emul_mov_dr(6, 1, 0) + emul_mov_dr(6, 0, 0) + emul_mov_dr(6, 1, 0x1E80F)
        write("fuzz_debugreg", "mov-dr6-" + tag, s)

    # DR7.GD: the next MOV DR raises #DB (BD), delivery clears GD; DR4/DR5 with CR4.DE.
    s = u8(2) + emul_mov_dr(7, 1, 0x2401) + emul_mov_dr(0, 0, 0) + emul_mov_dr(4, 0, 0, de=True)
    s += emul_mov_dr(5, 1, 0x1_0000_0000) + emul_mov_dr(6, 1, 0x1_0000_0000)
    s += set_guest_debug(0x09, dr7=0x2400) + emul_mov_dr(3, 1, 5)
    write("fuzz_debugreg", "general-detect-dr4-dr5", s)

    # #DB exits on both vendors, reflected and reported; then INIT.
    for vendor, tag in ((0, "vmx"), (SVM, "svm")):
        s = u8(vendor) + run_native([]) + u8(6) + u32(0x4001) + u64(0x1234)
        s += set_guest_debug(0x03) + run_native([]) + u8(6) + u32(0x4000) + u64(0x1235)
        s += u8(10) + u8(0) + u32(0x1000F) + u8(11)
        write("fuzz_debugreg", "db-exits-" + tag, s)

    # KVM_SET_DEBUGREGS: stored as given; bad flags and high bits refused.
    s = u8(0) + u8(9) + u8(0) + v64(1) + v64(2) + v64(3) + v64(4) + u32(0) + u32(0)
    s += u8(9) + u8(4) + v64(1) + v64(2) + v64(3) + v64(4) + u32(0xFFFF0FF0) + u32(0x400)
    s += u64(1) + u8(9) + u8(1) + v64(0) + v64(0) + v64(0) + v64(0) + u64(1 << 40) + u32(0x400)
    s += u8(11) + u8(13) + u64(0xFFFFFFFF) + u64(0x1F80F)
    write("fuzz_debugreg", "set-debugregs", s)

    # A signal between the hand-over (MOV-DR exit, Reenter) and the next entry, then
    # KVM_SET_GUEST_DEBUG with USE_HW_BP: the registers must come back to the debugger.
    s = u8(0) + run_native([]) + mov_dr_exit(0, 0, 0)
    s += set_guest_debug(0x09, db=(0xDEAD000, 0, 0, 0), dr7=0x401)
    s += run_native([(0, 0x1234), (5, 0)]) + emul_mov_dr(0, 0, 0)
    write("fuzz_debugreg", "hand-over-then-hw-bp", s)

    # The knobs (historical bugs) switched on.
    s = u8(0x10 | 0x20 | 0x40 | SVM) + emul_mov_dr(0, 1, 0x5000) + emul_mov_dr(7, 1, 0x401)
    s += run_native([]) + u8(0) + u8(0) + run_native([]) + u8(6) + u32(0x1) + u64(0x5000)
    write("fuzz_debugreg", "knobs", s)


if __name__ == "__main__":
    decode_seeds()
    paging_seeds()
    memslots_seeds()
    debugreg_seeds()
