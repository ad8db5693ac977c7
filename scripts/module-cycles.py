#!/usr/bin/env python3
"""Dependency cycles between the top-level modules of a crate.

Usage: scripts/module-cycles.py [SRC_DIR ...] (default: every crate's src/).
Reads `crate::NAME` paths (and `crate::{A, B::…}` groups) in each module's
files, prints each module's dependencies with --verbose, then every cycle
(strongly connected component); exits 1 if there is one.
"""

import os
import re
import sys
from collections import defaultdict


def group_heads(text, start):
    """The first identifier of each item in the `{…}` group at `start`."""
    depth, item, heads = 0, "", []
    for ch in text[start:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                heads.append(item)
                break
        if depth == 1 and ch == ",":
            heads.append(item)
            item = ""
        elif depth >= 1:
            item += ch
    return [m.group(0) for h in heads if (m := re.match(r"\w+", h.strip()))]


def deps_of(src):
    deps = defaultdict(set)
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), src)
            if rel in ("lib.rs", "main.rs"):
                continue
            top = rel.split(os.sep)[0].removesuffix(".rs")
            text = open(os.path.join(root, f), encoding="utf-8").read()
            text = re.sub(r"//[^\n]*", "", text)
            names = re.findall(r"\bcrate::(\w+)", text)
            # `super::` out of a top-level module (`a.rs`, `a/mod.rs`) is the crate root.
            parts = rel.split(os.sep)
            depth = len(parts) - (1 if parts[-1] == "mod.rs" else 0)
            names += re.findall(r"\b" + "super::" * depth + r"(\w+)", text)
            for m in re.finditer(r"\bcrate::\{", text):
                names += group_heads(text, m.end() - 1)
            deps[top].update(n for n in names if n != top and n != "self")
            deps.setdefault(top, set())
    return deps


def cycles(deps):
    """Tarjan's strongly connected components of more than one module."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps.get(v, ()):
            if w not in deps:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def main():
    args = [a for a in sys.argv[1:] if a != "--verbose"]
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    srcs = args or [os.path.join(here, "src")] + [
        os.path.join(here, "crates", c, "src") for c in sorted(os.listdir(os.path.join(here, "crates")))
    ]
    found = False
    for src in srcs:
        deps = deps_of(src)
        if "--verbose" in sys.argv:
            for m in sorted(deps):
                print(f"{src}: {m} -> {', '.join(sorted(d for d in deps[m] if d in deps))}")
        for c in cycles(deps):
            found = True
            edges = [f"{a} -> {b}" for a in c for b in sorted(deps[a]) if b in c]
            print(f"{os.path.relpath(src, here)}: cycle {' <-> '.join(c)} ({'; '.join(edges)})")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
