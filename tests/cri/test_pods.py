"""Pods through containerd's CRI plugin (issue 7): the kubelet's calls, made by our
own CRI client, on containerd's Go runc shim (handler `runc`: proves the harness) and
on our shim (handler `runsc`: host-network pods, `network = "none"`; `runsc-net`:
pod-network pods, `network = "host"` inside the pod's CNI netns, see cri_env.py).
docs/containerd-contract.md has the facts; tests/cri/README.md says how to run and debug.

    SHIM_BINARY=build/src/shim/containerd-shim-runsc-v1 \\
        /usr/bin/python3 -m pytest -v -p no:cacheprovider tests/cri
"""

import os
import re
import socket
import sys
import time
from contextlib import contextmanager

import grpc
import pytest

sys.path.insert(0, os.path.dirname(__file__))
import cri_env  # noqa: E402
import harness  # noqa: E402
import images  # noqa: E402

# (runtime, network) -> the CRI runtime handler (cri_env.HANDLERS).
HANDLER = {("runc", "host"): "runc", ("runc", "pod"): "runc",
           ("runsc", "host"): "runsc", ("runsc", "pod"): "runsc-net"}
VARIANTS = [pytest.param(r, n, id=f"{r}-{n}") for r in ("runc", "runsc")
            for n in ("host", "pod")]
RUNTIMES = [pytest.param(r, id=r) for r in ("runc", "runsc")]

FOREVER = "2147483647"
# PID 1 with a TERM trap: StopContainer's SIGTERM ends it with 42.
APP1 = ["sh", "-c", "trap 'exit 42' TERM; echo hi; echo err >&2; sleep " + FOREVER + " & wait"]
# PID 1 that ignores SIGTERM, so StopContainer needs the SIGKILL after the grace period:
# 137. (A bare `sleep` as PID 1 would not do: Linux spares a pid namespace's init the
# default action of a signal from outside, gVisor does not: `runsc kill ID 15` ends a
# `sleep` PID 1, root container or not, with 143. Measured with runsc 20221219.)
APP2 = ["sh", "-c", "trap '' TERM; exec sleep " + FOREVER]
# "<RFC 3339 time> <stdout|stderr> <F|P> <text>", the CRI log format.
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\S+) (stdout|stderr) ([FP]) (.*)$")


def wait_for(pred, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Pod:
    """One pod and its containers, driven through the CRI with every step timed.
    Any failed call raises AssertionError with the step, the gRPC status and what
    containerd and runsc logged (env.diagnose())."""

    def __init__(self, env, name, runtime, network, steps):
        self.env, self.api, self.rt = env, env.cri.api, env.cri.runtime
        self.name, self.runtime, self.network = name, runtime, network
        self.handler = HANDLER[(runtime, network)]
        self.steps = steps
        self.id = None
        self.log_dir = env.log_root / name
        self.log_dir.mkdir(parents=True)
        api = self.api
        ns = api.NamespaceOption(network=api.NODE if network == "host" else api.POD,
                                 pid=api.CONTAINER, ipc=api.POD)
        self.config = api.PodSandboxConfig(
            metadata=api.PodSandboxMetadata(name=name, uid=f"{name}-{env.token}",
                                            namespace="shimtest", attempt=0),
            log_directory=str(self.log_dir),
            labels={"shimtest": env.token, "pod": name},
            annotations={"shimtest/pod": name},
            linux=api.LinuxPodSandboxConfig(
                cgroup_parent=env.cgroup_parent,
                security_context=api.LinuxSandboxSecurityContext(namespace_options=ns)))
        if network == "pod":  # a host-network pod keeps the node's hostname
            self.config.hostname = name

    @contextmanager
    def step(self, name):
        t0 = time.monotonic()
        try:
            yield
        except grpc.RpcError as e:
            raise AssertionError(
                f"{name} [{self.handler}, {self.network} network] failed: {e.code().name}: "
                f"{e.details()}\n{self.env.diagnose()}") from None
        finally:
            self.steps.append((name, time.monotonic() - t0))

    # -- sandbox ---------------------------------------------------------------

    def run(self):
        with self.step("RunPodSandbox"):
            self.id = self.rt.RunPodSandbox(self.api.RunPodSandboxRequest(
                config=self.config, runtime_handler=self.handler), timeout=120).pod_sandbox_id
        self.env.track(self.id, self.handler)
        return self.id

    def status(self):
        with self.step("PodSandboxStatus"):
            return self.rt.PodSandboxStatus(self.api.PodSandboxStatusRequest(
                pod_sandbox_id=self.id), timeout=30).status

    def stop(self):
        with self.step("StopPodSandbox"):
            self.rt.StopPodSandbox(self.api.StopPodSandboxRequest(pod_sandbox_id=self.id),
                                   timeout=120)

    def remove(self):
        with self.step("RemovePodSandbox"):
            self.rt.RemovePodSandbox(self.api.RemovePodSandboxRequest(pod_sandbox_id=self.id),
                                     timeout=120)

    # -- containers --------------------------------------------------------------

    def create(self, name, command, privileged=False, add_capabilities=()):
        api = self.api
        security = api.LinuxContainerSecurityContext(
            namespace_options=api.NamespaceOption(
                network=self.config.linux.security_context.namespace_options.network,
                pid=api.CONTAINER, ipc=api.POD),
            privileged=privileged,
            capabilities=api.Capability(add_capabilities=list(add_capabilities)))
        config = api.ContainerConfig(
            metadata=api.ContainerMetadata(name=name, attempt=0),
            image=api.ImageSpec(image=images.BUSYBOX_IMAGE),
            command=command,
            working_dir="/",
            envs=[api.KeyValue(key="POD", value=self.name)],
            labels={"shimtest": self.env.token, "container": name},
            annotations={"shimtest/container": name},
            log_path=f"{name}.log",
            linux=api.LinuxContainerConfig(security_context=security))
        with self.step(f"CreateContainer {name}"):
            cid = self.rt.CreateContainer(api.CreateContainerRequest(
                pod_sandbox_id=self.id, config=config, sandbox_config=self.config),
                timeout=120).container_id
        self.env.track(cid, self.handler)
        return cid

    def start(self, cid, name):
        with self.step(f"StartContainer {name}"):
            self.rt.StartContainer(self.api.StartContainerRequest(container_id=cid),
                                   timeout=120)

    def cstatus(self, cid):
        with self.step("ContainerStatus"):
            return self.rt.ContainerStatus(self.api.ContainerStatusRequest(
                container_id=cid), timeout=30).status

    def exec(self, cid, cmd, timeout=30):
        with self.step(f"ExecSync {cmd[0]}"):
            r = self.rt.ExecSync(self.api.ExecSyncRequest(container_id=cid, cmd=cmd,
                                                          timeout=timeout),
                                 timeout=timeout + 30)
        return r.stdout, r.stderr, r.exit_code

    def stop_container(self, cid, name, timeout):
        with self.step(f"StopContainer {name}"):
            self.rt.StopContainer(self.api.StopContainerRequest(container_id=cid,
                                                                timeout=timeout),
                                  timeout=timeout + 120)

    def remove_container(self, cid, name):
        with self.step(f"RemoveContainer {name}"):
            self.rt.RemoveContainer(self.api.RemoveContainerRequest(container_id=cid),
                                    timeout=120)

    def reopen_log(self, cid, name):
        with self.step(f"ReopenContainerLog {name}"):
            self.rt.ReopenContainerLog(self.api.ReopenContainerLogRequest(container_id=cid),
                                       timeout=30)

    def containers(self):
        api = self.api
        return self.rt.ListContainers(api.ListContainersRequest(
            filter=api.ContainerFilter(pod_sandbox_id=self.id)), timeout=30).containers

    def log(self, name):
        """[(stream, tag, text)] of a container's CRI log file."""
        try:
            text = (self.log_dir / f"{name}.log").read_text(errors="replace")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            m = LOG_LINE.match(line)
            assert m, f"not a CRI log line: {line!r}"
            out.append((m.group(2), m.group(3), m.group(4)))
        return out


def state(api, status):
    return api.ContainerState.Name(status.state)


def assert_clean(env):
    """Nothing left once every pod is removed; shims exit shortly after their last
    Shutdown, so poll a little."""
    left = wait_for(lambda: not env.leftovers(), 10) or env.leftovers()
    assert left is True or left == [], ("left behind:\n" + "\n".join(left)
                                        + "\n" + env.diagnose())


@pytest.fixture
def steps(request):
    timings = []
    yield timings
    cri_env.TIMINGS.append((request.node.name, timings))


# ---------------------------------------------------------------------------------


def test_cri_plugin_ready(env):
    """The harness itself: CRI answers, runtime and network are ready, images are in."""
    api, rt = env.cri.api, env.cri.runtime
    v = rt.Version(api.VersionRequest(), timeout=30)
    assert (v.runtime_name, v.runtime_api_version) == ("containerd", "v1")
    conditions = {c.type: c.status for c in
                  rt.Status(api.StatusRequest(), timeout=30).status.conditions}
    # containerd 1.7 adds ContainerdHasNoDeprecationWarnings: our config must not earn one.
    want = {"RuntimeReady": True, "NetworkReady": True}
    if harness.STACK.version >= (1, 7):
        want["ContainerdHasNoDeprecationWarnings"] = True
    assert conditions == want, conditions
    for ref in (images.PAUSE_IMAGE, images.BUSYBOX_IMAGE):
        img = env.cri.image.ImageStatus(api.ImageStatusRequest(
            image=api.ImageSpec(image=ref)), timeout=30).image
        assert ref in img.repo_tags and img.size > 0, img


@pytest.mark.parametrize("runtime,network", VARIANTS)
def test_empty_pod(env, runtime, network, steps):
    """A pod with no app container: the sandbox alone, up and down, nothing left."""
    api = env.cri.api
    pod = Pod(env, f"empty-{runtime}-{network}", runtime, network, steps)
    pod.run()
    st = pod.status()
    assert api.PodSandboxState.Name(st.state) == "SANDBOX_READY", st
    assert (st.network.ip != "") == (network == "pod"), st.network
    pid = env.pod_info(pod.id)["pid"]
    assert pid > 0 and os.path.exists(f"/proc/{pid}")
    pod.stop()
    assert api.PodSandboxState.Name(pod.status().state) == "SANDBOX_NOTREADY"
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}") or
                    open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", 5)
    pod.remove()
    assert_clean(env)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_one_shim_per_pod(env, runtime, steps):
    """containerd starts the shim binary for the sandbox and again for each app
    container; a shim that groups (as the Go runc shim does: `start` answers with the
    pod's socket for any container with the same io.kubernetes.cri.sandbox-id) keeps
    one shim process per pod."""
    pod = Pod(env, f"shims-{runtime}", runtime, "host", steps)
    pod.run()
    for name in ("a", "b"):
        cid = pod.create(name, APP2)
        pod.start(cid, name)
    procs = env.containerd.our_processes()
    shims = [p for p in procs if "containerd-shim" in p[2]]
    assert len(shims) == 1, "shim processes for one pod:\n" + "\n".join(
        f"{pid} {cmd[:200]}" for pid, _, cmd in shims)
    # Ours waits on app containers through the sandbox's control socket: no `runsc wait`.
    waiters = [p for p in procs if p[1] == "runsc" and " wait " in f" {p[2]} "]
    assert waiters == [], "runsc wait helpers:\n" + "\n".join(
        f"{pid} {cmd[:200]}" for pid, _, cmd in waiters)
    pod.stop()
    pod.remove()
    assert_clean(env)


@pytest.mark.parametrize("runtime,network", VARIANTS)
def test_pod_lifecycle(env, runtime, network, steps):
    """A pod with two app containers, the kubelet's way, then nothing left."""
    api = env.cri.api
    pod = Pod(env, f"pod-{runtime}-{network}", runtime, network, steps)
    pod.run()

    st = pod.status()
    assert api.PodSandboxState.Name(st.state) == "SANDBOX_READY", st
    assert st.runtime_handler == pod.handler
    assert st.metadata.name == pod.name and st.annotations["shimtest/pod"] == pod.name
    info = env.pod_info(pod.id)
    assert info.get("pid", 0) > 0, info
    # App containers join /proc/<sandbox task pid>/ns/{net,ipc,uts}: that process must
    # live in the pod's netns (CNI's, pod network; the node's, host network). Not so for
    # the `runsc` handler: `network = "none"` gives the sandbox a netns of its own, empty.
    if pod.handler != "runsc":
        pod_netns = env.netns_of(info) if network == "pod" else "/proc/self/ns/net"
        assert pod_netns and (os.stat(f"/proc/{info['pid']}/ns/net").st_ino
                              == os.stat(pod_netns).st_ino), (pod_netns, info["pid"])
    if network == "pod":
        assert st.network.ip.startswith(env.subnet.rsplit(".", 2)[0] + "."), st.network
    else:
        assert st.network.ip == "", st.network

    app1, app2 = pod.create("app1", APP1), pod.create("app2", APP2)
    for cid in (app1, app2):
        assert state(api, pod.cstatus(cid)) == "CONTAINER_CREATED"
    pod.start(app1, "app1")
    pod.start(app2, "app2")
    for cid in (app1, app2):
        s = pod.cstatus(cid)
        assert (state(api, s), s.started_at > 0) == ("CONTAINER_RUNNING", True), s

    # ExecSync: output, exit codes, stderr.
    assert pod.exec(app1, ["echo", "hi"]) == (b"hi\n", b"", 0)
    assert pod.exec(app1, ["sh", "-c", "echo oops >&2; exit 3"]) == (b"", b"oops\n", 3)
    assert pod.exec(app2, ["sh", "-c", "echo $POD"]) == (pod.name.encode() + b"\n", b"", 0)
    # The pod's containers share its UTS (and, pod network, its netns and IP).
    h1, h2 = (pod.exec(c, ["hostname"]) for c in (app1, app2))
    assert h1 == h2 and h1[2] == 0, (h1, h2)
    if network == "pod":
        assert h1[0] == pod.name.encode() + b"\n", h1
        for cid in (app1, app2):
            out, err, code = pod.exec(cid, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"])
            assert code == 0 and f" {st.network.ip}/".encode() in out, (out, err, code)
    else:
        assert h1[0] == socket.gethostname().encode() + b"\n" or runtime == "runsc", h1

    # The container's stdout and stderr reach its CRI log file.
    want = [("stdout", "F", "hi"), ("stderr", "F", "err")]
    got = wait_for(lambda: sorted(pod.log("app1")) == sorted(want) and pod.log("app1"), 10)
    assert got, f"app1.log: {pod.log('app1')!r}"

    # Stop: TERM ends app1 with its trap's 42; app2 ignores TERM and gets the SIGKILL.
    pod.stop_container(app1, "app1", timeout=10)
    pod.stop_container(app2, "app2", timeout=1)
    s1, s2 = pod.cstatus(app1), pod.cstatus(app2)
    assert (state(api, s1), s1.exit_code) == ("CONTAINER_EXITED", 42), s1
    assert (state(api, s2), s2.exit_code) == ("CONTAINER_EXITED", 137), s2
    assert s1.finished_at >= s1.started_at > 0
    # The pod outlives its containers.
    assert api.PodSandboxState.Name(pod.status().state) == "SANDBOX_READY"

    pod.remove_container(app1, "app1")
    pod.remove_container(app2, "app2")
    assert list(pod.containers()) == []
    pod.stop()
    assert api.PodSandboxState.Name(pod.status().state) == "SANDBOX_NOTREADY"
    pod.remove()
    with pytest.raises(grpc.RpcError) as e:
        env.cri.runtime.PodSandboxStatus(api.PodSandboxStatusRequest(pod_sandbox_id=pod.id),
                                         timeout=30)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert_clean(env)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_app_container_exits_by_itself(env, runtime, steps):
    """An app container that exits on its own is reported EXITED with its code, its
    output is in its log, and the pod (and its other container) live on."""
    api = env.cri.api
    pod = Pod(env, f"exit-{runtime}", runtime, "host", steps)
    pod.run()
    keeper = pod.create("keeper", APP2)
    pod.start(keeper, "keeper")
    quitter = pod.create("quitter", ["sh", "-c", "echo bye; exit 7"])
    pod.start(quitter, "quitter")
    s = wait_for(lambda: (lambda s: state(api, s) == "CONTAINER_EXITED" and s)(
        pod.cstatus(quitter)), 20) or pod.cstatus(quitter)
    assert (state(api, s), s.exit_code) == ("CONTAINER_EXITED", 7), s
    assert wait_for(lambda: pod.log("quitter") == [("stdout", "F", "bye")], 10), \
        pod.log("quitter")
    assert state(api, pod.cstatus(keeper)) == "CONTAINER_RUNNING"
    assert api.PodSandboxState.Name(pod.status().state) == "SANDBOX_READY"
    assert pod.exec(keeper, ["echo", "still"]) == (b"still\n", b"", 0)
    # StopContainer on an exited container is a no-op; StopPodSandbox stops the rest.
    pod.stop_container(quitter, "quitter", timeout=1)
    pod.stop()
    s = pod.cstatus(keeper)
    assert (state(api, s), s.exit_code) == ("CONTAINER_EXITED", 137), s
    pod.remove()  # removes its containers too
    assert list(env.cri.runtime.ListContainers(api.ListContainersRequest(),
                                               timeout=30).containers) == []
    assert_clean(env)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_log_rotation(env, runtime, steps):
    """The kubelet rotates a log by renaming the file and calling ReopenContainerLog:
    what the running container writes next goes to a new file of the old name."""
    api = env.cri.api
    pod = Pod(env, f"logs-{runtime}", runtime, "host", steps)
    pod.run()
    cid = pod.create("ticker", ["sh", "-c", "i=0; while :; do echo tick$i; i=$((i+1)); "
                                            "usleep 100000; done"])
    pod.start(cid, "ticker")
    assert wait_for(lambda: len(pod.log("ticker")) >= 2, 10), pod.log("ticker")
    (pod.log_dir / "ticker.log").rename(pod.log_dir / "ticker.log.1")
    s = pod.cstatus(cid)
    assert state(api, s) == "CONTAINER_RUNNING", s
    pod.reopen_log(cid, "ticker")
    new = wait_for(lambda: len(pod.log("ticker")) >= 2 and pod.log("ticker"), 10)
    assert new and all(stream == "stdout" and text.startswith("tick")
                       for stream, _, text in new), new
    # The new file carries on where the old one stopped.
    old = [LOG_LINE.match(line).group(4)
           for line in (pod.log_dir / "ticker.log.1").read_text().splitlines()]
    assert int(new[0][2][4:]) > int(old[-1][4:]), (old[-1], new[0])
    pod.stop_container(cid, "ticker", timeout=0)
    pod.remove_container(cid, "ticker")
    pod.stop()
    pod.remove()
    assert_clean(env)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_minimal_pod_timing(env, runtime, steps):
    """The smallest whole lifecycle (sandbox, one container, two ExecSyncs, stop,
    remove), timed: the numbers are in the summary at the end of the run."""
    pod = Pod(env, f"timing-{runtime}", runtime, "host", steps)
    t0 = time.monotonic()
    pod.run()
    cid = pod.create("app", APP2)
    pod.start(cid, "app")
    assert pod.exec(cid, ["true"])[2] == 0
    assert pod.exec(cid, ["sh", "-c", "exit 5"])[2] == 5
    pod.stop_container(cid, "app", timeout=0)
    pod.remove_container(cid, "app")
    pod.stop()
    pod.remove()
    steps.append(("lifecycle wall", time.monotonic() - t0))
    steps[:] = steps[-1:] + steps[:-1]
    assert_clean(env)
