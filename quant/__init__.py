"""Hardware-aware quantization: conventional baseline, phase 1 and phase 2.

Entry point: :func:`cimq.quant.run.run_quantization` (``QuantConfig`` in,
``QuantResult`` with the params path out); :func:`cimq.quant.search.quantize`
runs the search on any :class:`~cimq.quant.search.QuantProblem`. The method,
the choices and the variation preset of the headline experiment are in
``quant/README.md``. Submodules are imported on use.
"""
