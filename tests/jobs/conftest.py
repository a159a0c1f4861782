"""Jobs send through the real outbound path: an app whose WeCom API base is the stand-in over HTTP."""
import fakeredis
import pytest

from bot import create_app, db
from tests.conftest import make_settings


@pytest.fixture
def sender(tmp_path, fake_server, standin_url, clock):
    app = create_app(make_settings(tmp_path / "bot", WECOM_API_BASE=standin_url),
                     redis=fakeredis.FakeRedis(server=fake_server), clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app
