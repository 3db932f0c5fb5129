"""Adapters that make models of other libraries usable as ``--source-model py:user_models.<module>:embed`` (with
``benchmarks`` on ``PYTHONPATH``): what a user writes for a model v2v-store does not load itself."""
