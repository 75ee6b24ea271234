"""Configuration classes for the LTI tool (see settings.py)."""
