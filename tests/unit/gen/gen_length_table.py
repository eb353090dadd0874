#!/usr/bin/env python3
# Generates emulate_length_table.inc: instruction bytes assembled by GNU as, with the length
# cross-checked against objdump. Run by hand when the table changes; the tests never run as/objdump.
#   python3 tests/unit/gen/gen_length_table.py > tests/unit/emulate_length_table.inc
import os, subprocess, sys, tempfile

MODES = {
    "Long64": ("--64", ".code64", "i386:x86-64"),
    "Prot32": ("--32", ".code32", "i386"),
    "Prot16": ("--32", ".code16", "i8086"),
    "Real": ("--32", ".code16", "i8086"),
}

# (mode, assembly (AT&T or .byte), Op, operand size in bytes, memory operand size)
SPEC = [
    # --- 64-bit mode: MMIO moves
    ("Long64", "mov %al, (%rbx)", "MovRmReg", 1, 1),
    ("Long64", "mov %ah, (%rbx)", "MovRmReg", 1, 1),
    ("Long64", "mov %sil, (%rbx)", "MovRmReg", 1, 1),
    ("Long64", "mov %r9b, 0x10(%rbx)", "MovRmReg", 1, 1),
    ("Long64", "mov %ax, (%rbx)", "MovRmReg", 2, 2),
    ("Long64", "mov %eax, (%rbx)", "MovRmReg", 4, 4),
    ("Long64", "mov %rax, (%rbx)", "MovRmReg", 8, 8),
    ("Long64", "mov %r15, (%r12)", "MovRmReg", 8, 8),
    ("Long64", "mov %r15d, (%r13)", "MovRmReg", 4, 4),
    ("Long64", "mov %ecx, 0x12345678(%rip)", "MovRmReg", 4, 4),
    ("Long64", "mov %ecx, 0x12345678(%eip)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, 0x80(%rax,%rcx,4)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, -0x80(%rax,%r12,8)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, 0x1000(,%rsi,2)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, (%rsp)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, (%rbp)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, 0x7fffffff", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, %fs:0x28", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, %gs:(%rdi)", "MovRmReg", 4, 4),
    ("Long64", "mov %edx, (%ebx)", "MovRmReg", 4, 4),
    ("Long64", "mov (%rbx), %al", "MovRegRm", 1, 1),
    ("Long64", "mov (%rbx), %bh", "MovRegRm", 1, 1),
    ("Long64", "mov (%rbx), %dil", "MovRegRm", 1, 1),
    ("Long64", "mov (%rbx), %cx", "MovRegRm", 2, 2),
    ("Long64", "mov 0x44(%rbx), %ecx", "MovRegRm", 4, 4),
    ("Long64", "mov 0x4444(%rbx), %rcx", "MovRegRm", 8, 8),
    ("Long64", "mov (%r8,%r9,8), %r10", "MovRegRm", 8, 8),
    ("Long64", "movb $0x12, (%rbx)", "MovRmImm", 1, 1),
    ("Long64", "movw $0x1234, (%rbx)", "MovRmImm", 2, 2),
    ("Long64", "movl $0x12345678, (%rbx)", "MovRmImm", 4, 4),
    ("Long64", "movq $-1, (%rbx)", "MovRmImm", 8, 8),
    ("Long64", "movq $0x12345678, 0x100(%rip)", "MovRmImm", 8, 8),
    ("Long64", "movl $1, 0x10(%rsp,%rax,2)", "MovRmImm", 4, 4),
    ("Long64", "movabs 0x1122334455667788, %al", "MovAccMoffs", 1, 1),
    ("Long64", "movabs 0x1122334455667788, %eax", "MovAccMoffs", 4, 4),
    ("Long64", "movabs 0x1122334455667788, %rax", "MovAccMoffs", 8, 8),
    ("Long64", "movabs %ax, 0x1122334455667788", "MovMoffsAcc", 2, 2),
    ("Long64", "movabs %rax, 0x1122334455667788", "MovMoffsAcc", 8, 8),
    ("Long64", "addr32 movabs 0x11223344, %eax", "MovAccMoffs", 4, 4),
    ("Long64", "movzbl (%rbx), %eax", "Movzx", 4, 1),
    ("Long64", "movzbq (%rbx), %r11", "Movzx", 8, 1),
    ("Long64", "movzwl (%rbx), %eax", "Movzx", 4, 2),
    ("Long64", "movzbw (%rbx), %ax", "Movzx", 2, 1),
    ("Long64", "movsbl (%rbx), %eax", "Movsx", 4, 1),
    ("Long64", "movswq 8(%rbx), %rax", "Movsx", 8, 2),
    ("Long64", "movslq (%rbx), %rax", "Movsxd", 8, 4),
    ("Long64", "movslq 0x10(%rbx,%rcx), %r14", "Movsxd", 8, 4),
    # --- 64-bit mode: exits
    ("Long64", "mov %dr0, %rax", "MovFromDr", 8, 0),
    ("Long64", "mov %dr7, %r15", "MovFromDr", 8, 0),
    ("Long64", "mov %rbx, %dr6", "MovToDr", 8, 0),
    ("Long64", "mov %r8, %dr3", "MovToDr", 8, 0),
    ("Long64", "mov %cr0, %rax", "MovFromCr", 8, 0),
    ("Long64", "mov %cr8, %rax", "MovFromCr", 8, 0),
    ("Long64", "mov %rcx, %cr3", "MovToCr", 8, 0),
    ("Long64", "mov %r9, %cr4", "MovToCr", 8, 0),
    ("Long64", "mov %ax, %ss", "MovSreg", 2, 2),
    ("Long64", "mov (%rax), %ss", "MovSreg", 2, 2),
    ("Long64", "mov %ax, %ds", "MovSreg", 2, 2),
    ("Long64", "hlt", "Hlt", 4, 0),
    ("Long64", "cpuid", "Cpuid", 4, 0),
    ("Long64", "rdmsr", "Rdmsr", 4, 0),
    ("Long64", "wrmsr", "Wrmsr", 4, 0),
    ("Long64", "in $0x80, %al", "In", 1, 0),
    ("Long64", "in $0x80, %eax", "In", 4, 0),
    ("Long64", "in $0x80, %ax", "In", 2, 0),
    ("Long64", "in (%dx), %al", "In", 1, 0),
    ("Long64", "in (%dx), %eax", "In", 4, 0),
    ("Long64", "out %al, $0xe9", "Out", 1, 0),
    ("Long64", "out %eax, $0xe9", "Out", 4, 0),
    ("Long64", "out %al, (%dx)", "Out", 1, 0),
    ("Long64", "out %ax, (%dx)", "Out", 2, 0),
    ("Long64", "insb (%dx), %es:(%rdi)", "Ins", 1, 0),
    ("Long64", "rep insl (%dx), %es:(%rdi)", "Ins", 4, 0),
    ("Long64", "rep insw (%dx), %es:(%edi)", "Ins", 2, 0),
    ("Long64", "outsb %ds:(%rsi), (%dx)", "Outs", 1, 0),
    ("Long64", "rep outsl %ds:(%rsi), (%dx)", "Outs", 4, 0),
    ("Long64", "rep outsw %fs:(%rsi), (%dx)", "Outs", 2, 0),
    ("Long64", "int3", "Int3", 4, 0),
    ("Long64", "int1", "Int1", 4, 0),
    ("Long64", "int $0x80", "IntN", 4, 0),
    ("Long64", "ud2", "Ud2", 4, 0),
    ("Long64", "nop", "Nop", 4, 0),
    ("Long64", "pause", "Pause", 4, 0),
    ("Long64", "sti", "Sti", 4, 0),
    ("Long64", "pushfq", "Pushf", 8, 0),
    ("Long64", "popfq", "Popf", 8, 0),
    ("Long64", "pushfw", "Pushf", 2, 0),
    ("Long64", "popfw", "Popf", 2, 0),
    ("Long64", "fld1", "X87", 4, 0),
    ("Long64", "fldl (%rax)", "X87", 4, 0),
    ("Long64", "fstps 0x10(%rsp)", "X87", 4, 0),
    ("Long64", "fnstsw %ax", "X87", 4, 0),
    ("Long64", "fildll 0x12345678(%rip)", "X87", 4, 0),
    ("Long64", "fadd %st(3), %st", "X87", 4, 0),
    ("Long64", "fnstcw -0x4(%rbp)", "X87", 4, 0),
    # --- 32-bit protected mode
    ("Prot32", "mov %al, (%ebx)", "MovRmReg", 1, 1),
    ("Prot32", "mov %bh, (%ebx)", "MovRmReg", 1, 1),
    ("Prot32", "mov %ax, (%ebx)", "MovRmReg", 2, 2),
    ("Prot32", "mov %ecx, 0x12345678", "MovRmReg", 4, 4),
    ("Prot32", "mov %eax, 0x12345678", "MovMoffsAcc", 4, 4),
    ("Prot32", "mov %eax, 0x8(%esp)", "MovRmReg", 4, 4),
    ("Prot32", "mov %eax, 0x1000(%ebp,%edi,8)", "MovRmReg", 4, 4),
    ("Prot32", "mov %eax, (%bx,%si)", "MovRmReg", 4, 4),
    ("Prot32", "mov %eax, 0x1234(%bp)", "MovRmReg", 4, 4),
    ("Prot32", "addr16 mov %ecx, 0x1234", "MovRmReg", 4, 4),
    ("Prot32", "mov (%esi), %cl", "MovRegRm", 1, 1),
    ("Prot32", "mov (%esi), %ecx", "MovRegRm", 4, 4),
    ("Prot32", "mov %es:(%esi), %cx", "MovRegRm", 2, 2),
    ("Prot32", "movb $0x5a, (%edi)", "MovRmImm", 1, 1),
    ("Prot32", "movw $0x5a5a, (%edi)", "MovRmImm", 2, 2),
    ("Prot32", "movl $0x5a5a5a5a, 0x4(%edi)", "MovRmImm", 4, 4),
    ("Prot32", "mov 0x11223344, %al", "MovAccMoffs", 1, 1),
    ("Prot32", "mov 0x11223344, %eax", "MovAccMoffs", 4, 4),
    ("Prot32", "mov %ax, 0x11223344", "MovMoffsAcc", 2, 2),
    ("Prot32", "addr16 mov %eax, 0x1122", "MovMoffsAcc", 4, 4),
    ("Prot32", "movzbl (%ebx), %eax", "Movzx", 4, 1),
    ("Prot32", "movzwl (%ebx), %eax", "Movzx", 4, 2),
    ("Prot32", "movsbw (%ebx), %ax", "Movsx", 2, 1),
    ("Prot32", "movswl (%ebx), %eax", "Movsx", 4, 2),
    ("Prot32", "mov %dr7, %eax", "MovFromDr", 4, 0),
    ("Prot32", "mov %edx, %dr0", "MovToDr", 4, 0),
    ("Prot32", "mov %cr4, %ebx", "MovFromCr", 4, 0),
    ("Prot32", "mov %eax, %cr0", "MovToCr", 4, 0),
    ("Prot32", "mov %ax, %ss", "MovSreg", 2, 2),
    ("Prot32", "mov 0x10(%ebx), %ss", "MovSreg", 2, 2),
    ("Prot32", "pop %ss", "PopSs", 4, 0),
    ("Prot32", "hlt", "Hlt", 4, 0),
    ("Prot32", "in $0x60, %al", "In", 1, 0),
    ("Prot32", "in (%dx), %ax", "In", 2, 0),
    ("Prot32", "out %eax, (%dx)", "Out", 4, 0),
    ("Prot32", "rep insb (%dx), %es:(%edi)", "Ins", 1, 0),
    ("Prot32", "rep outsw %ds:(%esi), (%dx)", "Outs", 2, 0),
    ("Prot32", "int $0x21", "IntN", 4, 0),
    ("Prot32", "pushf", "Pushf", 4, 0),
    ("Prot32", "popfw", "Popf", 2, 0),
    ("Prot32", "fldt 0x10(%eax)", "X87", 4, 0),
    ("Prot32", "fistpll (%esp)", "X87", 4, 0),
    # --- 16-bit code (protected mode CS.D = 0 and real mode encode alike)
    ("Prot16", "mov %al, (%bx,%si)", "MovRmReg", 1, 1),
    ("Prot16", "mov %ax, (%bp,%di)", "MovRmReg", 2, 2),
    ("Prot16", "mov %ax, 0x12(%bp)", "MovRmReg", 2, 2),
    ("Prot16", "mov %ax, 0x1234(%bx)", "MovRmReg", 2, 2),
    ("Prot16", "mov %dx, 0x1234", "MovRmReg", 2, 2),
    ("Prot16", "mov %ax, 0x1234", "MovMoffsAcc", 2, 2),
    ("Prot16", "mov %eax, (%si)", "MovRmReg", 4, 4),
    ("Prot16", "mov %eax, (%ebx,%ecx,4)", "MovRmReg", 4, 4),
    ("Prot16", "mov %ax, 0x12345678(%eax)", "MovRmReg", 2, 2),
    ("Prot16", "mov (%di), %dh", "MovRegRm", 1, 1),
    ("Prot16", "mov %ss:(%bx), %cx", "MovRegRm", 2, 2),
    ("Prot16", "movb $0x1, (%bx)", "MovRmImm", 1, 1),
    ("Prot16", "movw $0x1234, 0x10(%bx)", "MovRmImm", 2, 2),
    ("Prot16", "movl $0x12345678, (%bx)", "MovRmImm", 4, 4),
    ("Prot16", "mov 0x1234, %al", "MovAccMoffs", 1, 1),
    ("Prot16", "mov 0x1234, %ax", "MovAccMoffs", 2, 2),
    ("Prot16", "addr32 mov %eax, 0x12345678", "MovMoffsAcc", 4, 4),
    ("Prot16", "movzbw (%bx), %ax", "Movzx", 2, 1),
    ("Prot16", "movzwl (%bx), %eax", "Movzx", 4, 2),
    ("Prot16", "movsbl (%bx), %eax", "Movsx", 4, 1),
    ("Prot16", "mov %dr6, %eax", "MovFromDr", 4, 0),
    ("Prot16", "mov %ecx, %dr7", "MovToDr", 4, 0),
    ("Prot16", "mov %cr0, %eax", "MovFromCr", 4, 0),
    ("Prot16", "mov %eax, %cr3", "MovToCr", 4, 0),
    ("Prot16", "mov %ax, %ss", "MovSreg", 2, 2),
    ("Prot16", "pop %ss", "PopSs", 2, 0),
    ("Prot16", "in $0x71, %al", "In", 1, 0),
    ("Prot16", "out %ax, (%dx)", "Out", 2, 0),
    ("Prot16", "out %eax, (%dx)", "Out", 4, 0),
    ("Prot16", "rep outsb %ds:(%si), (%dx)", "Outs", 1, 0),
    ("Prot16", "rep insw (%dx), %es:(%di)", "Ins", 2, 0),
    ("Prot16", "int $0x10", "IntN", 2, 0),
    ("Prot16", "pushf", "Pushf", 2, 0),
    ("Prot16", "popfl", "Popf", 4, 0),
    ("Prot16", "cpuid", "Cpuid", 2, 0),
    ("Prot16", "fnstsw (%bx)", "X87", 2, 0),
    ("Real", "mov %al, 0x10(%bx,%di)", "MovRmReg", 1, 1),
    ("Real", "mov (%bp), %ax", "MovRegRm", 2, 2),
    ("Real", "movw $0xb800, %es:0x1234", "MovRmImm", 2, 2),
    ("Real", "mov %ax, %ss", "MovSreg", 2, 2),
    ("Real", "hlt", "Hlt", 2, 0),
    ("Real", "sti", "Sti", 2, 0),
    ("Real", "int3", "Int3", 2, 0),
]


def assemble(mode, text):
    flag, directive, _ = MODES[mode]
    with tempfile.TemporaryDirectory() as d:
        src, obj, binf = (os.path.join(d, n) for n in ("a.s", "a.o", "a.bin"))
        with open(src, "w") as f:
            f.write(f"{directive}\n{text}\n")
        subprocess.run(["as", flag, "-o", obj, src], check=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", obj, binf], check=True)
        return open(binf, "rb").read()


def objdump_len(mode, data):
    _, _, machine = MODES[mode]
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", machine, f.name],
                             check=True, capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l.startswith("   0:")]
    # objdump continues long encodings on following lines; count all byte columns.
    count = 0
    for l in out.splitlines():
        if ":\t" in l:
            count += len(l.split("\t")[1].split())
    return count, lines[0] if lines else ""


print("// Generated by tests/unit/gen/gen_length_table.py (GNU as + objdump); do not edit by hand.")
print("// mode, bytes, length, op, operand size, memory size, assembly")
for mode, text, op, opsize, memsize in SPEC:
    data = assemble(mode, text)
    n, _ = objdump_len(mode, data)
    if n != len(data):
        sys.exit(f"objdump length {n} != {len(data)} for {text}")
    bs = ", ".join(f"0x{b:02x}" for b in data)
    print(f'{{CpuMode::{mode}, {{{bs}}}, {len(data)}, Op::{op}, {opsize}, {memsize}, "{text}"}},')
