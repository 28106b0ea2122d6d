from tests.fixtures.browser import *  # noqa: F403
from tests.fixtures.logs import *  # noqa: F403
from tests.fixtures.postgres import *  # noqa: F403
from tests.fixtures.temporal import *  # noqa: F403
from tests.fixtures.werkbak import *  # noqa: F403
