"""The one error the signals library raises for bad arguments.

    ValueError
      SignalArgumentError   a window, multiplier, array or update value outside its domain

It subclasses `ValueError` so callers that already treat bad numbers as `ValueError`
keep working; the message always names the indicator and the argument.
"""

__all__ = ["SignalArgumentError"]


class SignalArgumentError(ValueError):
    """An indicator was built or fed with an argument outside its domain."""
