"""The shared training loop."""

import os
import shutil
import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skneuron.training import StoppingRule, fit_network, print_progress, resolve_device


def mse(outputs, targets):
    return (outputs - targets).square().mean(dim=1)


def linear_problem(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    return X, X @ torch.tensor([[1.0], [-2.0], [0.5]])


def test_learns_a_linear_map_and_reports_its_history():
    X, Y = linear_problem()
    net = torch.nn.Linear(3, 1)
    result = fit_network(net, X, Y, loss_fn=mse, learning_rate=0.05, max_iter=100,
                         generator=torch.Generator().manual_seed(0))
    assert result.loss_curve[-1] < 1e-2
    assert result.n_iter == len(result.loss_curve)
    assert result.stop_reason in ("converged", "max_iter")


def test_same_generator_seed_same_weights():
    X, Y = linear_problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = torch.nn.Linear(3, 1)
        fit_network(net, X, Y, loss_fn=mse, max_iter=5, batch_size=16,
                    generator=torch.Generator().manual_seed(11))
        runs.append(net.weight.detach().clone())
    assert torch.equal(runs[0], runs[1])


def test_stops_when_loss_plateaus():
    X, Y = linear_problem()
    result = fit_network(torch.nn.Linear(3, 1), X, Y, loss_fn=mse, learning_rate=0.1,
                         max_iter=500, tol=1e-3, n_iter_no_change=2)
    assert result.stop_reason == "converged"
    assert result.n_iter < 500


def test_warns_when_max_iter_is_reached():
    X, Y = linear_problem()
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        fit_network(torch.nn.Linear(3, 1), X, Y, loss_fn=mse, max_iter=2)


def test_validation_monitoring_restores_the_best_weights():
    X, Y = linear_problem()
    scores = iter([0.1, 0.9, 0.2, 0.3, 0.4, 0.5])
    snapshots = []

    def score_fn(outputs, targets):
        snapshots.append(net.weight.detach().clone())
        return torch.tensor(next(scores))

    net = torch.nn.Linear(3, 1)
    result = fit_network(net, X, Y, loss_fn=mse, validation=(X, Y), score_fn=score_fn,
                         max_iter=6, n_iter_no_change=10)
    assert result.validation_scores == pytest.approx([0.1, 0.9, 0.2, 0.3, 0.4, 0.5])
    assert result.best_epoch == 2
    assert torch.equal(net.weight, snapshots[1])


def test_non_finite_loss_restores_finite_weights_and_warns():
    X, Y = linear_problem()
    Y = Y * 1e30
    net = torch.nn.Linear(3, 1)
    with pytest.warns(ConvergenceWarning, match="NaN or infinite") as caught:
        result = fit_network(net, X, Y, loss_fn=mse, learning_rate=1e6, max_iter=50)
    assert result.stop_reason == "non_finite"
    assert all(torch.isfinite(p).all() for p in net.parameters())
    # The generic loop speaks of its own arguments, not of any estimator's parameters.
    message = str(caught[0].message)
    assert message.endswith("Lower the learning rate (now 1e+06).")
    assert "learning_rate_init" not in message and "max_order" not in message


def test_the_caller_words_the_advice_on_a_numerical_fault():
    X, Y = linear_problem()
    with pytest.warns(ConvergenceWarning, match=r"restored \(.*\)\. Try a smaller step\.$"):
        fit_network(torch.nn.Linear(3, 1), X, Y * 1e30, loss_fn=mse, learning_rate=1e6,
                    max_iter=50, fault_advice="Try a smaller step.")


def test_keyboard_interrupt_keeps_the_best_model():
    X, Y = linear_problem()
    net = torch.nn.Linear(3, 1)

    def interrupt_at_epoch_3(report):
        if report.epoch == 3:
            raise KeyboardInterrupt

    with pytest.warns(UserWarning, match="interrupted"):
        result = fit_network(net, X, Y, loss_fn=mse, learning_rate=0.05, max_iter=100,
                             callbacks=[interrupt_at_epoch_3])
    assert result.stop_reason == "interrupted"
    assert result.n_iter == 3
    assert result.best_epoch == 3


def test_zero_weight_batches_do_not_produce_nan():
    X, Y = linear_problem(n=64)
    weights = torch.zeros(64)
    weights[0] = 1.0
    net = torch.nn.Linear(3, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = fit_network(net, X, Y, loss_fn=mse, sample_weight=weights, batch_size=8, max_iter=3)
    assert all(torch.isfinite(torch.tensor(result.loss_curve)))
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_num_threads_is_restored():
    X, Y = linear_problem()
    before, seen = torch.get_num_threads(), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_network(torch.nn.Linear(3, 1), X, Y, loss_fn=mse, max_iter=1,
                    num_threads=before + 1, callbacks=[lambda _: seen.append(torch.get_num_threads())])
    assert seen == [before + 1]
    assert torch.get_num_threads() == before


def test_print_progress(capsys):
    X, Y = linear_problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_network(torch.nn.Linear(3, 1), X, Y, loss_fn=mse, max_iter=2, callbacks=[print_progress])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("Iteration 1, loss = ")


def test_stopping_rule_counts_epochs_without_improvement():
    rule = StoppingRule(tol=0.0, patience=2)
    for score in [0.5, 0.6, 0.6, 0.55, 0.59]:  # an equal score counts as progress (tol=0)
        rule.update(1.0, score)
    assert not rule.should_stop
    rule.update(1.0, 0.58)
    assert rule.should_stop and rule.best == 0.6


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError):
        resolve_device("nonsense")


def _task_network_fit(*, compile, seed=0):
    """A small task-neuron network trained for 3 epochs; 250 rows make a short last batch."""
    from skneuron.nn import TaskNeuronNetwork

    X, Y = linear_problem(n=250)
    Y = Y + X[:, :1] * X[:, 1:2]
    net = TaskNeuronNetwork(3, 1, "x + x**2 + inter(2, rank=2)", hidden_layer_sizes=(8,),
                            generator=torch.Generator().manual_seed(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = fit_network(net, X, Y, loss_fn=mse, max_iter=3, batch_size=32,
                             generator=torch.Generator().manual_seed(1), compile=compile)
    return [p.detach().clone() for p in net.parameters()], result.loss_curve


def test_compile_falls_back_to_the_eager_step_with_a_warning(monkeypatch):
    def failing_compile(function, **kwargs):
        def compiled(*args):
            raise RuntimeError("no C++ compiler found\nmore details")
        return compiled

    eager_weights, eager_losses = _task_network_fit(compile=False)
    monkeypatch.setattr(torch, "compile", failing_compile)
    with pytest.warns(UserWarning, match=r"torch.compile failed \(RuntimeError: no C\+\+ compiler"):
        weights, losses = _task_network_fit(compile=True)
    assert losses == eager_losses
    assert all(torch.equal(a, b) for a, b in zip(weights, eager_weights, strict=True))


def test_an_error_that_is_not_the_compilers_is_raised_by_the_eager_retry(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda function, **kwargs: function)
    X, Y = linear_problem(n=64)

    def wrong_shape(outputs, targets):
        return outputs.sum(dim=1), torch.ones(len(outputs), 3)

    with pytest.warns(UserWarning, match="torch.compile failed"), \
            pytest.raises(RuntimeError, match="shape"):
        fit_network(torch.nn.Linear(3, 1), X, Y, loss_fn=mse, loss_gradient_fn=wrong_shape,
                    batch_size=16, max_iter=1, compile=True)


@pytest.mark.skipif(shutil.which(os.environ.get("CXX", "g++")) is None,
                    reason="torch.compile needs a C++ compiler on the CPU")
def test_compiled_step_trains_like_the_eager_one_and_reproducibly():
    eager_weights, eager_losses = _task_network_fit(compile=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="torch.compile failed")
        runs = [_task_network_fit(compile=True) for _ in range(2)]
    (weights, losses), (again, _) = runs
    assert losses == pytest.approx(eager_losses, rel=1e-4)
    for compiled, eager in zip(weights, eager_weights, strict=True):
        torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(weights, again, strict=True))


def test_passing_the_optimizer_back_continues_the_same_optimisation():
    def mse(out, y):
        return ((out - y) ** 2).mean(dim=1)

    X = torch.randn(100, 3, generator=torch.Generator().manual_seed(0))
    Y = X @ torch.tensor([[1.0], [2.0], [-1.0]])

    def net():
        return torch.nn.Linear(3, 1).requires_grad_().to(torch.float32)

    torch.manual_seed(0)
    once = net()
    options = dict(loss_fn=mse, batch_size=16, learning_rate=0.01, n_iter_no_change=99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_network(once, X, Y, max_iter=4, generator=torch.Generator().manual_seed(1), **options)
    torch.manual_seed(0)
    twice, generator = net(), torch.Generator().manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # warn_max_iter=False: none
        first = fit_network(twice, X, Y, max_iter=2, generator=generator, warn_max_iter=False,
                            **options)
        second = fit_network(twice, X, Y, max_iter=2, generator=generator, warn_max_iter=False,
                             optimizer=first.optimizer, **options)
    assert second.optimizer is first.optimizer and first.optimizer.steps_taken == 4 * 7
    for a, b in zip(once.parameters(), twice.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="rebound"):
        fit_network(net(), X, Y, max_iter=1, optimizer=first.optimizer, **options)


def test_members_validated_on_their_own_rows_score_as_on_all_rows_weighted():
    """Per-member blocks of validation rows give the scores of all rows weighted per member."""
    from skneuron.nn import TaskNeuronNetwork

    X = torch.randn(90, 4)
    Y = X[:, :1] * X[:, 1:2] + 0.1 * torch.randn(90, 1)
    fold = torch.arange(90) % 3
    in_fold = (fold[None] == torch.arange(3)[:, None]).float()  # (members, rows)
    rows = torch.stack([torch.nonzero(fold == m).squeeze(1) for m in range(3)])  # (members, 30)

    def score(outputs, targets, weights):  # minus the weighted MSE, one per member
        return -(weights * (outputs - targets).square().sum(-1)).sum(-1) / weights.sum(-1)

    def train(validation):
        net = TaskNeuronNetwork(4, 1, "x + inter(2)", hidden_layer_sizes=(8,), members=3,
                                generator=torch.Generator().manual_seed(0))
        mse = lambda out, y: (out - y).square().mean(-1)  # noqa: E731
        result = fit_network(net, X, Y, loss_fn=mse, sample_weight=None, max_iter=8,
                             validation=validation, score_fn=score, warn_max_iter=False,
                             generator=torch.Generator().manual_seed(0))
        return result, net

    everywhere, net_a = train((X, Y, in_fold))
    own_rows, net_b = train((X[rows], Y[rows], torch.ones(3, 30)))
    assert own_rows.validation_scores == pytest.approx(everywhere.validation_scores, rel=1e-5)
    assert own_rows.best_epoch == everywhere.best_epoch
    for a, b in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(a, b)
