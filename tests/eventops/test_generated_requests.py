"""Requests generated from each service's /openapi.json (schemathesis): whatever a caller sends, valid or
not, a service never answers 5xx, and every 4xx is a problem+json document a person can read.

Bounded so that it runs in every `make test`: a fixed number of examples per operation and mode, a fixed
seed, no shrinking (each failure is reported with the request that reproduces it).
"""

from __future__ import annotations

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode

from tests.conftest import auth_headers
from tests.eventops.support import PROBLEM_MIME, all_operations

SEED = 20261007
#: examples per operation and mode (valid and invalid requests)
EXAMPLES = 10
#: different failures shown per operation
SHOWN = 5


def problem_errors(response) -> list[str]:
    content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis: lowercase keys, lists
    if content_type.split(";")[0].strip() != PROBLEM_MIME:
        return [f"{response.status_code} is not {PROBLEM_MIME} but {content_type!r}"]
    body = response.json()
    wrong = [f"no {key!r}" for key in ("type", "title", "detail") if not body.get(key)]
    if body.get("status") != response.status_code:
        wrong.append(f"'status' is {body.get('status')!r}")
    return [f"{response.status_code}: {w}" for w in wrong]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize(
    ("service", "operation"), [pytest.param(op.service, op, id=op.id) for op in all_operations()]
)
def test_generated_requests_get_no_5xx_and_a_problem_for_every_4xx(service_app, service, operation, mode):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", service_app)
    generated = schema[operation.path][operation.method.upper()]
    headers = {**auth_headers(), "Accept-Language": "ru"}
    failures: dict[str, str] = {}

    @hypothesis.seed(SEED)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        phases=[Phase.explicit, Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @hypothesis.given(case=generated.as_strategy(generation_mode=mode))
    def send(case):
        response = case.call(headers=headers)
        if response.status_code >= 500:
            wrong = [f"{response.status_code}: {response.text[:300]}"]
        elif response.status_code >= 400:
            wrong = problem_errors(response)
        else:
            return
        for problem in wrong:
            failures.setdefault(
                problem.split(":")[0] + problem[:80], f"{problem}\n    {case.as_curl_command()}"
            )

    try:
        send()
    except hypothesis.errors.Unsatisfiable:
        # Nothing of this operation can be made invalid (no parameters, or free text only): said, not hidden.
        assert mode is GenerationMode.NEGATIVE, "no valid request could be generated"
        pytest.skip("schemathesis can make no invalid request for this operation")
    shown = list(failures.values())[:SHOWN]
    assert not failures, f"{len(failures)} kinds of failure, e.g.:\n" + "\n".join(shown)
