"""What a million requests cost on top of the idle cost, per stack, for docs that compare front
ends of one contract (`generated:requests`): the notes' "can reduce cost" claim in numbers.

One request of the doc's main path is described once per stack (`REQUESTS`) as the billable
steps it takes; each step is priced from docgen/prices.toml, and what the template decides is
read from it (a function's memory and architecture). Assumptions are stated in the table:

- An Application Load Balancer bills LCU-hours by its busiest dimension; for small requests on a
  new connection each that is new connections (25 per second = 1 LCU), so a million requests
  use 1,000,000 / 25 / 3,600 LCU-hours whatever the rate (fewer with keep-alive).
- A function runs `FUNCTION_MS` per request (a DynamoDB GetItem and a JSON answer, warm).
- Data transfer out, logs and traces are left out on both sides (similar, and by size).
"""

from __future__ import annotations

from dataclasses import dataclass

from docgen.assembly import Assembly, Stack
from docgen.cost import ARCH_NAMES, props, usd
from docgen.prices import PriceTable, prices

FUNCTION_MS = 100
CONNECTIONS_PER_LCU_SECOND = 25


@dataclass(frozen=True)
class Request:
    title: str  # what one request is, e.g. "GET one employee"
    cloudfront: bool = False
    rest_api: bool = False
    function: str | None = None  # construct path suffix of the function that answers
    load_balancer: bool = False
    dynamodb_reads: float = 0  # read request units per request


# doc -> {stack id: the main path's request in that stack}
REQUESTS: dict[str, dict[str, Request]] = {
    "employee-directory": {
        "EmployeeDirectoryClassic": Request(
            "GET one employee", load_balancer=True, dynamodb_reads=1
        ),
        "EmployeeDirectoryServerless": Request(
            "GET one employee",
            cloudfront=True,
            rest_api=True,
            function="/Api/GetEmployee",
            dynamodb_reads=1,
        ),
    },
}


def _function(stack: Stack, suffix: str) -> dict:
    (found,) = [
        r
        for r in stack.of_type("AWS::Lambda::Function").values()
        if r.get("Metadata", {}).get("aws:cdk:path", "").endswith(f"{suffix}/Resource")
    ]
    return props(found)


def lines(stack: Stack, request: Request, table: PriceTable) -> list[tuple[str, float]]:
    """(what, dollars per million requests) for each billable step of one request."""
    million = 1_000_000
    found = []
    if request.cloudfront:
        found.append(("CloudFront HTTPS requests", table("cloudfront_https_10k").usd * 100))
    if request.rest_api:
        found.append(("API Gateway REST calls", table("apigateway_rest_million").usd))
    if request.function:
        function = _function(stack, request.function)
        memory_gb = function.get("MemorySize", 128) / 1024
        arch = (function.get("Architectures") or ["x86_64"])[0]
        found.append(("Lambda requests", table("lambda_requests_million").usd))
        seconds = million * memory_gb * FUNCTION_MS / 1000
        found.append(
            (
                f"Lambda duration ({function.get('MemorySize', 128)} MB {ARCH_NAMES[arch]}, "
                f"{FUNCTION_MS} ms)",
                seconds * table("lambda_gb_second", arch).usd,
            )
        )
    if request.load_balancer:
        lcu_hours = million / CONNECTIONS_PER_LCU_SECOND / 3600
        found.append(
            (
                f"Load balancer capacity ({lcu_hours:.1f} LCU-hours: a new connection each)",
                lcu_hours * table("alb_lcu_hour").usd,
            )
        )
    if request.dynamodb_reads:
        found.append(
            (
                "DynamoDB on-demand reads",
                request.dynamodb_reads * table("dynamodb_read_million").usd,
            )
        )
    return found


def section(doc: str, assembly: Assembly) -> str:
    table = prices()
    requests = {s: r for s, r in REQUESTS[doc].items() if s in assembly.stacks}
    out = [
        f"**Per million requests** on top of the idle cost ({assembly.stage} templates; one "
        f"request = {' / '.join(sorted({r.title for r in requests.values()}))}; data transfer "
        "out, logs and traces left out; see docgen/request_cost.py for the assumptions):",
        "",
    ]
    for stack_id, request in requests.items():
        priced = lines(assembly.stacks[stack_id], request, table)
        out.append(f"| `{stack_id}`: per million requests | |")
        out.append("|---|---:|")
        out += [f"| {what} | {usd(dollars, 4)} |" for what, dollars in priced]
        out += [f"| **Total** | **{usd(sum(d for _, d in priced), 4)}** |", ""]
    return "\n".join(out).rstrip()


def sections(assemblies: dict[str, Assembly]) -> dict[str, dict[str, str]]:
    stage = "prod" if "prod" in assemblies else next(iter(assemblies))
    return {doc: {"requests": section(doc, assemblies[stage])} for doc in REQUESTS}
