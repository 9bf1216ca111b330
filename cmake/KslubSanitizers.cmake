# SPDX-License-Identifier: GPL-2.0-only
#
# Sanitizer flags and run-time options for the kslub test variants.
#
# Sets:
#   KSLUB_ASAN_FLAGS, KSLUB_TSAN_FLAGS   compile + link flags of the variants
#   KSLUB_ASAN_ENV, KSLUB_TSAN_ENV       ENVIRONMENT lists for their tests
#   KSLUB_LSAN_WORKS                     result of the LeakSanitizer probe

set(KSLUB_ASAN_FLAGS
	-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
	-fno-sanitize-recover=undefined)
set(KSLUB_TSAN_FLAGS -O1 -g -fsanitize=thread)

# LeakSanitizer needs to suspend the process's threads with ptrace at exit.
# Where that is denied (some containers, or a run under strace/gdb) every
# ASan test would fail with "LeakSanitizer has encountered a fatal error",
# so probe once at configure time and switch leak detection off only then.
# On the project's Debian 12 machines the probe passes and leaks are
# detected. Force a result with -DKSLUB_LSAN_WORKS=ON/OFF.
if(NOT DEFINED KSLUB_LSAN_WORKS)
	try_run(_kslub_lsan_run _kslub_lsan_compile
		"${CMAKE_BINARY_DIR}/lsan-probe"
		"${CMAKE_CURRENT_LIST_DIR}/probes/lsan_probe.cpp"
		COMPILE_DEFINITIONS -fsanitize=address
		LINK_OPTIONS -fsanitize=address
		COMPILE_OUTPUT_VARIABLE _kslub_lsan_compile_out
		RUN_OUTPUT_VARIABLE _kslub_lsan_out)
	if(_kslub_lsan_compile AND "${_kslub_lsan_run}" STREQUAL "0")
		set(_kslub_lsan ON)
		message(STATUS "LeakSanitizer: works, leak detection enabled")
	elseif(NOT _kslub_lsan_compile)
		set(_kslub_lsan OFF)
		message(WARNING "LeakSanitizer probe did not build (is the compiler's "
			"sanitizer runtime installed? on Debian: libclang-rt-14-dev); "
			"ASan tests run with detect_leaks=0")
	else()
		set(_kslub_lsan OFF)
		message(WARNING "LeakSanitizer does not work here (no ptrace?): "
			"ASan tests run with detect_leaks=0. Probe output:\n${_kslub_lsan_out}")
	endif()
	set(KSLUB_LSAN_WORKS ${_kslub_lsan} CACHE BOOL
		"LeakSanitizer usable on this machine (probed at first configure)")
endif()

if(KSLUB_LSAN_WORKS)
	set(_kslub_detect_leaks 1)
else()
	set(_kslub_detect_leaks 0)
endif()

set(KSLUB_ASAN_ENV
	"ASAN_OPTIONS=detect_leaks=${_kslub_detect_leaks}:abort_on_error=0"
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
set(KSLUB_TSAN_ENV
	"TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1"
	"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
