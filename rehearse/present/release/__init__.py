"""A release under review, rendered where reviewers already look: a pull-request comment (markdown) and
code scanning (SARIF 2.1.0). Both read the release summary (`release.json`), built from saved runs only."""
