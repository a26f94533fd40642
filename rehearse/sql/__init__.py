"""Reading migrations: the format readers, pglast splitting, statement kinds, transaction units, the plan and lock rules."""
