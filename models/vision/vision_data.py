"""Training data: the manifests channel, the class map that never moves, and a lazily-read image dataset.

The images channel is read by key only (never listed): in production it is an S3 prefix mounted with FastFile input
mode, where a directory listing of millions of objects is slow but opening a known key streams it on demand.
"""
from __future__ import annotations

import json
import os
import posixpath
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset
from torchvision import transforms

TRAIN_MANIFEST = "train.jsonl"
VALIDATION_MANIFEST = "validation.jsonl"
CLASSES_FILE = "classes.json"
LINE_SHAPE = '{"image": "<key>", "label": "<class>"}'


class DataError(ValueError):
    """Bad training data; the message is one line naming what was wrong and what is allowed."""


@dataclass(frozen=True)
class Example:
    """One manifest line: an image key relative to the images channel, its label and optional label source."""

    image: str
    label: str
    source: Optional[str] = None


def check_key(key: object, where: str) -> str:
    """An image key must be a relative path inside the images channel (no leading '/', no '..')."""
    if not isinstance(key, str) or not key.strip():
        raise DataError(f"{where}: \"image\" must be a non-empty string key relative to the images channel; "
                        f"received {key!r}")
    normalised = posixpath.normpath(key)
    if key.startswith("/") or normalised == ".." or normalised.startswith("../"):
        raise DataError(f"{where}: image key {key!r} must be relative to the images channel (no leading '/' or '..')")
    return key


def parse_line(line: str, where: str) -> Example:
    """One JSON object with "image" and "label" (non-empty strings); other fields are allowed and ignored."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise DataError(f"{where}: not valid JSON ({e.msg}); each line must be {LINE_SHAPE}") from None
    if not isinstance(record, dict):
        raise DataError(f"{where}: each line must be a JSON object {LINE_SHAPE}; received {line.strip()[:80]}")
    label = record.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DataError(f"{where}: \"label\" must be a non-empty class name; received {label!r}")
    source = record.get("source")
    return Example(check_key(record.get("image"), where), label, source if isinstance(source, str) else None)


def read_manifest(manifests_dir: str, name: str) -> List[Example]:
    """Reads ``<manifests>/<name>``; blank lines are skipped; a missing or empty manifest is an error."""
    path = os.path.join(manifests_dir, name)
    if not os.path.isfile(path):
        raise DataError(f"manifest {name} not found in the manifests channel ({manifests_dir}); "
                        f"expected {TRAIN_MANIFEST} and {VALIDATION_MANIFEST}")
    with open(path, encoding="utf-8") as f:
        examples = [parse_line(line, f"{name} line {n}") for n, line in enumerate(f, 1) if line.strip()]
    if not examples:
        raise DataError(f"manifest {name} has no examples; it needs at least one {{\"image\", \"label\"}} line")
    return examples


def read_class_list(path: str, what: str) -> Optional[List[str]]:
    """A JSON array of distinct non-empty class names, or None when the file is absent."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            classes = json.load(f)
    except json.JSONDecodeError as e:
        raise DataError(f"{what} is not valid JSON ({e.msg}); it must be an array of class names") from None
    if not isinstance(classes, list) or not all(isinstance(c, str) and c.strip() for c in classes):
        raise DataError(f"{what} must be a JSON array of non-empty class names; received {str(classes)[:80]}")
    if len(set(classes)) != len(classes):
        duplicates = sorted(c for c, n in Counter(classes).items() if n > 1)
        raise DataError(f"{what} lists classes more than once: {', '.join(duplicates)}")
    return classes


def merge_classes(carried: Sequence[str], labels: Sequence[str]) -> List[str]:
    """The carried-forward list unchanged, then labels it lacks in sorted order: a class's index never moves."""
    known = set(carried)
    return list(carried) + sorted({label for label in labels if label not in known})


def resolve_classes(manifest_classes: Optional[List[str]], champion_classes: Optional[List[str]],
                    train: Sequence[Example], validation: Sequence[Example]) -> List[str]:
    """The model's class list: the champion's, extended by the manifests' classes.json, then by new labels."""
    carried = manifest_classes if manifest_classes is not None else (champion_classes or [])
    if champion_classes is not None and carried[: len(champion_classes)] != champion_classes:
        raise DataError("classes.json in the manifests channel must start with the champion's classes in the same "
                        f"order ({', '.join(champion_classes[:5])}{', ...' if len(champion_classes) > 5 else ''})")
    classes = merge_classes(carried, [e.label for e in train] + [e.label for e in validation])
    counts = Counter(e.label for e in train)
    empty = [c for c in classes if counts[c] == 0]
    if empty:
        raise DataError(f"class {empty[0]!r} has no training images in {TRAIN_MANIFEST}"
                        f"{f' (and {len(empty) - 1} more)' if len(empty) > 1 else ''}; every class needs at least one")
    return classes


def check_disjoint(train: Sequence[Example], validation: Sequence[Example]) -> None:
    """An image in both manifests would make validation (and early stopping) measure memorisation."""
    shared = sorted({e.image for e in train} & {e.image for e in validation})
    if shared:
        raise DataError(f"image {shared[0]!r} is in both {TRAIN_MANIFEST} and {VALIDATION_MANIFEST}"
                        f"{f' (and {len(shared) - 1} more)' if len(shared) > 1 else ''}; the split must be disjoint")


def check_images_exist(images_dir: str, examples: Sequence[Example], manifest: str, threads: int = 16) -> None:
    """Stats every listed key (one metadata call each, no listing); names the first missing image."""
    paths = [os.path.join(images_dir, e.image) for e in examples]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        exists = list(pool.map(os.path.isfile, paths))
    for example, ok in zip(examples, exists):
        if not ok:
            raise DataError(f"image {example.image!r} listed in {manifest} is missing from the images channel "
                            f"({images_dir})")


class ImageReadError(DataError):
    """An image listed in a manifest cannot be decoded."""


def open_rgb(path: str, key: str) -> Image.Image:
    """Decodes an image file fully into RGB; an unreadable file raises ImageReadError naming the key."""
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        detail = str(e).splitlines()[0] if str(e) else "no detail"
        message = f"image {key!r} is unreadable ({type(e).__name__}: {detail}); images must be JPEG or PNG"
        raise ImageReadError(message) from None


class ManifestDataset(Dataset):
    """Images opened lazily by key from the images channel, with their class indices."""

    def __init__(self, images_dir: str, examples: Sequence[Example], class_index: Dict[str, int],
                 transform: Callable[[Image.Image], torch.Tensor]) -> None:
        self.images_dir = images_dir
        self.examples = list(examples)
        self.targets = [class_index[e.label] for e in self.examples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int):
        key = self.examples[i].image
        image = open_rgb(os.path.join(self.images_dir, key), key)
        return self.transform(image), self.targets[i]


def train_transform(image_size: int, mean: Sequence[float], std: Sequence[float], min_crop_scale: float,
                    color_jitter: float) -> transforms.Compose:
    """Augmentation for training only: random resized crop, horizontal flip, colour jitter."""
    steps = [transforms.RandomResizedCrop(image_size, scale=(min_crop_scale, 1.0)), transforms.RandomHorizontalFlip()]
    if color_jitter > 0:
        steps.append(transforms.ColorJitter(color_jitter, color_jitter, color_jitter, min(0.5, color_jitter / 10)))
    steps += [transforms.ToTensor(), transforms.Normalize(list(mean), list(std))]
    return transforms.Compose(steps)
