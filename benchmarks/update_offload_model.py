"""What the CloudFront offload saves when an update of S MB goes to N clients.

A model, not a measurement: every output is a formula over the inputs below, and every price is
written next to its source and the date it was read. Run

    .venv/bin/python -m benchmarks.update_offload_model                  # the doc table
    .venv/bin/python -m benchmarks.update_offload_model \
        --size-mb 500 --clients 2000000 --hit-ratio 0.995

Formulas (h = cache-hit ratio of update downloads at CloudFront, W = rollout window in hours):

    data served           D  = N * S                         (every client downloads once)
    origin requests          = N              without offload;  N * (1 - h)   with
    origin bytes          O  = D              without offload;  D * (1 - h)   with
    instance-hours           = max(min_instances * W,  O / (throughput * 3600))
    cost without offload     = D * ec2_egress + D * alb_per_gb + hours * instance_price
    cost with offload        = D * cloudfront_egress + N / 10,000 * cloudfront_https_requests
                               + O * alb_per_gb + hours * instance_price
                               (origin -> CloudFront transfer is free from an AWS origin)

Left out on purpose, so the figures are if anything conservative for CloudFront: free tiers
(EC2: 100 GB/month out; CloudFront: 1 TB + 10 M requests/month), tiered discounts above 10 TB,
manifest polls (tiny bytes, cached), WAF and Origin Shield request fees (prod profile: about
$0.60 and $0.0075 per extra million/10,000 requests respectively), and the fixed monthly cost
of the ALB and NAT gateways, which the offload does not change.
"""

from __future__ import annotations

import argparse
import dataclasses

# us-east-1 list prices in USD, each with where it comes from and how far it was checked on
# 2026-11-23 (no AWS page can be fetched live from this machine). Re-check before quoting them.
PRICES = {
    "ec2_egress_per_gb": (
        0.09,
        "EC2 data transfer out to the internet, first 10 TB/month",
        "aws.amazon.com/ec2/pricing/on-demand/ (Data Transfer); checked 2026-11-23 against a "
        "stored "
        "secondary summary (egresscost.com/aws), not the AWS page itself",
    ),
    "cloudfront_egress_per_gb": (
        0.085,
        "CloudFront data transfer out, United States/Europe, first 10 TB/month",
        "aws.amazon.com/cloudfront/pricing/, stored copy read 2026-11-23",
    ),
    "cloudfront_https_per_10k": (
        0.0100,
        "CloudFront HTTPS requests, United States, per 10,000",
        "aws.amazon.com/cloudfront/pricing/ (requests); last known list price, not in the stored "
        "copy read 2026-11-23: re-check",
    ),
    "origin_to_cloudfront_per_gb": (
        0.0,
        "Origin fetches from an AWS origin (EC2, ELB) to CloudFront",
        "aws.amazon.com/cloudfront/pricing/ ('free for origin fetches from any AWS origin'), "
        "stored copy read 2026-11-23",
    ),
    "alb_per_gb": (
        0.008,
        "ALB: $0.008 per LCU-hour, 1 LCU = 1 GB processed per hour for EC2 targets",
        "aws.amazon.com/elasticloadbalancing/pricing/; checked 2026-11-23 against a stored "
        "secondary "
        "summary (egresscost.com/aws), re-check",
    ),
    "instance_per_hour": (
        0.0363,
        "c7g.medium on-demand, Linux (the prod instance type of this blueprint)",
        "aws.amazon.com/ec2/pricing/on-demand/; last known list price, not re-checked 2026-11-23",
    ),
}


@dataclasses.dataclass(frozen=True)
class Inputs:
    update_size_mb: float = 200.0
    clients: int = 100_000
    cache_hit_ratio: float = 0.99
    rollout_hours: float = 24.0
    # What one instance sustains serving files: c7g.medium's baseline network bandwidth,
    # 0.52 Gbit/s = 65 MB/s (EC2 instance network specifications). Bursts above it are short.
    instance_throughput_mb_per_s: float = 65.0
    # The group never shrinks below this (the prod profile's min_instances).
    min_instances: int = 3

    def __post_init__(self) -> None:
        if self.update_size_mb <= 0 or self.clients <= 0 or self.rollout_hours <= 0:
            raise ValueError("update_size_mb, clients and rollout_hours must be positive")
        if not 0.0 <= self.cache_hit_ratio <= 1.0:
            raise ValueError(f"cache_hit_ratio {self.cache_hit_ratio} must be within 0..1")
        if self.instance_throughput_mb_per_s <= 0 or self.min_instances < 1:
            raise ValueError("instance_throughput_mb_per_s must be positive, min_instances >= 1")


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One side of the comparison: what reaches the origin and what it all costs."""

    origin_requests: float
    origin_gb: float
    instance_hours: float
    cost_usd: float


@dataclasses.dataclass(frozen=True)
class Result:
    inputs: Inputs
    served_gb: float
    without: Scenario
    with_offload: Scenario

    @property
    def instance_hours_avoided(self) -> float:
        return self.without.instance_hours - self.with_offload.instance_hours

    @property
    def savings_usd(self) -> float:
        return self.without.cost_usd - self.with_offload.cost_usd


def price(name: str) -> float:
    return PRICES[name][0]


def instance_hours(inputs: Inputs, origin_gb: float) -> float:
    serving_hours = origin_gb * 1024 / (inputs.instance_throughput_mb_per_s * 3600)
    return max(inputs.min_instances * inputs.rollout_hours, serving_hours)


def model(inputs: Inputs) -> Result:
    served_gb = inputs.clients * inputs.update_size_mb / 1024
    miss = 1.0 - inputs.cache_hit_ratio

    hours = instance_hours(inputs, served_gb)
    without = Scenario(
        origin_requests=inputs.clients,
        origin_gb=served_gb,
        instance_hours=hours,
        cost_usd=(
            served_gb * price("ec2_egress_per_gb")
            + served_gb * price("alb_per_gb")
            + hours * price("instance_per_hour")
        ),
    )
    origin_gb = served_gb * miss
    hours = instance_hours(inputs, origin_gb)
    with_offload = Scenario(
        origin_requests=inputs.clients * miss,
        origin_gb=origin_gb,
        instance_hours=hours,
        cost_usd=(
            served_gb * price("cloudfront_egress_per_gb")
            + inputs.clients / 10_000 * price("cloudfront_https_per_10k")
            + origin_gb * (price("origin_to_cloudfront_per_gb") + price("alb_per_gb"))
            + hours * price("instance_per_hour")
        ),
    )
    return Result(inputs=inputs, served_gb=served_gb, without=without, with_offload=with_offload)


# The rows of the doc table: one rollout size, three plausible hit ratios, then a bigger rollout.
DOC_SCENARIOS = (
    Inputs(update_size_mb=200, clients=100_000, cache_hit_ratio=0.90),
    Inputs(update_size_mb=200, clients=100_000, cache_hit_ratio=0.99),
    Inputs(update_size_mb=200, clients=100_000, cache_hit_ratio=0.999),
    Inputs(update_size_mb=500, clients=1_000_000, cache_hit_ratio=0.99),
)


def _n(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if value >= 1 else f"{value:.2f}"


def markdown_table(scenarios: tuple[Inputs, ...] = DOC_SCENARIOS) -> str:
    """The savings table in docs/update-offload.md (a test keeps the two identical)."""
    lines = [
        "| Update S × clients N | hit ratio h | served | origin requests (without → with) "
        "| origin GB (without → with) | instance-hours (without → with) | cost USD (without → "
        "with) |",
        "|---|---|---|---|---|---|---|",
    ]
    for inputs in scenarios:
        r = model(inputs)
        lines.append(
            f"| {inputs.update_size_mb:g} MB × {inputs.clients:,} | {inputs.cache_hit_ratio:g} "
            f"| {_n(r.served_gb)} GB "
            f"| {_n(r.without.origin_requests)} → {_n(r.with_offload.origin_requests)} "
            f"| {_n(r.without.origin_gb)} → {_n(r.with_offload.origin_gb)} "
            f"| {_n(r.without.instance_hours)} → {_n(r.with_offload.instance_hours)} "
            f"| {_n(r.without.cost_usd)} → {_n(r.with_offload.cost_usd)} |"
        )
    defaults = Inputs()
    lines += [
        "",
        f"Every row: rollout window W = {defaults.rollout_hours:g} h, "
        f"{defaults.instance_throughput_mb_per_s:g} MB/s per instance, "
        f"min_instances = {defaults.min_instances}.",
        "",
        "| Price (us-east-1) | USD | What | Source |",
        "|---|---|---|---|",
    ]
    for name, (value, what, source) in PRICES.items():
        lines.append(f"| `{name}` | {value:g} | {what} | {source} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=float)
    parser.add_argument("--clients", type=int)
    parser.add_argument("--hit-ratio", type=float)
    parser.add_argument("--rollout-hours", type=float)
    parser.add_argument("--throughput-mb-per-s", type=float)
    parser.add_argument("--min-instances", type=int)
    args = parser.parse_args(argv)
    given = {
        "update_size_mb": args.size_mb,
        "clients": args.clients,
        "cache_hit_ratio": args.hit_ratio,
        "rollout_hours": args.rollout_hours,
        "instance_throughput_mb_per_s": args.throughput_mb_per_s,
        "min_instances": args.min_instances,
    }
    given = {k: v for k, v in given.items() if v is not None}
    print(markdown_table((Inputs(**given),) if given else DOC_SCENARIOS))


if __name__ == "__main__":
    main()
