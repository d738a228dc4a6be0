"""Dashboards and alarms per service."""
