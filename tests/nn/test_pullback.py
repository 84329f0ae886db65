"""Hand-written backpropagation (``forward_with_pullback``) against autograd."""

import pytest
import torch

from skneuron.nn import TaskNeuronLayer, TaskNeuronNetwork
from skneuron.training import fit_network

FORMULAS = [
    "x",
    "x**2",
    "x + x**2 + inter(3, rank=4)",
    "x**3 + x**4 + inter(2, rank=3)",
    "inter(2, rank=2) + inter(4, rank=2)",
    "x + sin(x) + exp(x)",
    "cos(x) + inter(2, rank=3)",
    "x + periodic(3)",
    "x**2 + inter(2, rank=2) + periodic(2) + sin(x)",
]


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def autograd_reference(module, x, grad_outputs):
    x = x.clone().requires_grad_()
    outputs = module(x)
    grads = torch.autograd.grad(outputs, [x, *module.parameters()], grad_outputs)
    return outputs.detach(), grads[0], list(grads[1:])


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("input_grad", [True, False])
def test_layer_pullback_is_autograds_gradient(formula, input_grad):
    layer = TaskNeuronLayer(4, 3, formula, generator=seeded(), dtype=torch.float64)
    # Wide inputs, so that some values fall outside the clip and meet its zero gradient.
    x = 3.0 * torch.randn(11, 4, dtype=torch.float64, generator=seeded(1))
    grad_outputs = torch.randn(11, 3, dtype=torch.float64, generator=seeded(2))
    expected_out, expected_grad_x, expected_grads = autograd_reference(layer, x, grad_outputs)

    with torch.no_grad():
        out, pullback = layer.forward_with_pullback(x, input_grad=input_grad)
        grad_x, grads = pullback(grad_outputs)

    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    assert len(grads) == len(expected_grads)
    for grad, expected in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-10)
    if input_grad:
        torch.testing.assert_close(grad_x, expected_grad_x, rtol=1e-10, atol=1e-10)
    else:
        assert grad_x is None


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("hidden_layer_sizes", [(), (6,), (5, 4)])
def test_network_pullback_is_autograds_gradient(activation, hidden_layer_sizes):
    net = TaskNeuronNetwork(4, 2, "x + x**2 + inter(2, rank=3)", activation=activation,
                            hidden_layer_sizes=hidden_layer_sizes, generator=seeded(),
                            dtype=torch.float64)
    x = torch.randn(13, 4, dtype=torch.float64, generator=seeded(1))
    grad_outputs = torch.randn(13, 2, dtype=torch.float64, generator=seeded(2))
    expected_out, _, expected_grads = autograd_reference(net, x, grad_outputs)

    with torch.no_grad():
        out, pullback = net.forward_with_pullback(x)
        grads = pullback(grad_outputs)

    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    assert [g.shape for g in grads] == [p.shape for p in net.parameters()]
    for grad, expected in zip(grads, expected_grads):
        torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-10)


def train(net, *, use_pullback, sample_weight=None):
    if not use_pullback:  # the same network, seen by the loop without the pullback
        net = torch.nn.Sequential(net)
    X = torch.randn(300, 3, dtype=torch.float64, generator=seeded(3))
    Y = X[:, :1] * X[:, 1:2] + X[:, 2:] ** 2

    def squared_error(outputs, targets):
        return 0.5 * (outputs - targets).square().mean(dim=1)

    fit_network(net, X, Y, loss_fn=squared_error, max_iter=3, batch_size=50,
                sample_weight=sample_weight, generator=seeded(4))
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("weighted", [False, True])
def test_training_with_the_pullback_takes_autograds_steps(weighted):
    sample_weight = (torch.rand(300, dtype=torch.float64, generator=seeded(5))
                     if weighted else None)

    def network():
        return TaskNeuronNetwork(3, 1, "x + x**2 + inter(2, rank=2)", hidden_layer_sizes=(5,),
                                 generator=seeded(), dtype=torch.float64)

    by_pullback = train(network(), use_pullback=True, sample_weight=sample_weight)
    by_autograd = train(network(), use_pullback=False, sample_weight=sample_weight)
    assert any((p != network_p).any() for p, network_p in zip(by_pullback, network().parameters()))
    for p, q in zip(by_pullback, by_autograd):
        torch.testing.assert_close(p, q, rtol=1e-9, atol=1e-9)


def test_training_uses_the_pullback(monkeypatch):
    calls = []
    original = TaskNeuronNetwork.forward_with_pullback

    def counting(self, x):
        calls.append(len(x))
        return original(self, x)

    monkeypatch.setattr(TaskNeuronNetwork, "forward_with_pullback", counting)
    net = TaskNeuronNetwork(3, 1, "x + x**2", hidden_layer_sizes=(4,), generator=seeded(),
                            dtype=torch.float64)
    with pytest.warns(Warning):  # max_iter reached
        train(net, use_pullback=True)
    assert calls == [50] * 18


def test_frozen_parameters_fall_back_to_autograd():
    net = TaskNeuronNetwork(3, 1, "x + x**2", hidden_layer_sizes=(4,), generator=seeded(),
                            dtype=torch.float64)
    first = net.task_layers[0]
    first.weight.requires_grad_(False)
    frozen = first.weight.detach().clone()
    with pytest.warns(Warning):
        after = train(net, use_pullback=True)
    torch.testing.assert_close(first.weight.detach(), frozen, rtol=0, atol=0)
    assert not torch.equal(after[1], torch.zeros_like(after[1]))


# ------------------------------------------------------------------ several members
@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("shared_input", [True, False])
def test_member_layer_pullback_is_autograds_gradient(formula, shared_input):
    layer = TaskNeuronLayer(4, 3, formula, members=3, generator=seeded(), dtype=torch.float64)
    shape = (11, 4) if shared_input else (3, 11, 4)  # the first layer's input is shared
    x = 3.0 * torch.randn(*shape, dtype=torch.float64, generator=seeded(1))
    grad_outputs = torch.randn(3, 11, 3, dtype=torch.float64, generator=seeded(2))
    expected_out, expected_grad_x, expected_grads = autograd_reference(layer, x, grad_outputs)

    with torch.no_grad():
        out, pullback = layer.forward_with_pullback(x, input_grad=True)
        grad_x, grads = pullback(grad_outputs)
        unrecorded = layer(x)

    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(unrecorded, expected_out, rtol=1e-12, atol=1e-12)
    for grad, expected in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(grad_x, expected_grad_x, rtol=1e-10, atol=1e-10)


def test_members_are_independent_networks():
    """Member m of a 3-member network computes what a 1-member network with its weights does."""
    net = TaskNeuronNetwork(4, 2, "x + x**2 + inter(2, rank=3)", hidden_layer_sizes=(5, 4),
                            members=3, generator=seeded(), dtype=torch.float64)
    x = torch.randn(9, 4, dtype=torch.float64, generator=seeded(1))
    outputs = net(x)
    assert outputs.shape == (3, 9, 2)
    single = TaskNeuronNetwork(4, 2, "x + x**2 + inter(2, rank=3)", hidden_layer_sizes=(5, 4),
                               dtype=torch.float64)
    for m in range(3):
        with torch.no_grad():
            for p, q in zip(single.parameters(), net.parameters(), strict=True):
                p.copy_(q[m].reshape(p.shape) if q[m].numel() == p.numel() else q[m])
        torch.testing.assert_close(single(x), outputs[m], rtol=1e-12, atol=1e-12)


def test_member_network_pullback_is_autograds_gradient():
    net = TaskNeuronNetwork(4, 2, "x + sin(x) + inter(2, rank=3)", hidden_layer_sizes=(5, 4),
                            members=3, generator=seeded(), dtype=torch.float64)
    x = torch.randn(13, 4, dtype=torch.float64, generator=seeded(1))
    grad_outputs = torch.randn(3, 13, 2, dtype=torch.float64, generator=seeded(2))
    expected_out, _, expected_grads = autograd_reference(net, x, grad_outputs)
    with torch.no_grad():
        out, pullback = net.forward_with_pullback(x)
        grads = pullback(grad_outputs)
    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    for grad, expected in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-10)


def test_a_member_trains_only_on_rows_its_weights_keep():
    """With one row of weights per member, a member ignores the rows it does not train on."""
    def network():
        return TaskNeuronNetwork(3, 1, "x + x**2", hidden_layer_sizes=(5,), members=2,
                                 generator=seeded(), dtype=torch.float64)

    X = torch.randn(200, 3, dtype=torch.float64, generator=seeded(3))
    Y = X[:, :1] ** 2
    keep = torch.ones(2, 200, dtype=torch.float64)
    keep[0, 100:] = 0.0  # member 0 trains on the first half only

    def fit(Y):
        net = network()
        with pytest.warns(Warning):  # max_iter reached
            fit_network(net, X, Y, loss_fn=lambda o, t: 0.5 * (o - t).square().sum(-1),
                        sample_weight=keep, max_iter=3, batch_size=50, generator=seeded(4))
        return [p.detach()[0] for p in net.parameters()], [p.detach()[1] for p in net.parameters()]

    member0, member1 = fit(Y)
    noisy = Y.clone()
    noisy[100:] += 10.0  # changes only rows member 0 does not train on
    member0_again, member1_again = fit(noisy)
    for p, q in zip(member0, member0_again):
        torch.testing.assert_close(p, q, rtol=1e-12, atol=1e-12)
    assert any(not torch.allclose(p, q) for p, q in zip(member1, member1_again))


@pytest.mark.parametrize("members", [1, 3])
@pytest.mark.parametrize("periodic_inputs", [0, 2])
def test_periodic_term_reads_only_the_leading_inputs(members, periodic_inputs):
    layer = TaskNeuronLayer(4, 3, "x + periodic(3)", members=members,
                            periodic_inputs=periodic_inputs, generator=seeded(),
                            dtype=torch.float64)
    x = torch.randn(11, 4, dtype=torch.float64, generator=seeded(1))
    grad_outputs = torch.randn(*layer(x).shape, dtype=torch.float64, generator=seeded(2))
    expected_out, expected_grad_x, expected_grads = autograd_reference(layer, x, grad_outputs)
    with torch.no_grad():
        out, pullback = layer.forward_with_pullback(x)
        grad_x, grads = pullback(grad_outputs)
    torch.testing.assert_close(out, expected_out, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_x, expected_grad_x, rtol=1e-10, atol=1e-10)
    for grad, expected in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-10, atol=1e-10)
    changed = x.clone()
    changed[:, 2:] += 1.0  # beyond the periodic inputs: only the linear term sees it
    with torch.no_grad():
        linear = layer.term_weights()["x"]
        shift = (changed - x)[..., :] @ linear.mT
        torch.testing.assert_close(layer(changed) - layer(x), shift.expand_as(out))
    expected_width = 4 + periodic_inputs * 3
    assert layer.weight.shape[-1] == expected_width
