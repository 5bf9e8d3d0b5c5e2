// SPDX-License-Identifier: GPL-2.0
/*
 * The real side of `kvmlab oracle`: run an xAPIC register program in a real
 * KVM guest and collect what the kernel's in-kernel LAPIC answered.
 *
 * One fresh VM per program (so no LAPIC, APIC-map or emulator state leaks
 * from one program into the next): KVM_CREATE_VM, KVM_CREATE_IRQCHIP, 1 MiB
 * of RAM at GPA 0, vCPU 0 with the host's supported CPUID, flat 32-bit
 * protected mode with paging off set through KVM_SET_SREGS only (no GDT or
 * IDT in guest memory; the guest never loads a segment register and never
 * takes an exception), RFLAGS.IF = 0 so that IRR bits set by self-IPIs or
 * presets stay pending and observable.
 *
 * Guest CPUID is KVM_GET_SUPPORTED_CPUID as is, or minus TSC-deadline after
 * realkvm_set_tsc_deadline(rk, false): the kernel's LVTT timer-mode mask
 * depends on that CPUID bit, and the caller matches the model's assumption.
 *
 * Guest code, hand-assembled, one block per access (GPA = 0xfee00000 + off):
 *   read : 31 c0            xor  eax, eax
 *          [66] a0/a1 GPA   mov  al/ax/eax, [GPA]
 *          e7 10            out  0x10, eax        -> one KVM_EXIT_IO per read
 *   write: b8 VAL           mov  eax, VAL
 *          [66] a2/a3 GPA   mov  [GPA], al/ax/eax
 *   end  : e6 11            out  0x11, al         -> done
 *          f4 eb fd         hlt; jmp hlt          (never reached)
 * Only MOV (no read of the destination) and OUT touch anything but
 * registers, so the x86 emulator's read buffer (ctxt->mem_read.data) only
 * ever holds values the guest read from the APIC page: that buffer is what a
 * read of an invalid APIC offset returns (apic_mmio_read() ignores the
 * failure of kvm_lapic_reg_read(), docs/real-kvm-notes.md §1), and the model
 * mirrors it with apic->last_mmio_read.
 *
 * On this machine's PVM backend CPL0 code is executed by KVM's instruction
 * emulator (docs/real-kvm-notes.md §0), which reaches the same in-kernel LAPIC
 * code (apic_mmio_read/apic_mmio_write) that VMX/SVM reach through the
 * APIC-access exit when APICv/AVIC is off.
 *
 * Time limit: a per-thread POSIX timer sends a real-time signal
 * (SIGRTMIN + 4, rk_timeout_signal()) after
 * REALKVM_TIMEOUT_MS.  The signal is blocked in the thread and unblocked
 * only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so it interrupts KVM_RUN with
 * -EINTR and is then consumed with sigtimedwait(); no handler is installed
 * and the caller's signal mask is restored on return.  A guest can therefore
 * never block the caller for more than the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "oracle/realkvm.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#define GUEST_MEM_SIZE		(1ul << 20)
#define GUEST_CODE_GPA		0x1000ul
#define GUEST_STACK_GPA		0x80000ul
#define APIC_BASE_GPA		0xfee00000u
#define PORT_REPORT		0x10
#define PORT_DONE		0x11
#define MAX_ACCESS_BYTES	12	/* xor + 66 a1 moffs32 + out */
#define EPILOGUE_BYTES		5
#define KVM_API_VERSION_12	12
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

struct realkvm {
	int sys_fd;
	int run_mmap_size;
	struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID */
	bool tsc_deadline;		/* keep CPUID.01H:ECX.TSC_DEADLINE (bit 24) */
	u32 leaf1_ecx;			/* leaf 1 ECX as KVM_GET_SUPPORTED_CPUID gave it */
	char err[256];
};

/* One program's VM; torn down by rk_vm_destroy() whatever got created. */
struct rk_vm {
	int vm_fd;
	int vcpu_fd;
	u8 *mem;
	struct kvm_run *run;
};

/*
 * Record an error message.  @err > 0: an errno, appended as ": strerror" and
 * returned negated; @err < 0: returned as is, no suffix; 0: -EPROTO.
 */
static __printf(3, 4) int rk_fail(struct realkvm *rk, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rk->err, sizeof(rk->err), fmt, ap);
	va_end(ap);
	if (err > 0 && n >= 0 && (size_t)n < sizeof(rk->err))
		snprintf(rk->err + n, sizeof(rk->err) - n, ": %s", strerror(err));
	return err > 0 ? -err : err < 0 ? err : -EPROTO;
}

/* An ioctl failed: record its name and errno, return -errno. */
static int rk_ioctl_fail(struct realkvm *rk, const char *name)
{
	int err = errno ? errno : EIO;

	return rk_fail(rk, err, "%s", name);
}

const char *realkvm_last_error(const struct realkvm *rk)
{
	return rk->err;
}

static int rk_timeout_signal(void)
{
	return SIGRTMIN + 4;
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* Probe and open                                                      */

static int rk_get_supported_cpuid(struct realkvm *rk)
{
	struct kvm_cpuid2 *c;
	u32 nent = 64;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			return rk_fail(rk, ENOMEM, "KVM_GET_SUPPORTED_CPUID buffer");
		c->nent = nent;
		if (!ioctl(rk->sys_fd, KVM_GET_SUPPORTED_CPUID, c))
			break;
		if (errno != E2BIG || nent >= 4096) {
			int r = rk_ioctl_fail(rk, "KVM_GET_SUPPORTED_CPUID");

			free(c);
			return r;
		}
		free(c);
		nent *= 2;
	}
	rk->cpuid = c;
	for (u32 i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			rk->leaf1_ecx = c->entries[i].ecx;
	return 0;
}

static int unavail(char *reason, size_t len, const char *fmt, const char *dev, int err)
{
	if (reason && len) {
		int n = snprintf(reason, len, fmt, dev);

		if (err && n >= 0 && (size_t)n < len)
			snprintf(reason + n, len - n, ": %s", strerror(err));
	}
	return -REALKVM_EUNAVAIL;
}

int realkvm_open(const char *dev, struct realkvm **out, char *reason, size_t reason_len)
{
	struct realkvm *rk;
	int vm_fd, r, err;

	*out = NULL;
	if (reason && reason_len)
		reason[0] = '\0';
	rk = calloc(1, sizeof(*rk));
	if (!rk)
		return -ENOMEM;

	rk->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (rk->sys_fd < 0) {
		r = unavail(reason, reason_len, "cannot open %s", dev, errno);
		goto out_free;
	}
	r = ioctl(rk->sys_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION_12) {
		r = unavail(reason, reason_len, "%s: KVM_GET_API_VERSION is not 12", dev,
			    r < 0 ? errno : 0);
		goto out_close;
	}
	if (ioctl(rk->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0) {
		r = unavail(reason, reason_len, "%s: no in-kernel irqchip (KVM_CAP_IRQCHIP)", dev, 0);
		goto out_close;
	}
	rk->run_mmap_size = ioctl(rk->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (rk->run_mmap_size < (int)sizeof(struct kvm_run)) {
		r = unavail(reason, reason_len, "%s: KVM_GET_VCPU_MMAP_SIZE failed", dev,
			    rk->run_mmap_size < 0 ? errno : 0);
		goto out_close;
	}

	/* A trial VM with an in-kernel irqchip: the oracle needs both. */
	vm_fd = ioctl(rk->sys_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0) {
		r = unavail(reason, reason_len, "%s: KVM_CREATE_VM", dev, errno);
		goto out_close;
	}
	err = ioctl(vm_fd, KVM_CREATE_IRQCHIP, 0) ? errno : 0;
	close(vm_fd);
	if (err) {
		r = unavail(reason, reason_len, "%s: KVM_CREATE_IRQCHIP", dev, err);
		goto out_close;
	}

	r = rk_get_supported_cpuid(rk);
	if (r) {
		if (reason && reason_len)
			snprintf(reason, reason_len, "%s: %s", dev, rk->err);
		r = -REALKVM_EUNAVAIL;
		goto out_close;
	}
	rk->tsc_deadline = true;
	*out = rk;
	return 0;

out_close:
	close(rk->sys_fd);
out_free:
	free(rk);
	return r;
}

void realkvm_set_tsc_deadline(struct realkvm *rk, bool expose)
{
	rk->tsc_deadline = expose;
}

bool realkvm_has_tsc_deadline(const struct realkvm *rk)
{
	return rk->leaf1_ecx & CPUID_1_ECX_TSC_DEADLINE;
}

void realkvm_close(struct realkvm *rk)
{
	if (!rk)
		return;
	free(rk->cpuid);
	close(rk->sys_fd);
	free(rk);
}

/* ------------------------------------------------------------------ */
/* Guest code                                                          */

static size_t put32(u8 *c, u32 v)
{
	c[0] = v;
	c[1] = v >> 8;
	c[2] = v >> 16;
	c[3] = v >> 24;
	return 4;
}

/* Emit the instructions of one access; returns the number of bytes. */
static size_t emit_access(u8 *c, const struct apic_access *a)
{
	u32 gpa = APIC_BASE_GPA + a->offset;
	size_t n = 0;

	if (a->op == APIC_ACC_READ) {
		c[n++] = 0x31;			/* xor eax, eax */
		c[n++] = 0xc0;
		if (a->width == 2)
			c[n++] = 0x66;		/* operand size 16 */
		c[n++] = a->width == 1 ? 0xa0 : 0xa1;	/* mov al/ax/eax, moffs32 */
		n += put32(c + n, gpa);
		c[n++] = 0xe7;			/* out imm8, eax */
		c[n++] = PORT_REPORT;
	} else {
		c[n++] = 0xb8;			/* mov eax, imm32 */
		n += put32(c + n, a->value);
		if (a->width == 2)
			c[n++] = 0x66;
		c[n++] = a->width == 1 ? 0xa2 : 0xa3;	/* mov moffs32, al/ax/eax */
		n += put32(c + n, gpa);
	}
	return n;
}

static size_t emit_program(u8 *c, const struct apic_prog *p)
{
	size_t n = 0;

	for (u32 i = 0; i < p->n; i++)
		n += emit_access(c + n, &p->acc[i]);
	c[n++] = 0xe6;				/* out PORT_DONE, al */
	c[n++] = PORT_DONE;
	c[n++] = 0xf4;				/* hlt */
	c[n++] = 0xeb;				/* jmp hlt */
	c[n++] = 0xfd;
	return n;
}

size_t realkvm_code_size(const struct apic_prog *p)
{
	u8 buf[MAX_ACCESS_BYTES];
	size_t n = EPILOGUE_BYTES;

	for (u32 i = 0; i < p->n; i++)
		n += emit_access(buf, &p->acc[i]);
	return n;
}

/* ------------------------------------------------------------------ */
/* VM setup                                                            */

static void rk_vm_destroy(struct realkvm *rk, struct rk_vm *vm)
{
	if (vm->run)
		munmap(vm->run, rk->run_mmap_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->mem)
		munmap(vm->mem, GUEST_MEM_SIZE);
}

/* Flat 32-bit protected mode, paging off (docs/real-kvm-notes.md "Minimal recipes"). */
static int rk_setup_cpu(struct realkvm *rk, struct rk_vm *vm)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x8, .type = 0xb,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	/*
	 * With TSC-deadline in guest CPUID the kernel's LVTT timer-mode mask is
	 * 3 << 17 (bit 18 is kept and selects TSC-deadline mode, in which TMICT
	 * writes are ignored); without it, 1 << 17 (kvm_vcpu_after_set_cpuid).
	 */
	for (u32 i = 0; i < rk->cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &rk->cpuid->entries[i];

		if (e->function != 1)
			continue;
		if (rk->tsc_deadline)
			e->ecx |= rk->leaf1_ecx & CPUID_1_ECX_TSC_DEADLINE;
		else
			e->ecx &= ~CPUID_1_ECX_TSC_DEADLINE;
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, rk->cpuid))
		return rk_ioctl_fail(rk, "KVM_SET_CPUID2");
	/* A no-op for the BSP, but required for any other vCPU (notes pitfall 1). */
	if (ioctl(vm->vcpu_fd, KVM_SET_MP_STATE, &mp))
		return rk_ioctl_fail(rk, "KVM_SET_MP_STATE");
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs))
		return rk_ioctl_fail(rk, "KVM_GET_SREGS");
	data.selector = 0x10;
	data.type = 0x3;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cr0 = 0x11;			/* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;			/* any exception -> triple fault -> SHUTDOWN */
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs))
		return rk_ioctl_fail(rk, "KVM_SET_SREGS");

	memset(&regs, 0, sizeof(regs));
	regs.rip = GUEST_CODE_GPA;
	regs.rsp = GUEST_STACK_GPA;
	regs.rflags = 0x2;			/* IF = 0: pending vectors stay in IRR */
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs))
		return rk_ioctl_fail(rk, "KVM_SET_REGS");
	return 0;
}

/*
 * Preset ISR/IRR bits the way a VMM restores a LAPIC: KVM_GET_LAPIC, OR the
 * bits in, KVM_SET_LAPIC (kvm_apic_set_state() recounts isr_count, drops
 * highest_isr_cache and recomputes PPR).
 */
static int rk_preset_lapic(struct realkvm *rk, struct rk_vm *vm, const struct apic_prog *p)
{
	struct kvm_lapic_state st;

	if (ioctl(vm->vcpu_fd, KVM_GET_LAPIC, &st))
		return rk_ioctl_fail(rk, "KVM_GET_LAPIC");
	for (int i = 0; i < 8; i++) {
		u32 isr, irr;

		memcpy(&isr, st.regs + 0x100 + 0x10 * i, 4);
		memcpy(&irr, st.regs + 0x200 + 0x10 * i, 4);
		isr |= p->isr[i];
		irr |= p->irr[i];
		memcpy(st.regs + 0x100 + 0x10 * i, &isr, 4);
		memcpy(st.regs + 0x200 + 0x10 * i, &irr, 4);
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_LAPIC, &st))
		return rk_ioctl_fail(rk, "KVM_SET_LAPIC");
	return 0;
}

static int rk_vm_create(struct realkvm *rk, struct rk_vm *vm, const struct apic_prog *p)
{
	struct kvm_userspace_memory_region region;
	void *m;
	int r;

	vm->vm_fd = ioctl(rk->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return rk_ioctl_fail(rk, "KVM_CREATE_VM");
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0))
		return rk_ioctl_fail(rk, "KVM_CREATE_IRQCHIP");

	m = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return rk_fail(rk, errno, "mmap guest memory");
	vm->mem = m;
	emit_program(vm->mem + GUEST_CODE_GPA, p);
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .flags = 0, .guest_phys_addr = 0,
		.memory_size = GUEST_MEM_SIZE, .userspace_addr = (u64)(uintptr_t)vm->mem,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region))
		return rk_ioctl_fail(rk, "KVM_SET_USER_MEMORY_REGION");

	vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return rk_ioctl_fail(rk, "KVM_CREATE_VCPU");
	m = mmap(NULL, rk->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
	if (m == MAP_FAILED)
		return rk_fail(rk, errno, "mmap kvm_run");
	vm->run = m;

	r = rk_setup_cpu(rk, vm);
	if (r)
		return r;
	if (apicprog_has_preset(p))
		return rk_preset_lapic(rk, vm, p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Running                                                             */

/* The time limit: see the file comment. */
struct rk_deadline {
	timer_t timer;
	bool armed;
	sigset_t saved_mask;
	u64 deadline_ns;
};

static int rk_deadline_arm(struct realkvm *rk, struct rk_vm *vm, struct rk_deadline *d)
{
	int sig = rk_timeout_signal();
	struct itimerspec its = { .it_value = {
		.tv_sec = REALKVM_TIMEOUT_MS / 1000,
		.tv_nsec = (REALKVM_TIMEOUT_MS % 1000) * 1000000l,
	} };
	struct sigevent sev;
	sigset_t block, inside;
	u64 kmask[2];
	struct kvm_signal_mask *km = (struct kvm_signal_mask *)kmask;
	int r;

	sigemptyset(&block);
	sigaddset(&block, sig);
	r = pthread_sigmask(SIG_BLOCK, &block, &d->saved_mask);
	if (r)
		return rk_fail(rk, r, "pthread_sigmask");

	/* Inside KVM_RUN: the caller's mask with the timeout signal deliverable. */
	inside = d->saved_mask;
	sigdelset(&inside, sig);
	km->len = 8;				/* the kernel's sigset_t on x86-64 */
	memcpy(km->sigset, &inside, 8);
	if (ioctl(vm->vcpu_fd, KVM_SET_SIGNAL_MASK, km)) {
		r = rk_ioctl_fail(rk, "KVM_SET_SIGNAL_MASK");
		goto out_restore;
	}

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = sig;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &d->timer)) {
		r = rk_fail(rk, errno, "timer_create");
		goto out_restore;
	}
	d->deadline_ns = now_ns() + REALKVM_TIMEOUT_MS * 1000000ull;
	if (timer_settime(d->timer, 0, &its, NULL)) {
		r = rk_fail(rk, errno, "timer_settime");
		goto out_delete;
	}
	d->armed = true;
	return 0;

out_delete:
	timer_delete(d->timer);
out_restore:
	pthread_sigmask(SIG_SETMASK, &d->saved_mask, NULL);
	return r;
}

static void rk_deadline_disarm(struct rk_deadline *d)
{
	struct timespec zero = { 0, 0 };
	sigset_t block;

	if (!d->armed)
		return;
	timer_delete(d->timer);
	/* Consume a timeout signal that fired but was not taken by KVM_RUN. */
	sigemptyset(&block);
	sigaddset(&block, rk_timeout_signal());
	while (sigtimedwait(&block, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &d->saved_mask, NULL);
	d->armed = false;
}

static const char *exit_name(u32 reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "KVM_EXIT_UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "KVM_EXIT_EXCEPTION";
	case KVM_EXIT_IO: return "KVM_EXIT_IO";
	case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
	case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
	case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
	case KVM_EXIT_INTR: return "KVM_EXIT_INTR";
	case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
	default: return "exit";
	}
}

/* KVM_RUN until the guest reports done; the values read go to @res. */
static int rk_run_loop(struct realkvm *rk, struct rk_vm *vm, const struct apic_prog *p,
		       struct realkvm_result *res, const struct rk_deadline *d)
{
	struct kvm_run *run = vm->run;
	u32 want = apicprog_nr_reads(p);

	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0)) {
			if (errno != EINTR)
				return rk_ioctl_fail(rk, "KVM_RUN");
			if (now_ns() >= d->deadline_ns)
				return rk_fail(rk, -ETIMEDOUT,
					       "KVM_RUN: guest did not finish within %d ms (%u of %u values reported)",
					       REALKVM_TIMEOUT_MS, res->nr_reads, want);
			continue;		/* some other signal: carry on */
		}
		res->kvm_runs++;

		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			u8 *data = (u8 *)run + run->io.data_offset;
			u32 v = 0;

			if (run->io.direction != KVM_EXIT_IO_OUT || run->io.count != 1)
				break;
			if (run->io.port == PORT_DONE) {
				if (res->nr_reads != want)
					return rk_fail(rk, 0, "guest finished after %u of %u reads",
						       res->nr_reads, want);
				return 0;
			}
			if (run->io.port != PORT_REPORT || run->io.size != 4)
				break;
			if (res->nr_reads >= want)
				return rk_fail(rk, 0, "guest reported more than %u values", want);
			memcpy(&v, data, 4);
			res->reads[res->nr_reads++] = v;
			continue;
		}
		case KVM_EXIT_MMIO:
			return rk_fail(rk, 0, "unexpected KVM_EXIT_MMIO addr=0x%llx len=%u is_write=%u after %u reads",
				       (unsigned long long)run->mmio.phys_addr, run->mmio.len,
				       run->mmio.is_write, res->nr_reads);
		case KVM_EXIT_INTERNAL_ERROR:
			return rk_fail(rk, 0, "KVM_EXIT_INTERNAL_ERROR suberror %u after %u reads",
				       run->internal.suberror, res->nr_reads);
		case KVM_EXIT_FAIL_ENTRY:
			return rk_fail(rk, 0, "KVM_EXIT_FAIL_ENTRY reason 0x%llx",
				       (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTR:
			if (now_ns() >= d->deadline_ns)
				return rk_fail(rk, -ETIMEDOUT, "KVM_RUN: guest did not finish within %d ms",
					       REALKVM_TIMEOUT_MS);
			continue;
		default:
			break;
		}
		return rk_fail(rk, 0, "unexpected %s (exit reason %u) after %u of %u reads",
			       exit_name(run->exit_reason), run->exit_reason, res->nr_reads, want);
	}
}

int realkvm_run(struct realkvm *rk, const struct apic_prog *p, struct realkvm_result *res)
{
	struct rk_vm vm = { .vm_fd = -1, .vcpu_fd = -1 };
	struct rk_deadline d = { .armed = false };
	struct kvm_lapic_state st;
	u64 t0 = now_ns();
	int r;

	rk->err[0] = '\0';
	res->nr_reads = 0;
	res->kvm_runs = 0;
	if (p->n > APIC_PROG_MAX_ACCESSES)
		return rk_fail(rk, EINVAL, "program has %u accesses (max %u)", p->n,
			       APIC_PROG_MAX_ACCESSES);

	r = rk_vm_create(rk, &vm, p);
	if (r)
		goto out_destroy;
	r = rk_deadline_arm(rk, &vm, &d);
	if (r)
		goto out_destroy;
	r = rk_run_loop(rk, &vm, p, res, &d);
	if (r)
		goto out_disarm;
	if (ioctl(vm.vcpu_fd, KVM_GET_LAPIC, &st)) {
		r = rk_ioctl_fail(rk, "KVM_GET_LAPIC");
		goto out_disarm;
	}
	memcpy(res->regs, st.regs, sizeof(res->regs));
	res->run_ns = now_ns() - t0;

out_disarm:
	rk_deadline_disarm(&d);
out_destroy:
	rk_vm_destroy(rk, &vm);
	return r;
}
