"""Probes of the privacy objective."""
