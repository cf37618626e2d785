"""The log configuration files a cluster's pods get when the resource names none.

The Flink image starts its processes in the foreground with `log4j-console.properties` (or
`logback-console.xml` for logback images) from the configuration directory, which the operator's
ConfigMap replaces as a whole; without these files Flink would log nothing. These defaults log to the
console (for `kubectl logs`) and to the rolling file the web UI shows (`log.file`).
`spec.logConfiguration` (or the files of `$internal.deployment.config-dir`) replace them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

LOG4J_CONSOLE = """\
# Console (kubectl logs) and the rolling file shown by the Flink web UI.
monitorInterval = 30
rootLogger.level = ${env:ROOT_LOG_LEVEL:-INFO}
rootLogger.appenderRef.console.ref = ConsoleAppender
rootLogger.appenderRef.rolling.ref = RollingFileAppender

logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
logger.hadoop.name = org.apache.hadoop
logger.hadoop.level = WARN
logger.zookeeper.name = org.apache.zookeeper
logger.zookeeper.level = INFO
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF

appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n

appender.rolling.name = RollingFileAppender
appender.rolling.type = RollingFile
appender.rolling.append = true
appender.rolling.fileName = ${sys:log.file}
appender.rolling.filePattern = ${sys:log.file}.%i
appender.rolling.layout.type = PatternLayout
appender.rolling.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.rolling.policies.type = Policies
appender.rolling.policies.size.type = SizeBasedTriggeringPolicy
appender.rolling.policies.size.size = 100MB
appender.rolling.policies.startup.type = OnStartupTriggeringPolicy
appender.rolling.strategy.type = DefaultRolloverStrategy
appender.rolling.strategy.max = ${env:MAX_LOG_FILE_NUMBER:-10}
"""

LOGBACK_CONSOLE = """\
<configuration>
    <appender name="console" class="ch.qos.logback.core.ConsoleAppender">
        <encoder>
            <pattern>%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger{60} - %msg%n</pattern>
        </encoder>
    </appender>
    <appender name="file" class="ch.qos.logback.core.FileAppender">
        <file>${log.file}</file>
        <append>false</append>
        <encoder>
            <pattern>%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger{60} - %msg%n</pattern>
        </encoder>
    </appender>
    <root level="INFO">
        <appender-ref ref="console"/>
        <appender-ref ref="file"/>
    </root>
</configuration>
"""

DEFAULT_LOG_FILES: Mapping[str, str] = {
    "log4j-console.properties": LOG4J_CONSOLE,
    "logback-console.xml": LOGBACK_CONSOLE,
}
LOG_FILE_PREFIXES = ("log4j", "logback")


def read_log_files(directory: Path) -> dict[str, str]:
    """The log4j*/logback* files of a directory (what Flink uploads from its configuration directory)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"log configuration directory {directory} does not exist")
    return {
        path.name: path.read_text()
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name.startswith(LOG_FILE_PREFIXES)
    }
