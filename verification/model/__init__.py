"""Model-level verification: real activations of a network through the tile RTL.

``network`` loads the default network with its params and places it on a
tile (shared with ``cimq generate`` / ``cimq regs``); ``tilefiles`` writes
that model tile for one sampled chip; ``plan`` turns the golden simulator's
per-layer inputs and outputs into the testbench's plan; ``tiny`` is a small
network whose model tile builds in seconds (tests, benchmarks).
"""
