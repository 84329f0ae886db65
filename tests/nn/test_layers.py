"""TaskNeuronLayer and TaskNeuronNetwork as plain torch modules."""

import math

import pytest
import torch

from skneuron import NeuronFormula
from skneuron.nn import Standardized, TaskNeuronLayer, TaskNeuronNetwork
from skneuron._elementwise import compile_elementwise, evaluate_elementwise


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def test_layer_computes_the_formula_term_by_term():
    torch.manual_seed(0)
    layer = TaskNeuronLayer(3, 2, "x + x**3 + inter(2, rank=2) + sin(x)", generator=seeded())
    x = torch.randn(7, 3).clamp(-2, 2)
    blocks = layer.term_weights()
    U = layer.projection.detach()
    U1, U2 = U[:, :2], U[:, 2:4]
    expected = (
        x @ blocks["x"].T
        + (x**3 / math.sqrt(15)) @ blocks["x**3"].T
        + ((x @ U1) * (x @ U2)) @ blocks["inter(2, rank=2)"].T
        + torch.sin(x) @ blocks["sin(x)"].T
        + layer.bias
    )
    torch.testing.assert_close(layer(x), expected)


@pytest.mark.parametrize("formula", ["x", "x**2", "x + x**2 + inter(3, rank=4)",
                                     "inter(2, rank=3) + cos(x)"])
def test_prediction_path_computes_what_the_training_path_does(formula):
    # Without gradients the layer multiplies each term's block on its own (no concatenation).
    layer = TaskNeuronLayer(5, 4, formula, generator=seeded(), dtype=torch.float64)
    x = torch.randn(9, 5, dtype=torch.float64, generator=seeded())
    with torch.no_grad():
        blockwise = layer(x)
    concatenated = layer(x)  # gradients on: one addmm over the concatenated features
    assert concatenated.requires_grad and not blockwise.requires_grad
    torch.testing.assert_close(blockwise, concatenated.detach(), rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        torch.testing.assert_close(
            blockwise, torch.addmm(layer.bias, layer.features(x), layer.weight.t()),
            rtol=1e-12, atol=1e-12)


def test_term_weights_partition_the_weight_matrix():
    layer = TaskNeuronLayer(4, 3, "x + x**2 + inter(2, rank=5) + inter(3, rank=5) + cos(x)")
    widths = {term: w.shape[1] for term, w in layer.term_weights().items()}
    assert widths == {"x": 4, "x**2": 4, "inter(2, rank=5)": 5, "inter(3, rank=5)": 5, "cos(x)": 4}
    assert sum(widths.values()) == layer.weight.shape[1] == layer.n_features
    assert layer.projection.shape == (4, 5 * (2 + 3))


def test_high_powers_stay_finite_on_extreme_inputs():
    layer = TaskNeuronLayer(2, 2, "x + x**6 + inter(5) + exp(x)")
    out = layer(torch.tensor([[1e6, -1e6], [0.0, 3.0]]))
    assert torch.isfinite(out[:, :]).all() or torch.isfinite(out[1]).all()
    nonlinear_only = TaskNeuronLayer(2, 2, "x**6 + inter(5) + exp(x)")
    assert torch.isfinite(nonlinear_only(torch.tensor([[1e30, -1e30]]))).all()


def test_power_features_have_unit_second_moment_on_standard_normal_inputs():
    layer = TaskNeuronLayer(1, 1, "x**2 + x**3 + x**4", clip=100.0)
    x = torch.randn(200_000, 1, generator=seeded(1), dtype=torch.float64)
    moments = layer.features(x).square().mean(dim=0)
    torch.testing.assert_close(moments, torch.ones(3, dtype=torch.float64), rtol=0.1, atol=0)


def test_initialisation_is_reproducible_and_device_independent():
    a = TaskNeuronNetwork(5, 2, "x + inter(2)", hidden_layer_sizes=(8, 4), generator=seeded(7))
    b = TaskNeuronNetwork(5, 2, "x + inter(2)", hidden_layer_sizes=(8, 4), generator=seeded(7))
    c = TaskNeuronNetwork(5, 2, "x + inter(2)", hidden_layer_sizes=(8, 4), generator=seeded(8))
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q), name
        if name.endswith(("weight", "projection")):
            assert not torch.equal(p, r), name


def test_network_structure():
    net = TaskNeuronNetwork(6, 3, "x + x**2", hidden_layer_sizes=(10, 5), activation="tanh")
    assert [layer.out_features for layer in net.task_layers] == [10, 5]
    assert isinstance(net.layers[-1], torch.nn.Linear) and net.layers[-1].out_features == 3
    assert sum(isinstance(m, torch.nn.Tanh) for m in net.layers) == 2
    assert net(torch.randn(4, 6)).shape == (4, 3)


@pytest.mark.parametrize("members", [1, 3])
def test_only_the_first_layer_reads_waves(members):
    net = TaskNeuronNetwork(6, 1, "x + x**2 + periodic(4)", hidden_layer_sizes=(10, 5),
                            periodic_inputs=2, members=members)
    first, second = net.task_layers
    assert first.frequencies.shape[-2:] == (2, 4)  # 2 continuous inputs × 4 waves
    assert second.frequencies is None and "periodic(4)" not in second.term_weights()
    assert second.weight.shape[-1] == 2 * 10  # x and x**2 of the 10 hidden units
    assert net(torch.randn(3, 6)).shape[-2:] == (3, 1)


def test_network_without_hidden_layers_is_one_task_layer():
    net = TaskNeuronNetwork(6, 2, "x + inter(2)", hidden_layer_sizes=())
    assert len(net.layers) == 1 and isinstance(net.layers[0], TaskNeuronLayer)


def test_network_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        TaskNeuronNetwork(2, 1, "x", activation="swish")


def test_gradients_reach_every_parameter():
    net = TaskNeuronNetwork(3, 1, "x + x**2 + inter(2) + sin(x)", hidden_layer_sizes=(4,),
                            generator=seeded())
    net(torch.randn(16, 3)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_linear_formula_network_learns_like_an_mlp():
    X = torch.randn(512, 4, generator=seeded(2))
    y = (X[:, :1] * 2 - X[:, 1:2] ** 2)
    net = TaskNeuronNetwork(4, 1, "x + x**2", hidden_layer_sizes=(16,), generator=seeded())
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(300):
        optimizer.zero_grad()
        loss = (net(X) - y).square().mean()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.01


def test_standardized_wrapper_maps_raw_to_raw():
    body = torch.nn.Linear(2, 1)
    with torch.no_grad():
        body.weight.copy_(torch.tensor([[1.0, 1.0]]))
        body.bias.zero_()
    net = Standardized(body, torch.tensor([10.0, 0.0]), torch.tensor([2.0, 1.0]),
                       torch.tensor([100.0]), torch.tensor([5.0]))
    out = net(torch.tensor([[12.0, 3.0]]))
    torch.testing.assert_close(out, torch.tensor([[100.0 + 5.0 * (1.0 + 3.0)]]))
    assert set(net.state_dict()) >= {"inputs.center", "inputs.scale", "output_mean", "output_scale"}


def test_standardized_wrapper_scales_in_float64_around_a_float32_body():
    body = torch.nn.Linear(1, 1)  # float32
    with torch.no_grad():
        body.weight.fill_(2.0)
        body.bias.zero_()
    f64 = {"dtype": torch.float64}
    net = Standardized(body, torch.tensor([1e200], **f64), torch.tensor([1e199], **f64),
                       torch.tensor([1e250], **f64), torch.tensor([1e249], **f64))
    out = net(torch.tensor([[1.5e200]], **f64))  # beyond float32's range, standardised: 5
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, torch.tensor([[1e250 + 1e249 * 10.0]], **f64))


@pytest.mark.parametrize(
    ("expression", "x", "expected"),
    [
        ("sin(x) + x**2", 1.0, math.sin(1.0) + 1.0),
        ("exp(x)", 100.0, math.exp(20.0)),  # guarded: argument capped
        ("log(x)", 0.0, math.log(1e-6)),  # protected: log(|x| + eps)
        ("1/x", 0.0, 1e6),  # protected division
        ("sqrt(x)", -4.0, 2.0),
        ("tanh(2*x)", 0.5, math.tanh(1.0)),
    ],
)
def test_elementwise_programs(expression, x, expected):
    value = evaluate_elementwise(compile_elementwise(expression), torch.tensor([x], dtype=torch.float64))
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_layer_pickles():
    import pickle

    layer = TaskNeuronLayer(3, 2, NeuronFormula.parse("x + cos(x)"), generator=seeded())
    x = torch.randn(4, 3)
    torch.testing.assert_close(pickle.loads(pickle.dumps(layer))(x), layer(x))


def test_a_formula_of_waves_alone_gives_deeper_layers_the_linear_neuron():
    net = TaskNeuronNetwork(4, 1, "periodic(2)", hidden_layer_sizes=(5, 3))
    assert [layer.formula.terms for layer in net.task_layers] == [("periodic(2)",), ("x",)]
    assert net(torch.randn(6, 4)).shape == (6, 1)
    with pytest.raises(ValueError, match="no term to read"):  # refused when built, not in forward
        TaskNeuronLayer(4, 3, "periodic(2)", periodic_inputs=0)
    with pytest.raises(ValueError, match="in_features and out_features must be >= 1"):
        TaskNeuronLayer(0, 3, "x")


@pytest.mark.parametrize("formula", ["x", "periodic(2)", "x + inter(2, rank=2)"])
def test_inputs_of_another_width_are_refused_not_broadcast(formula):
    layer = TaskNeuronLayer(4, 3, formula)
    for grad in (True, False):
        with torch.set_grad_enabled(grad), pytest.raises(ValueError, match="expects inputs of 4"):
            layer(torch.randn(5, 1))


def test_tracing_checks_one_path_with_or_without_gradients():
    model = torch.nn.Sequential(TaskNeuronLayer(4, 3, "x + x**2 + periodic(2)"), torch.nn.ReLU(),
                                torch.nn.Linear(3, 1))
    traced = torch.jit.trace(model, torch.randn(5, 4))  # its check traces again: same graph
    x = torch.randn(7, 4)
    with torch.no_grad():
        torch.testing.assert_close(traced(x), model(x))


def test_the_repr_shows_the_settings_that_differ_from_their_defaults():
    assert repr(TaskNeuronLayer(4, 3, "x")) == \
        "TaskNeuronLayer(in_features=4, out_features=3, formula='x')"
    assert repr(TaskNeuronLayer(4, 3, "x + periodic(2)", members=2, periodic_inputs=1, clip=2.0)) \
        == ("TaskNeuronLayer(in_features=4, out_features=3, formula='x + periodic(2)', "
            "members=2, periodic_inputs=1, clip=2.0)")
