"""Performance analytics over finished runs: pure maths on equity curves and trades.

Float and numpy are fine here: these numbers report on money, they never move it.
"""
