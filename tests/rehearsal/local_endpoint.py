"""The local AWS endpoint for the deploy rehearsal: moto in server mode, plus one stand-in.

    python -m tests.rehearsal.local_endpoint <port>

moto runs a CloudFormation custom resource by invoking its Lambda function in Docker and waits
for the function to report back. No Docker engine exists here, so every stack with a custom
resource (S3 auto-delete, the VPC default-SG restriction, ...) would wait forever. The stand-in
registers each custom resource as created straight away, without running its code. The rehearsal
therefore proves the stack deploys around its custom resources, not that they do their job;
docs/deploying.md lists them among what a first real deploy must check.
"""

from __future__ import annotations

import sys

from moto.cloudformation.custom_model import CustomModel
from moto.cloudformation.models import cloudformation_backends


def _custom_resource_succeeds(cls, resource_name, cloudformation_json, account_id, region_name,
                              **kwargs):  # noqa: ANN001
    """Register the custom resource as created, with no output data, instead of invoking its
    handler in Docker and waiting for an answer that cannot come."""
    resource = CustomModel(region_name, "rehearsal", kwargs["LogicalId"], resource_name)
    resource.set_data({})
    stack = cloudformation_backends[account_id][region_name].get_stack(kwargs["StackId"])
    stack.add_custom_resource(resource)
    return resource


def main(port: int) -> None:
    CustomModel.create_from_cloudformation_json = classmethod(_custom_resource_succeeds)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print(f"local AWS endpoint on http://localhost:{port}", flush=True)
    try:
        server._thread.join()  # serve until terminated
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
