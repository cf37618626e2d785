"""Sample Flink operator plugins: a validator, a mutator and a listener, published through entry points.

Every plugin acts only on resources labelled `sample-plugins/enforce: "true"` (the listener records all it
hears), so installing this package changes nothing for other resources.
"""

ENFORCE_LABEL = "sample-plugins/enforce"


def enforced(resource: object) -> bool:
    labels = getattr(getattr(resource, "metadata", None), "labels", None) or {}
    return labels.get(ENFORCE_LABEL) == "true"
