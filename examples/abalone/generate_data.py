#!/usr/bin/env python3
"""Writes an abalone-like CSV (sex, length, diameter, height, whole/shucked/viscera/shell
weight, rings) with a known relation between shell weight and rings, so a linear model
fits it with a small MSE. Deterministic: the same seed gives the same bytes."""
import random
import sys

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 4177
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 42
rng = random.Random(seed)
out = sys.stdout
for _ in range(rows):
    sex = rng.choice("MFI")
    length = round(rng.uniform(0.075, 0.815), 3)
    diameter = round(length * rng.uniform(0.75, 0.82), 3)
    height = round(length * rng.uniform(0.3, 0.38), 3)
    whole = round(length ** 3 * rng.uniform(3.5, 4.5), 4)
    shucked = round(whole * rng.uniform(0.4, 0.45), 4)
    viscera = round(whole * rng.uniform(0.2, 0.24), 4)
    shell = round(whole * rng.uniform(0.27, 0.31), 4)
    rings = max(1, round(3 + 20 * shell + rng.gauss(0, 1.5)))
    out.write(f"{sex},{length},{diameter},{height},{whole},{shucked},{viscera},{shell},{rings}\n")
