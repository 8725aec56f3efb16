"""The ``cimq`` command line."""
