"""The training job's environment: channels, this process's place in a torchrun job, device and precision.

Read from the environment mapping given to ``train.main`` (``os.environ`` in a container), so tests can pass their own.
"""
from __future__ import annotations

import json
import os
import random
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Mapping, Optional

import torch


class TrainingError(ValueError):
    """A bad hyperparameter, channel or model file; the message is one line."""


@dataclass(frozen=True)
class Channels:
    """Where SageMaker put things (``SM_*``), with the container's paths as local defaults."""

    model_dir: str
    images: str
    manifests: str
    champion: Optional[str]
    pretrained: Optional[str]

    @staticmethod
    def from_env(env: Mapping[str, str]) -> "Channels":
        base = env.get("SM_INPUT_DIR", "/opt/ml/input") + "/data"

        def channel(name: str) -> str:
            return env.get(f"SM_CHANNEL_{name.upper()}", os.path.join(base, name))

        def optional(name: str) -> Optional[str]:
            path = channel(name)
            return path if os.path.isdir(path) else None

        return Channels(env.get("SM_MODEL_DIR", "/opt/ml/model"), channel("images"), channel("manifests"),
                        optional("champion"), optional("pretrained"))


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job; world_size 1 when run alone."""

    rank: int
    local_rank: int
    world_size: int
    local_world_size: int
    master: str

    @staticmethod
    def from_env(env: Mapping[str, str]) -> "Distributed":
        world = int(env.get("WORLD_SIZE", "1"))
        address = f"tcp://{env.get('MASTER_ADDR', '127.0.0.1')}:{env.get('MASTER_PORT', '29500')}"
        return Distributed(int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0")), world,
                           int(env.get("LOCAL_WORLD_SIZE", "1")), address)

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def training_job_name(env: Mapping[str, str]) -> Optional[str]:
    """The SageMaker training job's name: ``TRAINING_JOB_NAME``, else ``job_name`` of ``SM_TRAINING_ENV``; None
    when neither is set (a local run outside SageMaker)."""
    name = env.get("TRAINING_JOB_NAME", "").strip()
    if name:
        return name
    try:
        training_env = json.loads(env.get("SM_TRAINING_ENV", "") or "{}")
    except json.JSONDecodeError:
        return None
    job = training_env.get("job_name") if isinstance(training_env, dict) else None
    return (job.strip() or None) if isinstance(job, str) else None


def resolve_model_version(override: str, env: Mapping[str, str]) -> Optional[str]:
    """The model's version: the ``--model_version`` hyperparameter when given, else the training job's name (how the
    retraining loop names a model package's model), else None."""
    return override.strip() or training_job_name(env)


def log(dist_ctx: Distributed, message: str) -> None:
    if dist_ctx.is_main:
        print(message, flush=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def pick_device(dist_ctx: Distributed) -> torch.device:
    if torch.cuda.is_available():
        torch.cuda.set_device(dist_ctx.local_rank)
        return torch.device("cuda", dist_ctx.local_rank)
    return torch.device("cpu")


def use_amp(mode: str, device: torch.device) -> bool:
    if mode == "true" and device.type != "cuda":
        raise TrainingError("bad hyperparameter: amp=true needs a CUDA device; use auto or false on CPU")
    return mode == "true" or (mode == "auto" and device.type == "cuda")


def grad_scaler(enabled: bool):
    """``torch.amp.GradScaler('cuda')`` on 2.3+, ``torch.cuda.amp.GradScaler`` before (1.13 has only that)."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


def autocast(device: torch.device, enabled: bool):
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return nullcontext()
