#!/usr/bin/env python3
"""Trim GitHub's OpenAPI description to the paths stagegate calls.

Prism starts in ~2 s on the trimmed description instead of ~10 s on the full
13 MB one. Kept: the listed paths and every component they reference
(transitively). Dropped: x-webhooks (Prism refuses a trimmed spec with them).
Usage: trim-spec.py FULL.json OUT.json
"""
import json
import sys

PATHS = [
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/git/matching-refs/{ref}",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/tags",
    "/repos/{owner}/{repo}/commits/{ref}",
    "/repos/{owner}/{repo}/compare/{basehead}",
    "/repos/{owner}/{repo}/releases",
    "/repos/{owner}/{repo}/releases/{release_id}",
    "/repos/{owner}/{repo}/releases/tags/{tag}",
    "/repos/{owner}/{repo}/releases/generate-notes",
    "/repos/{owner}/{repo}/deployments",
    "/repos/{owner}/{repo}/deployments/{deployment_id}",
    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    "/repos/{owner}/{repo}/environments",
    "/repos/{owner}/{repo}/environments/{environment_name}",
    "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
    "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies/{branch_policy_id}",
    "/repos/{owner}/{repo}/actions/runs/{run_id}",
    "/repos/{owner}/{repo}/actions/runs/{run_id}/approvals",
    "/repos/{owner}/{repo}/actions/runs/{run_id}/pending_deployments",
    "/orgs/{org}/teams/{team_slug}",
    "/orgs/{org}/teams/{team_slug}/members",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    "/users/{username}",
    "/app/installations/{installation_id}/access_tokens",
    "/repos/{owner}/{repo}/contents/{path}",
    "/repos/{owner}/{repo}/actions/runs/{run_id}/deployment_protection_rule",
    "/repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules",
    "/repos/{owner}/{repo}/environments/{environment_name}/deployment_protection_rules/{protection_rule_id}",
]


def refs(node, out):
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str):
            out.add(r)
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    full = json.load(open(sys.argv[1]))
    missing = [p for p in PATHS if p not in full["paths"]]
    if missing:
        sys.exit(f"not in the description: {missing}")
    paths = {p: full["paths"][p] for p in PATHS}
    seen, todo = set(), set()
    refs(paths, todo)
    while todo:
        r = todo.pop()
        if r in seen:
            continue
        seen.add(r)
        _, _, kind, name = r.split("/", 3)
        refs(full["components"][kind][name], todo)
    components = {}
    for r in seen:
        _, _, kind, name = r.split("/", 3)
        components.setdefault(kind, {})[name] = full["components"][kind][name]
    out = {k: v for k, v in full.items() if k not in ("paths", "components", "x-webhooks")}
    out["paths"] = paths
    out["components"] = components
    json.dump(out, open(sys.argv[2], "w"))


main()
