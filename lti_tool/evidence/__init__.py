"""Evidence files: uploads checked by their bytes, stored outside the web root, served safely.

Shared by the portfolio and TeachHub; access control is the caller's job.
"""
