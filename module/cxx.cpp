// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C++ side of the module as one translation unit. Template code is
 * emitted in COMDAT sections, and 6.1 runs objtool on each object before
 * linking: its ORC, mcount and return-site tables then refer to those
 * sections, and when the link keeps one copy of a COMDAT group and drops the
 * others the references into the dropped copies break the link. One unit
 * has one copy of everything.
 */
#include "instance.cpp"
#include "selftest.cpp"
