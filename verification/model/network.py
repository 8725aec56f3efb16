"""The default network, its params and its placement: what generate, regs and verify share.

The default network is the embedded digits CNN (:func:`cimq.sim.default_model.default_model`).
Params come from ``--params FILE``, else ``BUILD_DIR/RUN/params.json`` (what
``cimq quantize`` writes) when present, else
:func:`cimq.sim.network.default_layer_params` with ``FL_w = 9`` (the slides'
best weight format) and ``FL_x = 6`` (drop_low derived so every layer keeps
``FL_out = 6``). ``ModelSetup.params_source`` says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cimq.arch import ArchConfig
from cimq.errors import CimqInputError
from cimq.files import load_json_model
from cimq.hw.placement import ModelPlacement, place_model
from cimq.params import ModelParams

__all__ = ["DEFAULT_FL_W", "DEFAULT_FL_X", "ModelSetup", "default_layer_names", "is_default_model_params",
           "resolve_params", "load_model_setup", "bind_model_setup", "default_graph", "model_chip", "model_contents"]

DEFAULT_FL_W = 9
DEFAULT_FL_X = 6


def default_layer_names() -> tuple[str, ...]:
    """Conv/linear layer names of the default CNN (captured untrained: no training needed)."""
    from cimq.sim.capture import capture
    from cimq.sim.default_model import DigitsCNN

    return tuple(m.name for m in capture(DigitsCNN().eval()).matmul_layers)


def is_default_model_params(params: ModelParams) -> bool:
    """True when ``params`` names exactly the default CNN's layers (in order)."""
    return tuple(layer.name for layer in params.layers) == default_layer_names()


def resolve_params(build_dir: Path, run: str, params: Path | None, graph=None) -> tuple[ModelParams, str]:
    """The params to use and where they came from (``--params``, the run's params.json or derived)."""
    from cimq.cli.common import run_dir

    if params is not None:
        return load_json_model(ModelParams, params), str(params)
    found = run_dir(build_dir, run) / "params.json"
    if found.is_file():
        return load_json_model(ModelParams, found), str(found)
    if graph is None:
        from cimq.sim.capture import capture
        from cimq.sim.default_model import DigitsCNN

        graph = capture(DigitsCNN().eval())
    from cimq.sim.network import default_layer_params

    arch = ArchConfig()
    layers = default_layer_params(graph, arch, fl_w=DEFAULT_FL_W, fl_x=DEFAULT_FL_X)
    return ModelParams(arch=arch, layers=layers), f"derived (default_layer_params FL_w {DEFAULT_FL_W}, FL_x {DEFAULT_FL_X})"


@dataclass(frozen=True, eq=False)
class ModelSetup:
    """The default network bound to its params (``net``: a :class:`cimq.sim.network.CimNetwork`)."""

    params: ModelParams
    params_source: str
    net: object
    placement: ModelPlacement
    model_name: str


def load_model_setup(build_dir: Path, run: str, params: Path | None, *, model_seed: int = 0,
                     arrays: int | None = None) -> ModelSetup:
    """Load (or train, seconds) the default CNN, resolve params, bind and place it."""
    graph = default_graph(build_dir, model_seed)
    model_params, source = resolve_params(build_dir, run, params, graph)
    return bind_model_setup(graph, model_params, source, model_seed=model_seed, arrays=arrays)


def default_graph(build_dir: Path, model_seed: int):
    from cimq.sim.capture import capture
    from cimq.sim.default_model import default_model

    return capture(default_model(Path(build_dir), model_seed).eval())


def bind_model_setup(graph, model_params: ModelParams, source: str, *, model_seed: int = 0,
                     arrays: int | None = None, model_name: str | None = None) -> ModelSetup:
    """Bind ``model_params`` to a captured graph (``graph=None``: the default CNN) and place it."""
    from cimq.sim.network import CimNetwork

    net = CimNetwork(graph, model_params.arch, model_params, threads=1)
    placement = place_model(graph, model_params.arch, arrays=arrays, source=source)
    return ModelSetup(model_params, source, net, placement, model_name or f"digits_cnn (seed {model_seed})")


def model_chip(setup: ModelSetup, variation: str, seed: int, chip: int):
    """The sampled chip of every layer, exactly as the simulator programs it (no read noise)."""
    from cimq.sim.variation import DeviceModel, preset

    return setup.net.program(DeviceModel(preset(variation)), seed, chip)


def model_contents(setup: ModelSetup, chip):
    """The crossbar codes and bias codes of every layer at their placed arrays."""
    from cimq.hw.tile.contents import LayerPlacement, place_layers

    net = setup.net
    layers = [LayerPlacement(name, chip.crossbars[name], net.bias_codes(name).numpy(), geo.array_base)
              for name, geo in setup.placement.geometry.items()]
    if len(setup.params.layers) != len(layers):
        raise CimqInputError("params and model disagree on the layers", source=setup.params_source)
    return place_layers(setup.placement.config, layers, source=setup.params_source)
