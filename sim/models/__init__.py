"""The slides' benchmark networks for 32x32 inputs, their training and checkpoints.

* :mod:`~cimq.sim.models.alexnet` (SVHN), :mod:`~cimq.sim.models.vgg` (CIFAR-10),
  :mod:`~cimq.sim.models.resnet` (CIFAR-100, residual adds): only operations
  :func:`cimq.sim.capture.capture` maps; width multipliers for tiny test versions.
* :mod:`~cimq.sim.models.registry`: names, per-dataset defaults, parameter/MAC counts.
* :mod:`~cimq.sim.models.trainer` and :mod:`~cimq.sim.models.checkpoint`: resumable
  training with per-epoch checkpoints (``torch.load(weights_only=True)``).
* :mod:`~cimq.sim.models.trained`: :func:`load_trained_model` and
  :func:`load_benchmark` (dataset + trained network by name), for simulate/quantize/flow.

Submodules are imported on use.
"""
