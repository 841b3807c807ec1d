"""Venue cores, wire models and clients: one subpackage per venue."""
