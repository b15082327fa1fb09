"""The training loop: data loaders, one epoch, batch-norm recalibration, evaluation, early stopping.

Single process or DistributedDataParallel; mixed precision on CUDA through ``torch.autocast`` and a gradient scaler.
"""
from __future__ import annotations

import argparse
import copy
import os
import time
from typing import Dict, List, Tuple

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset

import vision_data as data
import vision_model as vm
from vision_job import Channels, Distributed, TrainingError, autocast, grad_scaler, log


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
    persist = n_workers > 0  # no worker start-up per epoch (FastFile reads make that start-up slow)
    generator = torch.Generator().manual_seed(args.seed)
    sampler = DistributedSampler(train_set, dist_ctx.world_size, dist_ctx.rank, shuffle=True, seed=args.seed,
                                 drop_last=True) if dist_ctx.world_size > 1 else None
    # A last batch of one image breaks batch norm: drop it whenever there is at least one full batch.
    drop_last = len(train_set) // dist_ctx.world_size >= args.batch_size
    train_loader = DataLoader(train_set, args.batch_size, shuffle=sampler is None, sampler=sampler,
                              num_workers=n_workers, pin_memory=pin, drop_last=drop_last, generator=generator,
                              persistent_workers=persist)
    val_loader = DataLoader(val_shard, args.batch_size, shuffle=False, num_workers=n_workers, pin_memory=pin,
                            persistent_workers=persist)
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
    if best_state is None:
        raise TrainingError(f"validation loss was not finite in any of {len(history)} epochs (training diverged); "
                            f"lower lr (received {args.lr}) or turn amp off")
    net.load_state_dict(best_state)
    return history, best_epoch
