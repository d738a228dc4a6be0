"""handler_kit's own tests run where the layer is: the library, and a starter kit whose
blueprint has Lambda functions (a kit of a blueprint without any, e.g. EksCluster, does not
carry the layer, and these tests have nothing to test there)."""

from tests.support.synth import REPO_ROOT

if not (REPO_ROOT / "lambda_src" / "layers" / "handler_kit").is_dir():
    collect_ignore_glob = ["test_*.py"]
