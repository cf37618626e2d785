"""Secret redaction for logs, events and listener payloads.

`is_secret_key(key)` decides from the key's words whether its value is sensitive. A key is split into word
segments on `.`, `-`, `_` and camelCase boundaries (`fs.s3a.secretKey` -> fs, s3a, secret, key). It is
secret when a segment is a secret word (password, secret, token, credential(s), auth, private, key, jaas,
header(s) since HTTP headers carry credentials, ...) or ends with a compound one (`keystorepassword`,
`apikey`, `accesstoken`), unless
* the secret word is `key` and the next segment says it is about keys rather than a key
  (`key-group`, `key.serializer`, `key-by`, `key.fields`, ...), or
* the last segment says the value is not the secret itself but a switch, a class, a path or a tuning knob
  (`...tokens.enabled`, `...credentials.provider`, `...secret.file`, `...token.renewal.interval`).
Words merely containing "key" (`keystore`, `keytab`, `keyed`, `monkey`) are not secret words.

Extra regexes (option `kubernetes.operator.redaction.patterns`) mark more keys secret; they are matched
case-insensitively anywhere in the key. `redact_text` replaces known secret values in free text; values
shorter than 3 characters are left alone because replacing them would shred the text while hiding little.

Not guaranteed: a secret stored under an innocent-looking key (e.g. a password inside `env.java.opts`) is not
recognised; add a pattern for such keys.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from flink_operator.config.errors import ValueParseError
from flink_operator.config.operator_options import REDACTION_PATTERNS
from flink_operator.config.registry import OptionRegistry, load_declared_options

REDACTED = "******"

_SECRET_WORDS = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "passphrase",
        "secret", "secrets",
        "token", "tokens",
        "credential", "credentials",
        "auth", "authorization",
        "private",
        "key", "keys",
        "jaas",
        "header", "headers",
        "apikey", "privatekey", "accesskey", "secretkey",
    }
)
# A segment ending in one of these is a compound secret word (`keystorepassword`, `accesstoken`).
_SECRET_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
                    "secretkey", "privatekey", "credential", "credentials")
# `key` followed by one of these names a property of keys, not a key.
_KEY_QUALIFIERS = frozenset(
    {
        "group", "groups", "by", "selector", "selectors", "serializer", "deserializer", "field", "fields",
        "format", "column", "columns", "prefix", "type", "alias", "id", "ids", "range", "ranges", "count",
        "hash", "extractor", "partitioner", "order",
    }
)
# A last segment that says the value is a switch, reference or knob rather than the secret.
_NON_SECRET_LAST = frozenset(
    {
        "enabled", "enable", "disabled", "provider", "providers", "class", "classes", "factory", "type",
        "path", "file", "dir", "directory", "mode", "algorithm", "algorithms", "protocol", "protocols",
        "interval", "timeout", "backoff", "ratio", "attempts", "size", "count", "ttl", "threshold",
        "expiry", "lifetime", "renewal", "format", "length", "name", "names",
    }
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def key_segments(key: str) -> tuple[str, ...]:
    """Lower-case word segments of a key: `security.ssl.keyPassword` -> (security, ssl, key, password)."""
    words: list[str] = []
    for part in _SEPARATORS.split(key):
        if part:
            words.extend(w.lower() for w in _CAMEL_BOUNDARY.split(part) if w)
    return tuple(words)


def _segment_is_secret(segments: tuple[str, ...], index: int) -> bool:
    word = segments[index]
    if word in ("key", "keys"):
        following = segments[index + 1] if index + 1 < len(segments) else None
        return following not in _KEY_QUALIFIERS
    if word in _SECRET_WORDS:
        return True
    return any(word.endswith(suffix) for suffix in _SECRET_SUFFIXES)


@lru_cache(maxsize=4096)
def _builtin_is_secret(key: str) -> bool:
    segments = key_segments(key)
    if not segments:
        return False
    if not any(_segment_is_secret(segments, i) for i in range(len(segments))):
        return False
    # `s3.secret-key` is secret although "key" ends it; only a non-secret last word clears the key.
    last = segments[-1]
    return not (last in _NON_SECRET_LAST and not _segment_is_secret(segments, len(segments) - 1))


def compile_patterns(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    """Compile extra key patterns (case-insensitive); a bad regex raises `re.error` naming it."""
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as error:
            raise re.error(f"redaction pattern {pattern!r} is not a valid regex: {error}") from error
    return tuple(compiled)


class Redactor:
    """Redaction with the built-in rules plus extra key patterns and explicitly secret keys."""

    def __init__(
        self, patterns: Iterable[str | re.Pattern[str]] = (), secret_keys: Iterable[str] = ()
    ) -> None:
        self.patterns = tuple(
            p if isinstance(p, re.Pattern) else re.compile(p, re.IGNORECASE) for p in patterns
        )
        self.secret_keys = frozenset(secret_keys)

    def is_secret_key(self, key: str) -> bool:
        if key in self.secret_keys or _builtin_is_secret(key):
            return True
        return any(p.search(key) for p in self.patterns)

    def redact_config(self, mapping: Mapping[str, object]) -> dict[str, object]:
        """A copy with the values of secret keys replaced by `******`; nested mappings are walked with their
        dotted path (`{"s3": {"secret-key": "x"}}` redacts `x`)."""
        return self._redact(mapping, "")

    def _redact(self, mapping: Mapping[str, object], prefix: str) -> dict[str, object]:
        redacted: dict[str, object] = {}
        for key, value in mapping.items():
            path = f"{prefix}{key}"
            if self.is_secret_key(path):
                redacted[key] = REDACTED
            elif isinstance(value, Mapping):
                redacted[key] = self._redact(value, f"{path}.")
            else:
                redacted[key] = value
        return redacted

    def secret_values(self, mapping: Mapping[str, object]) -> frozenset[str]:
        """The values of secret keys in a flat mapping, for `redact_text`."""
        return frozenset(str(v) for k, v in mapping.items() if self.is_secret_key(str(k)) and v is not None)


DEFAULT_REDACTOR = Redactor()


def is_secret_key(key: str, extra_patterns: Iterable[str | re.Pattern[str]] = ()) -> bool:
    """Whether a configuration key's value is sensitive (see the module docstring for the rules)."""
    if _builtin_is_secret(key):
        return True
    return any(
        (p if isinstance(p, re.Pattern) else re.compile(p, re.IGNORECASE)).search(key) for p in extra_patterns
    )


def redact_config(
    mapping: Mapping[str, object], extra_patterns: Iterable[str | re.Pattern[str]] = ()
) -> dict[str, object]:
    """`{"s3.secret-key": "abc", "a": "b"}` -> `{"s3.secret-key": "******", "a": "b"}`."""
    return Redactor(extra_patterns).redact_config(mapping)


def redact_text(text: str, secret_values: Iterable[str]) -> str:
    """Replace each literal occurrence of a known secret value in `text` by `******` (longest first)."""
    values = sorted({v for v in secret_values if v and len(v) >= 3}, key=len, reverse=True)
    if not values or not text:
        return text
    pattern = re.compile("|".join(re.escape(v) for v in values))
    return pattern.sub(REDACTED, text)


def redactor_for(values: Mapping[str, str], registry: OptionRegistry | None = None) -> Redactor:
    """The redactor a configuration asks for: built-in rules, the patterns of
    `kubernetes.operator.redaction.patterns`, and every option declared `secret` (templates included).
    An unusable pattern list is ignored here (loading the configuration reports it)."""
    reg = load_declared_options() if registry is None else registry
    patterns: list[re.Pattern[str]] = []
    raw = values.get(REDACTION_PATTERNS.key)
    if raw:
        with contextlib.suppress(ValueParseError):
            patterns.extend(re.compile(p, re.IGNORECASE) for p in REDACTION_PATTERNS.value_type.parse(raw))
    templates = (option for option in reg if option.secret and option.is_template)
    patterns.extend(re.compile(rf"^(?:{option.key_pattern().pattern})$") for option in templates)
    return Redactor(patterns, reg.secret_keys())
