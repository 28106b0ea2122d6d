"""Tools for developers, not installed with the application: the local stack, a PostgreSQL launcher, the Temporal
binaries from the development extra, and the contract docs generator."""
