"""Fitness-path planner: coverage, eligibility, priority and budget allocation for 健身路径."""

__version__ = "0.1.0"
