/*
 * pvboot's PV kernel: parse the command line, run the boot path of
 * src/boot on the real hypervisor, and end the domain with a verdict.
 *
 * The command line (the multiboot module string for dom0, `extra=` for a
 * domU) and the verdict are the guest protocol's, <pvboot/protocol.h>
 * (docs/harness.md): mode=, verify=, ramdisk_sum= in; one PVBOOT-RESULT
 * line and, as dom0 under QEMU, a code written to the isa-debug-exit port
 * out.  Without that port (a domU), the code picks SCHEDOP_shutdown's
 * reason: crash for a failure, poweroff otherwise.
 */
#include <stdarg.h>

#include <pvboot/boot.h>
#include <pvboot/fmt.h>
#include <pvboot/protocol.h>
#include <pvboot/x86.h>

#include "hypercall.h"
#include "platform/xen.h"


extern char _text[], _end[];

static void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void printk(const char *fmt, ...)
{
	char line[512];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = pv_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	xen_console_write(line, n);
}

static void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void __attribute__((noreturn)) finish(enum pv_exit_code code)
{
	xen_console_flush();
	if (xen_is_dom0() && hyp_set_iopl(1) == 0)
		outb(PV_DEBUG_EXIT_PORT, (uint8_t)code);
	/* No debug-exit device (or a domU): an ordinary shutdown. */
	for (;;)
		hyp_sched_shutdown(code == PV_EXIT_FAIL ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}

/* Called from entry.S for any exception but a probe's page fault. */
void __attribute__((noreturn)) trap_fatal(uint64_t vector, const uint64_t *frame, int has_error);

void trap_fatal(uint64_t vector, const uint64_t *frame, int has_error)
{
	/* rcx, r11, [error code], rip, cs, rflags, rsp, ss */
	const uint64_t *hw = frame + 2 + (has_error ? 1 : 0);

	printk("pvboot: fatal exception %llu, error code 0x%llx, rip 0x%llx, rsp 0x%llx\n",
	       (unsigned long long)vector, has_error ? (unsigned long long)frame[2] : 0ULL,
	       (unsigned long long)hw[0], (unsigned long long)hw[3]);
	static struct pv_boot_result res;
	static char line[PV_RESULT_JSON_MAX];

	pv_snprintf(res.error, sizeof(res.error), "fatal exception %llu at rip 0x%llx",
		    (unsigned long long)vector, (unsigned long long)hw[0]);
	pv_result_format(&res, 1U << PV_RF_ERROR, line, sizeof(line));
	printk(PV_RESULT_TAG "%s\n", line);
	finish(PV_EXIT_FAIL);
}

/* Entry points for the virtual IDT (entry.S). */
extern char page_fault_entry[], trap_entry_0[], trap_entry_1[], trap_entry_3[], trap_entry_4[],
	trap_entry_5[], trap_entry_6[], trap_entry_7[], trap_entry_8[], trap_entry_10[],
	trap_entry_11[], trap_entry_12[], trap_entry_13[], trap_entry_16[], trap_entry_17[],
	trap_entry_18[], trap_entry_19[];

static int set_traps(void)
{
	/* flags 0: only the kernel (or the CPU) raises these; events stay masked. */
#define TRAP(v, fn)                                                                                \
	{                                                                                          \
		v, 0, FLAT_KERNEL_CS, (unsigned long)fn                                            \
	}
	static const struct trap_info traps[] = {
		TRAP(0, trap_entry_0),	    TRAP(1, trap_entry_1),   TRAP(3, trap_entry_3),
		TRAP(4, trap_entry_4),	    TRAP(5, trap_entry_5),   TRAP(6, trap_entry_6),
		TRAP(7, trap_entry_7),	    TRAP(8, trap_entry_8),   TRAP(10, trap_entry_10),
		TRAP(11, trap_entry_11),    TRAP(12, trap_entry_12), TRAP(13, trap_entry_13),
		TRAP(14, page_fault_entry), TRAP(16, trap_entry_16), TRAP(17, trap_entry_17),
		TRAP(18, trap_entry_18),    TRAP(19, trap_entry_19), {0, 0, 0, 0},
	};
#undef TRAP
	return hyp_set_trap_table(traps);
}

void kernel_main(start_info_t *si);

void kernel_main(start_info_t *si)
{
	static struct pv_platform pf;
	static struct pv_boot_result res;
	struct pv_boot_opts o = {
		.virt_base = START_KERNEL_MAP,
		.kernel_start = (uint64_t)_text,
		.kernel_end = (uint64_t)_end,
	};
	struct pv_guest_args args;
	struct pv_error err = {0};
	int rc = xen_platform_init(&pf, si, START_KERNEL_MAP);

#ifdef PVBOOT_BROKEN_CLEANHIGHMAP
	/* The deliberately broken build (build/pvboot-kernel-broken.elf) for tests/real. */
	o.skip_cleanhighmap = true;
#endif

	if (rc) {
		printk("pvboot: platform setup failed: %d\n", rc);
		finish(PV_EXIT_FAIL);
	}
	rc = set_traps();
	if (rc) {
		printk("pvboot: HYPERVISOR_set_trap_table failed: %d\n", rc);
		finish(PV_EXIT_FAIL);
	}
	printk("pvboot: kernel 0x%llx-0x%llx, command line \"%s\"\n", (unsigned long long)_text,
	       (unsigned long long)_end, (const char *)si->cmd_line);
	pv_args_defaults(&args);
	if (pv_args_parse((const char *)si->cmd_line, &args, &err)) {
		printk("pvboot: %s\n", err.msg);
		finish(PV_EXIT_FAIL);
	}
	o.mode = args.mode;
	o.verify_full = args.verify_full;
	o.ramdisk_sum_given = args.ramdisk_sum_given;
	o.ramdisk_sum = args.ramdisk_sum;
	rc = pv_boot(&pf, &o, &res);
	finish(pv_exit_code_of(rc, &res, &args));
}
