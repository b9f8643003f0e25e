"""The demo course that `make run` loads: `python -m deploy.demo.load`."""
