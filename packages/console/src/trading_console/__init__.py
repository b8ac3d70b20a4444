"""The human side: the `te` command, the supervisor and (later) the dashboard."""

__all__: list[str] = []
