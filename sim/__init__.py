"""Golden CIM simulator: bit-exact crossbar inference with conductance variation."""
