import pytest

from tests.e2e.app_process import start_app


@pytest.fixture(scope="session")
def running_app(tmp_path_factory):
    app = start_app(tmp_path_factory.mktemp("app") / "home")
    print(f"\napp ready to serve in {app.startup_s:.1f} s")
    yield app
    app.stop()


@pytest.fixture(scope="session")
def client(running_app):
    from gradio_client import Client

    return Client(running_app.url, verbose=False)
