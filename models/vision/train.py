"""Vision training entry point for the SageMaker PyTorch training container (script mode).

SageMaker runs ``train.py --backbone resnet50 --epochs 10 ...`` (hyperparameters as arguments) with channels under
``SM_CHANNEL_<NAME>`` and writes ``SM_MODEL_DIR`` to ``model.tar.gz``; the ``torch_distributed`` launcher (torchrun)
starts one process per GPU with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` set.
On this machine the same script runs as one CPU process. The contract is in README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torchvision

import vision_data as data
import vision_model as vm
from vision_init import Champion, build_model, load_champion
from vision_job import (Channels, Distributed, TrainingError, log, pick_device, resolve_model_version, seed_everything,
                        training_job_name, use_amp)
from vision_loop import fit, make_loaders

PRETRAINED_MODES = ("none", "torchvision", "channel")
AMP_MODES = ("auto", "true", "false")
HERE = os.path.dirname(os.path.abspath(__file__))
SERVING_FILES = ("inference.py", "vision_model.py")


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
    p.add_argument("--model_version", default="",
                   help="the model's version; empty = the training job's name (TRAINING_JOB_NAME)")
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


def train_model(args: argparse.Namespace, channels: Channels, dist_ctx: Distributed,
                env: Mapping[str, str]) -> Optional[Dict[str, Any]]:
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
        vm.MODEL_VERSION_KEY: resolve_model_version(args.model_version, env),
        "training_job_name": training_job_name(env),
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
    log(dist_ctx, f"model_version={config[vm.MODEL_VERSION_KEY]}")
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
        return train_model(args, channels, dist_ctx, env)
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
