"""What the client does with answers the honest fake never gives: bodies that are not Flink's JSON.

These use httpx's in-memory transport because no real Flink (or honest fake) produces such answers.
"""

from __future__ import annotations

import httpx
import pytest

from flink_operator.flink.rest import FlinkRestClient, FlinkRestError, ResponseFormatError, RetryPolicy

pytestmark = pytest.mark.unit


def _client(handler: httpx.MockTransport) -> FlinkRestClient:
    return FlinkRestClient("http://flink.invalid:8081/", transport=handler, retry=RetryPolicy.none())


async def test_non_json_success_is_a_response_format_error() -> None:
    async with _client(
        httpx.MockTransport(lambda r: httpx.Response(200, text="<html>proxy</html>"))
    ) as flink:
        with pytest.raises(ResponseFormatError, match="not JSON"):
            await flink.overview()


async def test_unexpected_shape_names_the_model_and_field() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"status": "NOT_A_STATE"}))
    async with _client(transport) as flink:
        with pytest.raises(ResponseFormatError, match="JobStatusInfo"):
            await flink.job_status("a" * 32)


async def test_proxy_error_page_keeps_its_text() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(502, text="Bad Gateway"))
    async with _client(transport) as flink:
        with pytest.raises(FlinkRestError) as raised:
            await flink.overview()
    assert raised.value.status == 502 and raised.value.root_cause == "Bad Gateway"


async def test_paths_are_joined_and_escaped_under_the_base_url() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"status": {"id": "IN_PROGRESS"}})

    async with FlinkRestClient("http://h:1/clusters/a/", transport=httpx.MockTransport(answer)) as flink:
        await flink.savepoint_status("a" * 32, "x/y")
    assert seen == [f"http://h:1/clusters/a/jobs/{'a' * 32}/savepoints/x%2Fy"]


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="must start with http"):
        FlinkRestClient("localhost:8081")
    with pytest.raises(ValueError, match="timeout must be > 0"):
        FlinkRestClient("http://h:1", timeout=0)
