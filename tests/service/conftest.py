import pytest

pytest.importorskip("onnxruntime")


@pytest.fixture
def make_client(bundle):
    from fastapi.testclient import TestClient

    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    def build(**settings):
        settings.setdefault("model_dir", bundle)
        return TestClient(create_app(ServiceSettings(_env_file=None, **settings)))

    return build


@pytest.fixture
def client(make_client):
    with make_client() as client:
        yield client
