"""The spend engine: everything between spend.services and the database.

In the order one event meets them (docs/architecture.md, "Follow one
event"): validation, placing (campaign, day, rows; limits for the sender's
rules), then one of three paths -- single (one statement, single.sql),
batch (the generic transaction), copy_batch (a large batch, COPYed before
the caps are locked) -- all applying rule (the accounting rule) through
ledger (locks and writes, ledger.sql) and cursors (how the SQL runs); the
alerts raised are handed to the worker on commit (alerts).
"""
