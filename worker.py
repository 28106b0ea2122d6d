"""The worker: runs the case workflows and their activities on the ``thuiszitters`` task queue.

    python worker.py            run until SIGINT/SIGTERM, then shut down gracefully (installed: thuiszitters-worker)
    python worker.py --check    health check: Temporal reachable, PostgreSQL reachable, migrations current

Everything it does is in :mod:`thuiszitters.temporal.worker`; settings are described in ``docs/operations.md``.
"""

import sys

from thuiszitters.temporal.worker import main

if __name__ == "__main__":
    sys.exit(main())
