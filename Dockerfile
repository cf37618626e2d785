# The operator image: `flink-operator run` by default (the Helm chart runs `run --webhook`).
# Build from the repository root: docker build -t flink-operator:0.1.0 .

FROM python:3.11-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLINK_CONF_DIR=/opt/flink/conf \
    FLINK_PLUGINS_DIR=/opt/flink/plugins
# A fixed numeric user, so that runAsNonRoot can be checked and volumes get the right owner (fsGroup).
RUN groupadd --system --gid 9999 flink \
 && useradd --system --uid 9999 --gid 9999 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin flink
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl \
 && rm -rf /wheels \
 && mkdir -p /opt/flink/conf /opt/flink/plugins /opt/flink/artifacts /opt/flink/operator-lib \
 && chown 9999:9999 /opt/flink/artifacts /opt/flink/operator-lib
WORKDIR /opt/flink
USER 9999:9999
EXPOSE 8085 9443 9999
ENTRYPOINT ["flink-operator"]
CMD ["run"]
