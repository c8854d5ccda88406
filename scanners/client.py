"""``warden``: the CI client. Standard library only, so a CI image installs it light.

    warden upload REPORT --model M [--create-model] [--version V] [--target T]
                  [--artifact FILE | --sha256 H] [--wait] [--fail-on-gate]
    warden gate --model M [--version V]
    warden deploy --model M --version V --environment E [--endpoint S] [--fail-on-refused]
    warden events FILE [--deployment ID | --model M --environment E]
    warden scan PATH... --upload --model M [--version V]
    warden assess --data eval.csv --label y --prediction yhat [--sensitive sex] [--upload ...]

Configured by ``WARDEN_URL`` and ``WARDEN_TOKEN``. Exit 0 pass, 1 gate fail, 2 usage or
connection error (one line on stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

USER_AGENT = "warden-cli/1"

# CI systems' environment variables, so a pipeline step needs no extra flags.
_COMMIT_VARS = ("WARDEN_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILD_SOURCEVERSION")
_BRANCH_VARS = (
    "WARDEN_BRANCH",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BRANCH_NAME",
    "GIT_BRANCH",
)


class ClientError(Exception):
    """A problem the user must fix; printed as one line, exit 2."""


def _env_first(names: Sequence[str]) -> str:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return ""


def _pipeline_url() -> str:
    if os.environ.get("WARDEN_PIPELINE_URL"):
        return os.environ["WARDEN_PIPELINE_URL"]
    if os.environ.get("GITHUB_RUN_ID") and os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        return (
            f"{server}/{os.environ['GITHUB_REPOSITORY']}/actions/runs/{os.environ['GITHUB_RUN_ID']}"
        )
    return os.environ.get("CI_PIPELINE_URL") or os.environ.get("BUILD_URL", "")


class Api:
    def __init__(self, url: str, token: str, timeout: float = 300.0) -> None:
        if not url:
            raise ClientError("WARDEN_URL is not set (e.g. https://warden.example.com)")
        if not token:
            raise ClientError("WARDEN_TOKEN is not set (create one: manage.py create_api_token)")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ClientError(f"WARDEN_URL={url!r} is not an http(s) URL")
        self.base = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def download(self, path: str) -> bytes:
        """The body of ``GET path`` as sent (a document to save, not to parse)."""
        req = urllib.request.Request(f"{self.base}{path}", method="GET")  # noqa: S310 - checked
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("User-Agent", USER_AGENT)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                body: bytes = resp.read()
                return body
        except urllib.error.HTTPError as exc:
            payload = _json(exc.read())
            message = payload.get("error") or payload.get("detail") or exc.reason
            raise ClientError(f"Warden answered {exc.code}: {message}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach Warden at {self.base}: {reason}") from None

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        url = path if path.startswith("http") else f"{self.base}{path}"
        req = urllib.request.Request(url, data=body, method=method)  # noqa: S310 - scheme checked
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", USER_AGENT)
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310
                return resp.status, _json(resp.read())
        except urllib.error.HTTPError as exc:
            payload = _json(exc.read())
            message = payload.get("error") or payload.get("detail") or exc.reason
            raise ClientError(f"Warden answered {exc.code}: {message}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ClientError(f"cannot reach Warden at {self.base}: {reason}") from None


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"results": value}


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = f"----warden{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        if value:
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            parts.append(f"{head}{value}\r\n".encode())
    safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe_name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ClientError(f"cannot read artifact {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _print_gate(gate: dict[str, Any] | None) -> None:
    if not gate:
        return
    print(f"gate: {gate['verdict'].upper()}")
    for reason in gate.get("reasons", []):
        fix = f" - {reason['fix']}" if reason.get("fix") else ""
        print(f"  [{reason['verdict']}] {reason['rule']}: {reason['message']}{fix}")


def upload_report(
    api: Api, *, content: bytes, filename: str, args: argparse.Namespace
) -> dict[str, Any]:
    sha = args.sha256 or (_sha256_file(args.artifact) if args.artifact else "")
    fields = {
        "model": args.model,
        "version": args.version or "",
        "artifact_sha256": sha,
        "create_model": "true" if getattr(args, "create_model", False) else "",
        "target": getattr(args, "target", "") or "",
        "scan_type": getattr(args, "scan_type", "") or "",
        "commit": args.commit or _env_first(_COMMIT_VARS),
        "branch": args.branch or _env_first(_BRANCH_VARS),
        "pipeline_url": args.pipeline_url or _pipeline_url(),
        "environment": args.environment or "",
    }
    body, ctype = _multipart(fields, filename, content)
    query = "?async=1" if getattr(args, "run_async", False) else ""
    _, result = api.request("POST", f"/api/v1/scans/{query}", body, ctype)
    if args.wait:
        deadline = time.monotonic() + args.wait_timeout
        while result.get("status") in ("queued", "running"):
            if time.monotonic() > deadline:
                state, url = result["status"], result.get("url")
                raise ClientError(f"import still {state} after {args.wait_timeout}s: {url}")
            time.sleep(1.0)
            _, result = api.request("GET", result["url"])
    return result


def _report_result(result: dict[str, Any], fail_on_gate: bool) -> int:
    counts = result.get("counts", {})
    print(
        f"scan {result.get('id')} {result.get('status')}: "
        f"{result.get('tool') or result.get('scan_type')} "
        f"for {result.get('model')}{'@' + result['version'] if result.get('version') else ''} - "
        f"{counts.get('total', 0)} findings ({counts.get('new', 0)} new, "
        f"{counts.get('reopened', 0)} reopened, {counts.get('resolved', 0)} resolved)"
    )
    if result.get("status") == "failed":
        raise ClientError(f"import failed: {result.get('error')}")
    _print_gate(result.get("gate"))
    if fail_on_gate and (result.get("gate") or {}).get("verdict") == "fail":
        return 1
    return 0


def cmd_upload(api: Api, args: argparse.Namespace) -> int:
    try:
        content = Path(args.report).read_bytes()
    except OSError as exc:
        raise ClientError(f"cannot read {args.report}: {exc.strerror or exc}") from None
    result = upload_report(api, content=content, filename=Path(args.report).name, args=args)
    return _report_result(result, args.fail_on_gate)


def cmd_gate(api: Api, args: argparse.Namespace) -> int:
    query = f"?version={urllib.parse.quote(args.version)}" if args.version else ""
    _, result = api.request(
        "GET", f"/api/v1/models/{urllib.parse.quote(args.model, safe='')}/gate/{query}"
    )
    print(f"{result['model']}{'@' + args.version if args.version else ''}")
    _print_gate(result)
    return 1 if result.get("verdict") == "fail" else 0


def cmd_mlbom(api: Api, args: argparse.Namespace) -> int:
    """Save (or print) a model version's CycloneDX 1.6 ML-BOM with its findings as VEX."""
    model = urllib.parse.quote(args.model, safe="")
    version = urllib.parse.quote(args.version, safe="")
    body = api.download(f"/api/v1/models/{model}/mlbom/?version={version}")
    if not args.output or args.output == "-":
        sys.stdout.buffer.write(body + (b"" if body.endswith(b"\n") else b"\n"))
        return 0
    try:
        with open(args.output, "wb") as fh:
            fh.write(body)
    except OSError as exc:
        raise ClientError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    count = len(_json(body).get("vulnerabilities") or [])
    print(f"{args.model}@{args.version}: ML-BOM written to {args.output} ({count} VEX statements)")
    return 0


def cmd_scan(api: Api | None, args: argparse.Namespace) -> int:
    content, worst_hit = _scan_to_json(args.paths, args.fail_on)
    if not args.upload:
        sys.stdout.write(content.decode())
        return 1 if worst_hit else 0
    assert api is not None
    result = upload_report(api, content=content, filename="warden-modelscan.json", args=args)
    code = _report_result(result, args.fail_on_gate)
    return max(code, 1 if worst_hit and args.fail_on_findings else 0)


def _scan_to_json(paths: Sequence[str], fail_on: str) -> tuple[bytes, bool]:
    """Run Warden's model-file scanner (it never loads or executes a file) over ``paths``;
    returns its ``warden.modelscan/v1`` JSON and whether a finding reached ``fail_on``."""
    from scanners.modelfile import ScanResults, scan_path  # only `scan` needs the scanner
    from scanners.modelfile.report import to_json_doc
    from scanners.severity import SEVERITY_RANK

    results = ScanResults()
    for path in paths:
        try:
            results.add(scan_path(path))
        except FileNotFoundError:
            raise ClientError(f"no such file or directory: {path}") from None
        except OSError as exc:
            raise ClientError(f"cannot read {path}: {exc.strerror or exc}") from None
    bar = SEVERITY_RANK[fail_on]
    hit = any(SEVERITY_RANK[f.severity] >= bar for r in results for f in r.findings)
    return json.dumps(to_json_doc(results), indent=1).encode(), hit


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"warden: {message}\n")
        raise SystemExit(2)


def _upload_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="model name, as registered in Warden")
    p.add_argument(
        "--create-model",
        action="store_true",
        help="register the model if the team has none of that name (off: a typo is an error)",
    )
    p.add_argument("--version", default="", help="model version")
    p.add_argument(
        "--target",
        default="",
        help="what was scanned (lockfile, image, manifest path); default: what the report names",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--artifact", help="model artifact file: its sha256 is sent")
    g.add_argument("--sha256", help="the artifact's sha256")
    p.add_argument("--commit", default="")
    p.add_argument("--branch", default="")
    p.add_argument("--pipeline-url", default="")
    p.add_argument("--environment", default="")
    p.add_argument("--wait", action="store_true", help="wait for a queued import to finish")
    p.add_argument("--wait-timeout", type=int, default=900)
    p.add_argument("--async", dest="run_async", action="store_true", help="import in a worker")
    p.add_argument("--fail-on-gate", action="store_true", help="exit 1 when the gate fails")


def cmd_deploy(api: Api, args: argparse.Namespace) -> int:
    """Record a deployment; print where it runs and what admission says of its artifact."""
    sha = args.sha256 or (_sha256_file(args.artifact) if args.artifact else "")
    body = json.dumps(
        {
            "model": args.model,
            "version": args.version,
            "environment": args.environment,
            "endpoint": args.endpoint,
            "artifact_sha256": sha,
            "pipeline_url": args.pipeline_url or _pipeline_url(),
        }
    ).encode()
    _, result = api.request("POST", "/api/v1/deployments/", body, "application/json")
    where = result.get("environment", "") + (
        f"/{result['endpoint']}" if result.get("endpoint") else ""
    )
    print(
        f"deployment {result.get('id')}: {result.get('model')}@{result.get('version')} in {where}"
    )
    admission = result.get("admission")
    if admission is None:
        print("admission: unknown (no artifact digest for this version)")
        return 1 if args.fail_on_refused else 0
    print(f"admission: {'allowed' if admission.get('allowed') else 'REFUSED'}")
    for reason in admission.get("reasons", []):
        print(f"  [{reason.get('verdict')}] {reason.get('rule')}: {reason.get('message')}")
    return 1 if args.fail_on_refused and not admission.get("allowed") else 0


EVENTS_BATCH = 10_000


def cmd_events(api: Api, args: argparse.Namespace) -> int:
    """Send a file's runtime events to a deployment, in batches the API takes."""
    try:
        doc = json.loads(Path(args.file).read_bytes())
    except OSError as exc:
        raise ClientError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ClientError(f"{args.file} is not JSON: {exc}") from None
    events = doc.get("events") if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        raise ClientError(f"{args.file} has no list of events")
    if args.deployment:
        ref: Any = args.deployment
    else:
        model = args.model or (doc.get("model", "") if isinstance(doc, dict) else "")
        env = args.environment or (doc.get("deployment", "") if isinstance(doc, dict) else "")
        if not model or not env:
            raise ClientError("name the deployment: --deployment ID, or --model and --environment")
        ref = {"model": model, "environment": env, "endpoint": args.endpoint}
    accepted = 0
    for start in range(0, len(events), EVENTS_BATCH):
        body = json.dumps({"deployment": ref, "events": events[start : start + EVENTS_BATCH]})
        _, result = api.request("POST", "/api/v1/events/", body.encode(), "application/json")
        accepted += int(result.get("accepted", 0))
    print(f"{accepted} events accepted for deployment {result.get('deployment')}")
    return 0


def build_parser() -> _Parser:
    p = _Parser(prog="warden", description="Warden CI client (WARDEN_URL, WARDEN_TOKEN)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    up = sub.add_parser("upload", help="upload a scanner report")
    up.add_argument("report")
    up.add_argument("--scan-type", default="", help="report format (default: detected)")
    _upload_flags(up)
    gate = sub.add_parser("gate", help="read the gate verdict")
    gate.add_argument("--model", required=True)
    gate.add_argument("--version", default="")
    mlbom = sub.add_parser("mlbom", help="download a version's CycloneDX ML-BOM (findings as VEX)")
    mlbom.add_argument("--model", required=True, help="model name or id")
    mlbom.add_argument("--version", required=True)
    mlbom.add_argument("--output", "-o", default="", help="file to write (default: stdout)")
    events = sub.add_parser("events", help="send runtime events (warden.runtime/v1 JSON)")
    events.add_argument("file", help="a warden.runtime/v1 document, or a JSON list of events")
    events.add_argument("--deployment", default="", help="the deployment's id")
    events.add_argument("--model", default="", help="with --environment: its running deployment")
    events.add_argument("--environment", default="", help="default: the document's deployment")
    events.add_argument("--endpoint", default="")
    deploy = sub.add_parser("deploy", help="record that a version runs in an environment")
    deploy.add_argument("--model", required=True)
    deploy.add_argument("--version", required=True)
    deploy.add_argument("--environment", required=True, help="e.g. prod-eu")
    deploy.add_argument("--endpoint", default="", help="service or endpoint name")
    deploy.add_argument("--sha256", default="", help="the deployed artifact's sha256")
    deploy.add_argument("--artifact", help="the deployed artifact file: its sha256 is sent")
    deploy.add_argument("--pipeline-url", default="")
    deploy.add_argument(
        "--fail-on-refused",
        action="store_true",
        help="exit 1 when admission refuses the deployed artifact",
    )
    scan = sub.add_parser("scan", help="scan model files with Warden's scanner (never loads them)")
    scan.add_argument("paths", nargs="+")
    scan.add_argument("--upload", action="store_true", help="upload the result to Warden")
    scan.add_argument("--fail-on", choices=("critical", "high", "medium", "low"), default="high")
    scan.add_argument(
        "--fail-on-findings",
        action="store_true",
        help="with --upload: also exit 1 when findings reach --fail-on",
    )
    _upload_flags(scan)
    assess = sub.add_parser("assess", help="measure a model on your data (the assess extra)")
    from scanners.assess.cli import add_arguments  # argparse only: the libraries load later

    add_arguments(assess)
    _upload_flags(assess)
    for sub_parser in (scan, assess):
        sub_parser.set_defaults(model="")
        for action in sub_parser._actions:
            if action.dest == "model":
                action.required = False
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "scan" and not args.upload:
            return cmd_scan(None, args)
        if args.command in ("scan", "assess") and args.upload and not args.model:
            raise ClientError("--model is required with --upload")
        if args.command == "assess" and not args.upload:
            from scanners.assess.cli import run

            return run(args, None)
        api = Api(os.environ.get("WARDEN_URL", ""), os.environ.get("WARDEN_TOKEN", ""))
        if args.command == "assess":
            from scanners.assess.cli import run

            return run(args, api)
        if args.command == "upload":
            return cmd_upload(api, args)
        if args.command == "gate":
            return cmd_gate(api, args)
        if args.command == "deploy":
            return cmd_deploy(api, args)
        if args.command == "mlbom":
            return cmd_mlbom(api, args)
        if args.command == "events":
            return cmd_events(api, args)
        return cmd_scan(api, args)
    except ClientError as exc:
        sys.stderr.write(f"warden: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
