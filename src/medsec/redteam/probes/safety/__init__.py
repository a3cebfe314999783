"""Probes of the safety objective: harmful medical requests, benign look-alikes, jailbreaks, datasets."""
