"""Tiny synthetic image sets with learnable class structure (colour of a shape on a noisy background)."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

COLOURS: Dict[str, Tuple[int, int, int]] = {
    "red": (220, 40, 40), "green": (40, 200, 60), "blue": (40, 60, 220), "yellow": (230, 220, 40),
}


def draw(colour: Tuple[int, int, int], size: int, rng: np.random.Generator) -> Image.Image:
    """A filled square of ``colour`` at a random place and size on grey noise."""
    pixels = rng.integers(60, 160, size=(size, size, 3)).astype(np.uint8)
    side = int(rng.integers(size // 2, size - 2))
    x, y = (int(v) for v in rng.integers(0, size - side + 1, size=2))
    jitter = rng.integers(-20, 21, size=3)
    pixels[y:y + side, x:x + side] = np.clip(np.array(colour) + jitter, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def make_images(images_dir: str, labels: Sequence[str], per_class: int, seed: int, size: int = 40,
                prefix: str = "") -> List[Dict[str, str]]:
    """Writes ``per_class`` images per label (PNG and JPEG alternately); returns manifest records."""
    rng = np.random.default_rng(seed)
    records = []
    for label in labels:
        for i in range(per_class):
            ext = "png" if i % 2 == 0 else "jpg"
            key = f"{prefix}{label}/{seed}-{i}.{ext}"
            path = os.path.join(images_dir, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            draw(COLOURS[label], size, rng).save(path, "PNG" if ext == "png" else "JPEG", quality=95)
            records.append({"image": key, "label": label, "source": "synthetic"})
    return records


def write_jsonl(path: str, records: Sequence[Dict[str, str]]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def make_channels(root: str, labels: Sequence[str], train_per_class: int, val_per_class: int, seed: int,
                  size: int = 40, classes: Sequence[str] = ()) -> Dict[str, str]:
    """An images channel and a manifests channel under ``root``; returns the SM_* environment for them."""
    images, manifests = os.path.join(root, "images"), os.path.join(root, "manifests")
    write_jsonl(os.path.join(manifests, "train.jsonl"), make_images(images, labels, train_per_class, seed, size))
    write_jsonl(os.path.join(manifests, "validation.jsonl"),
                make_images(images, labels, val_per_class, seed + 1000, size))
    if classes:
        with open(os.path.join(manifests, "classes.json"), "w", encoding="utf-8") as f:
            json.dump(list(classes), f)
    return {"SM_CHANNEL_IMAGES": images, "SM_CHANNEL_MANIFESTS": manifests,
            "SM_MODEL_DIR": os.path.join(root, "model")}
