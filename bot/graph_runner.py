"""Runs Rasa's prediction graph node by node, without dask.

Rasa 3.6 runs every message's graph (NLU, then the policies) through `dask.get`, which
for our dozen nodes builds a task graph, orders it, and copies it on every call: about
15% of the graph's time per message in cProfile on `make bench`, for no parallelism
(Rasa calls it synchronously). This runner evaluates the same nodes in dependency order
with the same inputs and outputs. Training still uses Rasa's DaskGraphRunner.
Installed by bot/patches.py, which names its tests.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple, Union

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """A DaskGraphRunner (same construction, same results) that does not call dask."""

    def run(self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        nodes = self._graph_schema.nodes
        results: Dict[Text, Union[Tuple[Text, Any], Text]] = {}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of "
                    f"the input names passed to the `run` method are the same as node names "
                    f"in the graph schema."
                )
            results[name] = (name, value)

        def compute(name: Text) -> Union[Tuple[Text, Any], Text]:
            if name not in results:
                if name not in nodes:
                    return name  # as dask does: GraphNode reports the missing input
                needs = [compute(need) for need in nodes[name].needs.values()]
                results[name] = self._instantiated_nodes[name](*needs)
            return results[name]

        try:
            return dict(compute(target) for target in run_targets)
        except RuntimeError as error:
            raise GraphRunError("Error running runner.") from error
