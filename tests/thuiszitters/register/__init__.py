"""Tests of thuiszitters/register/."""
