"""Drives kpp with Debian's python3-kubernetes client as a user's script would.

Usage: client_e2e.py <kubeconfig> <scratch-dir>
Prints one line per step and exits non-zero at the first failure.
"""
import os
import sys
import threading

from kubernetes import client, config, utils, watch
from kubernetes.client.rest import ApiException


def step(name):
    print(f"step: {name}", flush=True)


def expect_status(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ApiException as error:
        if error.status != code:
            raise AssertionError(f"expected HTTP {code}, got {error.status}: {error.body}")
        return error
    raise AssertionError(f"expected HTTP {code}, the call succeeded")


def main():
    kubeconfig, scratch = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    api_client = client.ApiClient()
    core = client.CoreV1Api(api_client)
    apps = client.AppsV1Api(api_client)

    step("version and namespaces")
    version = client.VersionApi(api_client).get_code()
    assert version.major == "1", version
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names, names

    step("configmap create/read/replace/patch/delete")
    namespace = "pyclient"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    created = core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings", labels={"app": "py"}),
                           data={"mode": "fast"}))
    assert created.metadata.uid and created.metadata.resource_version, created.metadata
    read = core.read_namespaced_config_map("settings", namespace)
    assert read.data == {"mode": "fast"}, read.data
    read.data["mode"] = "slow"
    replaced = core.replace_namespaced_config_map("settings", namespace, read)
    assert replaced.data["mode"] == "slow"
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    # A stale resourceVersion must conflict.
    read.data["mode"] = "stale"
    expect_status(409, core.replace_namespaced_config_map, "settings", namespace, read)
    patched = core.patch_namespaced_config_map("settings", namespace,
                                               {"metadata": {"labels": {"tier": "back"}}})
    assert patched.metadata.labels == {"app": "py", "tier": "back"}, patched.metadata.labels
    listed = core.list_namespaced_config_map(namespace, label_selector="app=py")
    assert [item.metadata.name for item in listed.items] == ["settings"], listed.items
    error = expect_status(404, core.read_namespaced_config_map, "missing", namespace)
    assert '"reason":"NotFound"' in error.body.replace(" ", ""), error.body
    expect_status(409, core.create_namespaced_config_map, namespace,
                  client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings")))
    expect_status(422, core.create_namespaced_config_map, namespace,
                  client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name")))
    core.delete_namespaced_config_map("settings", namespace)
    expect_status(404, core.read_namespaced_config_map, "settings", namespace)

    step("list in pages")
    for i in range(7):
        core.create_namespaced_secret(
            namespace, client.V1Secret(metadata=client.V1ObjectMeta(name=f"s{i}"),
                                       string_data={"k": str(i)}))
    seen, token = [], None
    while True:
        page = core.list_namespaced_secret(namespace, limit=3, _continue=token)
        seen += [item.metadata.name for item in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"s{i}" for i in range(7)], seen
    assert core.read_namespaced_secret("s3", namespace).data == {"k": "Mw=="}

    step("watch")
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    events = []

    def watch_config_maps():
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_config_map, namespace,
                                   resource_version=start, timeout_seconds=20):
            # The root CA publisher's kube-root-ca.crt may appear in the new namespace meanwhile.
            if event["object"].metadata.name != "watched":
                continue
            events.append((event["type"], event["object"].metadata.name))
            if len(events) == 3:
                stream.stop()

    watcher = threading.Thread(target=watch_config_maps)
    watcher.start()
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched")))
    core.patch_namespaced_config_map("watched", namespace, {"data": {"a": "b"}})
    core.delete_namespaced_config_map("watched", namespace)
    watcher.join(30)
    assert not watcher.is_alive(), "watch did not see three events"
    assert events == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")], events

    step("create_from_yaml")
    manifest = os.path.join(scratch, "app.yaml")
    with open(manifest, "w") as out:
        out.write("""apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 80
""")
    utils.create_from_yaml(api_client, manifest, namespace=namespace)
    deployment = apps.read_namespaced_deployment("web", namespace)
    assert deployment.spec.strategy.type == "RollingUpdate", deployment.spec.strategy
    assert deployment.spec.revision_history_limit == 10
    assert deployment.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    service = core.read_namespaced_service("web", namespace)
    assert service.spec.type == "ClusterIP" and service.spec.session_affinity == "None"
    assert service.spec.ports[0].protocol == "TCP"
    assert apps.list_deployment_for_all_namespaces().items, "deployment not listed"

    step("delete namespace")
    core.delete_namespace(namespace)
    print("python client e2e: all steps passed", flush=True)


if __name__ == "__main__":
    main()
