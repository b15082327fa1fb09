"""The local stand-in for a SageMaker framework container (script mode), driven by the TypeScript local world.

Subcommands:
  train      run an entry point under the training contract of sagemaker-containers/sagemaker-training
             (hyperparameters as ``--key value``, ``SM_*`` variables), then tar the model dir like SageMaker
  transform  batch transform: load ``code/<program>`` once, run every record of every input file through it
  serve      ``GET /ping`` and ``POST /invocations`` on 127.0.0.1 with the model loaded once
  pack       tar.gz a folder with its files at the archive root (model.tar.gz)
  extract    extract a model.tar.gz safely

Facts this follows are listed in src/local-world/sagemaker/README.md. Standard library only.
"""

from __future__ import annotations

import argparse
import http.server
import importlib
import inspect
import json
import os
import subprocess
import sys
import tarfile
import threading
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

READY_MARKER = "__local_sagemaker_ready__"
DEFAULT_ACCEPT = "application/json"
# sagemaker-containers decodes these request bodies to str before input_fn; others arrive as bytes.
UTF8_TYPES = ("application/json", "text/csv")
# Hyperparameters the toolkit itself reads (sagemaker-containers _params.SAGEMAKER_HYPERPARAMETERS); these and
# every other ``sagemaker_`` key stay out of the script's arguments; the others become SM_FRAMEWORK_PARAMS.
SAGEMAKER_PREFIX = "sagemaker_"
SAGEMAKER_HPS = (
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "default_user_module_name",
    "_tuning_objective_metric",
    "sagemaker_s3_output",
)


class ContainerError(Exception):
    """A failure of the local container itself (bad archive, missing handler)."""


# ---------------------------------------------------------------------------------------------------- archives


def pack(directory: Path, archive: Path) -> None:
    """gzip tar of ``directory``'s content, paths relative to it (``xgboost-model``, ``code/inference.py``)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(directory.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(directory)))
            info.mtime = int(info.mtime)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if path.is_file():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            elif path.is_dir():
                tar.addfile(info)


def extract(archive: Path, directory: Path) -> None:
    """Extract regular files and folders only, refusing absolute paths and '..' (no tar ``filter`` before 3.11.4)."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            name = Path(member.name)
            if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
                raise ContainerError(f"{archive}: refusing archive member {member.name!r}")
        tar.extractall(directory, members=members)


def has_files(directory: Path) -> bool:
    return directory.is_dir() and any(p.is_file() for p in directory.rglob("*"))


# ---------------------------------------------------------------------------------------------------- training


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def decode_hyperparameters(raw: Dict[str, str]) -> Dict[str, Any]:
    """Each value through json.loads when it parses, as sagemaker-containers' read_hyperparameters does."""
    decoded = {}
    for key, value in raw.items():
        try:
            decoded[key] = json.loads(value)
        except (ValueError, TypeError):
            decoded[key] = value
    return decoded


def to_text(value: Any) -> str:
    """sagemaker-containers' _mapping._decode: str() of the decoded value (so "true" becomes "True")."""
    return "" if value is None else str(value)


def to_cmd_args(hyperparameters: Dict[str, Any]) -> List[str]:
    """``--key value`` pairs in sorted key order; one-letter keys get a single dash."""
    args = []
    for key in sorted(hyperparameters):
        args.append(f"--{key}" if len(key) > 1 else f"-{key}")
        value = hyperparameters[key]
        if isinstance(value, dict):
            args.append(",".join(f"{k}={v}" for k, v in sorted(value.items())))
        else:
            args.append(to_text(value))
    return args


def env_value(value: Any) -> str:
    """sagemaker-containers' _mapping.to_env_vars: strings as is, everything else compact sorted JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def training_environment(opt_ml: Path, program: str, module_dir: str) -> Tuple[Dict[str, str], List[str]]:
    """The SM_* variables and arguments sagemaker-containers' TrainingEnv gives the user script."""
    config = opt_ml / "input" / "config"
    resource = read_json(config / "resourceconfig.json")
    data_config = read_json(config / "inputdataconfig.json")
    all_hps = decode_hyperparameters(read_json(config / "hyperparameters.json"))
    hps = {k: v for k, v in all_hps.items() if not (k.startswith(SAGEMAKER_PREFIX) or k in SAGEMAKER_HPS)}
    framework_params = {k: v for k, v in all_hps.items() if k.startswith(SAGEMAKER_PREFIX) and k not in SAGEMAKER_HPS}
    channels = {name: str(opt_ml / "input" / "data" / name) for name in data_config}
    module_name = program[:-3] if program.endswith(".py") else program
    args = to_cmd_args(hps)
    values: Dict[str, Any] = {
        "hosts": resource["hosts"],
        "network_interface_name": resource.get("network_interface_name", "eth0"),
        "hps": hps,
        "user_entry_point": program,
        "framework_params": framework_params,
        "resource_config": resource,
        "input_data_config": data_config,
        "output_data_dir": str(opt_ml / "output" / "data"),
        "channels": sorted(channels),
        "current_host": resource["current_host"],
        "module_name": module_name,
        "log_level": 20,
        "framework_module": None,
        "input_dir": str(opt_ml / "input"),
        "input_config_dir": str(config),
        "output_dir": str(opt_ml / "output"),
        "num_cpus": os.cpu_count() or 1,
        "num_gpus": 0,
        "model_dir": str(opt_ml / "model"),
        "module_dir": module_dir,
        "user_args": args,
        "output_intermediate_dir": str(opt_ml / "output" / "intermediate"),
    }
    values["training_env"] = {**values, "channel_input_dirs": channels, "hyperparameters": hps}
    values.update({f"channel_{name}": path for name, path in channels.items()})
    values.update({f"hp_{key}": value for key, value in hps.items()})
    return {f"SM_{key.upper()}": env_value(value) for key, value in values.items()}, args


def train(opt_ml: Path) -> int:
    raw = read_json(opt_ml / "input" / "config" / "hyperparameters.json")
    program = raw.get("sagemaker_program")
    if not program:
        raise ContainerError("hyperparameters.json has no sagemaker_program (the entry point, e.g. train.py)")
    code_dir = opt_ml / "code"
    sm_env, args = training_environment(opt_ml, program, str(code_dir))
    for folder in ("model", "output/data", "output/intermediate"):
        (opt_ml / folder).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **sm_env, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_dir), os.environ.get("PYTHONPATH")]))
    command = [sys.executable, "-m", sm_env["SM_MODULE_NAME"], *args]
    print(f"Invoking script with the following command:\n{' '.join(command)}", flush=True)
    code = subprocess.call(command, cwd=code_dir, env=env)
    if code != 0:
        failure = f"ExecuteUserScriptError: Command {' '.join(command)!r} exited with code {code}"
        (opt_ml / "output" / "failure").write_text(failure + "\n")
        return code
    pack(opt_ml / "model", opt_ml / "output" / "model.tar.gz")
    if has_files(opt_ml / "output" / "data"):
        pack(opt_ml / "output" / "data", opt_ml / "output" / "output.tar.gz")
    (opt_ml / "output" / "success").write_text("")
    return 0


# ---------------------------------------------------------------------------------------------------- serving


class HandlerReply:
    """What one invocation answers: HTTP status, content type and body bytes."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.status, self.content_type, self.body = status, content_type, body


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Call a handler with or without the trailing ``context`` argument sagemaker-inference allows."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        count = len(args)
    return function(*args, None) if count == len(args) + 1 else function(*args)


def _as_bytes(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (list, tuple)) and all(isinstance(b, (bytes, str)) for b in body):
        return b"".join(_as_bytes(b) for b in body)
    raise ContainerError(f"the handler returned a {type(body).__name__}; expected str, bytes or (body, content_type)")


class Handlers:
    """The user module's model_fn/input_fn/predict_fn/output_fn (or transform_fn), model loaded once."""

    def __init__(self, model_dir: Path, program: str, default_accept: str) -> None:
        code_dir = model_dir / "code"
        if not (code_dir / program).is_file():
            raise ContainerError(f"the model archive has no code/{program} (the inference handler)")
        sys.path.insert(0, str(code_dir))
        module = importlib.import_module(program[:-3] if program.endswith(".py") else program)
        self.default_accept = default_accept
        self.model_fn = getattr(module, "model_fn", None)
        self.transform_fn = getattr(module, "transform_fn", None)
        names = ("input_fn", "predict_fn", "output_fn")
        self.fns = {name: getattr(module, name, None) for name in names}
        if self.model_fn is None:
            raise ContainerError(f"code/{program} has no model_fn(model_dir)")
        if self.transform_fn is not None and any(self.fns.values()):
            raise ContainerError("cannot use transform_fn together with input_fn, predict_fn or output_fn")
        missing = [name for name, fn in self.fns.items() if fn is None]
        if self.transform_fn is None and missing:
            raise ContainerError(f"code/{program} has no {', '.join(missing)} (the local container has no defaults)")
        self.model = _call(self.model_fn, str(model_dir))

    def accept_for(self, accept: Optional[str]) -> str:
        return self.default_accept if not accept or accept == "*/*" else accept

    def invoke(self, body: bytes, content_type: Optional[str], accept: Optional[str]) -> HandlerReply:
        """The default transform flow; a raised error with an int ``status_code`` answers that status."""
        content_type = content_type or DEFAULT_ACCEPT
        accept = self.accept_for(accept)
        data: Any = body.decode("utf-8", "replace") if content_type in UTF8_TYPES else body
        try:
            if self.transform_fn is not None:
                result = _call(self.transform_fn, self.model, data, content_type, accept)
            else:
                decoded = _call(self.fns["input_fn"], data, content_type)
                prediction = _call(self.fns["predict_fn"], decoded, self.model)
                result = _call(self.fns["output_fn"], prediction, accept)
            return self._reply(result, accept)
        except Exception as error:  # noqa: BLE001 - every handler failure becomes a response, as in the containers
            status = getattr(error, "status_code", None)
            message = str(getattr(error, "message", None) or error) or type(error).__name__
            if not isinstance(status, int):
                status = 500
                print(traceback.format_exc(), file=sys.stderr, flush=True)
            return HandlerReply(status, "text/plain", message.encode("utf-8"))

    @staticmethod
    def _reply(result: Any, accept: str) -> HandlerReply:
        if isinstance(result, tuple) and len(result) == 2:
            return HandlerReply(200, str(result[1]), _as_bytes(result[0]))
        status = getattr(result, "status_code", None)
        if isinstance(status, int) and hasattr(result, "get_data"):  # a Flask/Werkzeug response
            content_type = getattr(result, "mimetype", None) or accept
            return HandlerReply(status, content_type, result.get_data())
        return HandlerReply(200, accept, _as_bytes(result))


def serve(handlers: Handlers, port: int) -> None:
    """One thread per connection (keep-alive clients), one invocation at a time (handlers need not be thread-safe)."""
    lock = threading.Lock()

    class Endpoint(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *_: Any) -> None:  # requests are logged by the TypeScript side
            pass

        def _send(self, reply: HandlerReply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/ping":
                self._send(HandlerReply(200, "text/plain", b""))
            else:
                self._send(HandlerReply(404, "text/plain", b"not found"))

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/invocations":
                self._send(HandlerReply(404, "text/plain", b"not found"))
                return
            content_type = self.headers.get("ContentType") or self.headers.get("Content-Type")
            with lock:
                reply = handlers.invoke(body, content_type, self.headers.get("Accept"))
            self._send(reply)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Endpoint)
    print(f"{READY_MARKER} {json.dumps({'port': server.server_address[1]})}", flush=True)
    server.serve_forever()


def exit_when_parent_goes() -> None:
    """The TypeScript side holds our stdin open; when it closes (stop() or the parent died), exit."""

    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


# ---------------------------------------------------------------------------------------------------- transform


def records(text: bytes, split_type: str, strategy: str, max_payload: int) -> List[Tuple[int, bytes]]:
    """(first line number, payload) per request; ``Line`` skips empty lines, ``MultiRecord`` fills payloads."""
    if split_type == "None":
        return [(1, text)]
    lines = [(n, line) for n, line in enumerate(text.split(b"\n"), start=1) if line.strip()]
    if strategy == "SingleRecord":
        return [(n, line) for n, line in lines]
    batches: List[Tuple[int, bytes]] = []
    for number, line in lines:
        if batches and len(batches[-1][1]) + 1 + len(line) <= max_payload:
            batches[-1] = (batches[-1][0], batches[-1][1] + b"\n" + line)
        else:
            batches.append((number, line))
    return batches


def transform(job: Dict[str, Any]) -> Dict[str, Any]:
    """Run every record of every input through the handlers; stop at the first record the handler refuses."""
    accept = job.get("accept")
    handlers = Handlers(Path(job["modelDir"]), job["program"], accept or DEFAULT_ACCEPT)
    outputs, count = [], 0
    for item in job["inputs"]:
        target = Path(job["outputDir"]) / f"{item['name']}.out"
        target.parent.mkdir(parents=True, exist_ok=True)
        payloads = records(Path(item["path"]).read_bytes(), job["splitType"], job["batchStrategy"], job["maxPayload"])
        chunks = []
        for line, payload in payloads:
            reply = handlers.invoke(payload, job["contentType"], accept)
            count += 1
            if reply.status != 200:
                message = reply.body.decode("utf-8", "replace")
                return {"ok": False, "file": item["name"], "line": line, "status": reply.status, "message": message}
            if job["assembleWith"] == "Line" and not reply.body.endswith(b"\n"):
                reply.body += b"\n"
            chunks.append(reply.body)
        target.write_bytes(b"".join(chunks))
        outputs.append(str(target))
    return {"ok": True, "outputs": outputs, "records": count}


# ---------------------------------------------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="container.py")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("train").add_argument("--opt-ml", required=True)
    command = commands.add_parser("serve")
    command.add_argument("--model-dir", required=True)
    command.add_argument("--program", default="inference.py")
    command.add_argument("--port", type=int, default=0)
    command = commands.add_parser("transform")
    command.add_argument("--job", required=True, help="JSON file: the transform job (see transform.ts)")
    command.add_argument("--result", required=True)
    for name in ("pack", "extract"):
        command = commands.add_parser(name)
        command.add_argument("--dir", required=True)
        command.add_argument("--archive", required=True)
    return root


def main(argv: Optional[List[str]] = None) -> int:
    options = parser().parse_args(argv)
    try:
        if options.command == "train":
            return train(Path(options.opt_ml))
        if options.command == "pack":
            pack(Path(options.dir), Path(options.archive))
        elif options.command == "extract":
            extract(Path(options.archive), Path(options.dir))
        elif options.command == "transform":
            result = transform(read_json(Path(options.job)))
            Path(options.result).write_text(json.dumps(result))
        elif options.command == "serve":
            exit_when_parent_goes()
            default_accept = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", DEFAULT_ACCEPT)
            serve(Handlers(Path(options.model_dir), options.program, default_accept), options.port)
        return 0
    except ContainerError as error:
        print(f"container.py: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
