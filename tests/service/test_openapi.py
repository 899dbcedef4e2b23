"""schemathesis against the app's own OpenAPI schema, over real HTTP, with every check it has: no input
gives a server error, and every answer is one the schema promises (status, headers, body, auth)."""

import pytest
from hypothesis import HealthCheck, settings

from tests.servers import serving

schemathesis = pytest.importorskip("schemathesis")

KEY = "schema-test-key"
ADMIN = "schema-admin-key"


@pytest.fixture(scope="module")
def base_url(bundle, tmp_path_factory):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    settings_ = ServiceSettings(
        _env_file=None,
        model_dir=bundle,
        api_keys=[KEY],
        admin_keys=[ADMIN],
        models_root=tmp_path_factory.mktemp("models"),
    )
    with serving(create_app(settings_)) as url:
        yield url


def test_no_request_the_schema_allows_gives_a_server_error_or_an_undocumented_answer(base_url):
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    checks = [check for check in CHECKS.get_all() if check.__name__ != "max_response_time"]
    assert len(checks) > 5
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {"POST /v1/entities", "GET /readyz"}
    for operation in operations:
        authorization = {
            "Authorization": f"Bearer {ADMIN if operation.path.startswith('/v1/admin') else KEY}"
        }
        check_operation(operation, base_url, authorization, checks)


def check_operation(operation, base_url, authorization, checks):
    from hypothesis import given

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case):
        response = case.call(base_url=base_url, headers=authorization)
        case.validate_response(response, checks=checks)

    check()
