"""Build-time training of the guard's classifier: examples we wrote plus a designated public split."""
