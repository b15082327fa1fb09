"""train.py: a real model from the synthetic task, the model directory it leaves, and its one-line errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from types import ModuleType
from typing import Dict, List

import numpy as np
import pytest
import xgboost as xgb

from ranking_fixtures import (
    HYPERPARAMETERS,
    MODEL_CODE,
    NUM_FEATURES,
    make_groups,
    ndcg_at_k,
    sm_env,
    write_csv,
)


def test_the_trained_ranker_beats_a_random_ranker_on_validation(trained: tuple, dataset: Dict[str, Path]) -> None:
    model_dir, metadata = trained
    table = np.loadtxt(dataset["validation"] / "part-00000.csv", delimiter=",")
    labels, features = table[:, 0], table[:, 2:]
    sizes = [12] * (len(table) // 12)
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    model_ndcg = ndcg_at_k(labels, booster.inplace_predict(features.astype(np.float32)), sizes)
    rng = np.random.default_rng(0)
    random_ndcg = np.mean([ndcg_at_k(labels, rng.random(len(labels)), sizes) for _ in range(20)])
    assert model_ndcg > random_ndcg + 0.2, (model_ndcg, random_ndcg)
    # XGBoost's own validation nDCG@10 at the best iteration is the one recorded.
    assert metadata["best_validation"]["ndcg@10"] == pytest.approx(model_ndcg, abs=0.02)


def test_the_model_dir_holds_the_booster_metadata_and_serving_code(trained: tuple) -> None:
    model_dir, metadata = trained
    files = sorted(str(p.relative_to(model_dir)) for p in model_dir.rglob("*") if p.is_file())
    assert files == ["code/inference.py", "code/ranking_contract.py", "metadata.json", "xgboost-model"]
    on_disk = json.loads((model_dir / "metadata.json").read_text())
    assert on_disk == json.loads(json.dumps(metadata))
    assert on_disk["num_features"] == NUM_FEATURES
    assert on_disk["feature_version"] == "test-v1"
    assert on_disk["model_version"] == "job-1"
    assert on_disk["objective"] == "rank:ndcg"
    assert on_disk["tree_method"] == "hist"
    assert on_disk["xgboost_version"] == xgb.__version__
    assert on_disk["channels"]["train"] == {
        "rows": 240 * 12,
        "groups": 240,
        "files": 2,
        "groups_without_positive": 0,
        "label_counts": on_disk["channels"]["train"]["label_counts"],
    }
    assert on_disk["channels"]["validation"]["groups"] == 80
    assert on_disk["hyperparameters"]["negative_sampling_rate"] == 1.0
    assert 0 <= on_disk["best_iteration"] < on_disk["rounds_trained"] <= 60


def test_the_saved_model_is_cut_at_the_best_iteration(trained: tuple) -> None:
    model_dir, metadata = trained
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model"))
    assert booster.num_boosted_rounds() == metadata["best_iteration"] + 1


def test_training_history_goes_to_the_output_data_dir(trained: tuple) -> None:
    model_dir, metadata = trained
    history = json.loads((model_dir.parent / "output" / "data" / "evaluation.json").read_text())
    assert len(history["validation"]["ndcg@10"]) == metadata["rounds_trained"]


def test_gzip_shards_are_read(train_module: ModuleType, tmp_path: Path) -> None:
    rows = make_groups(seed=3, groups=30, first_group_id=0)
    text = write_csv(tmp_path / "plain.csv", rows).read_text()
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "part-0.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "train" / "part-0.gz.metadata").write_text("not data")
    write_csv(tmp_path / "validation" / "v.csv", make_groups(seed=4, groups=10, first_group_id=500))
    channels = {"train": tmp_path / "train", "validation": tmp_path / "validation"}
    metadata = train_module.main(HYPERPARAMETERS, sm_env(tmp_path / "model", channels))
    assert metadata["channels"]["train"]["rows"] == 30 * 12
    assert metadata["channels"]["train"]["files"] == 1


def test_tree_method_follows_the_gpus_unless_set(train_module: ModuleType) -> None:
    assert train_module.resolve_tree_method("auto", 0) == "hist"
    assert train_module.resolve_tree_method("auto", 1) == "gpu_hist"
    assert train_module.resolve_tree_method("approx", 4) == "approx"


def _channels(tmp_path: Path, train_files: Dict[str, str]) -> Dict[str, Path]:
    for name, text in train_files.items():
        (tmp_path / "train" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "train" / name).write_text(text)
    write_csv(tmp_path / "validation" / "v.csv", make_groups(seed=5, groups=5, first_group_id=900))
    return {"train": tmp_path / "train", "validation": tmp_path / "validation"}


def _row(label: int, group: int, features: List[str]) -> str:
    return ",".join([str(label), str(group)] + features)


GOOD = ["0.1"] * NUM_FEATURES


def _error(train_module: ModuleType, tmp_path: Path, files: Dict[str, str], argv: List[str] = HYPERPARAMETERS) -> str:
    channels = _channels(tmp_path, files)
    with pytest.raises(train_module.TrainingError) as caught:
        train_module.main(argv, sm_env(tmp_path / "model", channels))
    message = str(caught.value)
    assert "\n" not in message
    assert not (tmp_path / "model" / "xgboost-model").exists()
    return message


def test_an_empty_channel_is_named(train_module: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    message = _error(train_module, tmp_path, {})
    assert "channel 'train' has no data files" in message


def test_a_wrong_column_count_names_file_line_expected_and_received(train_module: ModuleType, tmp_path: Path) -> None:
    text = _row(1, 1, GOOD) + "\n" + _row(0, 1, GOOD[:-1]) + "\n"
    message = _error(train_module, tmp_path, {"part-0.csv": text})
    assert message == (
        "train/part-0.csv line 2 has 7 columns; expected 8 (label, group_id and num_features=6 features)"
    )


def test_a_file_of_the_wrong_width_throughout_is_reported(train_module: ModuleType, tmp_path: Path) -> None:
    text = _row(1, 1, GOOD + ["0.2"]) + "\n"
    message = _error(train_module, tmp_path, {"part-0.csv": text})
    assert message.startswith("train/part-0.csv line 1 has 9 columns; expected 8")


def test_a_non_numeric_value_names_line_and_column(train_module: ModuleType, tmp_path: Path) -> None:
    text = _row(1, 1, GOOD) + "\n" + _row(0, 1, ["0.1", "abc"] + GOOD[2:]) + "\n"
    message = _error(train_module, tmp_path, {"part-0.csv": text})
    assert message.startswith("train/part-0.csv line 2 column 4: 'abc' is not a finite number")


def test_a_header_row_is_refused(train_module: ModuleType, tmp_path: Path) -> None:
    header = ",".join(["label", "group_id"] + [f"f_{i}" for i in range(1, NUM_FEATURES + 1)])
    message = _error(train_module, tmp_path, {"part-0.csv": header + "\n" + _row(1, 1, GOOD) + "\n"})
    assert message.startswith("train/part-0.csv line 1 column 1: 'label' is not a finite number")


def test_a_label_outside_the_grades_is_refused(train_module: ModuleType, tmp_path: Path) -> None:
    message = _error(train_module, tmp_path, {"part-0.csv": _row(1, 1, GOOD) + "\n" + _row(5, 1, GOOD) + "\n"})
    assert message.startswith("train/part-0.csv line 2: label 5 is not allowed; labels are integers 0..3")


def test_a_group_cut_within_a_file_or_across_files_is_gathered(train_module: ModuleType, tmp_path: Path) -> None:
    # Athena's UNLOAD writes a channel as several files in no guaranteed order and may cut a request between them.
    files = {
        "part-b.csv": "\n".join([_row(0, 7, GOOD), _row(1, 3, GOOD), _row(0, 1, GOOD)]) + "\n",
        "part-a.csv": "\n".join([_row(1, 1, GOOD), _row(0, 3, GOOD), _row(1, 7, GOOD)]) + "\n",
    }
    for file, text in files.items():
        (tmp_path / "train").mkdir(exist_ok=True)
        (tmp_path / "train" / file).write_text(text)
    channel = train_module.read_channel("train", tmp_path / "train", NUM_FEATURES)
    assert channel.group_ids.tolist() == [1, 3, 7]
    assert channel.group_sizes.tolist() == [2, 2, 2]
    # A group keeps its rows in the order they were read (files by name, then line order).
    assert channel.labels.tolist() == [1, 0, 0, 1, 1, 0]
    assert channel.group_locations[7] == "train/part-a.csv line 3"
    assert channel.groups_without_positive() == 0


def test_a_request_in_both_channels_is_refused(train_module: ModuleType, tmp_path: Path) -> None:
    message = _error(train_module, tmp_path, {"part-0.csv": _row(1, 900, GOOD) + "\n"})
    assert message.startswith("group 900 is in both channels: train/part-0.csv line 1 and validation/v.csv line 1")


def test_hyperparameters_are_validated(train_module: ModuleType, tmp_path: Path) -> None:
    files = {"part-0.csv": _row(1, 1, GOOD) + "\n"}
    assert "--num_features" in _error(train_module, tmp_path, files, ["--feature_version", "v1"])
    message = _error(train_module, tmp_path, files, HYPERPARAMETERS + ["--objective", "binary:logistic"])
    assert "invalid choice: 'binary:logistic'" in message
    message = _error(train_module, tmp_path, files, HYPERPARAMETERS + ["--negative_sampling_rate", "1.5"])
    assert "must be in (0, 1]; received 1.5" in message
    message = _error(train_module, tmp_path, files, HYPERPARAMETERS + ["--colour", "blue"])
    assert "unrecognized arguments: --colour blue" in message


def test_a_missing_validation_channel_is_named(train_module: ModuleType, tmp_path: Path) -> None:
    env = sm_env(tmp_path / "model", {"train": tmp_path, "validation": tmp_path})
    del env["SM_CHANNEL_VALIDATION"]
    with pytest.raises(train_module.TrainingError, match="SM_CHANNEL_VALIDATION is not set"):
        train_module.main(HYPERPARAMETERS, env)


def test_several_hosts_outside_the_container_fail_clearly(train_module: ModuleType, tmp_path: Path) -> None:
    channels = _channels(tmp_path, {"part-0.csv": _row(1, 1, GOOD) + "\n"})
    env = sm_env(tmp_path / "model", channels, SM_HOSTS='["algo-1","algo-2"]')
    with pytest.raises(train_module.TrainingError, match="multi-host training runs only in the SageMaker XGBoost"):
        train_module.main(HYPERPARAMETERS, env)


def test_the_script_exits_1_with_one_line_on_stderr(tmp_path: Path) -> None:
    channels = _channels(tmp_path, {"part-0.csv": _row(1, 1, GOOD[:2]) + "\n"})
    env = {**os.environ, **sm_env(tmp_path / "model", channels), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "train", *HYPERPARAMETERS],
        cwd=MODEL_CODE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "train.py: error: train/part-0.csv line 1 has 4 columns; expected 8 (label, group_id and num_features=6 "
        "features)"
    )


class FakeDistributed:
    """Stands in for sagemaker_xgboost_container.distributed (not installable here): records how train.py calls it
    and runs exec_fun as rabit_run does for the given rank (ec28c4b distributed.py)."""

    def __init__(self, is_master: bool) -> None:
        self.is_master = is_master
        self.calls: List[dict] = []

    def wait_hostname_resolution(self, hosts: List[str]) -> None:
        self.calls.append({"wait": hosts})

    def rabit_run(self, exec_fun, args, include_in_training, hosts, current_host, update_rabit_args):  # noqa: ANN001
        self.calls.append({"include_in_training": include_in_training, "hosts": hosts, "current_host": current_host})
        if include_in_training:
            exec_fun(**args, is_master=self.is_master)


def _with_fake_distributed(monkeypatch: pytest.MonkeyPatch, fake: FakeDistributed) -> None:
    package = types.ModuleType("sagemaker_xgboost_container")
    package.distributed = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sagemaker_xgboost_container", package)
    monkeypatch.setitem(sys.modules, "sagemaker_xgboost_container.distributed", fake)


def test_on_several_hosts_only_the_master_writes_the_model(
    train_module: ModuleType, dataset: Dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = '["algo-1","algo-2"]'
    for is_master, host in ((False, "algo-2"), (True, "algo-1")):
        fake = FakeDistributed(is_master)
        _with_fake_distributed(monkeypatch, fake)
        model_dir = tmp_path / host / "model"
        train_module.main(HYPERPARAMETERS, sm_env(model_dir, dataset, SM_HOSTS=hosts, SM_CURRENT_HOST=host))
        assert fake.calls[0] == {"wait": ["algo-1", "algo-2"]}
        assert fake.calls[1] == {"include_in_training": True, "hosts": ["algo-1", "algo-2"], "current_host": host}
        assert (model_dir / "xgboost-model").exists() == is_master


def test_a_host_without_shards_takes_no_part(
    train_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDistributed(is_master=False)
    _with_fake_distributed(monkeypatch, fake)
    for channel in ("train", "validation"):
        (tmp_path / channel).mkdir()
    channels = {"train": tmp_path / "train", "validation": tmp_path / "validation"}
    env = sm_env(tmp_path / "model", channels, SM_HOSTS='["algo-1","algo-2"]', SM_CURRENT_HOST="algo-2")
    train_module.main(HYPERPARAMETERS, env)
    assert fake.calls[1]["include_in_training"] is False
    assert not (tmp_path / "model").exists()
