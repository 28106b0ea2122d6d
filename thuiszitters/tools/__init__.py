"""Tools for operators: the command line for one case, the coordinators' report, and retention."""
