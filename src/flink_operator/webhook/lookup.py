"""Reading the resources a validation needs besides the one under review: the session FlinkDeployment of a
FlinkSessionJob and the job resource a FlinkStateSnapshot refers to.

Choice: a direct GET per admission request, bounded by `kubernetes.operator.webhook.lookup.timeout`
(2 s), rather than informers. A GET sees a session cluster created a moment before its session job (GitOps
tools apply both at once, where an informer could still lag and wrongly report "not found"); it needs only
`get` permission; and it costs no memory for a cluster-wide cache of FlinkDeployments in every replica.
The price is one API read per session-job or snapshot admission, which is small next to the write that
triggered it. A lookup that fails or times out raises `LookupFailed`; the webhook then refuses rather than
validating against a cluster it could not see.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from lightkube import ApiError, AsyncClient
from lightkube.generic_resource import create_namespaced_resource

from flink_operator.api import (
    GROUP,
    KIND_FLINK_DEPLOYMENT,
    KIND_FLINK_SESSION_JOB,
    PLURAL_FLINK_DEPLOYMENT,
    PLURAL_FLINK_SESSION_JOB,
    VERSION,
    FlinkDeployment,
    FlinkSessionJob,
    FlinkStateSnapshot,
    parse_resource,
)

Related = FlinkDeployment | FlinkSessionJob


class LookupFailed(Exception):
    """A related resource could not be read (not: it does not exist)."""

    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"reading {what} failed: {reason}")


class RelatedLookup(Protocol):
    async def session_of(self, session_job: FlinkSessionJob, namespace: str) -> FlinkDeployment | None:
        """The FlinkDeployment named by `spec.deploymentName`; None when unnamed or absent."""
        ...

    async def target_of(self, snapshot: FlinkStateSnapshot, namespace: str) -> Related | None:
        """The resource named by `spec.jobReference`; None when unnamed or absent."""
        ...


class NoLookup:
    """Finds nothing (for servers without API access, and for tests of the rules that need no cluster)."""

    async def session_of(self, session_job: FlinkSessionJob, namespace: str) -> FlinkDeployment | None:
        return None

    async def target_of(self, snapshot: FlinkStateSnapshot, namespace: str) -> Related | None:
        return None


_RESOURCES = {
    KIND_FLINK_DEPLOYMENT: create_namespaced_resource(
        GROUP, VERSION, KIND_FLINK_DEPLOYMENT, PLURAL_FLINK_DEPLOYMENT
    ),
    KIND_FLINK_SESSION_JOB: create_namespaced_resource(
        GROUP, VERSION, KIND_FLINK_SESSION_JOB, PLURAL_FLINK_SESSION_JOB
    ),
}


class ApiLookup:
    """GETs through the Kubernetes API, each bounded by `timeout` seconds."""

    def __init__(self, client: AsyncClient, *, timeout: float) -> None:
        self._client = client
        self.timeout = timeout

    async def session_of(self, session_job: FlinkSessionJob, namespace: str) -> FlinkDeployment | None:
        name = session_job.spec.deployment_name
        if not name:
            return None
        found = await self._get(KIND_FLINK_DEPLOYMENT, name, namespace)
        return found if isinstance(found, FlinkDeployment) else None

    async def target_of(self, snapshot: FlinkStateSnapshot, namespace: str) -> Related | None:
        reference = snapshot.spec.job_reference
        if reference is None or not reference.name or reference.kind is None:
            return None
        return await self._get(reference.kind.value, reference.name, namespace)

    async def _get(self, kind: str, name: str, namespace: str) -> Related | None:
        what = f"{kind} {namespace}/{name}"
        try:
            found = await asyncio.wait_for(
                self._client.get(_RESOURCES[kind], name, namespace=namespace), self.timeout
            )
        except ApiError as error:
            if error.status is not None and error.status.code == 404:
                return None
            raise LookupFailed(what, str(error.status.message if error.status else error)) from None
        except TimeoutError:
            raise LookupFailed(what, f"no answer within {self.timeout:g} s") from None
        except Exception as error:  # transport errors of the HTTP client
            raise LookupFailed(what, str(error) or type(error).__name__) from None
        parsed = parse_resource(found.to_dict(), check_pod_templates=False)  # type: ignore[no-untyped-call]
        if isinstance(parsed, list):
            # A stored resource that no longer parses (e.g. written by an older operator): validate as if
            # it were absent rather than refusing every related change.
            return None
        return parsed if isinstance(parsed, (FlinkDeployment, FlinkSessionJob)) else None
