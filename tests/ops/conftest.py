import pytest

from tests.ops.helpers import RedisServer


@pytest.fixture
def own_redis():
    server = RedisServer().start()
    yield server
    server.stop()
