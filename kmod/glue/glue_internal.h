/* SPDX-License-Identifier: GPL-2.0 */
/* Glue-internal declarations (C only). */
#ifndef DBGKVM_GLUE_INTERNAL_H
#define DBGKVM_GLUE_INTERNAL_H

int dk_glue_init(void);
int dk_mitigations_init(void);
void dk_mitigations_exit(void);
void dk_glue_exit(void);
int dk_virt_user_enter(void);
void dk_virt_user_exit(void);

#endif
