#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The DaemonSet manifest cannot be applied here (no cluster, no Docker engine), so check what can be: it parses,
# every flag it passes is one the agent has, every host path it mounts is one the agent reads, the probes hit
# the agent's /healthz on the port it listens on (HTTPS when it serves TLS), the TLS files and the token come
# from mounted Secrets, no capability the agent gives up at once is granted, the Alertmanager flags name one URL
# per replica and every $(VAR) the args use is set, the ConfigMap's playbook is the embedded default, and the
# Dockerfile's make targets exist.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$B" --help > "$tmp/help"
/usr/bin/python3 - deploy/daemonset.yaml "$tmp/help" "$tmp/playbook.yaml" <<'PY' || fail "manifest"
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = {d["kind"]: d for d in docs}
for k in ("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet"):
    assert k in kinds, "no " + k
helptext = open(sys.argv[2]).read()
ds = kinds["DaemonSet"]["spec"]["template"]["spec"]
assert ds["hostPID"] is True
c = ds["containers"][0]
assert c["args"][0] == "run"
http_port = None
for a in c["args"][1:]:
    flag = a.split("=")[0]
    assert flag in helptext, "the agent has no flag " + flag
    if flag == "--http":
        http_port = int(a.rsplit(":", 1)[1])
assert http_port, "no --http"
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
assert ports["http"] == http_port
args = dict(a.split("=", 1) for a in c["args"][1:] if "=" in a)
tls = "--http-tls-cert" in args
for probe in ("livenessProbe", "readinessProbe"):
    assert c[probe]["httpGet"]["path"] == "/healthz" and c[probe]["httpGet"]["port"] == "http"
    assert c[probe]["httpGet"].get("scheme", "HTTP") == ("HTTPS" if tls else "HTTP"), probe + " scheme"
# TLS and the token from Secrets, mounted where the flags look
mounts_by_path = {m["mountPath"]: m for m in c["volumeMounts"]}
for flag in ("--http-tls-cert", "--http-tls-key", "--http-token-file"):
    assert flag in args, "no " + flag
    d, f = args[flag].rsplit("/", 1)
    m = mounts_by_path.get(d)
    assert m and m.get("readOnly"), flag + ": not a read-only mount: " + d
    v = {v["name"]: v for v in ds["volumes"]}[m["name"]]
    assert "secret" in v, flag + ": not from a Secret"
env = {e["name"]: e for e in c["env"]}
assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
ams = [a.split("=", 1)[1] for a in c["args"] if a.startswith("--alertmanager=")]
assert len(ams) >= 2, "an HA Alertmanager: one --alertmanager per replica"
assert all(re.match(r"https?://[^/?#]+(/.*)?$", u) for u in ams), ams
for a in c["args"]:  # every $(VAR) the args use is in env
    for var in re.findall(r"\$\((\w+)\)", a):
        assert var in env, "args use $(%s), which env does not set" % var
sc = c["securityContext"]
assert sc.get("privileged") is False and "ALL" in sc["capabilities"]["drop"]
assert {"BPF", "PERFMON"} <= set(sc["capabilities"]["add"])
# the agent names cgroups by path and drops every capability once attached: nothing more is granted
assert not set(sc["capabilities"]["add"]) & {"DAC_READ_SEARCH", "SYS_ADMIN", "DAC_OVERRIDE", "SYS_PTRACE"}, sc
mounts = {m["name"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in ds["volumes"]}
spool = next(a.split("=", 1)[1] for a in c["args"] if a.startswith("--spool-dir="))
known = {"/sys/fs/bpf", "/sys/kernel/btf", "/sys/fs/cgroup", "/sys/kernel/tracing", "/run/containerd", "/run/runc",
         "/var/lib/containers/storage/overlay-containers", "/var/lib/docker/containers", spool}
for name, m in mounts.items():
    v = vols[name]
    if "hostPath" in v:
        assert v["hostPath"]["path"] in known, "mounts a path the agent does not read: " + v["hostPath"]["path"]
        assert m["mountPath"] == v["hostPath"]["path"], "mounted elsewhere than the agent looks: " + name
        if m["mountPath"] == spool:
            assert not m.get("readOnly"), "the spool directory must be writable"
        elif m["mountPath"].startswith(("/run/", "/var/")) or m["mountPath"] in ("/sys/kernel/btf", "/sys/fs/cgroup"):
            assert m.get("readOnly"), name + " should be read-only"
assert spool in [v["hostPath"]["path"] for v in vols.values() if "hostPath" in v], "the spool is not a hostPath"
for flag, path in (("--containerd-state", "/run/containerd"), ("--runc-root", "/run/runc")):
    assert "%s=%s" % (flag, path) in c["args"], flag
playbook_path = next(a.split("=", 1)[1] for a in c["args"] if a.startswith("--playbook="))
cm_mount = mounts["playbook"]["mountPath"]
assert playbook_path == cm_mount + "/playbook.yaml"
open(sys.argv[3], "w").write(kinds["ConfigMap"]["data"]["playbook.yaml"])
PY
"$B" playbook check "$tmp/playbook.yaml" > /dev/null || fail "the ConfigMap's playbook is refused"
"$B" playbook show --playbook "$tmp/playbook.yaml" | tail -n +2 | grep -v 'runbook: ""' > "$tmp/cm"
"$B" playbook show | tail -n +2 | grep -v 'runbook: ""' > "$tmp/default"
diff -u "$tmp/default" "$tmp/cm" || fail "the ConfigMap's playbook differs from the embedded default"
grep -q '^FROM .* AS build' deploy/Dockerfile || fail "Dockerfile is not multi-stage"
make -n build/cgpulse build/cgpulse-collector > /dev/null || fail "Dockerfile's make targets"
echo "deploy: ok"
