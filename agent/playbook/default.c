/* SPDX-License-Identifier: GPL-2.0 */
/* The default playbook, embedded from agent/playbook/default.yaml so that the readable file in the repo is
 * the one in the binary (the path is relative to the repo root, where make runs the compiler). */
#include "playbook/playbook.h"

/* .dc.a (an address-sized word) holds the length as an assemble-time constant, so no code runs to get it. */
__asm__(".section .rodata\n"
	".global cgp_playbook_default_yaml\n"
	".type cgp_playbook_default_yaml, @object\n"
	".balign 16\n"
	"cgp_playbook_default_yaml:\n"
	".incbin \"agent/playbook/default.yaml\"\n"
	"cgp_playbook_default_yaml_end:\n"
	".byte 0\n" /* a NUL after the text, for debuggers; not counted */
	".size cgp_playbook_default_yaml, cgp_playbook_default_yaml_end - cgp_playbook_default_yaml\n"
	".global cgp_playbook_default_yaml_len\n"
	".type cgp_playbook_default_yaml_len, @object\n"
	".balign 8\n"
	"cgp_playbook_default_yaml_len:\n"
	".dc.a cgp_playbook_default_yaml_end - cgp_playbook_default_yaml\n"
	".size cgp_playbook_default_yaml_len, .-cgp_playbook_default_yaml_len\n"
	".previous\n");

int cgp_playbook_default(struct cgp_playbook **out, char *err, size_t errlen)
{
	return cgp_playbook_parse("(default)", cgp_playbook_default_yaml, cgp_playbook_default_yaml_len, out, err,
				  errlen);
}
