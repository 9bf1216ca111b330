// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fill pattern of the fuzzing oracles (api, races): every object the
 * shadow record holds is filled with a byte value of its own when it is
 * handed out and checked when it is freed, so that an object with two
 * owners, or the allocator writing into a live object, changes a byte. The
 * values run 1..255 in turn: never 0, so that a zeroed object never passes.
 */
#ifndef KSLUB_FUZZ_FILL_H
#define KSLUB_FUZZ_FILL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The byte value for the next object; *next starts at 1. */
inline uint8_t take_fill_byte(uint8_t *next)
{
	uint8_t b = *next;
	if (!++*next)
		*next = 1;
	return b;
}

inline void fill_object(void *p, size_t size, uint8_t byte)
{
	memset(p, byte, size);
}

/* The offset of the first byte of the object that is not `byte`, or -1. */
inline long fill_changed_at(const void *p, size_t size, uint8_t byte)
{
	const uint8_t *b = static_cast<const uint8_t *>(p);
	for (size_t i = 0; i < size; i++)
		if (b[i] != byte)
			return long(i);
	return -1;
}

#endif
