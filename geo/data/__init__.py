"""Data: the schema, coordinate systems, readers and writers, archive safety, the sample generator.

Decides nothing: a reader returns what the file holds, a writer writes what it is given.
"""
