"""The shop's search engines as host processes: Solr 9.10.1 and OpenSearch 2.19.6 from Maven jars.

Both are built from the jar sets ``make setup`` fetched (``tools/jars/{solr,opensearch*}``) and
the configuration under ``tools/solr`` and ``tools/opensearch``; each runs on 127.0.0.1 with at
most 512 MB of heap, its data and logs in its run folder (``.run/<name>/``).

* Solr: a standalone ``products`` core; its request log (``logs/solr_requests.log``, one
  ``o.a.s.c.S.Request`` line per request, times in UTC) is what the Solr collector reads.
* OpenSearch refuses to run as root: started by root, it runs as ``nobody`` (``setpriv``), and
  the folders it writes (config for its keystore, data, logs, tmp) belong to that user. Its
  home (``lib/``, ``modules/``) is assembled from the jar sets with hard links.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import urllib.request
from collections.abc import Callable
from pathlib import Path

from shoprec.local.process import Service
from shoprec.local.runtime import JARS, REPO, RUN_DIR, Ports

SOLR_CORE = "products"
OPENSEARCH_VERSION = "2.19.6"
# module folder → (plugin class, modules it extends)
OPENSEARCH_MODULES = {
    "transport-netty4": ("org.opensearch.transport.Netty4Plugin", ""),
    "lang-painless": ("org.opensearch.painless.PainlessPlugin", ""),
    "analysis-common": ("org.opensearch.analysis.common.CommonAnalysisPlugin", "lang-painless"),
}
UNPRIVILEGED = 65534  # nobody:nogroup
HEAP = "512m"


def _http_ok(url: str, accept: Callable[[dict], bool] = lambda body: True) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return accept(json.load(response))
        except (OSError, ValueError):
            return False

    return ready


def solr_url(ports: Ports) -> str:
    return f"http://127.0.0.1:{ports.solr}/solr/{SOLR_CORE}"


def solr_request_log() -> Path:
    return RUN_DIR / "solr" / "logs" / "solr_requests.log"


def solr(ports: Ports) -> Service:
    folder, config = RUN_DIR / "solr", REPO / "tools" / "solr"
    home = folder / "home"

    def prepare() -> None:
        conf = home / SOLR_CORE / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        shutil.copy(config / "solr.xml", home)
        (home / SOLR_CORE / "core.properties").write_text(f"name={SOLR_CORE}\n")
        for name in ("solrconfig.xml", "schema.xml"):
            shutil.copy(config / name, conf)

    return Service(
        name="solr",
        command=[
            "java",
            f"-Xmx{HEAP}",
            "-XX:+UseSerialGC",
            "-XX:-UsePerfData",
            "-Duser.timezone=UTC",  # the request log's times carry no zone
            f"-Dlog4j2.configurationFile={config / 'log4j2.xml'}",
            f"-Dsolr.log.dir={folder / 'logs'}",
            "-cp",
            f"{JARS / 'solr'}/*",
            str(config / "SolrMain.java"),
            str(home),
            str(ports.solr),
        ],
        ready=_http_ok(f"{solr_url(ports)}/admin/ping?wt=json"),
        prepare=prepare,
    )


def opensearch_url(ports: Ports) -> str:
    return f"http://127.0.0.1:{ports.opensearch}"


def _link_jars(source: Path, target: Path, skip: set[str] = frozenset()) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for jar in source.glob("*.jar"):
        if jar.name not in skip and not (target / jar.name).exists():
            try:
                os.link(jar, target / jar.name)
            except OSError:  # another file system
                shutil.copy(jar, target / jar.name)


def _opensearch_home(home: Path) -> None:
    """lib/ = the server set; modules/<name>/ = that module's set minus the jars of lib/ (the
    duplicate-class check refuses them), with the descriptor and policy Maven jars lack."""
    config = REPO / "tools" / "opensearch"
    _link_jars(JARS / "opensearch", home / "lib")
    in_lib = {jar.name for jar in (home / "lib").glob("*.jar")}
    for name, (classname, extends) in OPENSEARCH_MODULES.items():
        module = home / "modules" / name
        _link_jars(JARS / f"opensearch-{name}", module, skip=in_lib)
        descriptor = {
            "description": name,
            "version": OPENSEARCH_VERSION,
            "name": name,
            "classname": classname,
            "java.version": "11",
            "opensearch.version": OPENSEARCH_VERSION,
            "extended.plugins": extends,
            "has.native.controller": "false",
        }
        lines = "".join(f"{key}={value}\n" for key, value in descriptor.items())
        (module / "plugin-descriptor.properties").write_text(lines)
        if (policy := config / f"{name}.policy").exists():
            shutil.copy(policy, module / "plugin-security.policy")
    for empty in ("plugins", "bin"):  # bin/ must exist (it holds no scripts here)
        (home / empty).mkdir(exist_ok=True)


def opensearch(ports: Ports) -> Service:
    folder = RUN_DIR / "opensearch"
    home, conf = folder / "home", folder / "config"
    writable = [conf, folder / "data", folder / "logs", folder / "tmp"]

    def prepare() -> None:
        _opensearch_home(home)
        for path in writable:
            path.mkdir(parents=True, exist_ok=True)
        template = (REPO / "tools" / "opensearch" / "opensearch.yml").read_text()
        (conf / "opensearch.yml").write_text(
            string.Template(template).substitute(
                DATA=folder / "data",
                LOGS=folder / "logs",
                HTTP_PORT=ports.opensearch,
                TRANSPORT_PORT=ports.opensearch_transport,
            )
        )
        shutil.copy(REPO / "tools" / "opensearch" / "log4j2.properties", conf)
        if os.geteuid() == 0:
            for path in writable:
                for inner in [path, *path.rglob("*")]:
                    os.chown(inner, UNPRIVILEGED, UNPRIVILEGED)

    as_nobody = (
        ["setpriv", f"--reuid={UNPRIVILEGED}", f"--regid={UNPRIVILEGED}", "--clear-groups"]
        if os.geteuid() == 0
        else []
    )
    java = [
        "java",
        f"-Xms{HEAP}",
        f"-Xmx{HEAP}",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",  # C1 only: less start-up CPU on a small machine
        "-Xss1m",
        f"-Djava.io.tmpdir={folder / 'tmp'}",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Djna.nosys=true",
        "-XX:-OmitStackTraceInFastThrow",
        "-Dio.netty.noUnsafe=true",
        "-Dio.netty.noKeySetOptimization=true",
        "-Dio.netty.recycler.maxCapacityPerThread=0",
        "-Dio.netty.allocator.numDirectArenas=0",
        "-Dlog4j.shutdownHookEnabled=false",
        "-Dlog4j2.disable.jmx=true",
        "-Djava.locale.providers=SPI,COMPAT",
        f"-Dopensearch.path.home={home}",
        f"-Dopensearch.path.conf={conf}",
        "-Dopensearch.distribution.type=tar",
        "-Dopensearch.bundled_jdk=false",
        "-cp",
        f"{home / 'lib'}/*",
        "org.opensearch.bootstrap.OpenSearch",
    ]
    return Service(
        name="opensearch",
        command=[*as_nobody, *java],
        ready=_http_ok(
            f"{opensearch_url(ports)}/_cluster/health",
            lambda body: body.get("status") in ("green", "yellow"),
        ),
        env={"OPENSEARCH_PATH_CONF": str(conf)},
        prepare=prepare,
    )


def services(ports: Ports) -> list[Service]:
    return [solr(ports), opensearch(ports)]
