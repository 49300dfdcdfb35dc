"""The benchmark suite of the FICOSEC portal (`make bench`, `python -m bench`): see bench/README.md."""
