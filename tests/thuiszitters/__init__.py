"""Tests of the application layer, mirroring thuiszitters/."""
