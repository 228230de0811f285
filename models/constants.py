"""Physical constants (CODATA 2018, exact SI values where defined)."""

__all__ = ["FARADAY", "GAS_CONSTANT"]

FARADAY = 96485.33212  # C/mol
GAS_CONSTANT = 8.314462618  # J/(mol K)
