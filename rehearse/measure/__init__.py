"""One rehearsal: the runner, executor, sampler, workload, long transaction, compatibility probe, state, rollback, preflight, versions."""
