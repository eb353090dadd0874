/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one boundary between the C glue (the only code that includes kernel headers) and
 * the freestanding C++ core. Shared by both languages: plain C types only.
 *
 *   dk_*       implemented in C (glue/), called by C++.
 *   dbgkvm_*   implemented in C++ (core/, svm/), called by the glue.
 */
#ifndef DBGKVM_GLUE_H
#define DBGKVM_GLUE_H

#ifdef __cplusplus
#define DK_EXTERN_C   extern "C"
#define DK_EXTERN_VAR extern "C"
#define DK_NOEXCEPT   noexcept
typedef unsigned long dk_u64; /* = uint64_t; same ABI as the kernel's u64 */
typedef unsigned int dk_u32;
typedef unsigned long dk_size;
#else
#include <linux/types.h>
#define DK_EXTERN_C
#define DK_EXTERN_VAR extern
#define DK_NOEXCEPT
typedef u64 dk_u64;
typedef u32 dk_u32;
typedef unsigned long dk_size;
#endif

#include "uapi/linux/dbgkvm.h"

#define DK_PAGE_SIZE 4096UL

/* errno values the C++ side returns (negated), the kernel's numbers. */
#define DK_EPERM      1
#define DK_ENOENT     2
#define DK_EINTR      4
#define DK_EIO	      5
#define DK_E2BIG      7
#define DK_EAGAIN     11
#define DK_ENOMEM     12
#define DK_EFAULT     14
#define DK_EBUSY      16
#define DK_EEXIST     17
#define DK_ENODEV     19
#define DK_EINVAL     22
#define DK_ENOSPC     28
#define DK_ENOTTY     25
#define DK_EOPNOTSUPP 95

/* ---- memory ---- */
DK_EXTERN_C void *dk_zalloc(dk_size size) DK_NOEXCEPT; /* kvzalloc, GFP_KERNEL_ACCOUNT */
DK_EXTERN_C void dk_free(void *p) DK_NOEXCEPT;	       /* kvfree, NULL ok */
/* 2^order zeroed, physically contiguous pages; *pa gets the physical address. */
DK_EXTERN_C void *dk_alloc_pages(unsigned int order, dk_u64 *pa) DK_NOEXCEPT;
DK_EXTERN_C void dk_free_pages(void *va, unsigned int order) DK_NOEXCEPT;
/* Pin one page of the current process (FOLL_LONGTERM, FOLL_WRITE if write). */
DK_EXTERN_C int dk_pin_user_page(unsigned long uaddr, int write, void **page,
				 dk_u64 *pa) DK_NOEXCEPT;
DK_EXTERN_C void dk_unpin_user_page(void *page, int dirty) DK_NOEXCEPT;
/* Charge long-term pins to the owner's mm->pinned_vm: -ENOMEM over RLIMIT_MEMLOCK
 * (current's, unless CAP_IPC_LOCK). Every pin is charged first, every unpin uncharged. */
DK_EXTERN_C int dk_pin_charge(void *mm, unsigned long pages) DK_NOEXCEPT;
DK_EXTERN_C void dk_pin_uncharge(void *mm, unsigned long pages) DK_NOEXCEPT;
DK_EXTERN_C dk_u64 dk_page_pa(void *page) DK_NOEXCEPT;
DK_EXTERN_C void *dk_phys_to_virt(dk_u64 pa) DK_NOEXCEPT; /* for pages from dk_alloc_pages */
DK_EXTERN_C int dk_access_ok(unsigned long uaddr, dk_size size) DK_NOEXCEPT;
DK_EXTERN_C int dk_copy_from_user(void *dst, unsigned long usrc, dk_size n) DK_NOEXCEPT;
DK_EXTERN_C int dk_get_user_u64(unsigned long usrc, dk_u64 *val) DK_NOEXCEPT;
DK_EXTERN_C int dk_copy_to_user(unsigned long udst, const void *src, dk_size n) DK_NOEXCEPT;
/* The 4- or 8-byte value at uaddr := val if it still holds old, atomically (a guest's
 * page-table entry): 0 done, 1 it held something else, -EFAULT. */
DK_EXTERN_C int dk_cmpxchg_user(unsigned long uaddr, dk_u64 old, dk_u64 val,
				unsigned size) DK_NOEXCEPT;

/* ---- the VMM's address space: a VM belongs to the mm that created it ---- */
DK_EXTERN_C void *dk_mm_grab_current(void) DK_NOEXCEPT; /* mmgrab(current->mm) */
DK_EXTERN_C void dk_mm_drop(void *mm) DK_NOEXCEPT;
DK_EXTERN_C int dk_mm_is_current(void *mm) DK_NOEXCEPT;

/* ---- locks (opaque, allocated by the glue) ---- */
struct dk_mutex;
struct dk_rwsem;
DK_EXTERN_C struct dk_mutex *dk_mutex_new(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_mutex_delete(struct dk_mutex *m) DK_NOEXCEPT;
DK_EXTERN_C void dk_mutex_lock(struct dk_mutex *m) DK_NOEXCEPT;
DK_EXTERN_C void dk_mutex_unlock(struct dk_mutex *m) DK_NOEXCEPT;
DK_EXTERN_C struct dk_rwsem *dk_rwsem_new(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_rwsem_delete(struct dk_rwsem *s) DK_NOEXCEPT;
DK_EXTERN_C void dk_down_read(struct dk_rwsem *s) DK_NOEXCEPT;
DK_EXTERN_C void dk_up_read(struct dk_rwsem *s) DK_NOEXCEPT;
DK_EXTERN_C void dk_down_write(struct dk_rwsem *s) DK_NOEXCEPT;
DK_EXTERN_C void dk_up_write(struct dk_rwsem *s) DK_NOEXCEPT;

/* ---- files ---- */
/* New anon-inode fds. On success the fd owns a reference the caller handed over. */
DK_EXTERN_C int dk_vm_fd_create(void *vm) DK_NOEXCEPT;
DK_EXTERN_C int dk_vcpu_fd_create(void *vcpu) DK_NOEXCEPT;

/* ---- CPUs, scheduling, interrupts ---- */
DK_EXTERN_C unsigned int dk_nr_cpu_ids(void) DK_NOEXCEPT;
DK_EXTERN_C int dk_cpu(void) DK_NOEXCEPT; /* smp_processor_id(), preemption off */
DK_EXTERN_C void dk_preempt_disable(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_preempt_enable(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_irq_disable(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_irq_enable(void) DK_NOEXCEPT;
DK_EXTERN_C int dk_signal_pending(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_cond_resched(void) DK_NOEXCEPT;
/* Enable/disable virtualization on every online CPU and on CPUs that come online
 * later (CPU hotplug): calls dbgkvm_cpu_online/offline on each. */
DK_EXTERN_C int dk_virt_enable_all(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_virt_disable_all(void) DK_NOEXCEPT;
/* Set by the reboot notifier: KVM_RUN returns -EIO at the next exit (glue/cpu.c). */
DK_EXTERN_VAR bool dk_rebooting;

/* ---- guest FPU: the kernel's fpu_guest, swapped once per KVM_RUN (glue/cpu.c) ---- */
struct dk_guest_fpu;
DK_EXTERN_C struct dk_guest_fpu *dk_guest_fpu_new(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_guest_fpu_delete(struct dk_guest_fpu *f) DK_NOEXCEPT;
DK_EXTERN_C void dk_guest_fpu_enter(struct dk_guest_fpu *f) DK_NOEXCEPT; /* KVM_RUN begins */
DK_EXTERN_C void dk_guest_fpu_exit(struct dk_guest_fpu *f) DK_NOEXCEPT;	 /* KVM_RUN returns */
DK_EXTERN_C void dk_guest_fpu_reload(void) DK_NOEXCEPT; /* interrupts off, before each entry */
/* Outside KVM_RUN (the vCPU's ioctl lock held): the guest's FXSAVE image (512 bytes, the
 * legacy area of its fpstate), read or written whole (KVM_GET/SET_FPU); and its state in
 * KVM's UABI XSAVE layout (KVM_GET/SET_XSAVE: the kernel's fpu_copy_* conversions, which
 * check the header and MXCSR; -EINVAL), limited to the features in `xfeatures`. */
DK_EXTERN_C void dk_guest_fpu_read_fxsave(struct dk_guest_fpu *f, void *fx) DK_NOEXCEPT;
DK_EXTERN_C void dk_guest_fpu_write_fxsave(struct dk_guest_fpu *f, const void *fx) DK_NOEXCEPT;
DK_EXTERN_C void dk_guest_fpu_get_xsave(struct dk_guest_fpu *f, void *buf, dk_size size,
					dk_u64 xfeatures) DK_NOEXCEPT;
DK_EXTERN_C int dk_guest_fpu_set_xsave(struct dk_guest_fpu *f, const void *buf,
				       dk_u64 xfeatures) DK_NOEXCEPT;

/* ---- speculative-execution mitigations around a guest (glue/mitigations.c) ---- */
DK_EXTERN_C void dk_l1d_flush(void) DK_NOEXCEPT;		   /* irqs off, before VMX entry */
DK_EXTERN_C dk_u64 dk_new_vcpu_token(void) DK_NOEXCEPT;		   /* unique per vCPU */
DK_EXTERN_C void dk_ibpb_on_vcpu_switch(dk_u64 token) DK_NOEXCEPT; /* vcpu_load */
DK_EXTERN_C void dk_vmscape_after_exit(void) DK_NOEXCEPT;
/* SRSO on Zen 5 (BpSpecReduce): on while SVM is on, on this CPU */
DK_EXTERN_C void dk_srso_bp_spec_reduce(bool on) DK_NOEXCEPT; /* irqs off, after exit */

/* ---- guest time, RCU and lockdep around the world switch (glue/guest_context.c) ---- */
DK_EXTERN_C void dk_guest_timing_enter(void) DK_NOEXCEPT;	/* irqs off */
DK_EXTERN_C void dk_guest_state_enter(void) DK_NOEXCEPT;	/* right before the switch */
DK_EXTERN_C void dk_guest_state_exit(void) DK_NOEXCEPT;		/* right after it */
DK_EXTERN_C void dk_guest_timing_exit_irq_on(void) DK_NOEXCEPT; /* irqs off -> on */

/* ---- a split lock caught by the host's detection in a guest (glue/cpu.c) ---- */
DK_EXTERN_VAR bool dk_host_split_lock_detect;
DK_EXTERN_C bool dk_handle_guest_split_lock(dk_u64 rip) DK_NOEXCEPT; /* true: resume */

/* ---- the host CPU's physical address width, MAXPHYADDR (glue/cpu.c) ---- */
DK_EXTERN_C unsigned int dk_host_phys_bits(void) DK_NOEXCEPT;
/* The host's TSC frequency in kHz (the kernel's tsc_khz; 0 if unknown). The guest's TSC
 * runs at the host's rate: dbgkvm does not scale it. */
DK_EXTERN_C unsigned int dk_tsc_khz(void) DK_NOEXCEPT;

/* ---- a machine check taken in a guest, to the host's handler (glue/cpu.c) ---- */
DK_EXTERN_C void dk_machine_check(void) DK_NOEXCEPT;

/* ---- MSRs, with the kernel's exception-table protection ---- */
DK_EXTERN_C int dk_rdmsr_safe(dk_u32 msr, dk_u64 *val) DK_NOEXCEPT;
DK_EXTERN_C int dk_wrmsr_safe(dk_u32 msr, dk_u64 val) DK_NOEXCEPT;

/* ---- logging ---- */
DK_EXTERN_C void dk_log_info(const char *fmt, ...) DK_NOEXCEPT
    __attribute__((format(printf, 1, 2)));
DK_EXTERN_C void dk_log_warn(const char *fmt, ...) DK_NOEXCEPT
    __attribute__((format(printf, 1, 2)));

/* ---- tracepoints: trace system "dbgkvm" (glue/trace.c) ----
 * Every event carries the CPU, the VM and vCPU ids and the switch_db_regs flags
 * (KVM_DEBUGREG_*: BP_ENABLED 1, WONT_EXIT 2, RELOAD 4) as they were at that point. */
#define DK_DR_LOAD_RELOAD      DBGKVM_DR_LOAD_RELOAD
#define DK_DR_LOAD_BP_ENABLED  DBGKVM_DR_LOAD_BP_ENABLED
#define DK_DR_LOAD_WONT_EXIT   DBGKVM_DR_LOAD_WONT_EXIT
#define DK_DR_LOAD_GUEST_DEBUG DBGKVM_DR_LOAD_GUEST_DEBUG
#define DK_DR_LOAD_STALE       DBGKVM_DR_LOAD_STALE
DK_EXTERN_C void dk_trace_vcpu_load(unsigned int vm, unsigned int vcpu, int cpu,
				    dk_u32 switch_db_regs) DK_NOEXCEPT;
DK_EXTERN_C void dk_trace_vcpu_put(unsigned int vm, unsigned int vcpu, int cpu,
				   dk_u32 switch_db_regs) DK_NOEXCEPT;
/* The guest is entered (after any dr_load of this entry); switch_db_regs as planned. */
DK_EXTERN_C void dk_trace_guest_entry(unsigned int vm, unsigned int vcpu, int cpu,
				      dk_u32 switch_db_regs) DK_NOEXCEPT;
/* DR0-3 (and DR6 on VMX) loaded before a guest entry; reason: DK_DR_LOAD_* bits. */
DK_EXTERN_C void dk_trace_dr_load(unsigned int vm, unsigned int vcpu, int cpu,
				  dk_u32 switch_db_regs, dk_u32 reason, const dk_u64 *db,
				  dk_u64 dr7) DK_NOEXCEPT;
/* The guest's DR0-3 and DR6 read back after an exit (WONT_EXIT). */
DK_EXTERN_C void dk_trace_dr_sync(unsigned int vm, unsigned int vcpu, int cpu,
				  dk_u32 switch_db_regs, const dk_u64 *db, dk_u64 dr6) DK_NOEXCEPT;
/* A KVM_EXIT_DEBUG to userspace. */
DK_EXTERN_C void dk_trace_debug_exit(unsigned int vm, unsigned int vcpu, int cpu,
				     dk_u32 switch_db_regs, dk_u32 exception, dk_u64 pc, dk_u64 dr6,
				     dk_u64 dr7) DK_NOEXCEPT;

/* The host CPU has IA32_TSC_AUX (RDTSCP or RDPID): switched around each guest entry. */
DK_EXTERN_VAR bool dk_host_has_tsc_aux;
/* The host CPU has XSAVE (KVM_CAP_XCRS, KVM_GET/SET_XCRS). */
DK_EXTERN_VAR bool dk_host_has_xsave;

/* ---- fault injection: module parameters, off by default (glue/module.c) ----
 * Each re-creates one historical KVM bug so the selftests can show it being caught. */
DK_EXTERN_VAR bool dbgkvm_knob_no_reload_on_load;     /* 2016: no RELOAD on vcpu_load */
DK_EXTERN_VAR bool dbgkvm_knob_svm_clobber_guest_dr6; /* 2020: SVM debug exit clobbers DR6 */
DK_EXTERN_VAR bool dbgkvm_knob_skip_code_bp_check;    /* 2013: no code-bp check before emulation */
DK_EXTERN_VAR bool dbgkvm_knob_single_cause_on_coincident; /* 2025: BS without Bn */

/* ---- VMX host support (glue/vmx_glue.c) ---- */
/* Run fn(arg) on `cpu` with interrupts off and wait (smp_call_function_single); on
 * the current CPU it runs directly. Negative errno if `cpu` is offline. */
DK_EXTERN_C int dk_run_on_cpu(int cpu, void (*fn)(void *), void *arg) DK_NOEXCEPT;
/* CR4.VMXE through the kernel's CR4 shadow. enable: -EBUSY if it is already set. */
DK_EXTERN_C int dk_vmx_cr4_enable(void) DK_NOEXCEPT;
DK_EXTERN_C void dk_vmx_cr4_disable(void) DK_NOEXCEPT;
/* Host segment state a VM exit does not restore as the kernel needs it (KVM's
 * vmx_prepare_switch_to_guest/host). Both with interrupts off. */
struct dk_vmx_host {
	dk_u64 fs_base, gs_base, kernel_gs_base;
	unsigned short ds, es, fs, gs, ldt;
};
DK_EXTERN_C void dk_vmx_host_save(struct dk_vmx_host *h) DK_NOEXCEPT;
DK_EXTERN_C void dk_vmx_host_restore(const struct dk_vmx_host *h) DK_NOEXCEPT;
/* An NMI that caused a VM exit, raised again for the host (NMI IPI to this CPU). */
DK_EXTERN_C void dk_vmx_self_nmi(void) DK_NOEXCEPT;

/* ---- implemented in C++ ---- */
DK_EXTERN_C int dbgkvm_core_init(void) DK_NOEXCEPT;
DK_EXTERN_C void dbgkvm_core_exit(void) DK_NOEXCEPT;
DK_EXTERN_C long dbgkvm_dev_ioctl(unsigned int cmd, unsigned long arg) DK_NOEXCEPT;
DK_EXTERN_C long dbgkvm_vm_ioctl(void *vm, unsigned int cmd, unsigned long arg) DK_NOEXCEPT;
DK_EXTERN_C void dbgkvm_vm_release(void *vm) DK_NOEXCEPT;
DK_EXTERN_C long dbgkvm_vcpu_ioctl(void *vcpu, unsigned int cmd, unsigned long arg) DK_NOEXCEPT;
DK_EXTERN_C void dbgkvm_vcpu_release(void *vcpu) DK_NOEXCEPT;
/* Page `index` of the vCPU's mmap area (0: struct kvm_run, 1: PIO data), or NULL. */
DK_EXTERN_C void *dbgkvm_vcpu_mmap_page(void *vcpu, unsigned long index) DK_NOEXCEPT;
DK_EXTERN_C void dbgkvm_vcpu_load(void *vcpu, int cpu) DK_NOEXCEPT;
DK_EXTERN_C void dbgkvm_vcpu_put(void *vcpu) DK_NOEXCEPT;
DK_EXTERN_C int dbgkvm_cpu_online(unsigned int cpu) DK_NOEXCEPT;
DK_EXTERN_C int dbgkvm_cpu_offline(unsigned int cpu) DK_NOEXCEPT;

/* The world switch (svm/vmrun.S): CLGI; VMSAVE host; VMLOAD guest; VMRUN; VMSAVE guest;
 * VMLOAD host; STGI. regs: the guest GPRs except RAX and RSP (in the VMCB), indexed by
 * x86 register number (0 = RAX slot unused, 4 = RSP slot unused). */
DK_EXTERN_C void dbgkvm_svm_vmrun(dk_u64 vmcb_pa, dk_u64 *regs, dk_u64 host_save_pa) DK_NOEXCEPT;

/* The VMX world switch (vmx/vmenter.S): writes HOST_RSP/HOST_RIP, loads the guest GPRs
 * (regs[] by register number, RSP slot unused: it is in the VMCS), VMLAUNCH if
 * !launched else VMRESUME. Returns 0 after a VM exit, 1 if the instruction failed
 * (VMfailInvalid/VMfailValid: VM_INSTRUCTION_ERROR says why). Interrupts off. */
DK_EXTERN_C int dbgkvm_vmx_vmenter(dk_u64 *regs, int launched) DK_NOEXCEPT;

#endif
