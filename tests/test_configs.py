"""Config files: every one in the repository loads (training configs as REXEL configs, the pipeline's as the four
stages they train, report configs as runs, experiment configs through their ``include:`` chain); the shipped
default states only its data, every other setting being the ``RexelConfig`` default; the default configs reproduce
the shipped checkpoints' settings; and ``include:`` merges, refuses cycles and names a missing base."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from rexel_bench.config_files import read_config_file
from rexel_bench.errors import ConfigError
from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.resources import DEFAULT_CHECKPOINTS, checkout_root
from rexel_bench.run import RunConfig

ROOT = checkout_root()
TRAINING = sorted((ROOT / "configs").glob("*.yaml")) + sorted((ROOT / "experiments" / "configs").glob("*.yaml"))
RUNS = sorted((ROOT / "configs" / "reports").glob("*.yaml"))
DATA_KEYS = {"train", "dev", "exclude_shared_with", "kb", "output"}


@pytest.mark.parametrize("path", TRAINING, ids=[p.name for p in TRAINING])
def test_every_training_config_loads(path):
    config = RexelConfig.from_yaml(path)
    assert config.train and config.output
    if path.name.startswith("pipeline"):
        from rexel_bench.baselines.pipeline import stage_configs

        stages = stage_configs(config)
        assert set(stages) == {"md", "coref", "ed", "rc"}
        assert all(Path(s.output).parent == Path(config.output) for s in stages.values())


@pytest.mark.parametrize("path", RUNS, ids=[p.name for p in RUNS])
def test_every_report_config_loads_as_a_run_into_the_reports_folder(path):
    config = RunConfig.from_file(path)
    assert config.models and config.out == f"reports/{path.stem}" and config.name == path.stem


def test_the_shipped_default_config_states_only_its_data():
    """Every model and training setting of configs/rexel.yaml is the dataclass default: a config that leaves a
    setting out gets what the default REXEL was trained with."""
    stated = read_config_file(ROOT / "configs" / "rexel.yaml")
    assert set(stated) <= DATA_KEYS
    config, default = RexelConfig.from_yaml(ROOT / "configs" / "rexel.yaml"), RexelConfig()
    assert dataclasses.replace(config, **{k: getattr(default, k) for k in DATA_KEYS}) == default


def _checkpoint_settings(directory: Path) -> dict:
    values = json.loads((directory / "config.json").read_text())
    return {k: v for k, v in values.items() if k in RexelConfig.__dataclass_fields__ and k != "output"}


def test_the_default_configs_reproduce_the_shipped_checkpoints_settings():
    from rexel_bench.baselines.pipeline import stage_configs

    rexel = RexelConfig.from_yaml(ROOT / "configs" / "rexel.yaml").to_dict()
    del rexel["output"]
    assert _checkpoint_settings(ROOT / "checkpoints" / DEFAULT_CHECKPOINTS["rexel"]) == rexel
    stages = stage_configs(RexelConfig.from_yaml(ROOT / "configs" / "pipeline.yaml"))
    relation_stage = stages["rc"].to_dict()
    shipped = _checkpoint_settings(ROOT / "checkpoints" / DEFAULT_CHECKPOINTS["pipeline"] / "rc")
    for unread in ("output", "coref_threshold"):  # the pipeline reads its coreference threshold from the coref stage
        relation_stage.pop(unread)
        shipped.pop(unread, None)
    assert shipped == relation_stage


def test_every_shipped_checkpoint_states_every_setting():
    """A checkpoint lacking a setting would be loaded with today's default; loading refuses it instead."""
    configs = [p for p in (ROOT / "checkpoints").rglob("config.json") if "encoder" in json.loads(p.read_text())]
    assert configs
    for path in configs:
        assert set(RexelConfig.__dataclass_fields__) <= set(json.loads(path.read_text())), path


def test_a_checkpoint_without_a_setting_is_refused(tmp_path):
    from rexel_bench.kb.build import default_kb_path
    from rexel_bench.kb.store import KnowledgeBase
    from rexel_bench.models.rexel.model import RexelModel

    source = ROOT / "checkpoints" / DEFAULT_CHECKPOINTS["rexel"]
    for name in ("model.safetensors", "vocab.json"):
        (tmp_path / name).symlink_to(source / name)
    values = json.loads((source / "config.json").read_text())
    del values["relation_margin"]
    (tmp_path / "config.json").write_text(json.dumps(values))
    with KnowledgeBase(default_kb_path()) as kb, pytest.raises(ConfigError, match=r"lacks the setting\(s\) \['relat"):
        RexelModel.load(tmp_path, kb)


def test_include_merges_nested_settings_and_the_including_file_wins(tmp_path):
    (tmp_path / "base.yaml").write_text("epochs: 3\nloss_weights: {md: 0.5, rc: 2.0}\ntrain: [a, b]\n")
    (tmp_path / "more.yaml").write_text("include: base.yaml\nseed: 4\n")
    (tmp_path / "child.yaml").write_text("include: [more.yaml]\nloss_weights: {rc: 1.0}\ntrain: [c]\nepochs: 5\n")
    assert read_config_file(tmp_path / "child.yaml") == {"epochs": 5, "seed": 4, "loss_weights": {"md": 0.5, "rc": 1.0},
                                                         "train": ["c"]}
    config = RexelConfig.from_yaml(tmp_path / "child.yaml")
    assert (config.loss_weights.md, config.loss_weights.rc, config.loss_weights.et) == (0.5, 1.0, 0.005)


def test_include_refuses_a_cycle_and_names_a_missing_base(tmp_path):
    (tmp_path / "a.yaml").write_text("include: b.yaml\n")
    (tmp_path / "b.yaml").write_text("include: a.yaml\n")
    with pytest.raises(ConfigError, match="include cycle"):
        read_config_file(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("include: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"'nowhere.yaml' not found") as error:
        RunConfig.from_file(tmp_path / "c.yaml")
    assert str(tmp_path / "c.yaml") in str(error.value)
