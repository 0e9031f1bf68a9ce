#!/usr/bin/env python3
"""Turns a rendered overlay into what `podman kube play` 4.3 (Debian 12) runs, on stdout.

podman 4.3 runs Pods, Deployments, ConfigMaps and PersistentVolumeClaims, but not
StatefulSets, Jobs or CronJobs, and reads a Secret only from its own secret store. So:
StatefulSet -> Deployment (its volumeClaimTemplates -> PVCs), Job -> Pod (restartPolicy
Never; written to JOBS_FILE, played once the functions are up), Secret references -> literal
values, port declarations dropped (the pods share one network namespace, where podman refuses
them). Probes are dropped: podman runs an httpGet probe with curl inside the container, and
the images carry no curl (the test polls the same endpoints itself). Services, the Ingress,
HPA, PDB, NetworkPolicies, the Namespace and the CronJob have no podman equivalent and are
dropped; the CronJob's container is written as an env file + command to CRONJOB_FILE.

usage: kube_play.py RENDERED.yaml JOBS_FILE CRONJOB_FILE > play.yaml
"""
import base64
import json
import sys

import yaml

DROPPED = {"Namespace", "Service", "Ingress", "HorizontalPodAutoscaler",
           "PodDisruptionBudget", "NetworkPolicy", "Secret", "CronJob"}


def secrets_of(docs):
    found = {}
    for d in docs:
        if d["kind"] == "Secret":
            values = {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()}
            values.update(d.get("stringData", {}))
            found[d["metadata"]["name"]] = values
    return found


def prepare_pod(spec, secrets):
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        env = []
        for source in c.get("envFrom", []):
            if "secretRef" in source:
                values = secrets[source["secretRef"]["name"]]
                env += [{"name": k, "value": v} for k, v in values.items()]
        c["envFrom"] = [s for s in c.get("envFrom", []) if "secretRef" not in s]
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                env.append({"name": e["name"], "value": secrets[ref["name"]][ref["key"]]})
            else:
                env.append(e)
        c["env"] = env
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            c.pop(probe, None)
        # On the host network a container's port is the namespace's port as it is; podman
        # refuses port declarations there.
        c.pop("ports", None)


def main():
    rendered, jobs_file, cronjob_file = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    secrets = secrets_of(docs)
    play, jobs = [], []
    for d in docs:
        kind = d["kind"]
        if kind == "CronJob":
            spec = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            prepare_pod(spec, secrets)
            c = spec["containers"][0]
            with open(cronjob_file, "w") as f:
                json.dump({"image": c["image"], "command": c["command"], "env": c["env"],
                           "envFrom": c.get("envFrom", [])}, f)
        if kind in DROPPED:
            continue
        if kind == "StatefulSet":
            spec = d["spec"]
            for claim in spec.pop("volumeClaimTemplates", []):
                name = f"{claim['metadata']['name']}-{d['metadata']['name']}"
                play.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                             "metadata": {"name": name}, "spec": claim["spec"]})
                spec["template"]["spec"].setdefault("volumes", []).append(
                    {"name": claim["metadata"]["name"],
                     "persistentVolumeClaim": {"claimName": name}})
            spec.pop("serviceName", None)
            d["kind"] = "Deployment"
        if kind == "Job":
            pod = d["spec"]["template"]
            pod["spec"]["restartPolicy"] = "Never"
            prepare_pod(pod["spec"], secrets)
            jobs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": d["metadata"]["name"],
                                      "labels": pod.get("metadata", {}).get("labels", {})},
                         "spec": pod["spec"]})
            continue
        if "template" in d.get("spec", {}):
            prepare_pod(d["spec"]["template"]["spec"], secrets)
        play.append(d)
    # ConfigMaps first: the jobs' pods mount them too.
    with open(jobs_file, "w") as f:
        yaml.safe_dump_all([d for d in play if d["kind"] == "ConfigMap"] + jobs, f)
    yaml.safe_dump_all(play, sys.stdout)


if __name__ == "__main__":
    main()
