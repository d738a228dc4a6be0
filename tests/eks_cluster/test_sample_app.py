"""The sample workload (blueprints/eks_cluster/k8s/sample-app.yaml) holds together: the HPA
scales the Deployment on a CPU request it has, the PDB and the Service select its pods, the pods
run as non-root with a read-only root filesystem, and nothing makes a load balancer."""

from __future__ import annotations

import yaml

from tests.support.synth import REPO_ROOT

SAMPLE = REPO_ROOT / "blueprints" / "eks_cluster" / "k8s" / "sample-app.yaml"


def objects() -> dict[str, dict]:
    return {o["kind"]: o for o in yaml.safe_load_all(SAMPLE.read_text()) if o}


def test_it_is_a_deployment_service_hpa_and_pdb():
    assert set(objects()) == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }


def test_the_service_hpa_and_pdb_point_at_the_deployment():
    found = objects()
    deployment = found["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert found["Service"]["spec"]["selector"].items() <= labels.items()
    assert found["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    target = found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    namespaces = {o["metadata"]["namespace"] for o in found.values()}
    assert namespaces == {"default"}  # a namespace with a Fargate profile


def test_the_hpa_has_a_cpu_request_to_scale_on_and_the_pdb_leaves_room_to_drain():
    found = objects()
    (container,) = found["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"]
    hpa = found["HorizontalPodAutoscaler"]["spec"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu"
    assert found["PodDisruptionBudget"]["spec"]["minAvailable"] < hpa["minReplicas"]


def test_pods_run_locked_down_and_nothing_makes_a_load_balancer():
    found = objects()
    pod = found["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert found["Service"]["spec"]["type"] == "ClusterIP"
