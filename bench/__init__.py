"""The line's benchmark (issue 6): run `python -m bench`; see `bench/__main__.py`."""
