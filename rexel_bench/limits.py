"""The smallest value each numeric option takes, checked in one place for the command line, run configs and
the Python API, so that a bad number is one line naming the option, never a traceback or a silent default."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from rexel_bench.errors import ConfigError

#: Option → smallest accepted value. Fewer than 10 resamples cannot give a 95% interval worth printing.
MINIMUM = {"bootstrap": 10, "randomization": 0, "seed": 0, "batch_size": 1, "limit": 1, "folds": 1, "workers": 1,
           "threads": 1, "partition_size": 1}
_ADVICE = {"bootstrap": " (10,000 recommended)", "randomization": " (0: no randomization test)"}


def check_numbers(values: Mapping[str, object], label: Callable[[str], str] = str) -> None:
    """Refuse any value of ``values`` (option → value; None means not given) below its :data:`MINIMUM` or not
    a whole number; ``label`` names the option in the message (``--bootstrap`` on the command line)."""
    for key, value in values.items():
        if value is None or key not in MINIMUM:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < MINIMUM[key]:
            raise ConfigError(f"{label(key)}: expected a whole number of at least {MINIMUM[key]}{_ADVICE.get(key, '')}"
                              f", found {value!r}")


def option_name(key: str) -> str:
    """The command-line spelling of an option key: ``batch_size`` → ``--batch-size``."""
    return "--" + key.replace("_", "-")
