"""Replay of the application's own statements (a pg_stat_statements export, a profile's queries, a SQL
file) as the rehearsal's workload: sources → parameter binding → values → ReplayApp."""
