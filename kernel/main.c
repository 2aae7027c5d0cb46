/*
 * pvboot's PV kernel: parse the command line, run the boot path of
 * src/boot on the real hypervisor, and end the domain with a verdict.
 *
 * Command line (the multiboot module string for dom0, `extra=` for a domU):
 *   mode=revector|no-revector|null|linear
 *                        what the boot path does (default revector; linear:
 *                        Linux 3.19's linear P2M list, which boots past 512 GiB)
 *   verify=full|sample   every pfn against the M2P, or a sample
 *   ramdisk_sum=0x<hex>  pv_sum64 of the ramdisk, as the host computed it
 *
 * The verdict: as dom0 under QEMU, a byte to the isa-debug-exit port 0xf4
 * (QEMU exits with (value << 1) | 1, real-xen.md section 8); otherwise, or
 * if that port does nothing, SCHEDOP_shutdown.
 */
#include <stdarg.h>

#include <pvboot/boot.h>
#include <pvboot/fmt.h>
#include <pvboot/x86.h>

#include "hypercall.h"
#include "platform/xen.h"

/* The values the host reads back as QEMU's exit status (run_qemu.c). */
#define EXIT_PASS	   0x10 /* every step ran, every check held, the module ran */
#define EXIT_FAIL	   0x11 /* a step failed, or a check did not hold */
#define EXIT_MODULE_FAILED 0x12 /* every check held; the module did not load (the seed's bug) */
#define DEBUG_EXIT_PORT	   0xf4

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

static void __attribute__((noreturn)) finish(unsigned code)
{
	xen_console_flush();
	if (xen_is_dom0() && hyp_set_iopl(1) == 0)
		outb(DEBUG_EXIT_PORT, (uint8_t)code);
	/* No debug-exit device (or a domU): an ordinary shutdown. */
	for (;;)
		hyp_sched_shutdown(code == EXIT_FAIL ? SHUTDOWN_crash : SHUTDOWN_poweroff);
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
	printk("PVBOOT-RESULT {\"error\":\"fatal exception %llu at rip 0x%llx\"}\n",
	       (unsigned long long)vector, (unsigned long long)hw[0]);
	finish(EXIT_FAIL);
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

static bool starts(const char *s, const char *prefix, const char **rest)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	*rest = s;
	return true;
}

static int parse_hex(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, digits++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (*s | 0x20) - 'a' + 10;
		else
			return -1;
		if (digits == 16)
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return digits ? 0 : -1;
}

/* Split the command line into words and apply them; one line per bad word. */
static int parse_cmdline(const char *line, struct pv_boot_opts *o)
{
	char word[128];
	int bad = 0;

	while (*line) {
		const char *v;
		size_t n = 0;

		while (*line == ' ')
			line++;
		while (*line && *line != ' ')
			if (n < sizeof(word) - 1)
				word[n++] = *line++;
			else
				line++;
		word[n] = '\0';
		if (!n)
			continue;
		if (starts(word, "mode=", &v)) {
			if (pv_boot_mode_parse(v, &o->mode)) {
				printk("pvboot: unknown mode '%s' (revector, no-revector, null or linear)\n",
				       v);
				bad = -1;
			}
		} else if (starts(word, "verify=", &v)) {
			if ((v[0] == 'f' && v[1] == 'u' && v[2] == 'l' && v[3] == 'l' && !v[4]))
				o->verify_full = true;
			else if (v[0] == 's' && v[1] == 'a' && v[2] == 'm' && v[3] == 'p' &&
				 v[4] == 'l' && v[5] == 'e' && !v[6])
				o->verify_full = false;
			else {
				printk("pvboot: unknown verify '%s' (full or sample)\n", v);
				bad = -1;
			}
		} else if (starts(word, "ramdisk_sum=", &v)) {
			if (parse_hex(v, &o->ramdisk_sum)) {
				printk("pvboot: ramdisk_sum '%s' is not a 64-bit hex number\n", v);
				bad = -1;
			}
			o->ramdisk_sum_given = true;
		} else {
			printk("pvboot: unknown option '%s'\n", word);
			bad = -1;
		}
	}
	return bad;
}

void kernel_main(start_info_t *si);

void kernel_main(start_info_t *si)
{
	static struct pv_platform pf;
	static struct pv_boot_result res;
	struct pv_boot_opts o = {
		.mode = PV_MODE_REVECTOR,
		.virt_base = START_KERNEL_MAP,
		.kernel_start = (uint64_t)_text,
		.kernel_end = (uint64_t)_end,
		.verify_full = true,
	};
	int rc = xen_platform_init(&pf, si, START_KERNEL_MAP);

#ifdef PVBOOT_BROKEN_CLEANHIGHMAP
	/* The deliberately broken build (build/pvboot-kernel-broken.elf) for tests/real. */
	o.skip_cleanhighmap = true;
#endif

	if (rc) {
		printk("pvboot: platform setup failed: %d\n", rc);
		finish(EXIT_FAIL);
	}
	rc = set_traps();
	if (rc) {
		printk("pvboot: HYPERVISOR_set_trap_table failed: %d\n", rc);
		finish(EXIT_FAIL);
	}
	printk("pvboot: kernel 0x%llx-0x%llx, command line \"%s\"\n", (unsigned long long)_text,
	       (unsigned long long)_end, (const char *)si->cmd_line);
	if (parse_cmdline((const char *)si->cmd_line, &o))
		finish(EXIT_FAIL);
	rc = pv_boot(&pf, &o, &res);
	if (rc || res.error[0] || res.mismatches || res.pages_leaked || res.pages_double_freed ||
	    (o.ramdisk_sum_given && o.mode != PV_MODE_NULL && res.ramdisk_ok != 1))
		finish(EXIT_FAIL);
	if (o.mode != PV_MODE_NULL && !(res.module_ok && res.module_ran))
		finish(EXIT_MODULE_FAILED);
	finish(EXIT_PASS);
}
