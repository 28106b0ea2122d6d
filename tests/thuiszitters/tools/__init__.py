"""Tests of thuiszitters/tools/."""
