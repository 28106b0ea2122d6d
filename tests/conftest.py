from tests.fixtures.logs import *  # noqa: F403
from tests.fixtures.postgres import *  # noqa: F403
from tests.fixtures.temporal import *  # noqa: F403
