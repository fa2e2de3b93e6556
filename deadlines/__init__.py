"""Deadlines of the plan, counted in Vietnamese working days; reminder schedules."""
