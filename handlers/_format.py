"""Small formatters shared by the handlers' replies."""


def hours(minutes: float) -> str:
    """Minutes as hours the way people say them: 120 → "2", 90 → "1.5", 50 → "0.8"."""
    value = round(minutes / 60, 1)
    return f"{value:g}"


def percent(share: float) -> str:
    return f"{round(share * 100)}%"
