"""Jobs send through the real outbound path: an app whose WeCom API base is the stand-in over HTTP."""
import pytest

from tests.standin_http import app_on_standin


@pytest.fixture
def sender(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock) as app:
        yield app
