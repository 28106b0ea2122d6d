"""Tests of thuiszitters/temporal/."""
