// SPDX-License-Identifier: GPL-2.0-only
/* Reading a fuzzer's bytes as a stream of small numbers; zeros once they run out. */
#ifndef KSLUB_FUZZ_INPUT_H
#define KSLUB_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

class FuzzInput {
public:
	FuzzInput(const uint8_t *data, size_t size) : data_(data), size_(size) {}
	bool empty() const { return pos_ >= size_; }
	uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
	uint16_t u16() { return uint16_t(u8() | (u8() << 8)); }
	uint32_t u32() { return uint32_t(u16()) | (uint32_t(u16()) << 16); }
	/* A number in [0, n). */
	uint32_t below(uint32_t n) { return n ? u32() % n : 0; }

private:
	const uint8_t *data_;
	size_t size_;
	size_t pos_ = 0;
};

#endif
