"""Probes of the integrity objective."""
