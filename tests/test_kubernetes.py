"""The Kubernetes manifests (deploy/kubernetes): every resource valid against the Kubernetes schemas
(kubernetes-validate, offline), the overlays rendered with kustomize (kubectl's) where it is installed,
and what an operator relies on: non-root, read-only root, probes, keys from Secrets, no egress."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
KUBERNETES = "1.32"
CUSTOM_KINDS = {"ServiceMonitor"}  # a CRD: no schema in Kubernetes itself


def base_documents() -> list[dict]:
    kustomization = yaml.safe_load((DEPLOY / "base" / "kustomization.yaml").read_text())
    return [yaml.safe_load((DEPLOY / "base" / name).read_text()) for name in kustomization["resources"]]


def rendered(overlay: str) -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl (with kustomize) is not installed: the overlays are not rendered")
    out = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [document for document in yaml.safe_load_all(out) if document]


def validate(documents: list[dict]) -> None:
    for document in documents:
        if document["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


def by_kind(documents: list[dict]) -> dict[str, dict]:
    return {document["kind"]: document for document in documents}


def test_the_base_resources_are_valid_kubernetes():
    documents = base_documents()
    assert set(by_kind(documents)) == {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceMonitor",
    }
    validate(documents)


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_each_overlay_renders_to_valid_kubernetes(overlay):
    documents = rendered(overlay)
    validate(documents)
    kinds = by_kind(documents)
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    secrets = {volume["secret"]["secretName"] for volume in pod["volumes"] if "secret" in volume}
    assert secrets == {"nerd-api-keys", "nerd-admin-keys"}
    assert container["image"] == f"nerd:{overlay}"
    selector = kinds["Deployment"]["spec"]["selector"]["matchLabels"]
    labels = kinds["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    policy = kinds["NetworkPolicy"]["spec"]
    assert policy["egress"] == [] and "Egress" in policy["policyTypes"]
    assert policy["ingress"][0]["from"][0]["podSelector"]["matchLabels"] == {"nerd-client": "true"}
    endpoint = kinds["ServiceMonitor"]["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics" and endpoint["port"] == "http"
    if overlay == "gpu":
        assert container["resources"]["limits"]["nvidia.com/gpu"] == "1" and "--device" in container["args"]
    else:
        assert container["args"] == ["serve", "--workers", "2", "--threads", "1"]


def test_the_kuberay_extract_job_is_valid_and_runs_nerd_extract_on_ray():
    """The RayJob is a CRD (no schema in Kubernetes itself): its pod templates are validated as Kubernetes
    pod templates, the claim as itself, and the job's own fields by what KubeRay's v1 API names."""
    documents = list(yaml.safe_load_all((DEPLOY / "ray" / "extract-rayjob.yaml").read_text()))
    job, claim = documents
    validate([claim])
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    spec = job["spec"]
    entrypoint = spec["entrypoint"].split()
    assert entrypoint[:2] == ["nerd", "extract"] and "--engine" in entrypoint and "ray" in entrypoint
    assert entrypoint[entrypoint.index("--ray-address") + 1] == "auto"
    cluster = spec["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        template = group["template"]
        pod = {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "nerd-extract"}}
        validate([pod | {"template": template}])
        (container,) = template["spec"]["containers"]
        assert container["image"] == "nerd:cpu"  # the serving image, built with RAY=1
        assert template["spec"]["securityContext"]["runAsNonRoot"] is True
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in template["spec"]["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == [claim["metadata"]["name"]]
