"""Training entry point of the recommender's ranker (SageMaker XGBoost 1.7-1 container, script mode).

The container runs ``python -m train --key value ...`` with the training job's hyperparameters as arguments and
the ``SM_*`` variables of README.md ("Script-mode contract"). ``main(argv, env)`` is what a test calls.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import xgboost as xgb

from ranking_contract import CODE_DIR, METADATA_FILE, MODEL_FILE
from ranking_data import ChannelData, DataError, EmptyChannel, check_disjoint, read_channel

LOG = logging.getLogger("recommender.train")

OBJECTIVES = ("rank:ndcg", "rank:pairwise")
TREE_METHODS = ("auto", "hist", "approx", "exact", "gpu_hist")
EVAL_METRIC = re.compile(r"^(ndcg|map)(@\d+)?-?$")
# Modules inference.py needs at serving time; copied into $SM_MODEL_DIR/code/.
SERVING_MODULES = ("inference.py", "ranking_contract.py")


class TrainingError(Exception):
    """A training job that cannot run; the message is one line naming what was wrong and what is allowed."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise TrainingError(f"hyperparameters: {message}")


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; received {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0; received {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1]; received {text}")
    return value


def _eval_metric(text: str) -> str:
    if not EVAL_METRIC.match(text):
        raise argparse.ArgumentTypeError(f"must be a ranking metric such as ndcg@10, ndcg, map@10; received {text}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The hyperparameters, as the container passes them: ``--name value`` (README.md lists their meaning)."""
    parser = _Parser(prog="train.py", allow_abbrev=False)
    add = parser.add_argument
    add("--num_features", type=_positive_int, required=True)
    add("--feature_version", default="")
    add("--model_version", default="")
    add("--objective", choices=OBJECTIVES, default="rank:ndcg")
    add("--eval_metric", type=_eval_metric, default="ndcg@10")
    add("--eta", type=_fraction, default=0.1)
    add("--max_depth", type=_positive_int, default=6)
    add("--num_round", type=_positive_int, default=300)
    add("--early_stopping_rounds", type=_positive_int, default=20)
    add("--subsample", type=_fraction, default=1.0)
    add("--colsample_bytree", type=_fraction, default=1.0)
    add("--min_child_weight", type=_non_negative_float, default=1.0)
    add("--reg_lambda", type=_non_negative_float, default=1.0)
    add("--tree_method", choices=TREE_METHODS, default="auto")
    add("--negative_sampling_rate", type=_fraction, default=1.0)
    add("--seed", type=int, default=0)
    return parser


@dataclass
class Environment:
    """The ``SM_*`` variables train.py reads, with the container's defaults for a single host."""

    model_dir: Path
    train_dir: Path
    validation_dir: Path
    output_data_dir: Optional[Path]
    hosts: List[str]
    current_host: str
    num_gpus: int
    job_name: str

    @staticmethod
    def read(env: Mapping[str, str]) -> "Environment":
        def required(name: str, why: str) -> Path:
            value = env.get(name)
            if not value:
                raise TrainingError(f"{name} is not set: {why}")
            return Path(value)

        try:
            hosts = json.loads(env.get("SM_HOSTS", '["algo-1"]'))
        except json.JSONDecodeError:
            raise TrainingError(f"SM_HOSTS must be a JSON list of host names; received {env['SM_HOSTS']!r}") from None
        return Environment(
            model_dir=required("SM_MODEL_DIR", "the folder the model is saved to (/opt/ml/model in SageMaker)"),
            train_dir=required("SM_CHANNEL_TRAIN", "the training job needs a 'train' channel"),
            validation_dir=required(
                "SM_CHANNEL_VALIDATION", "the training job needs a 'validation' channel (early stopping on it)"
            ),
            output_data_dir=Path(env["SM_OUTPUT_DATA_DIR"]) if env.get("SM_OUTPUT_DATA_DIR") else None,
            hosts=[str(h) for h in hosts],
            current_host=env.get("SM_CURRENT_HOST", str(hosts[0])),
            num_gpus=int(env.get("SM_NUM_GPUS", "0") or 0),
            job_name=env.get("TRAINING_JOB_NAME", ""),
        )


def resolve_tree_method(requested: str, num_gpus: int) -> str:
    """``auto``: gpu_hist on GPU instances (SM_NUM_GPUS > 0), hist elsewhere."""
    if requested != "auto":
        return requested
    return "gpu_hist" if num_gpus > 0 else "hist"


def booster_params(args: argparse.Namespace, tree_method: str) -> Dict[str, object]:
    return {
        "objective": args.objective,
        "eval_metric": args.eval_metric,
        "eta": args.eta,
        "max_depth": args.max_depth,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "min_child_weight": args.min_child_weight,
        "lambda": args.reg_lambda,
        "tree_method": tree_method,
        "seed": args.seed,
    }


def to_dmatrix(data: ChannelData) -> xgb.DMatrix:
    matrix = xgb.DMatrix(data.features, label=data.labels)
    matrix.set_group(data.group_sizes)
    return matrix


def copy_serving_code(model_dir: Path) -> List[str]:
    """Copy the inference handler and what it imports into model_dir/code, so model.tar.gz serves anywhere."""
    here = Path(__file__).resolve().parent
    target = model_dir / CODE_DIR
    target.mkdir(parents=True, exist_ok=True)
    for name in SERVING_MODULES:
        shutil.copyfile(here / name, target / name)
    return list(SERVING_MODULES)


@dataclass
class TrainResult:
    booster: xgb.Booster
    best_iteration: int
    history: Dict[str, Dict[str, List[float]]]


def train_booster(
    params: Dict[str, object], train: ChannelData, validation: ChannelData, args: argparse.Namespace
) -> TrainResult:
    """Boost with early stopping on the validation metric; return the model cut at its best iteration."""
    history: Dict[str, Dict[str, List[float]]] = {}
    train_matrix = to_dmatrix(train)
    booster = xgb.train(
        params,
        train_matrix,
        num_boost_round=args.num_round,
        evals=[(train_matrix, "train"), (to_dmatrix(validation), "validation")],
        early_stopping_rounds=args.early_stopping_rounds,
        evals_result=history,
        verbose_eval=True,
    )
    best = int(booster.best_iteration)
    return TrainResult(booster=booster[: best + 1], best_iteration=best, history=history)


def build_metadata(
    args: argparse.Namespace,
    env: Environment,
    tree_method: str,
    result: TrainResult,
    channels: Sequence[ChannelData],
) -> Dict[str, object]:
    metric = args.eval_metric
    best = result.best_iteration
    return {
        "model_file": MODEL_FILE,
        "model_version": args.model_version or env.job_name or None,
        "feature_version": args.feature_version or None,
        "num_features": args.num_features,
        "objective": args.objective,
        "eval_metric": metric,
        "best_iteration": best,
        "rounds_trained": len(result.history["validation"][metric]),
        "best_validation": {metric: result.history["validation"][metric][best]},
        "best_train": {metric: result.history["train"][metric][best]},
        "negative_sampling_rate": args.negative_sampling_rate,
        "tree_method": tree_method,
        "channels": {c.name: c.summary() for c in channels},
        "hosts": env.hosts,
        "training_job_name": env.job_name or None,
        "xgboost_version": xgb.__version__,
        "hyperparameters": vars(args),
    }


def fit_and_save(
    args: argparse.Namespace, env: Environment, train: ChannelData, validation: ChannelData, is_master: bool = True
) -> Dict[str, object]:
    tree_method = resolve_tree_method(args.tree_method, env.num_gpus)
    result = train_booster(booster_params(args, tree_method), train, validation, args)
    metadata = build_metadata(args, env, tree_method, result, [train, validation])
    if not is_master:
        return metadata
    env.model_dir.mkdir(parents=True, exist_ok=True)
    result.booster.save_model(str(env.model_dir / MODEL_FILE))
    metadata["serving_code"] = copy_serving_code(env.model_dir)
    (env.model_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    if env.output_data_dir is not None:
        env.output_data_dir.mkdir(parents=True, exist_ok=True)
        (env.output_data_dir / "evaluation.json").write_text(json.dumps(result.history) + "\n")
    LOG.info(
        "saved %s: best iteration %d, validation %s %.6f",
        env.model_dir / MODEL_FILE,
        result.best_iteration,
        args.eval_metric,
        metadata["best_validation"][args.eval_metric],  # type: ignore[index]
    )
    return metadata


def read_channels(args: argparse.Namespace, env: Environment) -> List[ChannelData]:
    train = read_channel("train", env.train_dir, args.num_features)
    validation = read_channel("validation", env.validation_dir, args.num_features)
    check_disjoint(train, validation)
    for channel in (train, validation):
        LOG.info("channel %s: %s", channel.name, json.dumps(channel.summary(), sort_keys=True))
    return [train, validation]


def train_distributed(args: argparse.Namespace, env: Environment) -> Dict[str, object]:
    """Several hosts: the container's Rabit helper, as its algorithm mode uses it (README.md, "Distributed")."""
    try:
        from sagemaker_xgboost_container import distributed  # type: ignore[import-not-found]
    except ImportError:
        raise TrainingError(
            f"SM_HOSTS lists {len(env.hosts)} hosts but sagemaker_xgboost_container.distributed is not importable; "
            f"multi-host training runs only in the SageMaker XGBoost container"
        ) from None
    distributed.wait_hostname_resolution(env.hosts)
    try:
        train, validation = read_channels(args, env)
        include, channels = True, {"train": train, "validation": validation}
    except EmptyChannel as error:
        LOG.warning("host %s: %s; it takes no part in training", env.current_host, error)
        include, channels = False, {}
    outcome: Dict[str, object] = {}

    def run(is_master: bool, **kwargs: ChannelData) -> None:
        outcome.update(fit_and_save(args, env, kwargs["train"], kwargs["validation"], is_master))

    distributed.rabit_run(
        exec_fun=run,
        args=channels,
        include_in_training=include,
        hosts=env.hosts,
        current_host=env.current_host,
        update_rabit_args=True,
    )
    return outcome


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None) -> Dict[str, object]:
    """Train and save the ranker; returns the metadata written to $SM_MODEL_DIR/metadata.json."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    environment = Environment.read(env if env is not None else os.environ)
    try:
        if len(environment.hosts) > 1:
            return train_distributed(args, environment)
        train, validation = read_channels(args, environment)
        return fit_and_save(args, environment, train, validation)
    except DataError as error:
        raise TrainingError(str(error)) from None


def cli() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        main()
    except TrainingError as error:
        print(f"train.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli())
