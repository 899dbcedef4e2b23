"""schemathesis against the app's own OpenAPI schema, over real HTTP: no input gives a server error."""

import pytest
from hypothesis import HealthCheck, settings

from tests.servers import serving

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def base_url(bundle):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    with serving(create_app(ServiceSettings(_env_file=None, model_dir=bundle))) as url:
        yield url


def test_no_request_the_schema_allows_gives_a_server_error(base_url):
    from hypothesis import given
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {"POST /v1/entities", "GET /readyz"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(base_url=base_url)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        check()
