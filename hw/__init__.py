"""RTL generation (Amaranth 0.5): truncation unit, CIM periphery, register bank."""
