"""Pipeline baselines REXEL is compared against, registered under the names ``rexel-bench run`` accepts.

- ``pipeline``: separately trained neural stages, each with its own encoder pass
  (:mod:`rexel_bench.baselines.pipeline`);
- ``pipeline-spacy``: spaCy NER, rule-based coreference, alias-prior linking, the pipeline's relation stage
  (:mod:`rexel_bench.baselines.spacy_pipeline`, optional extra ``rexel-bench[spacy]``);
- ``pipeline-heuristic``: a counting-only floor (:mod:`rexel_bench.baselines.heuristic`).

The model registry imports the three modules, which registers them.
"""
