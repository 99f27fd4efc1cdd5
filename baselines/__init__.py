"""Pipeline baselines REXEL is compared against, registered under the names ``rexel-bench run`` accepts.

- ``pipeline``: separately trained neural stages, each with its own encoder pass (:mod:`baselines.pipeline`);
- ``pipeline-spacy``: spaCy NER, rule-based coreference, alias-prior linking, the pipeline's relation stage
  (:mod:`baselines.spacy_pipeline`, optional extra ``rexel-bench[spacy]``);
- ``pipeline-heuristic``: a counting-only floor (:mod:`baselines.heuristic`).

The model registry imports the three modules, which registers them.
"""
