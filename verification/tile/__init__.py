"""cocotb testbench of the CIM tile (tile and model levels).

Pure-Python parts (``plan``, ``stimulus``, ``golden``, ``setup``) build a
:class:`~cimq.verification.tile.plan.TilePlan` in the calling process: the
register images to replay, the input codes and the golden simulator's outputs.
``driver``, ``bus``, ``scoreboard`` and ``testbench`` run inside the cocotb
simulation and only read the plan; ``test_tile`` is the cocotb test module.
"""
