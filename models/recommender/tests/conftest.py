"""Fixtures of the recommender model tests: the model modules, the synthetic channels and one trained model."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Dict, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ranking_fixtures import HYPERPARAMETERS, load_module, make_groups, sm_env, write_csv  # noqa: E402


@pytest.fixture(scope="session")
def train_module() -> ModuleType:
    return load_module("train.py")


@pytest.fixture(scope="session")
def inference_module() -> ModuleType:
    return load_module("inference.py")


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """Train (two shards) and validation channel folders of the synthetic task."""
    root = tmp_path_factory.mktemp("channels")
    train = make_groups(seed=1, groups=240, first_group_id=0)
    write_csv(root / "train" / "part-00000.csv", train[: 120 * 12])
    write_csv(root / "train" / "part-00001.csv", train[120 * 12 :])
    write_csv(root / "validation" / "part-00000.csv", make_groups(seed=2, groups=80, first_group_id=100_000))
    return {"train": root / "train", "validation": root / "validation"}


@pytest.fixture(scope="session")
def trained(
    train_module: ModuleType, dataset: Dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Tuple[Path, dict]:
    """One model trained on the synthetic task: its model dir and the metadata main() returned."""
    model_dir = tmp_path_factory.mktemp("job") / "model"
    metadata = train_module.main(HYPERPARAMETERS, sm_env(model_dir, dataset, TRAINING_JOB_NAME="job-1"))
    return model_dir, metadata

