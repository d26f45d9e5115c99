"""plan-compliance: cited, time-aware checks of retirement-plan fund menus."""

__version__ = "0.1.0"
