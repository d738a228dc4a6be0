"""The sample graph is valid Neptune Gremlin CSV and is what the generator produces."""

from __future__ import annotations

import csv
import filecmp
import subprocess
import sys

from tests.support.synth import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_data" / "fraud_graph"


def rows(name: str) -> list[dict]:
    with open(SAMPLE / name, newline="") as file:
        return list(csv.DictReader(file))


def test_vertices_and_edges_are_well_formed_gremlin_csv():
    vertices, edges = rows("vertices.csv"), rows("edges.csv")
    assert 100 <= len(vertices) <= 1000 and 100 <= len(edges) <= 1000
    ids = [v["~id"] for v in vertices]
    assert len(ids) == len(set(ids)), "vertex ids must be unique"
    assert {v["~label"] for v in vertices} == {"Account", "Device", "IpAddress", "Merchant"}
    known = set(ids)
    for edge in edges:
        assert edge["~from"] in known and edge["~to"] in known, edge
        if edge["amount:Double"]:
            float(edge["amount:Double"])
    assert len({e["~id"] for e in edges}) == len(edges)
    for vertex in vertices:
        if vertex["riskScore:Double"]:
            assert 0 <= float(vertex["riskScore:Double"]) <= 1


def test_the_fraud_ring_is_in_the_data():
    shared = [e for e in rows("edges.csv") if e["~to"] == "device-003" and e["~label"] == "USES"]
    assert len(shared) >= 6, "the sample's first query looks for accounts sharing a device"


def test_generator_reproduces_the_committed_files(tmp_path):
    script = REPO_ROOT / "sample_data" / "generate_fraud_graph.py"
    copy = tmp_path / "generate_fraud_graph.py"
    copy.write_text(script.read_text())
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    for name in ("vertices.csv", "edges.csv"):
        assert filecmp.cmp(tmp_path / "fraud_graph" / name, SAMPLE / name, shallow=False), name
