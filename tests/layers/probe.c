/*
 * A program that reaches from the boot layer's tests up into the harness:
 * tests/layers/layers_test.sh links it as a tests/boot program is linked,
 * and that must fail with the harness's function undefined; linked with
 * the harness's libraries it must build, so the failure is the layering's.
 */
#include <pvboot/harness.h>

int main(void)
{
	struct run_plan p;
	struct pv_error err;

	return run_plan_init(&p, run_kind_find("dom0"), &err);
}
