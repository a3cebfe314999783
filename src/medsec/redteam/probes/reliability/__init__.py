"""Probes of the reliability objective."""
