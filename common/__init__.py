"""The bottom layer every package shares: where generated state goes, and the one error family."""
