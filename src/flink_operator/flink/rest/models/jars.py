"""Jar responses: upload, list, run."""

from __future__ import annotations

import posixpath

from pydantic import Field

from flink_operator.flink.rest.models._base import FlinkModel


class JarUploadResult(FlinkModel):
    """``POST /jars/upload``: the jar id is the basename of ``filename``."""

    filename: str
    status: str = ""

    @property
    def jar_id(self) -> str:
        return posixpath.basename(self.filename)


class JarEntryPoint(FlinkModel):
    name: str
    description: str | None = None


class JarFileInfo(FlinkModel):
    id: str
    name: str = ""
    uploaded: int = 0
    entry: list[JarEntryPoint] = Field(default_factory=list)


class JarList(FlinkModel):
    address: str = ""
    files: list[JarFileInfo] = Field(default_factory=list)


class JarRunResult(FlinkModel):
    """``POST /jars/:jarid/run``. 2.x also returns ``applicationId``."""

    jobid: str
    application_id: str | None = Field(None, alias="applicationId")
