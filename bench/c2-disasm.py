#!/usr/bin/env python3
"""Disassembles what C2 compiled for one method, without hsdis.

The JDK prints compiled code as hex when no hsdis library is installed (Debian's
libhsdis0-fcml does not load into Temurin 25). This script takes that printout, keeps the
last C2 compile of the method, writes its bytes out and runs objdump over them.

Usage:
  java ... -XX:+UnlockDiagnosticVMOptions \
    '-XX:CompileCommand=print,dev.glance.engine.tensor.cpu.CpuWeight$BF16::dotTile8' ... > out.txt
  python3 bench/c2-disasm.py out.txt dotTile8 > dotTile8.s
Look for the inner loop by its FMAs (vfmadd231ps) and the backward jump that closes it.
"""
import re
import subprocess
import sys
import tempfile


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: c2-disasm.py PRINTOUT METHOD_NAME")
    path, method = sys.argv[1], sys.argv[2]
    lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
    starts = [i for i, l in enumerate(lines) if "Compiled method (c2)" in l and "::" + method + " (" in l]
    if not starts:
        sys.exit(f"no C2 compile of {method} in {path} (an OSR compile, marked %, is skipped)")
    code = bytearray()
    base = None
    for line in lines[starts[-1]:]:
        if line.startswith("[Stub Code]") or line.startswith("[Exception Handler]"):
            break
        m = re.match(r"\s+0x([0-9a-f]+): ((?:[0-9a-f]{2,8}\s?\|?\s?)+)$", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        data = bytes.fromhex("".join(m.group(2).replace("|", "").split()))
        if base is None:
            base = addr
        end = base + len(code)
        if addr < end:
            continue  # a label line repeats an address already read
        code += b"\x90" * (addr - end) + data
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        out = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", f.name],
                             capture_output=True, text=True, check=True).stdout
    print(f"# {method}: {len(code)} bytes from 0x{base:x}")
    print(out)


if __name__ == "__main__":
    main()
