#!/usr/bin/env python3
"""Writes the sample fraud-detection property graph in Neptune's Gremlin CSV load format.

    Account -USES-> Device, Account -LOGS_IN_FROM-> IpAddress, Account -PAYS-> Merchant

Most accounts behave; one ring of accounts shares two devices and an IP address and pays the
same merchants, which is what a first graph query should find. Deterministic (fixed seed), so
re-running it reproduces the committed files exactly:

    python sample_data/generate_fraud_graph.py
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "fraud_graph"
ACCOUNTS, DEVICES, IPS, MERCHANTS = 80, 50, 45, 25
RING = [f"account-{i:03d}" for i in (7, 19, 23, 42, 58, 71)]
RING_DEVICES, RING_IP = ["device-003", "device-031"], "ip-017"


def main() -> None:
    rng = random.Random(20261123)
    OUT.mkdir(exist_ok=True)
    vertices = [
        [
            "~id",
            "~label",
            "name:String",
            "opened:Date",
            "riskScore:Double",
            "os:String",
            "country:String",
            "category:String",
        ]
    ]
    for i in range(ACCOUNTS):
        opened = date(2020, 1, 1) + timedelta(days=rng.randrange(2000))
        vertices.append(
            [
                f"account-{i:03d}",
                "Account",
                f"Customer {i:03d}",
                opened.isoformat(),
                f"{rng.random() * 0.3:.3f}",
                "",
                "",
                "",
            ]
        )
    for i in range(DEVICES):
        vertices.append(
            [
                f"device-{i:03d}",
                "Device",
                "",
                "",
                "",
                rng.choice(["ios", "android", "windows", "macos"]),
                "",
                "",
            ]
        )
    for i in range(IPS):
        vertices.append(
            [
                f"ip-{i:03d}",
                "IpAddress",
                f"10.{i // 256}.{i % 256}.{rng.randrange(1, 255)}",
                "",
                "",
                "",
                rng.choice(["US", "CA", "GB", "DE", "BR", "IN"]),
                "",
            ]
        )
    for i in range(MERCHANTS):
        vertices.append(
            [
                f"merchant-{i:03d}",
                "Merchant",
                f"Merchant {i:03d}",
                "",
                "",
                "",
                "",
                rng.choice(["groceries", "electronics", "travel", "gift-cards"]),
            ]
        )

    edges = [["~id", "~from", "~to", "~label", "amount:Double", "at:Date"]]

    def edge(source: str, target: str, label: str, amount: str = "", at: str = "") -> None:
        edges.append([f"e-{len(edges):04d}", source, target, label, amount, at])

    for i in range(ACCOUNTS):
        account = f"account-{i:03d}"
        if account in RING:
            for device in RING_DEVICES:
                edge(account, device, "USES")
            edge(account, RING_IP, "LOGS_IN_FROM")
            payees = ["merchant-004", "merchant-011"]
        else:
            edge(account, f"device-{rng.randrange(DEVICES):03d}", "USES")
            edge(account, f"ip-{rng.randrange(IPS):03d}", "LOGS_IN_FROM")
            payees = [
                f"merchant-{rng.randrange(MERCHANTS):03d}" for _ in range(rng.randrange(1, 4))
            ]
        for merchant in payees:
            at = date(2026, 1, 1) + timedelta(days=rng.randrange(300))
            edge(account, merchant, "PAYS", f"{rng.uniform(5, 900):.2f}", at.isoformat())

    for name, rows in (("vertices.csv", vertices), ("edges.csv", edges)):
        with open(OUT / name, "w", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(rows)
    print(f"{len(vertices) - 1} vertices, {len(edges) - 1} edges -> {OUT}")


if __name__ == "__main__":
    main()
