"""The FlinkSessionJob resource (contract §1.5): a job submitted to a session FlinkDeployment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flink_operator.api.base import Str
from flink_operator.api.constants import API_VERSION, KIND_FLINK_SESSION_JOB
from flink_operator.api.resource import CustomResource
from flink_operator.api.spec import AbstractFlinkSpec
from flink_operator.api.status import CommonStatus


class FlinkSessionJobSpec(AbstractFlinkSpec):
    """Desired state of a session job."""

    deployment_name: Str | None = None
    """Name of the session FlinkDeployment in the same namespace."""


class FlinkSessionJobStatus(CommonStatus):
    """Observed state of a session job."""


class FlinkSessionJob(CustomResource):
    """A Flink job running on a session cluster."""

    api_version: Literal["flink.apache.org/v1beta1"] = Field(default=API_VERSION, alias="apiVersion")
    kind: Literal["FlinkSessionJob"] = KIND_FLINK_SESSION_JOB
    spec: FlinkSessionJobSpec = Field(default_factory=FlinkSessionJobSpec)
    status: FlinkSessionJobStatus = Field(default_factory=FlinkSessionJobStatus)
