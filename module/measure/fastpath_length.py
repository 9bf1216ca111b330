#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# The static length of an allocator's fast paths, in instructions, read from
# disassemblies (objdump) the same way for kslub.ko and for the kernel:
#
#   fastpath_length.py --vmlinux ELF --kallsyms FILE --ko kslub.ko [--verbose]
#
# The walk starts at a function's entry and looks for the first path to a
# ret that stays on the fast path: at a conditional branch it tries the
# fall-through first (where GCC puts the likely side of __builtin_expect),
# then the branch; a path is given up where it calls a slow-path, reporting,
# debug, tracing or locking function (SLOW_COMMON below: the kernel's ___slab_alloc,
# __slab_free, sheaf refills, kslub's slab_alloc_slow, ...), meets ud2 or
# int3, or loops. Unconditional jumps are followed; direct calls to functions
# of the same binary are walked too (up to 3 deep) and count their path; a
# jump to another function is a tail call, walked. The walk ends at a ret or
# a jump to __x86_return_thunk. Calls to __fentry__ (a nop at run time),
# retpoline and return thunks, and this_cpu_cmpxchg16b_emu (patched at boot
# into one cmpxchg16b on any CPU with CX16) count as one instruction and are
# not followed; neither are the kernel functions kslub.ko calls (not in its
# disassembly). A function with no such path is an error, never a figure.
# --verbose prints every walked instruction, so the path can be checked.
#
# The kernel's functions: kmem_cache_alloc (kmem_cache_alloc_noprof from
# 6.10 on) and kmem_cache_free, located by the running kernel's kallsyms
# (tests/vm/guest/kallsyms-dump.sh; _text gives the KASLR offset against the
# ELF extracted from its vmlinuz); kslub.ko's: kslub_mod_cache_alloc and
# kslub_mod_cache_free, what `compare` calls, from the module's symbol table.
# Both of kslub.ko's designs are walked (--design): the TID fast path, kept
# off the sheaves entry, and the sheaves path, kept off the TID one.
import argparse
import gzip
import io
import lzma
import os
import re
import subprocess
import sys
import tempfile

LINK_TEXT = 0xffffffff81000000
# Calls the kernel patches at boot (ALTERNATIVE) into one instruction, counted
# as that one: this_cpu_cmpxchg_double's emulation becomes cmpxchg16b on any
# CPU with CX16; __fentry__ becomes a nop.
NOT_FOLLOWED = re.compile(r"^(__fentry__|this_cpu_cmpxchg16b_emu|__x86_indirect_thunk_\w+|__x86_return_thunk|__x86_indirect_call_thunk\w*|"
                          r"__SCT__\w+|__static_call\w*|__stack_chk_fail)$")
# Calls that leave the fast path: slow paths, reports, debug and tracing, locks.
SLOW_COMMON = (r"slow|___slab_alloc|__slab_alloc|__slab_free|slab_free_hook_slow|refill|replace_empty|"
               r"replace_full|barn|report|refused|_debug|trace|spin_lock|new_slab|deactivate|flush|"
               r"put_cpu_partial|cpu_pin")
# kslub.ko's two per-CPU designs: the walk is kept off the other one's entry.
SLOW_BY_DESIGN = {"tid": re.compile(SLOW_COMMON + r"|sheaves_or_slab"),
                  "sheaves": re.compile(SLOW_COMMON + r"|10slab_allocE|12do_slab_freeE")}
SLOW_KERNEL = re.compile(SLOW_COMMON)
MAX_DEPTH = 3
MAX_STEPS = 4000


def fail(msg):
    print(f"fastpath-length: error: {msg}", file=sys.stderr)
    sys.exit(1)


class Insn:
    __slots__ = ("addr", "size", "mnem", "ops", "target", "sym")

    def __init__(self, addr, mnem, ops):
        self.addr, self.mnem, self.ops = addr, mnem, ops
        self.size, self.target, self.sym = 0, None, None


LINE = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")
TARGET = re.compile(r"^(?:0x)?([0-9a-f]+)(?:\s+<([^>]+)>)?")
# objdump -r -w puts a relocation on its instruction's line: "\t7555: R_X86_64_PLT32\t__fentry__-0x4".
RELOC = re.compile(r"\s+[0-9a-f]+:\s+R_X86_64_\w+\s+(\S+?)(?:[-+]0x[0-9a-f]+)?\s*$")


def objdump(args):
    try:
        return subprocess.run(["objdump", "-d", "-w", "--no-show-raw-insn"] + args,
                              check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        fail(f"objdump {' '.join(args)}: {e}")


def parse(text, relocs=False):
    """Instructions in address order; calls/jumps with their target address or relocated symbol."""
    insns = []
    for line in text.splitlines():
        reloc = None
        if relocs:
            r = RELOC.search(line)
            if r:
                reloc = r.group(1)
                line = line[:r.start()]
        m = LINE.match(line)
        if not m:
            continue
        body = m.group(2).strip()
        if not body or body.startswith("(bad)"):
            continue
        parts = body.split(None, 1)
        mnem = parts[0]
        ops = parts[1] if len(parts) > 1 else ""
        if mnem in ("bnd", "notrack", "rep", "repz", "repnz", "lock", "cs", "ds") and ops:
            sub = ops.split(None, 1)
            mnem, ops = mnem + " " + sub[0], sub[1] if len(sub) > 1 else ""
        i = Insn(int(m.group(1), 16), mnem, ops)
        i.sym = reloc
        t = TARGET.match(ops)
        if t and (mnem.split()[-1].startswith("j") or mnem.split()[-1].startswith("call")):
            i.target = int(t.group(1), 16)
            if t.group(2):
                i.sym = i.sym or t.group(2)
        insns.append(i)
    for a, b in zip(insns, insns[1:]):
        a.size = b.addr - a.addr
    return insns


class Binary:
    """Functions of one binary: name -> (start, end) and the instructions by address."""

    def __init__(self, name):
        self.name, self.funcs, self.at = name, {}, {}

    def add(self, fname, insns):
        if not insns:
            return
        self.funcs[fname] = (insns[0].addr, insns[-1].addr + 1)
        for i in insns:
            self.at[(fname, i.addr)] = i


def base_name(sym):
    return sym.split("+")[0].split("-")[0] if sym else None


class Broken(Exception):
    pass


WHY = {}  # function -> why paths were given up (for --verbose)


def walk(b, fname, slow, depth=0, indent=""):
    """(instructions, their lines) on the fast path of fname (see the head of this file),
    kept off the calls that slow matches; raises Broken."""
    if fname not in b.funcs:
        raise Broken(f"no function {fname}")
    start, end = b.funcs[fname]
    dead = set()  # addresses from which no fast path to a ret exists
    why = WHY.setdefault(fname, [])

    def callee(sym):
        """The callee's path, or None where it has none."""
        try:
            return walk(b, sym, slow, depth + 1, indent + "  ")
        except Broken:
            return None

    def go(addr, seen, steps):
        """(instructions, lines) of the first fast path from addr to a ret, or None."""
        n, lines = 0, []
        while True:
            if addr in dead or addr in seen or steps + n > MAX_STEPS:
                return None
            i = b.at.get((fname, addr))
            if i is None:
                return None
            seen = seen | {addr}
            n += 1
            op = i.mnem.split()[-1]
            lines.append(f"{indent}{fname}+{addr - start:#x}: {i.mnem} {i.ops}")
            if op in ("ud2", "int3", "hlt"):
                why.append(f"+{addr - start:#x}: {op}")
                return None
            if op.startswith("ret"):
                return n, lines
            sym = base_name(i.sym)
            nxt = addr + i.size if i.size else None
            followed = sym and sym in b.funcs and depth < MAX_DEPTH
            if op.startswith("call"):
                if sym and slow.search(sym):
                    why.append(f"+{addr - start:#x}: calls {sym}")
                    return None
                if followed and not NOT_FOLLOWED.match(sym):
                    r = callee(sym)
                    if not r:
                        return None
                    n, lines = n + r[0], lines + r[1]
                if nxt is None:
                    return None
                addr = nxt
                continue
            if op.startswith("jmp"):
                if sym == "__x86_return_thunk":
                    return n, lines
                if i.target is not None and start <= i.target < end and (sym is None or sym == fname):
                    addr = i.target
                    continue
                if sym and slow.search(sym):
                    why.append(f"+{addr - start:#x}: jumps to {sym}")
                    return None
                if followed:
                    r = callee(sym)
                    return (n + r[0], lines + r[1]) if r else None
                if sym and sym not in b.funcs:
                    return n, lines  # a tail call out of the binary (a kernel function called by the module)
                why.append(f"+{addr - start:#x}: jump {i.ops}")
                return None
            if op.startswith("j") and i.target is not None:
                # Conditional: the fall-through first (where the compiler puts the likely side), then the branch.
                for a in ([nxt] if nxt is not None else []) + [i.target]:
                    if not (start <= a < end):
                        continue
                    r = go(a, seen, steps + n)
                    if r:
                        return n + r[0], lines + r[1]
                    dead.add(a)
                return None
            if nxt is None:
                return None
            addr = nxt

    r = go(start, frozenset(), 0)
    if not r:
        raise Broken(f"{fname}: no path to a ret that stays off the slow paths")
    return r


def load_kernel(vmlinux, where, syms, wanted):
    """The kernel's functions reachable from wanted; syms: its text symbols (address, name) from where."""
    text_at = next((a for a, name in syms if name == "_text"), None)
    if text_at is None:
        fail(f"{where}: no _text")
    off = text_at - LINK_TEXT
    syms = sorted(syms)
    bounds = {}
    for (a, name), nxt in zip(syms, syms[1:]):
        if nxt[0] > a and name not in bounds:
            bounds[name] = (a - off, nxt[0] - off)
    names = {a - off: name for a, name in syms}
    b = Binary("vmlinux")
    todo, seen = list(wanted), set()
    while todo:
        fn = todo.pop()
        if fn in seen or fn not in bounds or NOT_FOLLOWED.match(fn):
            continue
        seen.add(fn)
        s, e = bounds[fn]
        insns = parse(objdump([f"--start-address={s:#x}", f"--stop-address={e:#x}", vmlinux]))
        for i in insns:
            if i.target is not None and i.target in names and not (s <= i.target < e):
                i.sym = names[i.target]
            elif i.target is not None and s <= i.target < e:
                i.sym = fn
            if i.sym and i.mnem.split()[-1].startswith(("call", "jmp")):
                todo.append(base_name(i.sym))
        b.add(fn, insns)
    return b


def load_ko(ko):
    text = objdump(["-r", ko])
    b = Binary("kslub.ko")
    cur, lines = None, []
    head = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
    for line in text.splitlines() + ["0 <end>:"]:
        m = head.match(line)
        if m:
            if cur:
                insns = parse("\n".join(lines), relocs=True)
                for i in insns:
                    if i.sym and base_name(i.sym) == cur and i.target is not None:
                        i.sym = cur
                b.add(cur, insns)
            cur, lines = m.group(1), []
        elif cur:
            lines.append(line)
    return b


def measure(b, fname, slow, verbose):
    if fname not in b.funcs:
        fail(f"{b.name}: no function {fname}")
    try:
        n, lines = walk(b, fname, slow)
    except Broken as e:
        if verbose:
            for f, w in WHY.items():
                print(f"{f}: paths given up at: {'; '.join(sorted(set(w)))}")
        fail(f"{b.name}: {e}")
    if verbose:
        print(f"--- {b.name} {fname}: {n} instructions")
        print("\n".join(lines))
    return n


def extract_vmlinux(vmlinuz, out):
    """The ELF inside a bzImage: the first xz, zstd or gzip stream that decompresses to one."""
    data = open(vmlinuz, "rb").read()
    for magic, how in ((b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\x1f\x8b\x08", "gzip")):
        at = data.find(magic)
        while at >= 0:
            try:
                if how == "xz":
                    elf = lzma.LZMADecompressor().decompress(data[at:])
                elif how == "gzip":
                    elf = gzip.GzipFile(fileobj=io.BytesIO(data[at:])).read1(1 << 31)
                else:
                    # zstd stops with an error at the data after the stream, having written it.
                    r = subprocess.run(["zstd", "-dc"], input=data[at:], capture_output=True)
                    elf = r.stdout
            except (lzma.LZMAError, OSError, EOFError):
                elf = b""
            if elf[:4] == b"\x7fELF":
                with open(out, "wb") as f:
                    f.write(elf)
                return
            at = data.find(magic, at + 1)
    fail(f"{vmlinuz}: no compressed ELF found (xz, zstd, gzip)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmlinux", help="the kernel's ELF (or --vmlinuz)")
    ap.add_argument("--vmlinuz", help="the kernel image; its ELF is extracted")
    ap.add_argument("--kallsyms", required=True)
    ap.add_argument("--ko", required=True)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--design", choices=["tid", "sheaves", "both"], default="both",
                    help="which of kslub.ko's per-CPU designs to walk (default both)")
    a = ap.parse_args()
    if not a.vmlinux and not a.vmlinuz:
        fail("--vmlinux or --vmlinuz is needed")
    if not a.vmlinux:
        tmp = tempfile.NamedTemporaryFile(prefix="vmlinux.", delete=False)
        tmp.close()
        extract_vmlinux(a.vmlinuz, tmp.name)
        a.vmlinux = tmp.name
        try:
            return report(a)
        finally:
            os.unlink(tmp.name)
    return report(a)


def report(a):
    kallsyms = []
    with open(a.kallsyms) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[1] in "tT":
                kallsyms.append((int(p[0], 16), p[2]))
    names = {n for _, n in kallsyms}
    k_alloc = "kmem_cache_alloc_noprof" if "kmem_cache_alloc_noprof" in names else "kmem_cache_alloc"
    kernel = load_kernel(a.vmlinux, a.kallsyms, kallsyms, [k_alloc, "kmem_cache_free"])
    ko = load_ko(a.ko)
    designs = ["tid", "sheaves"] if a.design == "both" else [a.design]
    rows = [("alloc (hit)", "kslub_mod_cache_alloc", k_alloc),
            ("free (to the CPU slab or sheaf)", "kslub_mod_cache_free", "kmem_cache_free")]
    theirs = {kf: measure(kernel, kf, SLOW_KERNEL, a.verbose) for _, _, kf in rows}
    print(f"{'fast path':46} {'kslub.ko':>9} {'kernel':>9} {'ratio':>7}   (instructions)")
    for d in designs:
        for what, ks, kf in rows:
            x, y = measure(ko, ks, SLOW_BY_DESIGN[d], a.verbose), theirs[kf]
            print(f"{what + ', kslub ' + d:46} {x:9d} {y:9d} {x / y:7.2f}   ({ks} / {kf})")


if __name__ == "__main__":
    main()
