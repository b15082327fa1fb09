"""Helpers of the recommender model tests: the model code loaded under unique names and a seeded synthetic ranking
task with learnable structure. (A uniquely named module: models/vision has tests of its own.)"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Tuple

import numpy as np

MODEL_CODE = Path(__file__).resolve().parents[1]
NUM_FEATURES = 6

# train.py and inference.py import their helpers by top-level name, as they do inside the container.
if str(MODEL_CODE) not in sys.path:
    sys.path.insert(0, str(MODEL_CODE))


def load_module(file_name: str) -> ModuleType:
    """Load a model file under a name unique to this case study (models/vision has its own train.py)."""
    name = f"recommender_{Path(file_name).stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, MODEL_CODE / file_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def make_groups(seed: int, groups: int, first_group_id: int, slate: int = 12) -> np.ndarray:
    """Rows ``label,group_id,f_1..f_6`` of a ranking task a model can learn.

    f_1 is the user's affinity with the item's category and f_2 the item's quality, both observed with noise;
    f_3 is popularity (weakly useful), f_4..f_6 are noise. Relevance grows with affinity and quality; each request
    gets graded labels 0..3 from its candidates' latent utility, with at least one positive.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(groups):
        features = rng.normal(size=(slate, NUM_FEATURES))
        utility = 1.5 * features[:, 0] + 1.0 * features[:, 1] + 0.3 * features[:, 2] + rng.normal(0, 0.5, slate)
        order = np.argsort(-utility)
        labels = np.zeros(slate)
        labels[order[0]] = 3
        labels[order[1:3]] = 2
        labels[order[3:5]] = 1
        labels *= rng.random(slate) < 0.8  # some engagements never happen
        labels[order[0]] = max(labels[order[0]], 1)
        group = np.full((slate, 1), first_group_id + g)
        rows.append(np.hstack([labels[:, None], group, features]))
    return np.vstack(rows)


def write_csv(path: Path, table: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join([f"{int(r[0])}", f"{int(r[1])}"] + [f"{v:.6f}" for v in r[2:]]) for r in table]
    path.write_text("\n".join(lines) + "\n")
    return path


def ndcg_at_k(labels: np.ndarray, scores: np.ndarray, sizes: List[int], k: int = 10) -> float:
    """Mean nDCG@k over groups with gain 2^label - 1 (XGBoost's), groups without a positive skipped."""
    values, start = [], 0
    for size in sizes:
        rel, score = labels[start : start + size], scores[start : start + size]
        start += size
        ideal = np.sort(rel)[::-1][:k]
        discounts = 1 / np.log2(np.arange(2, 2 + len(ideal)))
        best = float(np.sum((2**ideal - 1) * discounts))
        if best == 0:
            continue
        ranked = rel[np.argsort(-score, kind="stable")][:k]
        values.append(float(np.sum((2**ranked - 1) * discounts[: len(ranked)])) / best)
    return float(np.mean(values))


def sm_env(model_dir: Path, channels: Dict[str, Path], **extra: str) -> Dict[str, str]:
    env = {
        "SM_MODEL_DIR": str(model_dir),
        "SM_CHANNEL_TRAIN": str(channels["train"]),
        "SM_CHANNEL_VALIDATION": str(channels["validation"]),
        "SM_OUTPUT_DATA_DIR": str(model_dir.parent / "output" / "data"),
        "SM_HOSTS": '["algo-1"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_NUM_GPUS": "0",
    }
    env.update(extra)
    return env


HYPERPARAMETERS = ["--num_features", str(NUM_FEATURES), "--feature_version", "test-v1", "--num_round", "60"]
HYPERPARAMETERS += ["--max_depth", "3", "--eta", "0.2", "--early_stopping_rounds", "10"]
