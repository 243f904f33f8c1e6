"""Rendering: maps (offline assets, base maps, the coverage map), the public notice and exports.

Computes nothing: it shows and writes what the pipeline returned."""
