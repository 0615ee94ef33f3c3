"""The network (built from a config) and the registry of optimization algorithms."""
