#!/usr/bin/env python3
"""Lists the functions of a firmware ELF that call a panic entry point of `core` directly
(`core::panicking::*`, `core::option::*_failed`, `core::result::unwrap_failed`, ...), with
the entry point, from `llvm-objdump -d -C` output on stdin. Hashes are dropped, so the list is
stable across builds. Functions of `core` itself (the panic machinery) are left out."""
import re
import sys

PANIC = re.compile(r"^core::(panicking::|option::\w*_failed|result::unwrap_failed|slice::.*_fail|str::slice_error_fail|cell::panic_already)")
HASH = re.compile(r"::h[0-9a-f]{16}$")

LEGACY = [("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$C$", ","), ("$RF$", "&"),
          ("$BP$", "*"), ("$u7b$", "{"), ("$u7d$", "}"), ("..", "::")]

def clean(name):
    """Drops the hash and decodes what the demangler left of the legacy mangling."""
    name = HASH.sub("", name)
    if name.startswith("_$"):
        name = name[1:]
    for code, text in LEGACY:
        name = name.replace(code, text)
    return name

func = None
found = set()
for line in sys.stdin:
    m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
    if m:
        func = clean(m.group(1))
        continue
    m = re.search(r"\bbl?(?:\.w|x)?\s+0x[0-9a-f]+ <([^>+]*)", line)
    if m and func and not PANIC.search(func):
        target = clean(m.group(1))
        if PANIC.search(target):
            found.add((func, target))
for func, target in sorted(found):
    print(f"{func} -> {target}")
