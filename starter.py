"""The intake script: starts one case per pupil from a CSV or JSON-lines file of Aanmeldingen.

    python starter.py aanmeldingen.csv            start the cases (installed: thuiszitters-intake)
    python starter.py aanmeldingen.jsonl --dry-run validate only

Everything it does is in :mod:`thuiszitters.intake`, which says what it checks and prints.
"""

from thuiszitters.intake import cli

if __name__ == "__main__":
    cli()
