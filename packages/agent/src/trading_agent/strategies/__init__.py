"""Strategies behind one protocol (`base.Strategy`), one module each."""
