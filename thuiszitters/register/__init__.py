"""The case register: the lasting record of every case in PostgreSQL, and its migrations."""

from thuiszitters.register.store import Register

__all__ = ["Register"]
