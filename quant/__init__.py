"""Hardware-aware quantization: conventional baseline, phase 1 and phase 2."""
