"""Name lexicons derived from public-domain census data; see ``build.py``."""
