"""simulate_spend's engine (engine.py: a week of spend through the services, on its own clock)
and its report (report.py)."""
