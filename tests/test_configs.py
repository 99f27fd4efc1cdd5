"""Every config the repository ships loads: training configs as REXEL configs (the pipeline's as the four
stages they train), run configs as runs, each without an unknown key."""

from __future__ import annotations

from pathlib import Path

import pytest

from rexel_bench.models.rexel.config import RexelConfig
from rexel_bench.run import RunConfig

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_shipped_config_loads(path):
    if path.name.startswith("run-"):
        config = RunConfig.from_file(path)
        assert config.models
        return
    config = RexelConfig.from_yaml(path)
    assert config.train and config.output
    if path.name.startswith("pipeline-"):
        from rexel_bench.baselines.pipeline import stage_configs

        stages = stage_configs(config)
        assert set(stages) == {"md", "coref", "ed", "rc"}
        assert all(Path(s.output).parent == Path(config.output) for s in stages.values())


def test_the_default_configs_name_the_shipped_checkpoints():
    from rexel_bench.resources import DEFAULT_CHECKPOINTS

    rexel = RexelConfig.from_yaml(Path(CONFIGS[0]).parent / f"{DEFAULT_CHECKPOINTS['rexel']}.yaml")
    assert Path(rexel.output).name == DEFAULT_CHECKPOINTS["rexel"]
