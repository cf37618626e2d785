"""Scraping a `/metrics` endpoint over HTTP and reading samples, for metrics tests.

    scrape = await scrape_metrics(url)                     # parsed with prometheus_client's parser
    scrape.value("flink_operator_leader")                  # None when the sample is absent
    await wait_for_metrics(url, lambda s: s.value(...) == 1, what="STABLE gauge")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    text: str
    content_type: str
    samples: tuple[Sample, ...]
    families: frozenset[str]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the sample `name` whose labels are exactly `labels`."""
        for sample in self.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
        return None

    def matching(self, name: str, **labels: str) -> list[Sample]:
        """Samples named `name` whose labels include `labels`."""
        return [
            s for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        ]

    def total(self, name: str, **labels: str) -> float:
        return sum(s.value for s in self.matching(name, **labels))


async def scrape_metrics(url: str, headers: Mapping[str, str] | None = None) -> Scrape:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(url, headers=dict(headers or {}))
    response.raise_for_status()
    families = list(text_string_to_metric_families(response.text))
    return Scrape(
        response.text,
        response.headers.get("content-type", ""),
        tuple(sample for family in families for sample in family.samples),
        frozenset(family.name for family in families),
    )


async def wait_for_metrics(
    url: str, predicate: Callable[[Scrape], object], *, within: float = 10.0, what: str = "metrics"
) -> Scrape:
    """Scrape until `predicate` holds; fail naming `what` (with the last scrape) after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        scrape = await scrape_metrics(url)
        if predicate(scrape):
            return scrape
        if time.monotonic() >= deadline:
            flink_lines = [line for line in scrape.text.splitlines() if line.startswith("flink_operator_")]
            shown = "\n".join(flink_lines)
            raise AssertionError(f"{what}: not seen within {within:g} s; last scrape:\n{shown}")
        await asyncio.sleep(0.05)
