#!/usr/bin/env python3
"""Print accord's package-level import graph (top-down, as DESIGN.md's layers read) and any cycle between packages.

A package is a first-level folder or module of `accord` (two levels under `focus/`). Exit status 1 if two packages
import each other through any path, or if a package is missing from the layers contract in pyproject.toml; `make lint`
runs this after the import contracts.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import grimp

ROOT = "accord"


def package_of(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "(root)"
    return ".".join(parts[:2]) if parts[0] == "focus" and len(parts) > 1 else parts[0]


def package_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(ROOT)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        here = package_of(module)
        edges.setdefault(here, set())
        for imported in graph.find_modules_directly_imported_by(module):
            there = package_of(imported)
            if there not in {here, "(root)"}:
                edges[here].add(there)
    edges.pop("(root)", None)
    edges.pop("focus", None)  # the focus package's own __init__ only describes it
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def contract_layers(pyproject: Path) -> list[list[str]]:
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    for contract in config["tool"]["importlinter"]["contracts"]:
        if contract["type"] == "layers":
            return [[package_of(m.strip()) for m in layer.split("|")] for layer in contract["layers"]]
    return []


def main() -> int:
    edges = package_graph()
    layers = contract_layers(Path(__file__).resolve().parent.parent / "pyproject.toml")
    listed = {p for layer in layers for p in layer}
    status = 0
    for layer in layers:
        for package in layer:
            below = ", ".join(sorted(edges.get(package, ()))) or "—"
            print(f"{package:18} -> {below}")
    unlisted = sorted(set(edges) - listed)
    if unlisted:
        print(f"not in the layers contract: {', '.join(unlisted)}")
        status = 1
    for component in cycles(edges):
        print("cycle between packages: " + ", ".join(component))
        status = 1
    count = sum(len(v) for v in edges.values())
    print(f"{len(edges)} packages, {count} package imports, {len(cycles(edges))} cycles")
    return status


if __name__ == "__main__":
    sys.exit(main())
