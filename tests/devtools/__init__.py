"""Tests of devtools/: the dev stack, its Web UI and the contract docs."""
