"""Benchmark datasets read from the user's folder in their official formats (never downloaded).

* :func:`cimq.sim.datasets.svhn.load_svhn`: SVHN ``train_32x32.mat`` / ``test_32x32.mat``;
* :func:`cimq.sim.datasets.cifar.load_cifar` with ``CIFAR10`` / ``CIFAR100``: the python pickles,
  read by a restricted unpickler (:mod:`cimq.sim.datasets.safe_pickle`).

All return a :class:`~cimq.sim.datasets.split.DatasetSplit` (images ``v / 256``);
:func:`cimq.sim.data.load_dataset` picks the loader by name.
"""

from cimq.sim.datasets.split import DatasetSplit, make_split, pixels_to_unit, subset_indices

__all__ = ["DatasetSplit", "make_split", "pixels_to_unit", "subset_indices"]
