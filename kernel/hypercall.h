/*
 * Hypercalls through the hypercall page (docs/real-xen.md section 7.4):
 * call hypercall_page + 32 * N with the arguments in rdi, rsi, rdx, r10, r8;
 * the stub's syscall clobbers rcx and r11; the result is in rax.
 */
#ifndef PVBOOT_KERNEL_HYPERCALL_H
#define PVBOOT_KERNEL_HYPERCALL_H

#include <stdint.h>

#include <pvboot/xen-abi.h>
#include <xen/event_channel.h>
#include <xen/memory.h>
#include <xen/physdev.h>
#include <xen/sched.h>
#include <xen/version.h>

extern char hypercall_page[4096];

#define _hypercall3(nr, a1, a2, a3)                                                                \
	({                                                                                         \
		long __res;                                                                        \
		register uint64_t __a1 asm("rdi") = (uint64_t)(a1);                                \
		register uint64_t __a2 asm("rsi") = (uint64_t)(a2);                                \
		register uint64_t __a3 asm("rdx") = (uint64_t)(a3);                                \
		asm volatile("call hypercall_page + %c[n] * 32"                                    \
			     : "=a"(__res), "+r"(__a1), "+r"(__a2), "+r"(__a3)                     \
			     : [n] "i"(nr)                                                         \
			     : "rcx", "r11", "r8", "r9", "r10", "memory");                         \
		__res;                                                                             \
	})

#define _hypercall4(nr, a1, a2, a3, a4)                                                            \
	({                                                                                         \
		long __res;                                                                        \
		register uint64_t __a1 asm("rdi") = (uint64_t)(a1);                                \
		register uint64_t __a2 asm("rsi") = (uint64_t)(a2);                                \
		register uint64_t __a3 asm("rdx") = (uint64_t)(a3);                                \
		register uint64_t __a4 asm("r10") = (uint64_t)(a4);                                \
		asm volatile("call hypercall_page + %c[n] * 32"                                    \
			     : "=a"(__res), "+r"(__a1), "+r"(__a2), "+r"(__a3), "+r"(__a4)         \
			     : [n] "i"(nr)                                                         \
			     : "rcx", "r11", "r8", "r9", "memory");                                \
		__res;                                                                             \
	})

static inline int hyp_console_write(const char *s, unsigned n)
{
	return (int)_hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, n, s);
}

static inline int hyp_sched_shutdown(unsigned reason)
{
	struct sched_shutdown sd = {.reason = reason};

	return (int)_hypercall3(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &sd, 0);
}

static inline int hyp_set_iopl(unsigned iopl)
{
	struct physdev_set_iopl op = {.iopl = iopl};

	return (int)_hypercall3(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, &op, 0);
}

static inline int hyp_mmu_update(mmu_update_t *req, unsigned count, unsigned *done)
{
	return (int)_hypercall4(__HYPERVISOR_mmu_update, req, count, done, DOMID_SELF);
}

static inline int hyp_mmuext_op(struct mmuext_op *op, unsigned count, unsigned *done)
{
	return (int)_hypercall4(__HYPERVISOR_mmuext_op, op, count, done, DOMID_SELF);
}

static inline int hyp_update_va_mapping(uint64_t va, uint64_t pte, uint64_t flags)
{
	return (int)_hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline int hyp_set_trap_table(const struct trap_info *traps)
{
	return (int)_hypercall3(__HYPERVISOR_set_trap_table, traps, 0, 0);
}

static inline long hyp_memory_op(unsigned cmd, void *arg)
{
	return _hypercall3(__HYPERVISOR_memory_op, cmd, arg, 0);
}

static inline int hyp_xen_version(unsigned cmd, void *arg)
{
	return (int)_hypercall3(__HYPERVISOR_xen_version, cmd, arg, 0);
}

static inline int hyp_evtchn_send(evtchn_port_t port)
{
	struct evtchn_send send = {.port = port};

	return (int)_hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_send, &send, 0);
}

#endif
