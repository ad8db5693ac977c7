#!/usr/bin/env python3
"""Generate a large stagegate config: N environments in layers, ~5N edges.

Usage: python3 benches/gen_config.py 1000 5000 > /tmp/big.yml
Each environment promotes to environments in the next layers only, so the
graph is acyclic and valid; approvals never decrease downstream.
"""
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
m = int(sys.argv[2]) if len(sys.argv) > 2 else 5 * n
rnd = random.Random(42)
width = 10
print("version: 1")
print("environments:")
for i in range(n):
    layer = i // width
    req = min(layer // 20, 3)
    print(f"  env-{i}:")
    print(f'    branches: [main, "release/*", "hotfix/**"]')
    if i < width:
        print("    auto_deploy: true")
    if req:
        print(f'    approvals: {{ required: {req}, reviewers: ["@acme/team-{i % 7}"], wait_timer: 5m }}')
print("promotions:")
edges = {(a - width, a) for a in range(width, n)}  # every non-root environment is reached
while len(edges) < m:
    a = rnd.randrange(0, n - width)
    b = min(n - 1, (a // width + 1) * width + rnd.randrange(0, width * 2))
    if a // width < b // width:
        edges.add((a, b))
for a, b in sorted(edges):
    print(f"  - {{ from: env-{a}, to: env-{b} }}")
