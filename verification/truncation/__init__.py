"""cocotb testbench of the truncation unit (unit level).

Pure-Python parts (``stimulus``, ``model``) do not import cocotb, so the
Amaranth simulator tests reuse them; ``driver``, ``monitor``, ``scoreboard``
and ``testbench`` run inside a cocotb simulation; ``test_truncation`` is the
cocotb test module the runner loads.
"""
