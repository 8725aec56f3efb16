"""One module per CLI command; each defines ``register(app)``.

:mod:`cimq.cli.main` imports every module here in name order, so a stage adds
its command without touching a shared file.
"""
