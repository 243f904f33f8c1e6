"""Optimisation: the coverage problem, rank and optimal allocation under budgets, and the bound
that proves how close a plan is to the best."""
