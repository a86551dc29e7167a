"""Ranking stages after the blend (calibration, popularity correction, ...): see registry.py."""
