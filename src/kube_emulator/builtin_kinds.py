"""The built-in resource types the emulator serves (the ones operators, kubectl and Flink's client use).

Only what an API server knows statically lives here: group/version/kind, scope, subresources, name
rules, the supported field selectors and a few strategy flags. No controllers stand behind these
types: a Deployment never creates Pods here (tests set Deployment status through the test hooks).
"""

from __future__ import annotations

from .resources import ResourceType

_META = frozenset({"metadata.name", "metadata.namespace"})
_EVENT_FIELDS = frozenset(
    {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    }
)
_NEW_EVENT_FIELDS = frozenset(
    {
        "regarding.kind",
        "regarding.namespace",
        "regarding.name",
        "regarding.uid",
        "regarding.apiVersion",
        "regarding.resourceVersion",
        "regarding.fieldPath",
        "reason",
        "reportingController",
        "type",
    }
)
_POD_FIELDS = frozenset(
    {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    }
)


def _rt(
    group: str,
    version: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    sub: tuple[str, ...] = (),
    cats: tuple[str, ...] = (),
    name_rule: str = "subdomain",
    generation: bool = False,
    unconditional: bool = True,
    returns_deleted: bool = False,
    fields: frozenset[str] = frozenset(),
) -> ResourceType:
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        categories=cats,
        subresources=frozenset(sub),
        name_rule=name_rule,
        tracks_generation=generation,
        allow_unconditional_update=unconditional,
        returns_deleted_object=returns_deleted,
        field_selectors=_META | fields,
        stored_as=("", "events") if group == "events.k8s.io" else None,
        view="events.k8s.io/v1" if group == "events.k8s.io" else "",
    )


BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _rt(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        sub=("status", "finalize"),
        name_rule="label",
        returns_deleted=True,
        fields=frozenset({"status.phase"}),
    ),
    _rt("", "v1", "ConfigMap", "configmaps", short=("cm",)),
    _rt("", "v1", "Secret", "secrets", fields=frozenset({"type"})),
    _rt("", "v1", "Service", "services", short=("svc",), sub=("status",), cats=("all",), name_rule="dns1035"),
    _rt("", "v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _rt(
        "",
        "v1",
        "Pod",
        "pods",
        short=("po",),
        sub=("status",),
        cats=("all",),
        returns_deleted=True,
        fields=_POD_FIELDS,
    ),
    _rt("", "v1", "Endpoints", "endpoints", short=("ep",)),
    _rt("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), sub=("status",)),
    _rt("", "v1", "Event", "events", short=("ev",), fields=_EVENT_FIELDS),
    _rt(
        "",
        "v1",
        "Node",
        "nodes",
        namespaced=False,
        short=("no",),
        sub=("status",),
        fields=frozenset({"spec.unschedulable"}),
    ),
    _rt(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        short=("deploy",),
        sub=("status", "scale"),
        cats=("all",),
        generation=True,
    ),
    _rt(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        short=("sts",),
        sub=("status", "scale"),
        cats=("all",),
        generation=True,
    ),
    _rt(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        short=("rs",),
        sub=("status", "scale"),
        cats=("all",),
        generation=True,
        fields=frozenset({"status.replicas"}),
    ),
    _rt(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        short=("ds",),
        sub=("status",),
        cats=("all",),
        generation=True,
    ),
    _rt(
        "batch",
        "v1",
        "Job",
        "jobs",
        sub=("status",),
        cats=("all",),
        generation=True,
        fields=frozenset({"status.successful"}),
    ),
    _rt("batch", "v1", "CronJob", "cronjobs", short=("cj",), sub=("status",), cats=("all",), generation=True),
    _rt("networking.k8s.io", "v1", "Ingress", "ingresses", short=("ing",), sub=("status",), generation=True),
    _rt("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    _rt("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short=("netpol",), generation=True),
    _rt(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        short=("pdb",),
        sub=("status",),
        generation=True,
    ),
    _rt(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        sub=("status",),
        cats=("all",),
    ),
    _rt("rbac.authorization.k8s.io", "v1", "Role", "roles", name_rule="path"),
    _rt("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", name_rule="path"),
    _rt("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced=False, name_rule="path"),
    _rt(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
        name_rule="path",
    ),
    _rt("coordination.k8s.io", "v1", "Lease", "leases", unconditional=False),
    _rt("events.k8s.io", "v1", "Event", "events", short=("ev",), fields=_NEW_EVENT_FIELDS),
    _rt(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        namespaced=False,
        cats=("api-extensions",),
        generation=True,
    ),
    _rt(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        namespaced=False,
        cats=("api-extensions",),
        generation=True,
    ),
    _rt(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        sub=("status",),
        cats=("api-extensions",),
        generation=True,
        returns_deleted=True,
    ),
)

# Namespaces that exist on every cluster.
INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
