"""Vision training entry point for the SageMaker PyTorch training container (script mode).

SageMaker runs ``train.py --backbone resnet50 --epochs 10 ...`` (hyperparameters as arguments) with channels under
``SM_CHANNEL_<NAME>`` and writes ``SM_MODEL_DIR`` to ``model.tar.gz``; the ``torch_distributed`` launcher (torchrun)
starts one process per GPU with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set.
On this machine the same script runs as one CPU process. The contract is in README.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torchvision
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset

import vision_data as data
import vision_model as vm

PRETRAINED_MODES = ("none", "torchvision", "channel")
AMP_MODES = ("auto", "true", "false")
HERE = os.path.dirname(os.path.abspath(__file__))
SERVING_FILES = ("inference.py", "vision_model.py")


class TrainingError(ValueError):
    """A bad hyperparameter, channel or model file; the message is one line."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit; the caller decides
        raise TrainingError(f"bad hyperparameter: {message}")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Hyperparameters as SageMaker passes them (``--name value``; booleans and numbers arrive as text)."""
    p = _ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backbone", default="resnet50", choices=vm.BACKBONES)
    p.add_argument("--image_size", type=int, default=224)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch_size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--weight_decay", type=float, default=1e-4)
    p.add_argument("--patience", type=int, default=3, help="epochs without a better validation loss; 0 = off")
    p.add_argument("--embedding_dim", type=int, default=0, help="0 = penultimate features, else a fixed projection")
    p.add_argument("--num_workers", type=int, default=-1, help="-1 = min(8, CPUs per process)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--amp", type=str.lower, default="auto", choices=AMP_MODES)
    p.add_argument("--pretrained", type=str.lower, default="none", choices=PRETRAINED_MODES)
    p.add_argument("--min_crop_scale", type=float, default=0.35)
    p.add_argument("--color_jitter", type=float, default=0.2)
    p.add_argument("--top_k", type=int, default=5)
    p.add_argument("--bn_recalibration_batches", type=int, default=20,
                   help="training batches over which batch-norm statistics are recomputed before validation; 0 = off")
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, help="ignored: LOCAL_RANK is read")
    args = p.parse_args(list(argv))
    check_ranges(args)
    return args


RANGES: Dict[str, Tuple[float, float, str]] = {
    "image_size": (32, 1024, "an integer from 32 to 1024"),
    "epochs": (1, 1000, "an integer from 1 to 1000"),
    "batch_size": (2, 4096, "an integer from 2 to 4096 (batch norm needs two images per batch)"),
    "lr": (1e-8, 1.0, "a number in (0, 1]"),
    "weight_decay": (0.0, 1.0, "a number in [0, 1]"),
    "patience": (0, 1000, "an integer from 0 (off) to 1000"),
    "embedding_dim": (0, 4096, "0 (penultimate features) or an integer up to 4096"),
    "num_workers": (-1, 64, "-1 (auto) or an integer from 0 to 64"),
    "min_crop_scale": (0.05, 1.0, "a number in [0.05, 1]"),
    "color_jitter": (0.0, 1.0, "a number in [0, 1]"),
    "top_k": (1, 1000, "an integer from 1 to 1000"),
    "bn_recalibration_batches": (0, 100000, "an integer from 0 (off) to 100000"),
}


def check_ranges(args: argparse.Namespace) -> None:
    for name, (low, high, allowed) in RANGES.items():
        value = getattr(args, name)
        if not low <= value <= high:
            raise TrainingError(f"bad hyperparameter: {name} must be {allowed}; received {value}")


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


# ----------------------------------------------------------------------------------------------- initial weights

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


# ----------------------------------------------------------------------------------------------------- training

def workers(requested: int, dist_ctx: Distributed) -> int:
    if requested >= 0:
        return requested
    return max(0, min(8, (os.cpu_count() or 1) // max(1, dist_ctx.local_world_size)))


def make_loaders(args: argparse.Namespace, channels: Channels, dist_ctx: Distributed, train: List[data.Example],
                 validation: List[data.Example], class_index: Dict[str, int]) -> Tuple[DataLoader, DataLoader]:
    mean, std = list(vm.IMAGENET_MEAN), list(vm.IMAGENET_STD)
    train_set = data.ManifestDataset(channels.images, train, class_index, data.train_transform(
        args.image_size, mean, std, args.min_crop_scale, args.color_jitter))
    val_set = data.ManifestDataset(channels.images, validation, class_index,
                                   vm.eval_transform(args.image_size, mean, std))
    # Validation is sharded without padding so the summed metrics count every image exactly once.
    val_shard = Subset(val_set, list(range(dist_ctx.rank, len(val_set), dist_ctx.world_size)))
    n_workers = workers(args.num_workers, dist_ctx)
    pin = torch.cuda.is_available()
    generator = torch.Generator().manual_seed(args.seed)
    sampler = DistributedSampler(train_set, dist_ctx.world_size, dist_ctx.rank, shuffle=True, seed=args.seed,
                                 drop_last=True) if dist_ctx.world_size > 1 else None
    # A last batch of one image breaks batch norm: drop it whenever there is at least one full batch.
    drop_last = len(train_set) // dist_ctx.world_size >= args.batch_size
    train_loader = DataLoader(train_set, args.batch_size, shuffle=sampler is None, sampler=sampler,
                              num_workers=n_workers, pin_memory=pin, drop_last=drop_last, generator=generator)
    val_loader = DataLoader(val_shard, args.batch_size, shuffle=False, num_workers=n_workers, pin_memory=pin)
    return train_loader, val_loader


def all_sum(values: List[float], device: torch.device, dist_ctx: Distributed) -> List[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    if dist_ctx.world_size > 1:
        dist.all_reduce(tensor)
    return tensor.tolist()


def train_epoch(net: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, scaler, device: torch.device,
                amp: bool, dist_ctx: Distributed) -> Tuple[float, float]:
    net.train()
    loss_sum, correct, count = 0.0, 0.0, 0.0
    for images, targets in loader:
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with autocast(device, amp):
            logits, _ = net(images)
            loss = nn.functional.cross_entropy(logits, targets)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.item() * len(targets)
        correct += (logits.argmax(1) == targets).sum().item()
        count += len(targets)
    loss_sum, correct, count = all_sum([loss_sum, correct, count], device, dist_ctx)
    return loss_sum / max(count, 1), correct / max(count, 1)


def recalibrate_bn(net: nn.Module, loader: DataLoader, batches: int, device: torch.device, amp: bool,
                   dist_ctx: Distributed) -> None:
    """Recomputes batch-norm running statistics as a plain average over a few training batches.

    Running statistics are an exponential average (MobileNetV3's momentum is 0.01), so after a few hundred steps
    they still mostly hold their initial values and evaluation-mode outputs collapse; a short training run (a
    sandbox, the local simulation, a test) would then validate and serve a constant. Rank 0's result is broadcast
    so every process validates the same network.
    """
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or batches == 0:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    net.train()
    with torch.no_grad():
        for i, (images, _) in enumerate(loader):
            if i >= batches:
                break
            with autocast(device, amp):
                net(images.to(device, non_blocking=True))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    if dist_ctx.world_size > 1:
        for buffer in net.buffers():
            dist.broadcast(buffer, 0)


def evaluate(net: nn.Module, loader: DataLoader, device: torch.device, amp: bool,
             dist_ctx: Distributed) -> Tuple[float, float]:
    net.eval()
    loss_sum, correct, count = 0.0, 0.0, 0.0
    with torch.no_grad():
        for images, targets in loader:
            images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
            with autocast(device, amp):
                logits, _ = net(images)
            loss_sum += nn.functional.cross_entropy(logits.float(), targets, reduction="sum").item()
            correct += (logits.argmax(1) == targets).sum().item()
            count += len(targets)
    loss_sum, correct, count = all_sum([loss_sum, correct, count], device, dist_ctx)
    return loss_sum / max(count, 1), correct / max(count, 1)


def fit(args: argparse.Namespace, net: vm.VisionNet, loaders: Tuple[DataLoader, DataLoader], device: torch.device,
        amp: bool, dist_ctx: Distributed) -> Tuple[List[Dict[str, float]], int]:
    """Trains with early stopping on validation loss; leaves the best epoch's weights in ``net``."""
    model: nn.Module = net
    if dist_ctx.world_size > 1:
        model = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    scaler = grad_scaler(amp)
    history: List[Dict[str, float]] = []
    best_loss, best_epoch, best_state = float("inf"), 0, None
    for epoch in range(1, args.epochs + 1):
        started = time.time()
        sampler = loaders[0].sampler
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        train_loss, train_acc = train_epoch(model, loaders[0], optimizer, scaler, device, amp, dist_ctx)
        recalibrate_bn(net, loaders[0], args.bn_recalibration_batches, device, amp, dist_ctx)
        # The unwrapped net: ranks may hold different numbers of validation batches, and DDP's forward would sync.
        val_loss, val_acc = evaluate(net, loaders[1], device, amp, dist_ctx)
        schedule.step()
        row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc, "val_loss": val_loss,
               "val_accuracy": val_acc, "seconds": round(time.time() - started, 3)}
        history.append(row)
        log(dist_ctx, " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if val_loss < best_loss:
            best_loss, best_epoch = val_loss, epoch
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in net.state_dict().items()})
        elif args.patience and epoch - best_epoch >= args.patience:
            log(dist_ctx, f"early stop: validation loss has not improved for {args.patience} epochs")
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    return history, best_epoch


# ------------------------------------------------------------------------------------------------------ outputs

def model_config(args: argparse.Namespace, net: vm.VisionNet, classes: List[str], projection: Optional[Dict[str, Any]],
                 extra: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "format_version": vm.FORMAT_VERSION,
        "backbone": args.backbone,
        "image_size": args.image_size,
        "resize_size": round(args.image_size / vm.CENTER_CROP_FRACTION),
        "normalization": {"mean": list(vm.IMAGENET_MEAN), "std": list(vm.IMAGENET_STD)},
        "feature_dim": net.feature_dim,
        "embedding_dim": args.embedding_dim or net.feature_dim,
        "projection": projection,
        "num_classes": len(classes),
        "top_k": min(args.top_k, len(classes)),
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "hyperparameters": {k: v for k, v in vars(args).items() if k != "local_rank"},
        **extra,
    }


def write_model_dir(model_dir: str, net: vm.VisionNet, classes: List[str], config: Dict[str, Any]) -> None:
    """``model.pth``, ``classes.json``, ``model_config.json`` and ``code/`` (inference.py + vision_model.py)."""
    os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    torch.save(state, os.path.join(model_dir, vm.MODEL_FILE))
    for name, value in ((vm.CLASSES_FILE, classes), (vm.CONFIG_FILE, config)):
        with open(os.path.join(model_dir, name), "w", encoding="utf-8") as f:
            json.dump(value, f, indent=2)
            f.write("\n")
    for name in SERVING_FILES:
        shutil.copyfile(os.path.join(HERE, name), os.path.join(model_dir, "code", name))


# --------------------------------------------------------------------------------------------------------- main

@dataclass
class TrainingData:
    train: List[data.Example]
    validation: List[data.Example]
    classes: List[str]
    new_classes: List[str]


def load_dataset(channels: Channels, champion: Optional[Champion], dist_ctx: Distributed) -> TrainingData:
    train = data.read_manifest(channels.manifests, data.TRAIN_MANIFEST)
    validation = data.read_manifest(channels.manifests, data.VALIDATION_MANIFEST)
    manifest_classes = data.read_class_list(os.path.join(channels.manifests, data.CLASSES_FILE),
                                            "classes.json in the manifests channel")
    data.check_disjoint(train, validation)
    champion_classes = champion.classes if champion else None
    classes = data.resolve_classes(manifest_classes, champion_classes, train, validation)
    # Each process stats its share of the keys, so a cluster makes one metadata call per image.
    for name, examples in ((data.TRAIN_MANIFEST, train), (data.VALIDATION_MANIFEST, validation)):
        data.check_images_exist(channels.images, examples[dist_ctx.rank::dist_ctx.world_size], name)
    if len(train) < 2 * dist_ctx.world_size:
        raise data.DataError(f"{data.TRAIN_MANIFEST} has {len(train)} image(s); training needs at least two per "
                             f"process ({2 * dist_ctx.world_size} for {dist_ctx.world_size} processes)")
    carried = manifest_classes if manifest_classes is not None else (champion_classes or [])
    return TrainingData(train, validation, classes, classes[len(carried):])


def label_counts(examples: Sequence[data.Example], field: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for e in examples:
        key = getattr(e, field) or "unknown"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def train_model(args: argparse.Namespace, channels: Channels, dist_ctx: Distributed) -> Optional[Dict[str, Any]]:
    seed_everything(args.seed)
    device = pick_device(dist_ctx)
    amp = use_amp(args.amp, device)
    champion = load_champion(channels.champion, args.backbone) if channels.champion else None
    dataset = load_dataset(channels, champion, dist_ctx)
    net, projection, origin = build_model(args, channels, champion, len(dataset.classes), dist_ctx)
    net.to(device)
    log(dist_ctx, f"classes={len(dataset.classes)} new={dataset.new_classes} train={len(dataset.train)} "
                  f"validation={len(dataset.validation)} init={origin} device={device} amp={amp} "
                  f"world_size={dist_ctx.world_size}")
    class_index = {c: i for i, c in enumerate(dataset.classes)}
    loaders = make_loaders(args, channels, dist_ctx, dataset.train, dataset.validation, class_index)
    started = time.time()
    history, best_epoch = fit(args, net, loaders, device, amp, dist_ctx)
    if not dist_ctx.is_main:
        return None
    best = history[best_epoch - 1]
    config = model_config(args, net.cpu(), dataset.classes, projection, {
        "initialized_from": origin,
        "champion_classes": len(champion.classes) if champion else 0,
        "new_classes": dataset.new_classes,
        "data": {"train_images": len(dataset.train), "validation_images": len(dataset.validation),
                 "train_per_class": label_counts(dataset.train, "label"),
                 "train_per_source": label_counts(dataset.train, "source")},
        "training": {"device": str(device), "amp": amp, "world_size": dist_ctx.world_size,
                     "seconds": round(time.time() - started, 3)},
        "metrics": {"epochs": history, "best_epoch": best_epoch, "best_val_loss": best["val_loss"],
                    "best_val_accuracy": best["val_accuracy"]},
    })
    write_model_dir(channels.model_dir, net, dataset.classes, config)
    log(dist_ctx, f"best_epoch={best_epoch} val_loss={best['val_loss']:.4f} val_accuracy={best['val_accuracy']:.4f}")
    return config


def main(argv: Sequence[str], env: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    """Trains and writes the model directory; returns its model_config (None on ranks other than 0).

    Raises TrainingError / DataError with a one-line message on bad input.
    """
    args = parse_args(argv)
    channels = Channels.from_env(env)
    dist_ctx = Distributed.from_env(env)
    if dist_ctx.world_size > 1:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, init_method=dist_ctx.master, rank=dist_ctx.rank,
                                world_size=dist_ctx.world_size)
    try:
        return train_model(args, channels, dist_ctx)
    finally:
        if dist_ctx.world_size > 1:
            dist.destroy_process_group()


def one_line(error: BaseException) -> str:
    """The error's own message; a DataLoader worker's re-raised error keeps it on its traceback's last line."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and "Original Traceback" in str(error):
        return lines[-1].split(": ", 1)[-1]
    return lines[0] if lines else type(error).__name__


if __name__ == "__main__":
    try:
        main(sys.argv[1:], os.environ)
    except (TrainingError, data.DataError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        sys.exit(2)
