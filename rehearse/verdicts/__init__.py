"""The verdict: the findings catalogue, static and measured rules, squawk, thresholds, and the texts that explain it."""
