/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libstdc++'s configuration header reads glibc's version macros, even when only its
 * freestanding headers (<cstdint>, <new>, <type_traits>, <limits>...) are used. The
 * kernel has no glibc: report none, so no glibc-dependent path is taken.
 */
#ifndef DBGKVM_FREESTANDING_FEATURES_H
#define DBGKVM_FREESTANDING_FEATURES_H
#define __GLIBC_PREREQ(maj, min) 0
#endif
