"""Pod hardening and the serving objects around the workload, for every EKS plan."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.k8s_manifests import (
    MODEL_DIR,
    NAMESPACE_NAME_LABEL,
    SERVING_PORT,
    SHA256_ENV,
)
from mlstack.offline.mocks import S3_PREFIX_LIST_CIDRS
from mlstack.offline.plan import Plan
from tests.infra.eks_plans import objects, workloads


@pytest.fixture(params=["production", "staging-eks"])
def plan(request: pytest.FixtureRequest, shipped_plans: dict[str, Plan]) -> Plan:
    if request.param == "production":
        return shipped_plans["production"]
    return request.getfixturevalue("staging_eks_plan")


def _pods(plan: Plan) -> list[dict[str, Any]]:
    found = [w["spec"]["template"]["spec"] for w in workloads(plan)]
    assert found
    return found


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _kind(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [o for o in objects(plan) if o["kind"] == kind]


def test_pods_run_as_non_root_with_high_uid_and_runtime_default_seccomp(plan: Plan) -> None:
    for pod in _pods(plan):
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True
        assert context["runAsUser"] >= 10000 and context["runAsGroup"] >= 10000
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert "hostNetwork" not in pod and "hostPID" not in pod


def test_every_container_is_locked_down(plan: Plan) -> None:
    for pod in _pods(plan):
        for container in _containers(pod):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, container["name"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["runAsNonRoot"] is True and context["runAsUser"] >= 10000
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound])


def test_server_follows_the_serving_image_contract(plan: Plan) -> None:
    for pod in _pods(plan):
        (server,) = pod["containers"]
        assert server["args"] == ["serve"]
        assert server["ports"] == [
            {"name": "http", "containerPort": SERVING_PORT, "protocol": "TCP"}
        ]
        env = {e["name"]: e["value"] for e in server["env"]}
        assert env["PORT"] == env["SAGEMAKER_BIND_TO_PORT"] == str(SERVING_PORT)
        assert env["MODEL_DIR"] == MODEL_DIR
        mount = next(m for m in server["volumeMounts"] if m["mountPath"] == MODEL_DIR)
        assert mount["readOnly"] is True
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert server[probe]["httpGet"]["path"] == "/ping"
            assert server[probe]["httpGet"]["port"] == "http"


def _fetched_key(fetch: dict[str, Any]) -> str:
    """``bucket/key`` the fetch container reads (``s3 cp`` URI or ``s3api get-object``)."""
    args = fetch["args"]
    if args[:2] == ["s3api", "get-object"]:
        return f"{args[args.index('--bucket') + 1]}/{args[args.index('--key') + 1]}"
    assert args[:2] == ["s3", "cp"]
    return next(a for a in args if a.startswith("s3://")).removeprefix("s3://")


def test_model_is_copied_into_the_pod_before_the_server_starts(plan: Plan) -> None:
    for pod in _pods(plan):
        fetch = pod["initContainers"][0]
        assert fetch["command"] == ["aws"] and _fetched_key(fetch)
        written = {m["mountPath"] for c in pod["initContainers"] for m in c["volumeMounts"]}
        assert MODEL_DIR in written
        model = next(v for v in pod["volumes"] if v["name"] == "model")
        assert "sizeLimit" in model["emptyDir"]


def test_stopping_pods_drain_in_flight_requests(plan: Plan) -> None:
    for pod in _pods(plan):
        (server,) = pod["containers"]
        env = {e["name"]: e["value"] for e in server["env"]}
        drain = server.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        graceful = int(env["SERVING_GRACEFUL_TIMEOUT_SECONDS"])
        assert pod["terminationGracePeriodSeconds"] > drain + graceful
    if plan.stack == "production":
        (server,) = _pods(plan)[0]["containers"]
        assert server["lifecycle"]["preStop"]["sleep"]["seconds"] > 0


def test_pods_spread_across_zones(plan: Plan) -> None:
    for pod in _pods(plan):
        zone = [
            c
            for c in pod["topologySpreadConstraints"]
            if c["topologyKey"] == "topology.kubernetes.io/zone"
        ]
        assert zone and zone[0]["maxSkew"] == 1


def test_production_pins_every_image_by_digest(shipped_plans: dict[str, Plan]) -> None:
    for pod in _pods(shipped_plans["production"]):
        for container in _containers(pod):
            assert "@sha256:" in container["image"], container["name"]


def test_tag_pinned_images_are_always_pulled(staging_eks_plan: Plan) -> None:
    for pod in _pods(staging_eks_plan):
        for container in _containers(pod):
            if "@sha256:" not in container["image"]:
                assert container["imagePullPolicy"] == "Always"
                assert not container["image"].endswith(":latest")


def test_production_fetches_the_pinned_version_and_verifies_its_sha256(
    shipped_plans: dict[str, Plan],
) -> None:
    (pod,) = _pods(shipped_plans["production"])
    fetch, unpack = pod["initContainers"]
    assert fetch["args"][:2] == ["s3api", "get-object"]
    version = fetch["args"][fetch["args"].index("--version-id") + 1]
    assert version == "Fz3kQ0d1tOq6yXJp9wq2uJcV7rK1m8Lh"
    env = {e["name"]: e["value"] for e in unpack["env"]}
    assert len(env[SHA256_ENV]) == 64
    assert unpack["command"][:2] == ["python3", "-c"] and SHA256_ENV in unpack["command"][2]


def _namespace_peer(rule: dict[str, Any]) -> list[str]:
    return [p["namespaceSelector"]["matchLabels"][NAMESPACE_NAME_LABEL] for p in rule["from"]]


def test_network_policy_admits_only_routers_and_scrapers(plan: Plan) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in _kind(plan, "NetworkPolicy")}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    (server,) = [p for name, p in policies.items() if name != "default-deny"]
    routers, scrapers = server["ingress"]
    for rule in (routers, scrapers):
        assert rule["ports"] == [{"protocol": "TCP", "port": SERVING_PORT}]
        assert rule["from"] and all("ipBlock" not in peer for peer in rule["from"])
    assert _namespace_peer(routers) == ["ingress-nginx"]
    assert _namespace_peer(scrapers) == ["monitoring"]


def test_network_policy_lets_pods_reach_only_dns_and_https_in_the_vpc_and_s3(
    plan: Plan,
) -> None:
    (server,) = [p["spec"] for p in _kind(plan, "NetworkPolicy") if p["spec"].get("egress")]
    dns, https = server["egress"]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
    (kube_dns,) = dns["to"]
    assert kube_dns["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}
    assert https["ports"] == [{"protocol": "TCP", "port": 443}]
    (vpc,) = plan.of_type("aws:ec2/vpc:Vpc")
    cidrs = [peer["ipBlock"]["cidr"] for peer in https["to"]]
    assert cidrs == [vpc.inputs["cidrBlock"], *S3_PREFIX_LIST_CIDRS]
    assert not any(c.endswith("/0") for c in cidrs)


def test_autoscaler_and_disruption_budget_target_the_workload(plan: Plan) -> None:
    (workload,) = workloads(plan)
    (hpa,) = _kind(plan, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        workload["apiVersion"],
        workload["kind"],
        workload["metadata"]["name"],
    )
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    (pdb,) = _kind(plan, "PodDisruptionBudget")
    assert pdb["spec"]["selector"] == workload["spec"]["selector"]
    assert pdb["spec"]["maxUnavailable"] == 1


def test_namespace_enforces_the_restricted_pod_security_standard(plan: Plan) -> None:
    (workload,) = workloads(plan)
    namespace = next(
        n
        for n in _kind(plan, "Namespace")
        if n["metadata"]["name"] == workload["metadata"]["namespace"]
    )
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_service_account_assumes_a_role_that_reads_only_the_model(plan: Plan) -> None:
    (workload,) = workloads(plan)
    (account,) = _kind(plan, "ServiceAccount")
    pod = workload["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"]
    assert account["automountServiceAccountToken"] is False
    role_arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    (role,) = [
        r for r in plan.of_type("aws:iam/role:Role") if r.name.startswith("serving-model-reader")
    ]
    assert role_arn.rsplit("/", 1)[-1].startswith(f"{role.name}-")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    (sub,) = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    namespace = account["metadata"]["namespace"]
    assert sub == f"system:serviceaccount:{namespace}:{account['metadata']['name']}"
    (inline,) = [
        json.loads(r.inputs["policy"])
        for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if r.name.startswith("serving-model-reader")
    ]
    actions = {s["Action"] for s in inline["Statement"]}
    assert actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "kms:Decrypt"}
    fetch = pod["initContainers"][0]
    get = next(s for s in inline["Statement"] if s["Action"].startswith("s3:GetObject"))
    assert get["Resource"].removeprefix("arn:aws:s3:::").rstrip("*") == _fetched_key(fetch)
    if "--version-id" in fetch["args"]:
        version = fetch["args"][fetch["args"].index("--version-id") + 1]
        assert get["Action"] == "s3:GetObjectVersion"
        assert get["Condition"] == {"StringEquals": {"s3:VersionId": version}}
