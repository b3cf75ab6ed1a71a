"""Self-inspection reports (自查自纠报告) and self-evaluation reports (自评报告): a region's year of the five
systems, with its figures from every process, the problems found automatically and the officers' narrative.
It reads every process, so it sits above them all (pyproject.toml, the ``processes`` contract)."""
