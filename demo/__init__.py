"""The demo course that `make run` loads: `python -m demo.load`."""
