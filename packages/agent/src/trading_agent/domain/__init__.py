"""The agent's pure domain: market values, intents, regimes, sizing, the portfolio.

No I/O, no clock reads, no randomness here: time and data arrive as arguments.
"""
