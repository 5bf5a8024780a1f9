#!/usr/bin/env python3
"""Cross-check MixQ's cycle model with llvm-mca (docs/timing.md).

Compiles firmware/bench/inner_loops.c to assembly with the project's flags, cuts out every loop
marked `@ LLVM-MCA-BEGIN name` ... `@ LLVM-MCA-END`, extends each region with the loop control
that follows the END marker up to the backward branch (so llvm-mca and the emulator time the
same instructions), and prints llvm-mca-14's cycles per iteration for -mcpu=cortex-m7.

Usage: python3 firmware/bench/mca_loops.py   (from the package root)
"""
import re
import subprocess
import sys
import tempfile

FLAGS_FILE = "toolchain/cortex-m7.flags"


def compile_flags():
    flags, section = [], None
    for line in open(FLAGS_FILE):
        line = re.sub(r"(^|\s)#.*", "", line).strip()
        if line in ("[compile]", "[link]"):
            section = line
            continue
        if section == "[compile]" and line:
            flags += line.split()
    return flags


def regions(assembly):
    """name -> list of instruction lines (loop body plus the loop control after END)."""
    lines = assembly.splitlines()
    found, i = {}, 0
    while i < len(lines):
        m = re.search(r"LLVM-MCA-BEGIN (\w+)", lines[i])
        if not m:
            i += 1
            continue
        name, body, i, ended = m.group(1), [], i + 1, False
        while i < len(lines):
            text = lines[i].strip()
            i += 1
            if "LLVM-MCA-END" in text:
                ended = True
                continue
            if not text or text.startswith(("@", ".")) or text.endswith(":"):
                continue
            body.append(text)
            if ended and re.match(r"b(ne|eq|lt|gt|le|ge|cc|cs|hi|ls|mi|pl)?(\.n|\.w)?\s+\.L", text):
                break
        found[name] = body
    return found


def main():
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/inner_loops.s"
        subprocess.run(["arm-none-eabi-gcc", *compile_flags(), "-g0", "-Ifirmware/startup", "-S",
                        "firmware/bench/inner_loops.c", "-o", out], check=True)
        for name, body in regions(open(out).read()).items():
            # The backward branch's label is not in the snippet: llvm-mca needs no target.
            code = "\n".join(re.sub(r"\s\.L\w+", " .", line) for line in body)
            src = f"{tmp}/{name}.s"
            open(src, "w").write(".syntax unified\n.thumb\n" + code + "\n")
            res = subprocess.run(["llvm-mca-14", "-mtriple=thumbv7em-none-eabi", "-mcpu=cortex-m7",
                                  "-iterations=1000", src], capture_output=True, text=True)
            if res.returncode != 0:
                print(name, "llvm-mca failed:", res.stderr.strip(), file=sys.stderr)
                continue
            cycles = int(re.search(r"Total Cycles:\s+(\d+)", res.stdout).group(1))
            print(f"{name} {len(body)} instructions, llvm-mca {cycles / 1000:.2f} cycles/iteration")
            if "-v" in sys.argv:
                print("   " + "\n   ".join(body))


if __name__ == "__main__":
    main()
