"""Golden CIM simulator: bit-exact crossbar inference with conductance variation.

Main entry points (see each module):

* :func:`cimq.sim.capture.capture`: ``nn.Module`` to a typed :class:`~cimq.sim.graph.LayerGraph`.
* :class:`cimq.sim.network.CimNetwork`: integer inference on an ideal or sampled chip;
  :func:`cimq.sim.network.default_layer_params` for the conventional global format.
* :mod:`cimq.sim.variation`: variation models, presets and :class:`~cimq.sim.variation.DeviceModel`.
* :func:`cimq.sim.montecarlo.monte_carlo`: accuracy over chips and per-bit error statistics.
* :mod:`cimq.sim.crossbar`: one programmed layer (conductance codes) and its exact product.

Submodules are imported on use, so ``import cimq.sim`` stays cheap.
"""
