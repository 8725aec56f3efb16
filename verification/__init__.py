"""cocotb testbenches and their runners (Icarus Verilog, Verilator)."""
