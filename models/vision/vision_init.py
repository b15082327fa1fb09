"""Initial weights: random, torchvision's download, a pretrained channel, or the champion (with its head grown).

A champion's head rows are copied for the classes it knew; appended classes' rows keep their fresh initialisation.
"""
from __future__ import annotations

import argparse
import os
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

import torch
import torch.distributed as dist
import torchvision
from torch import nn

import vision_data as data
import vision_model as vm
from vision_job import Channels, Distributed, TrainingError


@contextmanager
def champion_files(champion_dir: str) -> Iterator[str]:
    """The champion's model directory: the channel itself, or its ``model.tar.gz`` unpacked to a temporary folder."""
    if os.path.isfile(os.path.join(champion_dir, vm.MODEL_FILE)):
        yield champion_dir
        return
    archive = os.path.join(champion_dir, "model.tar.gz")
    if not os.path.isfile(archive):
        raise TrainingError(f"champion channel {champion_dir} has neither {vm.MODEL_FILE} nor model.tar.gz")
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(archive) as tar:
        for member in tar.getmembers():
            target = os.path.realpath(os.path.join(tmp, member.name))
            if not target.startswith(os.path.realpath(tmp) + os.sep) or not (member.isfile() or member.isdir()):
                raise TrainingError(f"champion model.tar.gz has an unsafe member {member.name!r}")
        tar.extractall(tmp)
        yield tmp


@dataclass
class Champion:
    classes: List[str]
    config: Dict[str, Any]
    state: Dict[str, torch.Tensor]


def load_champion(champion_dir: str, backbone: str) -> Champion:
    with champion_files(champion_dir) as folder:
        for name in (vm.MODEL_FILE, vm.CLASSES_FILE, vm.CONFIG_FILE):
            if not os.path.isfile(os.path.join(folder, name)):
                raise TrainingError(f"champion channel has no {name}; it must hold the champion's model files")
        config = vm.read_json(os.path.join(folder, vm.CONFIG_FILE))
        classes = data.read_class_list(os.path.join(folder, vm.CLASSES_FILE), "the champion's classes.json")
        state = vm.load_state_dict(os.path.join(folder, vm.MODEL_FILE), torch.device("cpu"))
    if config.get("backbone") != backbone:
        raise TrainingError(f"the champion's backbone is {config.get('backbone')}, not {backbone}: set backbone="
                            f"{config.get('backbone')} or leave out the champion channel to train from scratch")
    return Champion(classes or [], config, state)


def pretrained_file(folder: Optional[str]) -> str:
    """The one ``.pth``/``.pt`` state_dict file of the pretrained channel (a tiny folder, so listing it is fine)."""
    if folder is None:
        raise TrainingError("pretrained=channel needs a pretrained channel holding a torchvision state_dict (.pth)")
    files = sorted(f for f in os.listdir(folder) if f.endswith((".pth", ".pt")))
    if len(files) != 1:
        raise TrainingError(f"the pretrained channel must hold exactly one .pth or .pt file; found {files or 'none'}")
    return os.path.join(folder, files[0])


def torchvision_download(backbone: str, dist_ctx: Distributed) -> Tuple[nn.Module, int]:
    """torchvision's DEFAULT weights: per host, local rank 0 downloads them to the cache; the others then read it."""
    waits = dist_ctx.world_size > 1 and dist_ctx.local_rank != 0
    if waits:
        dist.barrier()
    try:
        loaded = vm.torchvision_backbone(backbone, weights="DEFAULT")
    except OSError as e:  # URLError is an OSError
        raise TrainingError(f"pretrained=torchvision could not download the {backbone} weights ({e}); under network "
                            "isolation use pretrained=channel with a pretrained channel") from None
    if dist_ctx.world_size > 1 and not waits:
        dist.barrier()
    return loaded


def initial_backbone(args: argparse.Namespace, channels: Channels,
                     dist_ctx: Distributed) -> Tuple[nn.Module, int, str]:
    """The backbone before training and where its weights came from (the champion's are loaded later)."""
    if channels.champion is not None or args.pretrained == "none":
        backbone, width = vm.torchvision_backbone(args.backbone)
        return backbone, width, "random"
    if args.pretrained == "torchvision":
        backbone, width = torchvision_download(args.backbone, dist_ctx)
        return backbone, width, "torchvision DEFAULT weights"
    path = pretrained_file(channels.pretrained)
    model = getattr(torchvision.models, args.backbone)(weights=None)
    try:
        model.load_state_dict(vm.load_state_dict(path, torch.device("cpu")))
    except (RuntimeError, KeyError) as e:
        raise TrainingError(f"{os.path.basename(path)} is not a {args.backbone} state_dict "
                            f"({str(e).splitlines()[0][:160]})") from None
    backbone, width = vm.strip_classifier(model)
    return backbone, width, f"pretrained channel {os.path.basename(path)}"


def grow_head(head: nn.Linear, weight: torch.Tensor, bias: torch.Tensor) -> None:
    """Copies a champion's head rows into the first rows of a (possibly larger) head; new rows keep their init."""
    if weight.shape[1] != head.in_features or weight.shape[0] > head.out_features:
        raise TrainingError(f"the champion's head is {tuple(weight.shape)}; cannot fit it into "
                            f"{head.out_features} classes x {head.in_features} features")
    with torch.no_grad():
        head.weight[: weight.shape[0]].copy_(weight)
        head.bias[: bias.shape[0]].copy_(bias)


def build_model(args: argparse.Namespace, channels: Channels, champion: Optional[Champion], num_classes: int,
                dist_ctx: Distributed) -> Tuple[vm.VisionNet, Dict[str, Any], str]:
    """The network to train, its projection record (or None) and a note on where its weights came from."""
    backbone, width, origin = initial_backbone(args, channels, dist_ctx)
    if args.embedding_dim > width:
        raise TrainingError(f"bad hyperparameter: embedding_dim must be 0 or at most {width} "
                            f"(the {args.backbone} feature width); received {args.embedding_dim}")
    projection = None
    if args.embedding_dim:
        projection = {"type": "gaussian_random", "seed": args.seed, "input_dim": width,
                      "output_dim": args.embedding_dim, "stored_as": "buffer 'projection' in model.pth"}
    matrix = vm.random_projection(width, args.embedding_dim, args.seed) if projection else None
    net = vm.VisionNet(backbone, width, num_classes, matrix)
    if champion is not None:
        load_champion_weights(net, champion)
        origin = f"champion ({len(champion.classes)} classes)"
    return net, projection, origin


def load_champion_weights(net: vm.VisionNet, champion: Champion) -> None:
    """Backbone weights as they are; head rows for the champion's classes; its projection when the size matches."""
    state = champion.state
    backbone = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    net.backbone.load_state_dict(backbone)
    grow_head(net.head, state["head.weight"], state["head.bias"])
    if net.projection is not None and "projection" in state and state["projection"].shape == net.projection.shape:
        net.projection.copy_(state["projection"])
